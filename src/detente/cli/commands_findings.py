"""``detente import`` and ``detente findings …``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from detente.cli.common import (
    Limit,
    Offset,
    OutputFormat,
    check_choice,
    console,
    emit,
    ensure_database,
    err_console,
    page_of,
    print_details,
    readable,
    say_more,
)
from detente.core import clock

findings_app = typer.Typer(help="List and inspect findings.", no_args_is_help=True)

LIST_COLUMNS = (
    "id", "severity", "vuln_id", "kev", "epss", "exposed", "asset", "service", "component",
    "deadline", "due_in_days", "deadline_class", "status", "why",
)  # fmt: skip


# dropped in this order when the table is wider than the terminal (emit)
LIST_OPTIONAL = (
    "why", "epss", "deadline_class", "kev", "service", "exposed", "due_in_days", "component",
)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.add_typer(findings_app, name="findings")


def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Scanner files or folders of them.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force a format instead of detecting it.")
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="Business service (slug) the scanned assets belong to.")
    ] = None,
    asset: Annotated[
        str | None, typer.Option(help="Asset name, for files that do not name what they scanned.")
    ] = None,
    asset_kind: Annotated[str, typer.Option(help="Kind of that asset.")] = "application",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse a file when a record is skipped or a value emptied or dropped.",
        ),
    ] = False,
) -> None:
    """Import scanner output; each file is one transaction. Re-importing closes what is gone."""
    ensure_database()
    from detente.cli.import_turn import import_turn
    from detente.core.errors import DetenteError
    from detente.findings.importer import ImportOptions, summary
    from detente.findings.services import scan_import, scan_paths
    from detente.inventory.selectors import service_by_slug

    options = ImportOptions(
        fmt=fmt,
        service=service_by_slug(service) if service else None,
        asset_name=asset,
        asset_kind=asset_kind,
        strict=strict,
    )
    files = scan_paths(paths)
    totals = {"new": 0, "unchanged": 0, "reopened": 0, "closed": 0, "parsed": 0, "skipped": 0}
    committed: list[str] = []
    with Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(files))

        def step(path: Path, scan: Any) -> None:
            # printed as each file commits: a later refusal does not undo it
            for key in totals:
                totals[key] += getattr(scan, key)
            committed.append(path.name)
            progress.update(task, advance=1, description=path.name)
            console.print(
                f"{path}: ok, {scan.format}, {summary(scan)} ({scan.duration_ms} ms)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )

        try:
            with import_turn():
                scan_import(paths=files, options=options, progress=step)
        except DetenteError:
            if len(files) > 1:
                err_console.print(
                    f"already committed ({len(committed)} of {len(files)} files): "
                    + (", ".join(committed) or "none"),
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            raise
    if len(files) > 1:
        console.print(
            f"{len(files)} files: {totals['parsed']} parsed, {totals['new']} new, "
            f"{totals['unchanged']} unchanged, {totals['reopened']} reopened, "
            f"{totals['closed']} closed, {totals['skipped']} records skipped",
            highlight=False,
            soft_wrap=True,
        )


def _row(f: Any, now: dt.datetime) -> dict[str, Any]:
    from detente.findings.services import reason_of

    reason = reason_of(f)
    due_in = None if f.deadline is None else (f.deadline - now).days
    return {
        "id": f.id,
        "severity": f.severity,
        "vuln_id": f.vuln_id,
        "kev": "yes" if f.kev else "",
        "epss": None if f.epss is None else f"{f.epss:.3f}",
        "exposed": "yes" if f.exposed else "no",
        "asset": f.asset.identifier,
        "service": f.asset.service.slug if f.asset.service else None,
        "component": " ".join(x for x in (f.component, f.component_version) if x) or None,
        "deadline": f.deadline.date().isoformat() if f.deadline else "next upgrade",
        "due_in_days": due_in,
        "deadline_class": f.deadline_class,
        "status": f.status,
        "why": reason.get("rule"),
    }


@findings_app.command("list")
def findings_list(
    overdue: Annotated[bool, typer.Option(help="Only findings past their deadline.")] = False,
    exploited: Annotated[bool, typer.Option(help="Only findings in CISA KEV.")] = False,
    exposed: Annotated[bool, typer.Option(help="Only findings on exposed assets.")] = False,
    service: Annotated[str | None, typer.Option(help="Only this business service.")] = None,
    status: Annotated[str, typer.Option(help="open, fixed, accepted, … or 'any'.")] = "open",
    severity: Annotated[str | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Findings in priority order: exploited and exposed first, then by deadline."""
    ensure_database()
    from detente.findings.selectors import FindingFilter, findings_query

    _check_filters(service=service, status=status, severity=severity)
    query = findings_query(
        FindingFilter(
            overdue=overdue,
            exploited=exploited,
            exposed=exposed,
            service=service,
            status=None if status == "any" else status,
            severity=severity,
        )
    )
    now = clock.now()
    page, more = page_of(query, limit=limit, offset=offset)
    rows = [_row(f, now) for f in page]
    emit(rows, LIST_COLUMNS, fmt, title="Findings", optional=LIST_OPTIONAL)
    say_more(more, limit=limit, offset=offset)


def _check_filters(*, service: str | None, status: str, severity: str | None) -> None:
    """Unknown filter values are refused, naming the valid ones (not an empty list)."""
    from detente.core.errors import InputError
    from detente.findings.models import Status
    from detente.findings.parsers.base import Severity
    from detente.inventory.selectors import service_known, service_slugs

    check_choice(status, [*Status.values, "any"], field="status")
    check_choice(severity, [s.value for s in Severity], field="severity")
    if service is not None and not service_known(service):
        slugs = service_slugs()
        shown = ", ".join(slugs[:20]) + (f", … ({len(slugs)} in all)" if len(slugs) > 20 else "")
        raise InputError(
            f"unknown service {service!r}; one of {shown or '(none yet)'}", field="service"
        )


@findings_app.command("show")
def findings_show(
    finding_id: Annotated[int, typer.Argument()],
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Every fact about one finding, and why its deadline is what it is."""
    ensure_database()
    from detente.findings.selectors import finding_get
    from detente.findings.services import reason_of

    f = finding_get(finding_id)
    facts = _row(f, clock.now()) | {
        "title": f.title,
        "scanner": f.scanner,
        "scanner_severity": f.scanner_severity,
        "cve": f.cve,
        "aliases": ", ".join(f.aliases or []),
        "cvss": f"{readable(f.cvss_score)} ({f.cvss_vector})" if f.cvss_vector else f.cvss_score,
        "epss_percentile": f.epss_percentile,
        "fixed_in": f.fixed_in,
        "file": f"{f.file_path}:{f.line}" if f.file_path and f.line else f.file_path,
        "endpoint": f.endpoint,
        "first_seen": f.first_seen,
        "reason": reason_of(f),
    }
    if fmt is OutputFormat.TABLE:
        print_details(facts)
        return
    emit([facts], list(facts), fmt)

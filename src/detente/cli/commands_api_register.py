"""``detente api …``: The API register: specs, audit, pen tests and promotion."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import OutputFormat, console, emit, ensure_database
from detente.core.errors import InputError

api_register_app = typer.Typer(
    help="The API register: specs, audit, pen tests and promotion.", no_args_is_help=True
)

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]
Fmt = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
LIST_COLUMNS = (
    "name", "service", "stage", "version", "openapi", "operations", "test", "last_test",
    "critical", "high", "medium", "low", "info",
)  # fmt: skip
# dropped in this order while the table is too wide for the terminal (least valuable first)
LIST_OPTIONAL = ("info", "openapi", "operations", "low", "version", "medium")


def register(app: typer.Typer) -> None:
    app.add_typer(api_register_app, name="api")


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _people(emails: list[str] | None) -> list[Any]:
    from detente.people.selectors import person_by_email

    return [person_by_email(email) for email in emails or []]


@api_register_app.command("add")
def api_add_command(
    service: Annotated[str, typer.Option(help="Business service slug.")],
    name: Annotated[str, typer.Option(help="The API's name in the register.")],
    spec: Annotated[Path, typer.Option(help="OpenAPI 2.0/3.0/3.1 file, JSON or YAML.")],
    owner: Annotated[list[str] | None, typer.Option(help="Owner e-mail (repeatable).")] = None,
    security_contact: Annotated[str | None, typer.Option(help="CISO-side contact.")] = None,
    actor: As = None,
) -> None:
    """Register an API with its first spec version; the spec is audited at once."""
    ensure_database()
    from detente.api_register.selectors import api_by_name
    from detente.api_register.services import api_add, read_spec_file
    from detente.inventory.selectors import service_by_slug

    raw = read_spec_file(spec)
    api_add(
        actor=_actor(actor),
        name=name,
        service=service_by_slug(service),
        spec=raw,
        file_name=str(spec),
        owners=_people(owner),
        security_contact=_people([security_contact])[0] if security_contact else None,
    )
    _print_version(api_by_name(name))


def _print_version(api: Any) -> None:
    version = api.current
    counts = ", ".join(
        f"{version.audit_counts[s]} {s}"
        for s in ("critical", "high", "medium", "low", "info")
        if version.audit_counts.get(s)
    )
    scan = version.scan
    console.print(
        f"{api.name} v{version.number} ({version.openapi_version}, {version.operations} "
        f"operations, sha256 {version.digest[:12]}): {counts or 'no results'}"
        + (f"; findings {scan.new} new, {scan.closed} closed" if scan else ""),
        highlight=False,
    )
    for problem in version.problems[:20]:
        console.print(f"  problem at {problem['pointer']}: {problem['message']}", highlight=False)


@api_register_app.command("update")
def api_update_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    spec: Annotated[Path, typer.Option(help="The new spec file.")],
    actor: As = None,
) -> None:
    """Store a new spec version (if it changed) and audit it; fixed results close."""
    ensure_database()
    from detente.api_register.selectors import api_by_name
    from detente.api_register.services import api_update, read_spec_file

    api = api_by_name(name)
    version, changed = api_update(
        actor=_actor(actor), api=api, spec=read_spec_file(spec), file_name=str(spec)
    )
    if not changed:
        console.print(f"{name} v{version.number} unchanged (same sha256)", highlight=False)
        return
    _print_version(api_by_name(name))


@api_register_app.command("list")
def api_list_command(
    stage: Annotated[str | None, typer.Option(help="Only this exposure stage.")] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """The register: APIs by exposure, with test status and open findings."""
    ensure_database()
    from detente.api_register.selectors import api_rows

    emit(api_rows(stage=stage), LIST_COLUMNS, fmt, title="API register", optional=LIST_OPTIONAL)


@api_register_app.command("show")
def api_show_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """One API: versions, pen tests, promotions, findings."""
    ensure_database()
    from detente.api_register.selectors import api_by_name, api_detail

    detail = api_detail(api_by_name(name))
    if fmt is OutputFormat.JSON:
        console.print_json(json.dumps(detail, default=str))
        return
    console.print(
        f"[bold]{detail['name']}[/] ({detail['service']}): stage {detail['stage']}, "
        f"test {detail['test']['status']} ({detail['test']['detail']})",
        highlight=False,
    )
    console.print(
        f"owners: {', '.join(detail['owners']) or '-'}; security contact: "
        f"{detail['security_contact'] or '-'}",
        highlight=False,
    )
    emit(detail["versions"], ("number", "digest", "openapi", "operations", "audit", "created_at"),
         fmt, title="versions")  # fmt: skip
    if detail["pentests"]:
        emit(detail["pentests"], ("id", "version", "ended_on", "tester", "method", "report"), fmt,
             title="pen tests")  # fmt: skip
    if detail["promotions"]:
        emit(detail["promotions"], ("at", "from", "to", "outcome", "actor", "missing"), fmt,
             title="promotions")  # fmt: skip
    emit(detail["findings"], ("id", "severity", "vuln_id", "title", "status", "deadline"), fmt,
         title="open findings")  # fmt: skip


@api_register_app.command("diff")
def api_diff_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    old: Annotated[
        int | None, typer.Option("--from", help="Older version (default: previous).")
    ] = None,
    new: Annotated[
        int | None, typer.Option("--to", help="Newer version (default: current).")
    ] = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """What changed between two versions: operations, security, parameters, schemas, servers."""
    ensure_database()
    from detente.api_register.selectors import api_by_name, version_of, versions_diff

    api = api_by_name(name)
    after = version_of(api, new)
    if old is None and after.number == 1:
        raise InputError(f"{name} has one version only; nothing to compare", field="from")
    before = version_of(api, old if old is not None else after.number - 1)
    diff = versions_diff(before, after)
    if fmt is OutputFormat.JSON:
        console.print_json(
            json.dumps({"from": before.number, "to": after.number, **diff.as_dict()})
        )
        return
    console.print(f"{name} v{before.number} → v{after.number}", highlight=False)
    if diff.empty:
        console.print("no change")
        return
    for key, value in diff.as_dict().items():
        if key == "material":
            continue
        text = " → ".join(value) if key == "info_version" else ", ".join(value)
        console.print(f"{key.replace('_', ' ')}: {text}", highlight=False, soft_wrap=True)
    console.print("material for a pen test: " + ("yes" if diff.material else "no"), highlight=False)


@api_register_app.command("audit")
def api_audit_command(
    name: Annotated[str | None, typer.Argument(help="A registered API (re-audits it).")] = None,
    spec: Annotated[Path | None, typer.Option(help="Audit a file without registering it.")] = None,
    sarif: Annotated[Path | None, typer.Option(help="Write the results as SARIF 2.1.0.")] = None,
    actor: As = None,
    fmt: Fmt = OutputFormat.TABLE,
) -> None:
    """Run the static rules; a registered API's results become findings (scanner detente-api)."""
    from detente.api_register.rules import Result

    results: list[Result]
    if spec is not None:
        if name is not None:
            raise InputError("give an API name or --spec, not both", field="spec")
        from detente.api_register.rules import audit_spec
        from detente.api_register.services import read_spec_file
        from detente.api_register.spec import load_spec

        results = audit_spec(load_spec(read_spec_file(spec), name=str(spec)))
        uri = spec.name
    elif name is not None:
        ensure_database()
        from detente.api_register.selectors import api_by_name
        from detente.api_register.services import api_audit

        outcome = api_audit(actor=_actor(actor), api=api_by_name(name))
        results = outcome.results
        uri = outcome.version.file_name
    else:
        raise InputError("give an API name or --spec FILE", field="name")
    if sarif is not None:
        from detente.api_register.sarif import sarif_document

        sarif.write_text(json.dumps(sarif_document(results, artifact_uri=uri), indent=1))
    rows = [
        {
            "rule": r.rule.id, "owasp": r.rule.category, "cwe": r.rule.cwe,
            "severity": r.severity, "where": r.hit.pointer, "message": r.hit.message,
        }
        for r in results
    ]  # fmt: skip
    emit(rows, ("rule", "owasp", "severity", "where", "message"), fmt, title="API audit")


@api_register_app.command("rules")
def api_rules_command(fmt: Fmt = OutputFormat.TABLE) -> None:
    """The static rules: id, OWASP API 2023 category, CWE, default severity, fix."""
    from detente.api_register.rules import RULES

    rows = [
        {
            "id": r.id, "owasp": r.category, "cwe": r.cwe, "severity": r.severity,
            "precision": r.precision, "aggregate": r.aggregate, "title": r.title,
            "rationale": r.rationale, "fix": r.fix,
        }
        for r in RULES
    ]  # fmt: skip
    emit(rows, ("id", "owasp", "cwe", "severity", "title"), fmt, title="API audit rules")


@api_register_app.command("pentest")
def api_pentest_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    tester: Annotated[str, typer.Option(help="Tester or firm.")],
    started: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Start date.")],
    ended: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="End date.")],
    kind: Annotated[str, typer.Option(help="internal or firm.")] = "firm",
    method: Annotated[str, typer.Option(help="e.g. grey-box, OWASP WSTG.")] = "",
    version: Annotated[
        int | None, typer.Option(help="Spec version tested (default: current).")
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Operation tested, e.g. 'GET /users/{id}' (repeatable; default all)."),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="The report file to attach.")] = None,
    findings: Annotated[
        Path | None, typer.Option(help="Findings file (any supported format).")
    ] = None,
    findings_format: Annotated[str | None, typer.Option(help="Force the findings format.")] = None,
    actor: As = None,
) -> None:
    """Record a pen test of one spec version, with its report and its findings."""
    ensure_database()
    from detente.api_register.selectors import api_by_name, version_of
    from detente.api_register.services import pentest_record

    api = api_by_name(name)
    tested = version_of(api, version)
    test = pentest_record(
        actor=_actor(actor), api=api, version=tested, started_on=started.date(),
        ended_on=ended.date(), tester=tester, tester_kind=kind, method=method,
        scope=scope or [], report=report, findings_file=findings,
        findings_format=findings_format,
    )  # fmt: skip
    imported = f"; findings {test.scan.new} new" if test.scan else ""
    console.print(
        f"pen test {test.pk} of {name} v{tested.number} (sha256 {tested.digest[:12]}) "
        f"recorded{imported}",
        highlight=False,
    )


@api_register_app.command("pentest-report")
def api_pentest_report_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    pentest: Annotated[int, typer.Argument(help="The pen test's id (see `detente api show`).")],
    report: Annotated[Path, typer.Argument(help="The report file (replaces an earlier one).")],
    actor: As = None,
) -> None:
    """Attach the report of a pen test recorded earlier."""
    ensure_database()
    from detente.api_register.pentest_reports import pentest_report_attach, report_chunks
    from detente.api_register.selectors import api_by_name, pentest_of

    if not report.is_file():
        raise InputError("no such file", file=str(report))
    test = pentest_of(api_by_name(name), pentest)
    test = pentest_report_attach(
        actor=_actor(actor), test=test, name=report.name, chunks=report_chunks(report)
    )
    console.print(
        f"report {test.report_name} (sha256 {test.report_sha256[:12]}) attached to pen test "
        f"{test.pk} of {name}",
        highlight=False,
    )


@api_register_app.command("pentest-findings")
def api_pentest_findings_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    pentest: Annotated[int, typer.Argument(help="The pen test's id (see `detente api show`).")],
    findings: Annotated[Path, typer.Argument(help="Findings file (any supported format).")],
    findings_format: Annotated[
        str | None, typer.Option("--format", help="Force the findings format.")
    ] = None,
    actor: As = None,
) -> None:
    """Import the findings of a pen test recorded earlier onto the API's asset."""
    ensure_database()
    from detente.api_register.selectors import api_by_name, pentest_of
    from detente.api_register.services import pentest_findings_import

    test = pentest_findings_import(
        actor=_actor(actor), test=pentest_of(api_by_name(name), pentest),
        findings_file=findings, findings_format=findings_format,
    )  # fmt: skip
    scan = test.scan
    assert scan is not None
    console.print(
        f"pen test {test.pk} of {name}: {scan.parsed} parsed, {scan.new} new, {scan.closed} closed",
        highlight=False,
    )


@api_register_app.command("promote")
def api_promote_command(
    name: Annotated[str, typer.Argument(help="The API's name.")],
    to: Annotated[str, typer.Option("--to", help="Target stage, e.g. partner or public.")],
    actor: As = None,
    force: Annotated[
        bool, typer.Option(help="Force past the gate (policy's force roles).")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (required with --force).")] = "",
) -> None:
    """Change an API's exposure stage; up only if the policy's gate holds (exit 1 otherwise)."""
    ensure_database()
    from detente.api_register.selectors import api_by_name
    from detente.api_register.services import api_promote

    result = api_promote(
        actor=_actor(actor), api=api_by_name(name), to_stage=to, force=force, reason=reason
    )
    promotion = result.promotion
    console.print(
        f"{name}: {promotion.from_stage} → {promotion.to_stage} {promotion.outcome}",
        highlight=False,
    )
    for missing in promotion.missing:
        console.print(f"  gate not met: {missing}", highlight=False)

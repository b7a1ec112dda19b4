"""``detente gate …`` (the release gate) and ``detente gate-override …`` (its second signatures).

Exit codes: 0 pass (or passed by override), 1 blocked (or refused by a rule), 2 bad input.
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from detente.cli.common import (
    Limit,
    Offset,
    OutputFormat,
    check_choice,
    console,
    emit,
    ensure_database,
    page_of,
    say_more,
)

gate_override_app = typer.Typer(
    help="Overrides of the release gate: list, co-sign, reject, escalate.", no_args_is_help=True
)


class GateOutput(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    from detente.cli.commands_vex import vex_app

    app.command("gate")(gate_command)
    app.add_typer(gate_override_app, name="gate-override")
    # incoming VEX joins the existing ``detente vex`` group (its export lives there)
    vex_app.command("apply")(vex_apply_command)
    vex_app.command("review")(vex_review_command)


def _write(path: Path, text: str) -> None:
    from detente.core.errors import InputError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror})", file=str(path)) from None


def gate_command(
    paths: Annotated[list[Path], typer.Argument(help="The build's scan reports or folders.")],
    service: Annotated[str, typer.Option(help="Business service (slug) being released.")],
    version: Annotated[str, typer.Option(help="Version being released.")],
    asset: Annotated[
        str | None, typer.Option(help="Asset name, for reports that do not name what they scanned.")
    ] = None,
    asset_kind: Annotated[str, typer.Option(help="Kind of that asset.")] = "application",
    scan_format: Annotated[
        str | None, typer.Option("--scan-format", help="Force a report format (else detected).")
    ] = None,
    commit: Annotated[str, typer.Option(help="Commit of the build (recorded).")] = "",
    ref: Annotated[str, typer.Option(help="Branch or tag of the build (recorded).")] = "",
    baseline: Annotated[
        str | None,
        typer.Option(help="New findings only: a ref/version already gated, or a file or folder."),
    ] = None,
    sarif: Annotated[Path | None, typer.Option(help="Write SARIF 2.1.0 here.")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown summary here.")] = None,
    fmt: Annotated[GateOutput, typer.Option("--format", help="Standard output.")] = (
        GateOutput.TABLE
    ),
    do_import: Annotated[
        bool, typer.Option("--import", help="Also import the findings (as `detente import`).")
    ] = False,
    record: Annotated[bool, typer.Option(help="Record the run (default).")] = True,
    override: Annotated[
        bool,
        typer.Option(help="Pass a blocked build as a recorded decision (needs --as, --reason)."),
    ] = False,
    actor: Annotated[
        str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")
    ] = None,
    reason: Annotated[str, typer.Option(help="The business reason of an override.")] = "",
) -> None:
    """Decide a build on its scan reports, the policy's gate rules and the valid acceptances."""
    from detente.core.errors import InputError

    if override and not reason.strip():
        raise InputError("an override states its business reason: --reason TEXT", field="reason")
    if os.environ.get("DETENTE_URL"):
        from detente.gates.remote import remote_gate

        code = remote_gate(
            paths=paths, service=service, version=version, asset=asset, asset_kind=asset_kind,
            scan_format=scan_format, commit=commit, ref=ref, baseline=baseline, record=record,
            override=override, reason=reason, sarif=sarif, junit=junit, markdown=markdown,
            as_json=fmt is GateOutput.JSON,
        )  # fmt: skip
        if code:
            sys.exit(code)
        return
    ensure_database()
    from detente.findings.importer import no_cycle_collection

    with no_cycle_collection():  # the decision and its outputs: see gates.evaluate.evaluate
        _gate_local(
            paths=paths, service=service, version=version, asset=asset, asset_kind=asset_kind,
            scan_format=scan_format, commit=commit, ref=ref, baseline=baseline, sarif=sarif,
            junit=junit, markdown=markdown, fmt=fmt, do_import=do_import, record=record,
            override=override, actor=actor, reason=reason,
        )  # fmt: skip


def _gate_local(
    *,
    paths: list[Path],
    service: str,
    version: str,
    asset: str | None,
    asset_kind: str,
    scan_format: str | None,
    commit: str,
    ref: str,
    baseline: str | None,
    sarif: Path | None,
    junit: Path | None,
    markdown: Path | None,
    fmt: GateOutput,
    do_import: bool,
    record: bool,
    override: bool,
    actor: str | None,
    reason: str,
) -> None:
    from detente.core.errors import InputError
    from detente.findings.importer import ImportOptions
    from detente.gates import outputs
    from detente.gates.evaluate import GateRequest, evaluate
    from detente.gates.selectors import baseline_for
    from detente.gates.services import gate_override, gate_run_record
    from detente.inventory.selectors import service_by_slug
    from detente.people.selectors import person_by_email

    target = service_by_slug(service)
    person = (
        person_by_email(actor) if (actor or override or os.environ.get("DETENTE_ACTOR")) else None
    )
    options = ImportOptions(
        fmt=scan_format, service=target, asset_name=asset, asset_kind=asset_kind
    )
    base = baseline_for(service=target, baseline=baseline, options=options) if baseline else None
    result = evaluate(
        GateRequest(
            service=target, version=version, paths=paths, asset_name=asset, asset_kind=asset_kind,
            fmt=scan_format, baseline=base.keys if base else None,
            baseline_label=base.label if base else None,
        )
    )  # fmt: skip
    run_id: int | None = None
    done: dict[str, Any] | None = None
    if override and result.decision == "pass":
        raise InputError("the build passes; there is nothing to override", field="override")
    if record or override:
        if do_import:
            from detente.findings.services import scan_import, scan_paths

            scan_import(paths=scan_paths(paths), options=options)
        run = gate_run_record(
            result=result, service=target, actor=person, commit=commit, ref=ref,
            asset_name=asset or "", baseline_of=base.run if base else None, imported=do_import,
        )  # fmt: skip
        run_id = run.pk
        if override:
            assert person is not None
            made = gate_override(run=run, actor=person, reason=reason)
            done = {"id": made.pk, "decision": made.decision_id, "status": made.status,
                    "second_due": made.second_due.isoformat()}  # fmt: skip
    if sarif is not None:
        _write(sarif, outputs.sarif_text(result))
    if junit is not None:
        _write(junit, outputs.junit(result))
    if markdown is not None:
        _write(markdown, outputs.markdown(result, override=done))
    if fmt is GateOutput.JSON:
        print(outputs.as_json(result, run_id=run_id, override=done))
    else:
        print(outputs.summary(result, override=done))
        if run_id is not None:
            print(f"  recorded as gate run #{run_id}")
    if result.decision == "blocked" and done is None:
        sys.stdout.flush()
        sys.exit(1)  # blocked is a decision, not an error: no "error:" line


@gate_override_app.command("list")
def override_list(
    status: Annotated[
        str | None, typer.Option(help="pending, confirmed, escalated, rejected")
    ] = None,
    limit: Limit = 200,
    offset: Offset = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Overrides, newest first."""
    ensure_database()
    from detente.gates.models import OverrideStatus
    from detente.gates.selectors import overrides_list

    check_choice(status, OverrideStatus.values, field="status")
    page, more = page_of(overrides_list(status=status), limit=limit, offset=offset)
    rows = [
        {
            "id": o.pk, "run": o.run_id, "service": o.run.service.slug, "version": o.run.version,
            "by": o.actor.email, "status": o.status, "decision": f"DR-{o.decision_id}",
            "second_due": o.second_due.strftime("%Y-%m-%d %H:%M"), "reason": o.reason,
        }
        for o in page
    ]  # fmt: skip
    emit(rows, ("id", "run", "service", "version", "by", "status", "decision", "second_due",
                "reason"), fmt, "Gate overrides", optional=("version", "run", "by"))  # fmt: skip
    say_more(more, limit=limit, offset=offset)


def _sign(override_id: int, actor: str | None, approve: bool, comment: str) -> None:
    ensure_database()
    from detente.gates.selectors import override_by_id
    from detente.gates.services import gate_override_sign
    from detente.people.selectors import person_by_email

    found = gate_override_sign(
        actor=person_by_email(actor), override=override_by_id(override_id), approve=approve,
        comment=comment,
    )  # fmt: skip
    console.print(f"GO-{found.pk}: {found.status} (decision DR-{found.decision_id})")


@gate_override_app.command("sign")
def override_sign(
    override_id: int,
    actor: Annotated[str | None, typer.Option("--as", help="Your e-mail.")] = None,
    comment: Annotated[str, typer.Option()] = "",
) -> None:
    """The second signature that confirms an override."""
    _sign(override_id, actor, True, comment)


@gate_override_app.command("reject")
def override_reject(
    override_id: int,
    comment: Annotated[str, typer.Option(help="Why.")],
    actor: Annotated[str | None, typer.Option("--as", help="Your e-mail.")] = None,
) -> None:
    """Reject an override (the release is recorded as shipped against the gate)."""
    _sign(override_id, actor, False, comment)


@gate_override_app.command("escalate")
def override_escalate() -> None:
    """Escalate every override still unsigned past the policy's hours."""
    ensure_database()
    from detente.gates.services import gate_overrides_escalate

    done = gate_overrides_escalate()
    console.print(f"{len(done)} override(s) escalated" + (f": {done}" if done else ""))


def vex_apply_command(
    path: Annotated[Path, typer.Argument(help="A CycloneDX VEX, OpenVEX or CSAF 2.0 document.")],
    actor: Annotated[
        str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")
    ] = None,
    review: Annotated[
        bool, typer.Option(help="Also review its not_affected statements (a role policy names).")
    ] = False,
) -> None:
    """Apply incoming VEX: statements recorded; reviewed not_affected ones mark findings."""
    ensure_database()
    from detente.gates.vex import vex_apply
    from detente.people.selectors import person_by_email

    done = vex_apply(actor=person_by_email(actor), path=path, review=review)
    pending = sum(s.state == "pending" for s in done.statements)
    print(
        f"{path.name}: {done.format}, {len(done.statements)} statement(s), {done.findings} "
        f"finding(s) matched, {done.not_affected} marked not affected, {done.reopened} reopened, "
        f"{pending} waiting for review"
    )
    for s in done.statements:
        print(f"  VEX-{s.pk} {s.vuln_id} {s.package} {s.versions or '(any version)'}: "
              f"{s.status} [{s.state}]")  # fmt: skip


def vex_review_command(
    statement_id: int,
    actor: Annotated[
        str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")
    ] = None,
) -> None:
    """Review a pending not_affected statement: its matching open findings become not affected."""
    ensure_database()
    from detente.gates.vex import vex_review
    from detente.people.selectors import person_by_email

    row, marked = vex_review(actor=person_by_email(actor), statement=statement_id)
    print(f"VEX-{row.pk} reviewed: {marked} finding(s) marked not affected")

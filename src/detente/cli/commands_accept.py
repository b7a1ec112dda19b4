"""``detente accept …`` (risk acceptances) and ``detente decision …`` (decision records)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from detente.cli.common import (
    Limit,
    Offset,
    OutputFormat,
    check_choice,
    console,
    emit,
    ensure_database,
    page_of,
    print_details,
    say_more,
)
from detente.core.errors import InputError

accept_app = typer.Typer(help="Risk acceptances: defer remediation, signed by both sides.")
decision_app = typer.Typer(help="Decision records, by the five principles.")

As = Annotated[str | None, typer.Option("--as", help="Your e-mail (or set DETENTE_ACTOR).")]


def register(app: typer.Typer) -> None:
    app.add_typer(accept_app, name="accept", no_args_is_help=True)
    app.add_typer(decision_app, name="decision", no_args_is_help=True)


def _actor(email: str | None) -> Any:
    from detente.people.selectors import person_by_email

    return person_by_email(email)


def _acceptance(pk: int) -> Any:
    from detente.acceptances.selectors import acceptance_get

    return acceptance_get(pk)


def _summary(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "title": a.title,
        "status": a.status,
        "scope": a.scope,
        "findings": a.items.count(),
        "class": a.deadline_class,
        "until": a.requested_until,
        "requester": a.requester.email,
        "needs": ", ".join(a.required_roles),
        "signed": ", ".join(s.role for s in a.signatures.all()),
        "renewals": a.renewals,
    }


@accept_app.command("request")
def accept_request(
    justification: Annotated[str, typer.Option(help="The business benefit of deferring.")],
    until: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="End date.")],
    actor: As = None,
    finding: Annotated[list[int] | None, typer.Option(help="A finding id (repeatable).")] = None,
    cve: Annotated[str | None, typer.Option(help="A CVE across --service.")] = None,
    rule: Annotated[str | None, typer.Option(help="A rule id on --asset-id or --service.")] = None,
    service: Annotated[str | None, typer.Option(help="Business service slug.")] = None,
    asset_id: Annotated[int | None, typer.Option(help="Asset id (for --rule).")] = None,
    controls: Annotated[str, typer.Option(help="Compensating controls.")] = "",
    title: Annotated[str, typer.Option()] = "",
    decision: Annotated[int | None, typer.Option(help="Linked decision record id.")] = None,
    draft: Annotated[bool, typer.Option(help="Save as a draft; submit later.")] = False,
) -> None:
    """Request a deferral: chosen findings, a CVE across a service, or a rule."""
    ensure_database()
    from detente.acceptances.models import ScopeKind
    from detente.acceptances.services import acceptance_request
    from detente.decisions.selectors import decision_get
    from detente.inventory.selectors import asset_get, service_by_slug

    given = ((ScopeKind.FINDINGS, finding), (ScopeKind.CVE, cve), (ScopeKind.RULE, rule))
    scopes = [scope for scope, value in given if value]
    if len(scopes) != 1:
        raise InputError("give exactly one of --finding, --cve or --rule", field="scope")
    record = decision_get(decision) if decision else None
    asset = asset_get(asset_id) if asset_id else None
    created = acceptance_request(
        actor=_actor(actor),
        title=title,
        scope=scopes[0],
        justification=justification,
        until=until.date(),
        compensating_controls=controls,
        finding_ids=finding or [],
        cve=cve or "",
        rule_id=rule or "",
        service=service_by_slug(service) if service else None,
        asset=asset,
        decision=record,
        submit=not draft,
    )
    console.print(
        f"RA-{created.pk} {created.status}: {created.items.count()} finding(s), "
        f"class {created.deadline_class}, needs {', '.join(created.required_roles)}"
    )


@accept_app.command("submit")
def accept_submit(acceptance_id: int, actor: As = None) -> None:
    """Submit a draft for signatures."""
    ensure_database()
    from detente.acceptances.services import acceptance_submit

    done = acceptance_submit(actor=_actor(actor), acceptance=_acceptance(acceptance_id))
    console.print(f"RA-{done.pk} {done.status}")


@accept_app.command("sign")
def accept_sign(
    acceptance_id: int,
    actor: As = None,
    role: Annotated[
        str | None, typer.Option(help="Sign as this role (when you hold several).")
    ] = None,
    comment: Annotated[str, typer.Option()] = "",
) -> None:
    """Approve, as one of the roles the acceptance still needs."""
    ensure_database()
    from detente.acceptances.services import acceptance_sign

    done = acceptance_sign(
        actor=_actor(actor), acceptance=_acceptance(acceptance_id), role=role, comment=comment
    )
    console.print(f"RA-{done.pk} {done.status}")


@accept_app.command("reject")
def accept_reject(
    acceptance_id: int, reason: Annotated[str, typer.Option()], actor: As = None
) -> None:
    """Reject a request (one required signer's no ends it)."""
    ensure_database()
    from detente.acceptances.services import acceptance_reject

    done = acceptance_reject(
        actor=_actor(actor), acceptance=_acceptance(acceptance_id), reason=reason
    )
    console.print(f"RA-{done.pk} {done.status}")


@accept_app.command("revoke")
def accept_revoke(
    acceptance_id: int, reason: Annotated[str, typer.Option()], actor: As = None
) -> None:
    """Withdraw a request, or end an approval early (its findings reopen)."""
    ensure_database()
    from detente.acceptances.services import acceptance_revoke

    done = acceptance_revoke(
        actor=_actor(actor), acceptance=_acceptance(acceptance_id), reason=reason
    )
    console.print(f"RA-{done.pk} {done.status}")


@accept_app.command("renew")
def accept_renew(
    acceptance_id: int,
    until: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"])],
    justification: Annotated[str, typer.Option()],
    actor: As = None,
) -> None:
    """Ask to extend an approved or expired acceptance (a new request, counted)."""
    ensure_database()
    from detente.acceptances.services import acceptance_renew

    done = acceptance_renew(
        actor=_actor(actor), acceptance=_acceptance(acceptance_id), until=until.date(),
        justification=justification,
    )  # fmt: skip
    console.print(
        f"RA-{done.pk} {done.status}: renewal {done.renewals} of RA-{acceptance_id}, "
        f"needs {', '.join(done.required_roles)}"
    )


@accept_app.command("list")
def accept_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    limit: Limit = 500,
    offset: Offset = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Acceptances, newest first."""
    ensure_database()
    from detente.acceptances.models import AcceptanceStatus
    from detente.acceptances.selectors import acceptances_list

    check_choice(status, AcceptanceStatus.values, field="status")
    page, more = page_of(acceptances_list(status=status), limit=limit, offset=offset)
    rows = [_summary(a) for a in page]
    cols = ["id", "title", "status", "scope", "findings", "class", "until", "requester", "needs",
            "signed", "renewals"]  # fmt: skip
    emit(rows, cols, fmt, "Acceptances", optional=ACCEPT_OPTIONAL)
    say_more(more, limit=limit, offset=offset)


# dropped in this order while a table is too wide for the terminal (least valuable first)
ACCEPT_OPTIONAL = ("renewals", "class", "signed", "requester", "scope", "findings")


@accept_app.command("show")
def accept_show(
    acceptance_id: int, fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE
) -> None:
    """One acceptance: its case, its findings, and each signature with the facts of its moment."""
    ensure_database()
    a = _acceptance(acceptance_id)
    detail = _summary(a) | {
        "justification": a.justification,
        "compensating_controls": a.compensating_controls,
        "expires_at": a.expires_at,
        "decision": f"DR-{a.decision_id}" if a.decision_id else None,
        "closed_reason": a.closed_reason,
        "items": [
            {
                "finding": i.finding_id,
                "vuln_id": i.finding.vuln_id,
                "status": i.finding.status,
                "reason": i.reason,
                "fixed_at": i.fixed_at,
            }
            for i in a.items.select_related("finding")
        ],
        "signatures": [
            {
                "role": s.role,
                "signer": s.signer.email,
                "verdict": s.verdict,
                "at": s.signed_at,
                "comment": s.comment,
                "facts": {k: v for k, v in s.facts.items() if k != "items"},
            }
            for s in a.signatures.select_related("signer")
        ],
    }
    if fmt is OutputFormat.TABLE:
        print_details(detail)
        return
    emit([detail], list(detail), fmt)


# ---------------------------------------------------------------------------- decisions


@decision_app.command("new")
def decision_new(
    file: Annotated[Path, typer.Argument(help="YAML: title, pressure_point, question, options, …")],
    actor: As = None,
) -> None:
    """Record a decision from a YAML file (fields: docs/reference/decision-record.md)."""
    ensure_database()
    from detente.decisions.services import decision_create

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(
            f"cannot read the decision ({exc})".replace("\n", " "), file=str(file)
        ) from None
    if not isinstance(data, dict):
        raise InputError("expected a mapping of fields", file=str(file))
    known = {
        "title", "pressure_point", "question", "options", "company_first", "cio_position",
        "ciso_position", "informed", "win_win", "review_date", "escalation_level",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown fields {sorted(unknown)}", file=str(file))
    try:
        record = decision_create(actor=_actor(actor), **data)
    except InputError as exc:
        raise exc.with_file(str(file)) from None
    except TypeError as exc:
        raise InputError(f"missing or wrong fields ({exc})", file=str(file)) from None
    console.print(f"DR-{record.pk} recorded: {record.title}")


@decision_app.command("decide")
def decision_decide_command(
    decision_id: int,
    decision: Annotated[str, typer.Option()],
    option: Annotated[int | None, typer.Option(help="Index of the chosen option.")] = None,
    ciso_followed: Annotated[
        bool | None, typer.Option(help="Did the outcome follow the CISO's recommendation?")
    ] = None,
    why_blank: Annotated[
        str, typer.Option(help="Why a principle stays blank (needed when one is).")
    ] = "",
    actor: As = None,
) -> None:
    """Record the outcome (CIO or CISO); a blank principle needs --why-blank."""
    ensure_database()
    from detente.decisions.selectors import decision_get
    from detente.decisions.services import decision_decide

    record = decision_get(decision_id)
    done = decision_decide(
        actor=_actor(actor), record=record, decision=decision, chosen_option=option,
        ciso_recommendation_followed=ciso_followed, why_blank=why_blank,
    )  # fmt: skip
    console.print(f"DR-{done.pk} {done.status}")


@decision_app.command("list")
def decision_list(
    limit: Limit = 500,
    offset: Offset = 0,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Decision records, newest first."""
    ensure_database()
    from detente.decisions.selectors import decisions_list

    page, more = page_of(decisions_list(), limit=limit, offset=offset)
    rows = [
        {"id": d.pk, "title": d.title, "pressure_point": d.pressure_point, "status": d.status,
         "escalation": d.escalation_level, "review": d.review_date,
         "acceptances": d.acceptances.count()}
        for d in page
    ]  # fmt: skip
    cols = ["id", "title", "pressure_point", "status", "escalation", "review", "acceptances"]
    emit(rows, cols, fmt, "Decisions", optional=("acceptances", "escalation", "pressure_point"))
    say_more(more, limit=limit, offset=offset)


@decision_app.command("show")
def decision_show(
    decision_id: int, fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE
) -> None:
    """A decision record in full."""
    ensure_database()
    from detente.decisions.selectors import decision_get

    d = decision_get(decision_id)
    detail = {
        "id": d.pk, "title": d.title, "pressure_point": d.get_pressure_point_display(),
        "question": d.question, "options": d.options, "company_first": d.company_first,
        "cio_position": d.cio_position, "ciso_position": d.ciso_position, "informed": d.informed,
        "win_win": d.win_win, "decision": d.decision, "chosen_option": d.chosen_option,
        "status": d.status, "escalation_level": d.get_escalation_level_display(),
        "review_date": d.review_date,
        "acceptances": [f"RA-{pk}" for pk in d.acceptances.values_list("id", flat=True)],
    }  # fmt: skip
    if fmt is OutputFormat.TABLE:
        for key, value in detail.items():
            if value not in (None, "", []):
                console.print(f"[bold]{key:>16}[/]  {value}")
        return
    emit([detail], list(detail), fmt)

"""Writes of the release gate: record a run, override a blocked run, sign or escalate an override.

Keyword-only, atomic, audited in the same transaction; a refused write changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, NotFound, PermissionDenied, RuleViolation
from detente.decisions.models import DecisionRecord, EscalationLevel, PressurePoint
from detente.decisions.services import decision_create, decision_decide
from detente.gates.evaluate import SHOWN, Result
from detente.gates.models import ALLOWED, GateDecision, GateOverride, GateRun, OverrideStatus
from detente.inventory.models import BusinessService
from detente.people.models import Person, Role
from detente.policy.services import active_policy

OS = OverrideStatus


def _move(override: GateOverride, to: str) -> None:
    if to not in ALLOWED[override.status]:
        raise RuleViolation(f"GO-{override.pk} is {override.status}; it cannot become {to}")
    override.status = to


def gate_run_record(
    *,
    result: Result,
    service: BusinessService,
    actor: Person | None = None,
    commit: str = "",
    ref: str = "",
    asset_name: str = "",
    baseline_of: GateRun | None = None,
    imported: bool = False,
) -> GateRun:
    """Store one gate decision with its facts (files' digests, rules hit, duration)."""
    if actor is not None and actor.has_role(Role.AUDITOR):
        raise PermissionDenied("auditors read; they do not record gate runs")
    with transaction.atomic():
        run = GateRun.objects.create(
            service=service,
            version=result.version[:200],
            commit=commit[:80],
            ref=ref[:200],
            asset_name=asset_name[:500],
            decision=result.decision,
            files=[f.__dict__ for f in result.files],
            rules_hit=result.rules_hit,
            counts=result.counts,
            blocking=[
                {
                    k: i.as_dict()[k]
                    for k in (
                        "vuln_id",
                        "severity",
                        "asset",
                        "rules",
                        "unblock",
                        "finding_id",
                        "component",
                        "fixed_in",
                    )
                }
                for i in result.blocking[:SHOWN]
            ],
            keys=result.keys,
            scan_kinds=result.scan_kinds,
            baseline_of=baseline_of,
            policy_version=result.policy_version,
            actor=actor,
            started_at=result.started_at,
            duration_ms=result.duration_ms,
            imported=imported,
        )
        audit_record(
            actor=actor,
            verb="gate.run",
            subject_type="gate_run",
            subject_id=run.pk,
            after={
                "service": service.slug, "version": run.version, "commit": run.commit,
                "decision": run.decision, "files": [(f.name, f.sha256) for f in result.files],
                "rules_hit": {k: v["count"] for k, v in result.rules_hit.items()},
            },
        )  # fmt: skip
        return run


def _facts(run: GateRun) -> list[str]:
    c = run.counts
    facts = [
        f"gate run #{run.pk} on {run.started_at:%Y-%m-%d %H:%M} UTC: blocked by policy "
        f"v{run.policy_version}",
        f"{c.get('blocking', 0)} blocking finding(s), {c.get('accepted', 0)} accepted, "
        f"{c.get('warn', 0)} warning(s), {c.get('findings', 0)} in all",
        "rules hit: " + ", ".join(f"{k} ×{v['count']}" for k, v in run.rules_hit.items()),
        "reports: " + ", ".join(f"{f['name']} (sha256 {f['sha256'][:12]})" for f in run.files),
    ]
    facts += [f"{b['vuln_id']} ({b['severity']}) on {b['asset']}: {b['unblock']}"
              for b in run.blocking[:10]]  # fmt: skip
    return facts


def gate_override(*, run: GateRun, actor: Person, reason: str) -> GateOverride:
    """Pass a blocked run: a decision record, an audit event, and a second signature owed."""
    doc, _ = active_policy()
    rule = doc.gate.override
    if not actor.has_any_role(rule.roles):
        raise PermissionDenied(
            f"policy lets {', '.join(rule.roles)} override the gate, not a "
            f"{actor.get_role_display()}"
        )
    if not reason.strip():
        raise InputError("an override states its business reason", field="reason")
    with transaction.atomic():
        locked = GateRun.objects.select_for_update().get(pk=run.pk)
        if locked.decision != GateDecision.BLOCKED:
            raise RuleViolation(f"gate run #{locked.pk} is {locked.decision}; only blocked runs "
                                "are overridden")  # fmt: skip
        if GateOverride.objects.filter(run=locked).exists():
            raise RuleViolation(f"gate run #{locked.pk} is already overridden")
        facts = _facts(locked)
        critical = sum(b["severity"] == "critical" for b in locked.blocking)
        record = decision_create(
            actor=actor,
            title=f"Override the gate: {locked.service.slug} {locked.version}",
            pressure_point=PressurePoint.DEVSECOPS,
            question=f"Ship {locked.service.name} {locked.version} although the release gate "
            "blocked it?",
            options=[
                {"title": "Ship now (override the gate)", "business_benefit": reason.strip(),
                 "facts": facts},
                {"title": "Hold the release until fixed or accepted",
                 "business_benefit": "No finding that policy blocks reaches production",
                 "facts": [b["unblock"] for b in locked.blocking[:10]]},
            ],
            company_first=reason.strip(),
            informed=list(rule.second_signers),
        )  # fmt: skip
        now = clock.now()
        override = GateOverride.objects.create(
            run=locked,
            actor=actor,
            role=next(r for r in actor.roles if r in rule.roles),
            reason=reason.strip(),
            decision=record,
            created_at=now,
            second_due=now + dt.timedelta(hours=rule.second_signature_hours),
            uncovered_critical=critical,
        )
        locked.decision = GateDecision.OVERRIDDEN
        locked.save(update_fields=["decision"])
        audit_record(
            actor=actor,
            verb="gate.overridden",
            subject_type="gate_run",
            subject_id=locked.pk,
            before={"decision": GateDecision.BLOCKED},
            after={"decision": GateDecision.OVERRIDDEN, "override": override.pk,
                   "decision_record": record.pk, "reason": override.reason,
                   "second_due": override.second_due.isoformat()},
        )  # fmt: skip
        return override


def _locked(override: GateOverride | int) -> GateOverride:
    pk = override if isinstance(override, int) else override.pk
    found = GateOverride.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"gate override {pk} does not exist")
    return found


def gate_override_sign(
    *, actor: Person, override: GateOverride | int, approve: bool = True, comment: str = ""
) -> GateOverride:
    """The second signature: confirms the override (the decision is recorded) or rejects it."""
    doc, _ = active_policy()
    rule = doc.gate.override
    with transaction.atomic():
        locked = _locked(override)
        if actor.pk == locked.actor_id:
            raise PermissionDenied("separation of duties: nobody signs their own override")
        if not actor.has_any_role(rule.second_signers):
            raise PermissionDenied(
                f"policy lets {', '.join(rule.second_signers)} co-sign an override, not a "
                f"{actor.get_role_display()}"
            )
        if rule.other_role and not any(
            r in rule.second_signers and r != locked.role for r in actor.roles
        ):
            raise PermissionDenied(f"the second signature comes from another role than "
                                   f"{locked.role}")  # fmt: skip
        if not approve and not comment.strip():
            raise InputError("a rejection says why", field="comment")
        before = locked.status
        _move(locked, OS.CONFIRMED if approve else OS.REJECTED)
        locked.second_signer = actor
        locked.second_signed_at = clock.now()
        locked.second_comment = comment.strip()
        locked.save()
        decision_decide(
            actor=actor,
            record=locked.decision,
            decision=(f"Override confirmed by {actor}" if approve
                      else f"Override rejected by {actor}: {comment.strip()}"),
            chosen_option=0 if approve else 1,
            ciso_recommendation_followed=None,
            why_blank="a release-gate override: its reason and the second signature are the "
            "record",
        )  # fmt: skip
        audit_record(
            actor=actor,
            verb="gate.override.confirmed" if approve else "gate.override.rejected",
            subject_type="gate_override",
            subject_id=locked.pk,
            before={"status": before},
            after={"status": locked.status, "comment": locked.second_comment},
        )
        return locked


def gate_overrides_escalate(*, now: dt.datetime | None = None) -> list[int]:
    """Overrides still unsigned past their time become escalations to both leaders: the decision
    record is raised to the leaders, and the people who can sign it (``override_signers``) are
    told through the outbox in the same transaction; their "needs you now" shows it as urgent."""
    moment = now or clock.now()
    done: list[int] = []
    due = GateOverride.objects.filter(status=OS.PENDING, second_due__lte=moment)
    for pk in due.values_list("id", flat=True):
        with transaction.atomic():
            locked = _locked(pk)
            if locked.status != OS.PENDING:
                continue
            _move(locked, OS.ESCALATED)
            locked.save(update_fields=["status"])
            DecisionRecord.objects.filter(pk=locked.decision_id).update(
                escalation_level=EscalationLevel.LEADERS
            )
            audit_record(
                actor=None,
                verb="gate.override.escalated",
                subject_type="gate_override",
                subject_id=locked.pk,
                before={"status": OS.PENDING},
                after={"status": OS.ESCALATED, "due": locked.second_due.isoformat()},
            )
            _notify_escalated(locked, moment)
            done.append(pk)
    return done


def _notify_escalated(override: GateOverride, moment: dt.datetime) -> None:
    from detente.core.text import duration
    from detente.gates.selectors import override_signers
    from detente.notifications.services import notify

    run = GateRun.objects.select_related("service").get(pk=override.run_id)
    author = Person.objects.get(pk=override.actor_id)
    notify(
        event="gate.override.escalated",
        title=(
            f"Gate override GO-{override.pk} needs a second signature: {run.service.name} "
            f"{run.version}"
        ),
        text=(
            f"{author.name} passed a blocked build of {run.service.name} {run.version} by "
            f"override; its second signature was due {override.second_due:%Y-%m-%d %H:%M} UTC "
            f"(late by {duration(moment - override.second_due)}). Co-sign or reject it: "
            f"detente gate-override sign {override.pk} (or reject {override.pk} --comment …), "
            "or on the release gate page."
        ),
        people=override_signers(override),
        facts={
            "override": f"GO-{override.pk}", "decision": f"DR-{override.decision_id}",
            "service": run.service.slug, "version": run.version, "by": author.email,
            "reason": override.reason, "second_due": override.second_due.isoformat(),
        },
    )  # fmt: skip


def run_summary(run: GateRun) -> dict[str, Any]:
    override = GateOverride.objects.filter(run=run).first()
    return {
        "id": run.pk, "service": run.service.slug, "version": run.version,
        "commit": run.commit, "decision": run.decision, "counts": run.counts,
        "rules_hit": run.rules_hit, "duration_ms": run.duration_ms,
        "started_at": run.started_at.isoformat(),
        "override": None if override is None else {
            "id": override.pk, "status": override.status, "by": override.actor.email,
            "decision_record": override.decision_id,
            "second_due": override.second_due.isoformat(),
        },
    }  # fmt: skip

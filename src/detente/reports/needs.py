"""What needs a person now: the first block of every home and the count in the navigation.

Each item is built from a domain selector (acceptances, incidents, findings, planning, the radar);
this module only chooses, per role, which of them belong to the person and in what order. Items
name a page by its URL name and argument; the web layer turns them into links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from detente.acceptances.models import RiskAcceptance
from detente.acceptances.selectors import (
    awaiting_signature_of,
    expiring,
    requested_by,
    roles_to_sign,
)
from detente.core import clock
from detente.core.errors import NotFound
from detente.core.text import duration
from detente.findings.models import Status
from detente.findings.selectors import visible_findings
from detente.gates.selectors import overrides_awaiting
from detente.incidents.models import Incident
from detente.incidents.selectors import (
    briefings_due_by,
    briefings_to_acknowledge,
    clocks_running,
    incidents_of,
)
from detente.initiatives.selectors import waiting_for
from detente.meetings.selectors import actions_for_home
from detente.people.models import Person, Role
from detente.reports.dashboards import CisoFigures, cached_ciso_figures
from detente.tension.models import TensionSnapshot
from detente.tension.selectors import radar_readable_by, snapshot_latest, top_signals

LEADERS = (Role.CIO, Role.CISO)


@dataclass(frozen=True)
class Need:
    """One thing to do: ``kind`` (sign, acknowledge, clock, brief, fix, expiring, request, plan,
    radar, override, initiative, action), a sentence, the page that does it, and whether it is
    urgent (shown red, first)."""

    kind: str
    label: str
    view: str  # a URL name in the web namespace, e.g. "web:acceptance"
    arg: int | str | None = None
    query: str = ""
    urgent: bool = False
    actionable: bool = True  # counted in the navigation


@dataclass
class Needs:
    items: list[Need] = field(default_factory=list)
    radar: TensionSnapshot | None = None
    radar_top: list[dict[str, object]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(1 for n in self.items if n.actionable)

    @property
    def urgent(self) -> list[Need]:
        return [n for n in self.items if n.urgent]


def _as(person: Person, acceptance: RiskAcceptance) -> str:
    return " or ".join(str(Role(r).label) for r in roles_to_sign(person, acceptance))


def _signatures(person: Person) -> list[Need]:
    out = []
    for a in awaiting_signature_of(person):
        label = (
            f"Sign RA-{a.pk} “{a.title}” as {_as(person, a)}: requested by "
            f"{a.requester.name}, until {a.requested_until:%Y-%m-%d}"
        )
        out.append(Need("sign", label, "web:acceptance", a.pk))
    return out


def _overrides(person: Person, now: dt.datetime) -> list[Need]:
    """Gate overrides waiting for this person's second signature; an escalated one (its time
    ran out) is urgent."""
    out = []
    for o in overrides_awaiting(person):
        run = o.run
        late = o.status == "escalated" or o.second_due <= now
        when = (
            f"late by {duration(now - o.second_due)}"
            if o.second_due <= now
            else f"due in {duration(o.second_due - now)}"
        )
        label = (
            f"Co-sign or reject gate override GO-{o.pk}: {run.service.name} {run.version} "
            f"shipped by {o.actor.name} ({Role(o.role).label if o.role in Role.values else o.role}"
            f"), {when}"
        )
        out.append(Need("override", label, "web:gate", query=f"override={o.pk}", urgent=late))
    return out


def _initiatives(person: Person) -> list[Need]:
    """Initiatives waiting for this person: guardrails to sign, a go/no-go to decide (urgent: a
    phase is paused), communications they own."""
    out = []
    for w in waiting_for(person):
        if w.kind == "go_no_go":
            out.append(Need("initiative", w.text, "web:decision", w.decision_id, urgent=True))
        else:
            out.append(Need("initiative", w.text, "web:initiative", w.initiative.pk))
    return out


def _acknowledgements(person: Person) -> list[Need]:
    out = []
    for b in briefings_to_acknowledge(person):
        incident = b.incident
        sev1 = incident.severity == "sev1"
        label = (
            f"Acknowledge briefing {b.number} of INC-{incident.pk} “{incident.title}” "
            f"({incident.get_severity_display()}, issued {b.issued_at:%Y-%m-%d %H:%M} UTC)"
        )
        out.append(Need("acknowledge", label, "web:incident", incident.pk, urgent=sev1))
    return out


def _clocks(person: Person, now: dt.datetime, incidents: list[Incident]) -> list[Need]:
    out = []
    for r in clocks_running(person, now=now, incidents=incidents):
        incident = r.incident
        if r.late_by is not None:
            label = (
                f"INC-{incident.pk}: {r.clock.label} late by {duration(r.late_by)} "
                f"(was due {r.clock.due:%Y-%m-%d %H:%M} UTC)"
            )
            out.append(Need("clock", label, "web:incident", incident.pk, urgent=True))
        else:
            assert r.left is not None
            assert r.clock.due is not None
            label = (
                f"INC-{incident.pk}: {r.clock.label} due in {duration(r.left)} "
                f"({r.clock.due:%Y-%m-%d %H:%M} UTC)"
            )
            out.append(Need("clock", label, "web:incident", incident.pk, actionable=False))
    return out


def _briefings_due(person: Person, now: dt.datetime) -> list[Need]:
    out = []
    for incident, status in briefings_due_by(person, now=now):
        assert status.due is not None
        if status.overdue_by is not None:
            label = (
                f"Brief the CIO on INC-{incident.pk} “{incident.title}”: late by "
                f"{duration(status.overdue_by)}"
            )
            out.append(Need("brief", label, "web:incident", incident.pk, urgent=True))
        else:
            label = (
                f"Brief the CIO on INC-{incident.pk} “{incident.title}” by "
                f"{status.due:%Y-%m-%d %H:%M} UTC"
            )
            out.append(Need("brief", label, "web:incident", incident.pk))
    return out


def _open_sev1(incidents: list[Incident]) -> list[Need]:
    return [
        Need(
            "incident",
            f"SEV1 open: INC-{i.pk} “{i.title}” ({i.get_status_display().lower()}, led by "
            f"{i.lead.name})",
            "web:incident",
            i.pk,
            urgent=True,
            actionable=False,
        )
        for i in incidents
        if i.severity == "sev1"
    ]


def _expiring(person: Person, now: dt.datetime) -> list[Need]:
    return [
        Need(
            "expiring",
            f"Deferral RA-{a.pk} “{a.title}” ends in {duration(a.expires_at - now)} "
            f"({a.expires_at:%Y-%m-%d}): fix, renew or let it lapse",
            "web:acceptance",
            a.pk,
            actionable=False,
        )
        for a in expiring(person)
    ]


def _exploited(person: Person) -> list[Need]:
    count = visible_findings(person).filter(status=Status.OPEN, priority=0).count()
    if not count:
        return []
    return [
        Need(
            "fix",
            f"{count} known-exploited finding(s) on exposed assets are open",
            "web:findings",
            query="exploited=1&exposed=1",
            urgent=True,
            actionable=False,
        )
    ]


def _overdue(figures: CisoFigures, scope: str) -> list[Need]:
    if not figures.overdue:
        return []
    return [
        Need(
            "fix",
            f"{figures.overdue} open finding(s) past their deadline{scope}",
            "web:findings",
            query="overdue=1",
            actionable=False,
        )
    ]


def _my_requests(person: Person) -> list[Need]:
    out = []
    for a in requested_by(person):
        if a.status != "requested":
            continue
        signed = {s.role for s in a.signatures.all()}
        waiting = [Role(r).label for r in a.required_roles if r not in signed]
        label = f"Your request RA-{a.pk} “{a.title}” waits for: {', '.join(waiting)}"
        out.append(Need("request", label, "web:acceptance", a.pk, actionable=False))
    return out


def _plan() -> list[Need]:
    from detente.planning.selectors import plan_current, plan_items

    plan = plan_current()
    if plan is None:
        return [Need("plan", "No patch plan yet: make one", "web:plan")]
    missed = plan_items(plan, missed_only=True).count()
    if not missed:
        return []
    return [
        Need(
            "plan",
            f"{missed} deadline(s) no change window can meet in plan {plan.pk}: add a window, "
            "use an emergency change or ask for a deferral",
            "web:plan",
            actionable=False,
        )
    ]


def _meeting_actions(person: Person, today: dt.date) -> list[Need]:
    """Decision meetings' actions: the person's own (theirs to do), and for a leader everyone's
    (to follow, not counted); an overdue one is urgent."""
    out = []
    for a in actions_for_home(person):
        mine = a.owner_id == person.pk
        who = "your action" if mine else f"action of {a.owner.name}"
        when = f"overdue since {a.due:%Y-%m-%d}" if a.due < today else f"due {a.due:%Y-%m-%d}"
        label = f"M-{a.meeting_id} {who}: {a.title} ({when})"
        out.append(
            Need("action", label, "web:meeting", a.meeting_id, urgent=a.due < today,
                 actionable=mine)
        )  # fmt: skip
    return out


def _radar(needs: Needs, person: Person) -> None:
    if not radar_readable_by(person):
        return
    try:
        needs.radar = snapshot_latest()
    except NotFound:
        return
    needs.radar_top = top_signals(needs.radar, limit=3)


def needs_for(person: Person) -> Needs:
    """Everything on the person's "needs you now" block, urgent first."""
    now = clock.now()
    needs = Needs()
    held = set(person.roles)
    items: list[Need] = []
    if Role.AUDITOR not in held:
        # incidents first: acknowledgements (CIO), open SEV1s, late clocks, briefings I owe
        if Role.CIO in held:
            items += _acknowledgements(person)
        incidents = incidents_of(person)
        if held & set(LEADERS):
            items += _open_sev1(incidents)
        items += _clocks(person, now, incidents) + _briefings_due(person, now)
        items += _signatures(person) + _overrides(person, now) + _initiatives(person)
        items += _meeting_actions(person, now.date())
    # each role's own items; a person with several roles gets each item once
    if Role.CISO in held:
        items = _exploited(person) + items
    elif held & {Role.SECURITY_LEAD, Role.SERVICE_OWNER, Role.IT_LEAD, Role.ENGINEER}:
        items += _exploited(person)
    if held & {Role.IT_LEAD, Role.ENGINEER}:
        items += _overdue(cached_ciso_figures(person), "")
    elif Role.SERVICE_OWNER in held:
        items += _overdue(cached_ciso_figures(person), " on your services")
    if held & {Role.SECURITY_LEAD, Role.SERVICE_OWNER, Role.IT_LEAD, Role.ENGINEER}:
        items += _my_requests(person)
    if held & {Role.IT_LEAD, Role.CHANGE_MANAGER}:
        items += _plan()
    if held & {Role.CIO, Role.CISO, Role.SERVICE_OWNER, Role.IT_LEAD}:
        items += _expiring(person, now)
    # auditors: nothing to do; their home lists what to review
    needs.items = sorted(items, key=lambda n: not n.urgent)
    _radar(needs, person)
    return needs


def needs_count(person: Person) -> int:
    """The navigation's badge: things only this person can move (sign, acknowledge, brief, file)."""
    now = clock.now()
    count = len(awaiting_signature_of(person))
    if person.has_role(Role.CIO):
        count += len(briefings_to_acknowledge(person))
    if not person.has_role(Role.AUDITOR):
        count += len(briefings_due_by(person, now=now))
        count += sum(1 for r in clocks_running(person, now=now) if r.late_by is not None)
        count += len(overrides_awaiting(person)) + len(waiting_for(person))
        count += sum(1 for a in actions_for_home(person) if a.owner_id == person.pk)
    return count

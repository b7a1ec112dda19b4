"""The demo's year: what a newcomer needs to see right after ``detente demo``.

On the demo organisation's own people and services, through the real services:

- twelve months of history on Online Banking's core image (``scenarios.build_scenario``, the
  "simmering" year: monthly scans with half the flaws left open, acceptances approved, rejected
  and expired, decisions escalated, both leaders' monthly pulse), with the radar computed at each
  month's end, and the current month's radar judged as of now (month to date);
- both leaders' profiles, so the pairing guidance is there;
- change windows for every service, a blackout over the next month-end close, and a patch plan;
- an open SEV1 with personal data declared yesterday: its GDPR clock runs, its first briefing waits
  for the CIO's acknowledgement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from detente.core import clock
from detente.demo.scenarios import build_scenario
from detente.incidents.models import Incident
from detente.incidents.services import briefing_issue, incident_declare
from detente.inventory.models import BusinessService
from detente.people.models import Person, Role
from detente.planning.models import ChangeWindow
from detente.planning.services import blackout_add, plan_make, window_add
from detente.tension import profiles
from detente.tension.models import LeaderProfile, TensionSnapshot
from detente.tension.services import profile_take, radar_compute
from detente.tension.signals import Period

SCENARIO = "simmering"
# Each leader's answers by dimension (1-5): a clear primary, a secondary, the rest lower.
LEANINGS = {
    Role.CIO: {"CHANGE": 5, "BUSINESS": 4, "RUN": 3, "TECH": 2, "PARTNER": 2},
    Role.CISO: {"COMPLY": 5, "TECH": 4, "ORCHESTRATE": 3, "ENABLE": 2, "TRANSFORM": 2},
}
# The CIO competes, the CISO accommodates: the pairing guidance has something to say.
CONFLICT = {Role.CIO: {"competing": 5, "collaborating": 3}, Role.CISO: {"accommodating": 4}}
WINDOWS = (
    # service, name, rule, start, minutes, slots
    ("online-banking", "Tuesday night", "FREQ=WEEKLY;BYDAY=TU", dt.time(22, 0), 180, 3),
    ("payments-api", "Sunday early", "FREQ=WEEKLY;BYDAY=SU", dt.time(4, 0), 120, 2),
    ("hr-portal", "Thursday evening", "FREQ=WEEKLY;BYDAY=TH", dt.time(19, 0), 120, 4),
    ("dev-platform", "Weekday lunch", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", dt.time(12, 0), 60, 2),
)


def _person(role: Role) -> Person:
    return Person.objects.filter(role=role, email__endswith="@demo.detente").order_by("id")[0]


def _answers(role: Role) -> tuple[dict[str, int], dict[str, int]]:
    q = profiles.questionnaire()
    spec = q.roles[role]  # type: ignore[index]
    low, high = q.scale
    answers = {}
    for item in spec.items:
        if item.check is not None:
            answers[item.id] = item.check
            continue
        value = LEANINGS[role].get(item.dimension or "", 3)
        answers[item.id] = low + high - value if item.reverse else value
    style = CONFLICT[role]
    conflict = {i.id: style.get(i.style, 2) for i in q.conflict_items}
    return answers, conflict


def _profiles(cio: Person, ciso: Person) -> None:
    for person in (cio, ciso):
        if LeaderProfile.objects.filter(person=person).exists():
            continue
        answers, conflict = _answers(Role(person.role))
        profile_take(actor=person, answers=answers, conflict_answers=conflict)


def _planning(change_manager: Person, it_lead: Person) -> int:
    if not ChangeWindow.objects.exists():
        for slug, name, rule, start, minutes, slots in WINDOWS:
            window_add(
                actor=change_manager, service=BusinessService.objects.get(slug=slug), name=name,
                rrule=rule, start_time=start, duration_minutes=minutes, capacity=slots,
                capacity_unit="slots",
            )  # fmt: skip
        close = Period.of(clock.now()).end
        blackout_add(
            actor=it_lead, starts_at=close - dt.timedelta(days=2),
            ends_at=close + dt.timedelta(days=3), reason="Month-end close: no change anywhere",
        )  # fmt: skip
    return plan_make(actor=change_manager).pk


def _open_incident(cio: Person, ciso: Person, lead: Person) -> Incident:
    declared = clock.now() - dt.timedelta(hours=30)
    with clock.frozen_at(declared):
        incident = incident_declare(
            actor=lead, title="Payment card data seen on a paste site", type="data_breach",
            severity="sev1", lead=lead, cio=cio, ciso=ciso,
            summary="Card numbers matching Payments API test ranges were posted publicly.",
            services=list(BusinessService.objects.filter(slug="payments-api")),
            personal_data=True, data_categories=["payment cards", "names"],
            aware_at=declared - dt.timedelta(hours=2),
        )  # fmt: skip
    with clock.frozen_at(declared + dt.timedelta(minutes=40)):
        briefing_issue(
            actor=lead, incident=incident,
            status_summary="Leak confirmed on one paste site; source not yet known.",
            knowns=["About 1,200 card numbers, no CVV"],
            asks=["Approve notifying the card schemes today"],
            next_steps=["Trace the export path in the Payments API logs"],
        )  # fmt: skip
    return incident


def build_story(*, progress: Callable[[str], None] = lambda _msg: None) -> dict[str, int]:
    """Build the year once (a second ``detente demo`` leaves it as it is); return what was made."""
    if TensionSnapshot.objects.exists():
        return {}
    cio, ciso = _person(Role.CIO), _person(Role.CISO)
    it_lead, lead = _person(Role.IT_LEAD), _person(Role.SECURITY_LEAD)
    banking = BusinessService.objects.get(slug="online-banking")
    year = build_scenario(
        SCENARIO, cast={Role.CIO: cio, Role.CISO: ciso, Role.IT_LEAD: it_lead}, service=banking
    )
    progress(
        f"a year on Online Banking: radar {year[0].period} to {year[-1].period}, "
        f"last zone {year[-1].zone}"
    )
    _profiles(cio, ciso)
    plan = _planning(_person(Role.CHANGE_MANAGER), it_lead)
    progress(f"change windows, a month-end blackout and patch plan {plan}")
    incident = _open_incident(cio, ciso, lead)
    progress(f"open SEV1 INC-{incident.pk}: its GDPR clock runs, the CIO has a briefing to read")
    now = radar_compute(period=Period.of(clock.now()))
    progress(f"radar {now.period} (month to date): {now.zone}, index {now.index:.0f}")
    return {"plan": plan, "incident": incident.pk, "radar_months": len(year) + 1}

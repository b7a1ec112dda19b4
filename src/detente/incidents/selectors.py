"""Reading incidents: regimes, clocks, the briefing cadence, overdue briefings, time to inform."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from detente.core import clock
from detente.core.errors import NotFound
from detente.incidents import clocks
from detente.incidents.models import HANDLING, Briefing, Incident, RegimeProfile, Review
from detente.people.models import Person, Role
from detente.policy.document import PolicyDocument
from detente.policy.services import active_policy


def incident_get(pk: int) -> Incident:
    found = Incident.objects.select_related("lead", "cio", "ciso").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"incident {pk} does not exist")
    return found


def briefing_get(pk: int) -> Briefing:
    found = Briefing.objects.select_related("incident").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"briefing {pk} does not exist")
    return found


def incidents_list(*, open_only: bool = False) -> QuerySet[Incident]:
    query = Incident.objects.select_related("lead").prefetch_related("services")
    return query.exclude(status="closed") if open_only else query


# ----------------------------------------------------------------------------- regimes and clocks


def regime_profile() -> RegimeProfile:
    """The configured profile, or the defaults (no regime) when none is saved yet."""
    return RegimeProfile.objects.filter(pk=1).first() or RegimeProfile(pk=1)


def regimes_of(profile: RegimeProfile) -> clocks.Regimes:
    return clocks.Regimes(
        sec_registrant=profile.sec_registrant,
        gdpr_role=profile.gdpr_role,
        nis2_entity=profile.nis2_entity,
        dora_entity_type=profile.dora_entity_type,
        eu_timezone=profile.eu_timezone,
        eu_calendar=profile.eu_calendar,
        us_timezone=profile.us_timezone,
    )


def clock_zone(c: clocks.Clock, profile: RegimeProfile) -> str:
    """The time zone a clock's due time is shown in: its regime's authority (``clocks.REGIMES``)."""
    return clocks.display_zone(c, regimes_of(profile))


def clock_facts(incident: Incident) -> clocks.ClockFacts:
    filings: dict[str, list[dt.datetime]] = defaultdict(list)
    for key, filed_at in incident.filings.values_list("clock", "filed_at"):
        filings[key].append(filed_at)
    return clocks.ClockFacts(
        aware_at=incident.aware_at,
        classified_major_at=incident.classified_major_at,
        material_determined_at=incident.material_determined_at,
        sec_details_available_at=incident.sec_details_available_at,
        personal_data=incident.personal_data,
        high_risk_to_subjects=incident.high_risk_to_subjects,
        nis2_significant=incident.nis2_significant,
        handled_at=incident.handled_at,
        filings=dict(filings),
    )


def incident_clocks(incident: Incident, *, now: dt.datetime | None = None) -> list[clocks.Clock]:
    return clocks.compute_clocks(
        clock_facts(incident), regimes_of(regime_profile()), now or clock.now()
    )


# ----------------------------------------------------------------------------- briefing cadence


class BriefingState(enum.StrEnum):
    NONE = "none"  # no cadence (SEV4, or the incident is no longer being handled)
    SCHEDULED = "scheduled"
    REMINDER = "reminder"  # inside the reminder window before the due time
    OVERDUE = "overdue"


STATE_LABELS = {
    BriefingState.NONE: "no cadence",
    BriefingState.SCHEDULED: "scheduled",
    BriefingState.REMINDER: "due soon",
    BriefingState.OVERDUE: "overdue",
}


@dataclass(frozen=True)
class BriefingStatus:
    due: dt.datetime | None
    state: BriefingState
    overdue_by: dt.timedelta | None = None

    @property
    def label(self) -> str:
        """The state as people read it ("due soon", not "reminder")."""
        return STATE_LABELS[self.state]


def cadence_interval(doc: PolicyDocument, severity: str) -> dt.timedelta | None:
    hours = doc.incidents.cadence[severity].every_hours  # type: ignore[index]
    return None if hours is None else dt.timedelta(hours=hours)


def next_briefing_due(incident: Incident, doc: PolicyDocument) -> dt.datetime | None:
    """When the CIO next needs a briefing: after declaration by the first-briefing limit, then
    the time the latest briefing promised (never later than the policy interval allows)."""
    if incident.status not in HANDLING:
        return None
    latest = incident.briefings.order_by("-issued_at", "-id").first()
    if latest is not None:
        return latest.next_update_due
    hours = doc.incidents.cadence[incident.severity].first_within_hours  # type: ignore[index]
    return None if hours is None else incident.declared_at + dt.timedelta(hours=hours)


def briefing_status(
    incident: Incident, *, now: dt.datetime | None = None, doc: PolicyDocument | None = None
) -> BriefingStatus:
    moment = now or clock.now()
    policy = doc or active_policy()[0]
    due = next_briefing_due(incident, policy)
    if due is None:
        return BriefingStatus(due=None, state=BriefingState.NONE)
    if moment >= due:
        return BriefingStatus(due=due, state=BriefingState.OVERDUE, overdue_by=moment - due)
    window = dt.timedelta(minutes=policy.incidents.reminder_minutes_before)
    if moment >= due - window:
        return BriefingStatus(due=due, state=BriefingState.REMINDER)
    return BriefingStatus(due=due, state=BriefingState.SCHEDULED)


def overdue_briefings(
    *, viewer: Person | None = None, now: dt.datetime | None = None
) -> list[tuple[Incident, BriefingStatus]]:
    """Incidents whose CIO briefing is overdue. Both leaders (any CIO or CISO) see them all;
    anyone else sees those where they hold an incident role."""
    doc, _ = active_policy()
    query = Incident.objects.filter(status__in=HANDLING).select_related("lead", "cio", "ciso")
    if viewer is not None and not viewer.has_any_role((Role.CIO, Role.CISO)):
        query = query.filter(
            Q(lead=viewer) | Q(cio=viewer) | Q(ciso=viewer) | Q(liaison=viewer) | Q(scribe=viewer)
        )
    out = []
    for incident in query:
        status = briefing_status(incident, now=now, doc=doc)
        if status.state == BriefingState.OVERDUE:
            out.append((incident, status))
    return out


def time_to_inform_cio(incident: Incident) -> dt.timedelta | None:
    """Declaration → the CIO's first acknowledgement of a briefing (None until acknowledged)."""
    if incident.cio_informed_at is None:
        return None
    return incident.cio_informed_at - incident.declared_at


def previous_briefings(briefing: Briefing) -> list[Briefing]:
    return list(
        Briefing.objects.filter(
            incident_id=briefing.incident_id, form=briefing.form, number__lt=briefing.number
        ).order_by("number")
    )


# ----------------------------------------------------------------------------- a person's homes


def _involving(person: Person) -> Q:
    return Q(lead=person) | Q(cio=person) | Q(ciso=person) | Q(liaison=person) | Q(scribe=person)


def incidents_of(person: Person) -> list[Incident]:
    """Open incidents the person sees on their home: all of them for a CIO or CISO, else those
    where they hold an incident role. SEV1 first, then the oldest declaration."""
    query = Incident.objects.exclude(status="closed").select_related("lead", "cio", "ciso")
    if not person.has_any_role((Role.CIO, Role.CISO)):
        query = query.filter(_involving(person))
    return sorted(query, key=lambda i: (i.severity, i.declared_at, i.pk))


def briefings_to_acknowledge(person: Person) -> list[Briefing]:
    """Briefings waiting for this person's acknowledgement (the incident's CIO, or any CIO when
    the incident names none), oldest first."""
    if not person.has_role(Role.CIO):
        return []
    return list(
        Briefing.objects.filter(acknowledged_at__isnull=True)
        .filter(Q(incident__cio=person) | Q(incident__cio__isnull=True))
        .select_related("incident", "author")
        .order_by("issued_at", "id")
    )


@dataclass(frozen=True)
class RunningClock:
    incident: Incident
    clock: clocks.Clock
    late_by: dt.timedelta | None  # past due and not filed
    left: dt.timedelta | None  # time left when still running


def clocks_running(
    person: Person, *, now: dt.datetime | None = None, incidents: list[Incident] | None = None
) -> list[RunningClock]:
    """Regulatory clocks of the person's open incidents (``incidents_of``, unless given) that are
    running or late (not filed): late ones first, most late first; then the nearest due."""
    mine = incidents_of(person) if incidents is None else incidents
    return running_clocks(mine, now=now)


def running_clocks(
    incidents: list[Incident], *, now: dt.datetime | None = None
) -> list[RunningClock]:
    """The running or late (not filed) clocks of ``incidents``, late ones first (most late
    first), then the nearest due. No query for an empty list."""
    moment = now or clock.now()
    if not incidents:
        return []
    regimes = regimes_of(regime_profile())
    out = []
    for incident in incidents:
        for c in clocks.compute_clocks(clock_facts(incident), regimes, moment):
            if c.due is None or c.filed_at is not None:
                continue
            if c.state == clocks.ClockState.LATE:
                out.append(RunningClock(incident, c, moment - c.due, None))
            elif c.state == clocks.ClockState.PENDING:
                out.append(RunningClock(incident, c, None, c.due - moment))
    return sorted(
        out,
        key=lambda r: (
            r.late_by is None,
            -(r.late_by or dt.timedelta()).total_seconds(),
            r.clock.due,
        ),
    )


def briefings_due_by(
    person: Person, *, now: dt.datetime | None = None
) -> list[tuple[Incident, BriefingStatus]]:
    """The incidents this person leads whose next CIO briefing is due soon or overdue."""
    led = list(Incident.objects.filter(status__in=HANDLING, lead=person).select_related("lead"))
    if not led:
        return []  # no policy read (a first read would store the default policy)
    doc, _ = active_policy()
    out = []
    for incident in led:
        status = briefing_status(incident, now=now, doc=doc)
        if status.state in (BriefingState.OVERDUE, BriefingState.REMINDER):
            out.append((incident, status))
    return out


def briefing_of(incident: Incident, number: int) -> Briefing:
    found = Briefing.objects.filter(incident=incident, number=number).first()
    if found is None:
        raise NotFound(f"INC-{incident.pk} has no briefing {number}")
    return found


def review_of(incident: Incident) -> Review | None:
    return Review.objects.select_related("author").filter(incident=incident).first()


def any_incident() -> bool:
    return Incident.objects.exists()


def briefing_in(incident: Incident, pk: int | None) -> Briefing:
    """The briefing ``pk`` of ``incident`` (a form's choice)."""
    found = None if pk is None else Briefing.objects.filter(pk=pk, incident=incident).first()
    if found is None:
        raise NotFound(f"INC-{incident.pk} has no such briefing")
    return found


def briefing_numbered(incident_id: int, number: int) -> Briefing | None:
    return (
        Briefing.objects.select_related("incident", "author")
        .filter(incident_id=incident_id, number=number)
        .first()
    )

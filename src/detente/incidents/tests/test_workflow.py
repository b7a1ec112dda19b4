"""The incident workflow: transitions, briefings on a cadence, acknowledgement, filings, timeline,
review — and what every refusal leaves alone."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.decisions.services import decision_create
from detente.incidents import services as svc
from detente.incidents.briefings import render_html, render_markdown, render_pdf
from detente.incidents.clocks import ClockState
from detente.incidents.models import (
    ALLOWED,
    Briefing,
    ClockFiling,
    Incident,
    IncidentStatus,
    TimelineEntry,
)
from detente.incidents.selectors import (
    BriefingState,
    briefing_status,
    incident_clocks,
    overdue_briefings,
    time_to_inform_cio,
)
from detente.incidents.services import ActionItem, Unknown, _move
from detente.incidents.tests.conftest import NOW, Org, declare
from detente.notifications.models import OutboxMessage

S = IncidentStatus
H = dt.timedelta(hours=1)


def _snapshot(incident: Incident) -> tuple[object, ...]:
    row = Incident.objects.filter(pk=incident.pk).values().get()
    return (
        row,
        AuditEvent.objects.count(),
        TimelineEntry.objects.filter(incident=incident).count(),
        Briefing.objects.filter(incident=incident).count(),
        ClockFiling.objects.filter(incident=incident).count(),
        OutboxMessage.objects.count(),
    )


# ------------------------------------------------------------------ the transition table


@pytest.mark.parametrize(("start", "end"), list(itertools.product(S.values, S.values)))
def test_every_transition_is_allowed_or_refused_by_the_table(start: str, end: str) -> None:
    incident = Incident(pk=1, status=start)
    if end in ALLOWED[start]:
        _move(incident, end)
        assert incident.status == end
    else:
        with pytest.raises(RuleViolation):
            _move(incident, end)
        assert incident.status == start


@pytest.mark.parametrize(("start", "end"), list(itertools.product(S.values, S.values)))
def test_a_refused_transition_changes_nothing_in_the_database(
    org: Org, start: str, end: str
) -> None:
    if end in ALLOWED[start]:
        pytest.skip("allowed")
    incident = declare(org)
    Incident.objects.filter(pk=incident.pk).update(status=start)
    before = _snapshot(incident)
    with pytest.raises(RuleViolation):
        svc.incident_transition(actor=org.lead, incident=incident, to=end)
    assert _snapshot(incident) == before


def test_the_lifecycle_records_handling_and_closing(org: Org) -> None:
    incident = declare(org)
    for to in (S.CONTAINED, S.ERADICATED, S.RECOVERED):
        clock.advance(H)
        svc.incident_transition(actor=org.lead, incident=incident, to=to)
    incident.refresh_from_db()
    assert incident.handled_at == NOW + 3 * H
    svc.incident_transition(actor=org.ciso, incident=incident, to=S.CLOSED, note="done")
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == (S.CLOSED, NOW + 3 * H)
    kinds = list(incident.timeline.values_list("kind", "text"))
    assert kinds[0][0] == "declared"
    assert kinds[-1] == ("status", "recovered → closed: done")
    assert audit_verify().ok


def test_an_outsider_cannot_move_an_incident_and_nothing_changes(org: Org) -> None:
    incident = declare(org)
    before = _snapshot(incident)
    with pytest.raises(PermissionDenied):
        svc.incident_transition(actor=org.engineer, incident=incident, to=S.CONTAINED)
    assert _snapshot(incident) == before


def test_declaration_defaults_and_refusals(org: Org) -> None:
    incident = declare(org)
    assert (incident.aware_at, incident.detected_at, incident.declared_at) == (NOW, NOW, NOW)
    assert (incident.cio, incident.ciso) == (org.cio, org.ciso)
    assert incident.data_categories == ["e-mail addresses", "payment cards"]
    assert list(incident.services.all()) == [org.service]
    declared = OutboxMessage.objects.filter(event="incident.declared")
    assert sorted(declared.values_list("target", flat=True)) == [
        "cio@example.org", "ciso@example.org", "security_lead@example.org",
    ]  # fmt: skip
    count = Incident.objects.count()
    with pytest.raises(InputError, match="future"):
        declare(org, aware_at=NOW + H)
    with pytest.raises(InputError, match="severity"):
        declare(org, severity="sev9")
    with pytest.raises(PermissionDenied):
        declare(org, actor=org.auditor)
    assert Incident.objects.count() == count


# ------------------------------------------------------------------ briefings and cadence


def _brief(org: Org, incident: Incident, **extra: object) -> Briefing:
    params: dict[str, object] = {
        "actor": org.lead,
        "incident": incident,
        "status_summary": "Attacker access cut; scope of the exfiltration under review.",
        "overview": "A web shell on the shop front end sent card data to an external host.",
        "knowns": ["Web shell planted 29 Oct", "Outbound traffic blocked 09:40"],
        "unknowns": [Unknown("How many cards left", "medium"), Unknown("Initial vector", "low")],
        "actions": ["Forensic imaging of the front end"],
        "asks": ["Approve taking the shop offline for 2 hours <tonight>"],
        "next_steps": ["Rotate payment gateway keys"],
    }
    return svc.briefing_issue(**(params | extra))  # type: ignore[arg-type]


def test_sev2_cadence_first_in_four_hours_then_every_six_with_reminders(org: Org) -> None:
    incident = declare(org, severity="sev2")
    status = briefing_status(incident)
    assert (status.due, status.state) == (NOW + 4 * H, BriefingState.SCHEDULED)

    clock.set_now(NOW + 3 * H + dt.timedelta(minutes=25))
    assert svc.incidents_send_reminders() == []
    clock.set_now(NOW + 3 * H + dt.timedelta(minutes=30))
    assert briefing_status(incident).state == BriefingState.REMINDER
    assert svc.incidents_send_reminders() == [(incident.pk, "reminder")]
    assert svc.incidents_send_reminders() == []  # once per due time
    reminder = OutboxMessage.objects.get(event="incident.briefing_reminder")
    assert reminder.target == "security_lead@example.org"

    clock.set_now(NOW + 4 * H)
    assert svc.incidents_send_reminders() == [(incident.pk, "overdue")]
    assert [i.pk for i, _ in overdue_briefings(viewer=org.cio)] == [incident.pk]
    assert [i.pk for i, _ in overdue_briefings(viewer=org.ciso)] == [incident.pk]
    assert overdue_briefings(viewer=org.engineer) == []
    overdue = OutboxMessage.objects.filter(event="incident.briefing_overdue")
    assert sorted(overdue.values_list("target", flat=True)) == [
        "cio@example.org", "ciso@example.org", "security_lead@example.org",
    ]  # fmt: skip

    clock.set_now(NOW + 4 * H + dt.timedelta(minutes=20))
    briefing = _brief(org, incident)
    assert briefing.next_update_due == NOW + 10 * H + dt.timedelta(minutes=20)
    assert briefing_status(incident).state == BriefingState.SCHEDULED
    assert overdue_briefings(viewer=org.cio) == []


def test_a_promised_update_may_come_sooner_but_not_later_than_policy(org: Org) -> None:
    incident = declare(org, severity="sev1")
    sooner = _brief(org, incident, next_update_due=NOW + H)
    assert sooner.next_update_due == NOW + H
    before = _snapshot(incident)
    with pytest.raises(RuleViolation, match="at least every"):
        _brief(org, incident, next_update_due=NOW + 3 * H)
    assert _snapshot(incident) == before


def test_sev4_has_no_cadence(org: Org) -> None:
    incident = declare(org, severity="sev4")
    assert briefing_status(incident).state == BriefingState.NONE
    assert _brief(org, incident).next_update_due is None


def test_executive_briefing_goes_to_leaders_and_the_cio_acknowledges(org: Org) -> None:
    incident = declare(org)
    assert time_to_inform_cio(incident) is None
    clock.set_now(NOW + 2 * H)
    briefing = _brief(org, incident)
    sent = OutboxMessage.objects.filter(event="incident.briefing.executive")
    assert sorted(sent.values_list("target", flat=True)) == [
        "cio@example.org", "ciso@example.org", "security_lead@example.org",
    ]  # fmt: skip
    assert "Decisions needed from you" in sent.first().payload["text"]  # type: ignore[union-attr]

    before = _snapshot(incident)
    with pytest.raises(PermissionDenied):
        svc.briefing_acknowledge(actor=org.ciso, briefing=briefing)
    assert _snapshot(incident) == before

    clock.set_now(NOW + 2 * H + dt.timedelta(minutes=15))
    svc.briefing_acknowledge(actor=org.cio, briefing=briefing.pk)
    incident.refresh_from_db()
    assert time_to_inform_cio(incident) == 2 * H + dt.timedelta(minutes=15)
    with pytest.raises(RuleViolation, match="already"):
        svc.briefing_acknowledge(actor=org.cio, briefing=briefing)

    clock.advance(H)
    second = _brief(org, incident, form="tactical")
    svc.briefing_acknowledge(actor=org.cio, briefing=second)
    incident.refresh_from_db()
    assert time_to_inform_cio(incident) == 2 * H + dt.timedelta(minutes=15)  # the first counts


def test_briefing_renders_as_markdown_html_and_pdf(org: Org) -> None:
    incident = declare(org)
    incident = svc.incident_set_facts(actor=org.lead, incident=incident, material_determined_at=NOW)
    briefing = _brief(org, incident)
    clocks = incident_clocks(incident)
    md = render_markdown(briefing, clocks=clocks)
    assert md.startswith(f"# INC-{incident.pk} SEV2 — Card data exfiltration suspected")
    assert "- How many cards left (confidence: medium)" in md
    assert "- SEC Form 8-K Item 1.05: due 2026-11-06 22:30 UTC" in md
    assert "- GDPR Art. 33 notification to the supervisory authority: due 2026-11-05 09:00" in md
    html = render_html(briefing, clocks=clocks)
    assert "&lt;tonight&gt;" in html
    assert "<tonight>" not in html
    pdf = render_pdf(briefing, clocks=clocks)
    assert pdf.startswith(b"%PDF-")
    tactical = render_markdown(_brief(org, incident, form="tactical"), clocks=clocks)
    assert [line for line in tactical.splitlines() if line.startswith("## ")][:3] == [
        "## Conditions", "## Actions", "## Needs",
    ]  # fmt: skip


# ------------------------------------------------------------------ clocks


def test_clock_met_records_a_filing_and_the_state_follows(org: Org) -> None:
    incident = declare(org)
    svc.clock_met(actor=org.lead, incident=incident, clock_key="gdpr_33", reference="CNIL-1")
    state = {c.key: c for c in incident_clocks(incident)}["gdpr_33"]
    assert (state.state, state.filed_at) == (ClockState.MET, NOW)
    before = _snapshot(incident)
    with pytest.raises(RuleViolation, match="already filed"):
        svc.clock_met(actor=org.lead, incident=incident, clock_key="gdpr_33")
    with pytest.raises(RuleViolation, match="does not apply"):
        svc.clock_met(actor=org.lead, incident=incident, clock_key="nis2_early_warning")
    with pytest.raises(InputError, match="unknown clock"):
        svc.clock_met(actor=org.lead, incident=incident, clock_key="hipaa")
    assert _snapshot(incident) == before


def test_a_filing_after_the_due_time_is_late(org: Org) -> None:
    incident = declare(org)
    incident = svc.incident_set_facts(actor=org.lead, incident=incident, classified_major_at=NOW)
    clock.set_now(NOW + 5 * H)
    assert {c.key: c for c in incident_clocks(incident)}["dora_initial"].state == "late"
    svc.clock_met(actor=org.lead, incident=incident, clock_key="dora_initial")
    assert {c.key: c for c in incident_clocks(incident)}["dora_initial"].state == "late"
    assert {c.key: c for c in incident_clocks(incident)}["dora_intermediate"].due == NOW + 77 * H


def test_facts_once_recorded_do_not_move(org: Org) -> None:
    incident = declare(org)
    incident = svc.incident_set_facts(actor=org.lead, incident=incident, material_determined_at=NOW)
    before = _snapshot(incident)
    with pytest.raises(RuleViolation, match="already has"):
        svc.incident_set_facts(actor=org.lead, incident=incident, material_determined_at=NOW - H)
    assert _snapshot(incident) == before


# ------------------------------------------------------------------ timeline and review


def test_timeline_is_append_only_and_ordered(org: Org) -> None:
    incident = declare(org)
    svc.timeline_add(actor=org.lead, incident=incident, text="Found the web shell", at=NOW - H)
    assert list(incident.timeline.values_list("kind", flat=True)) == ["note", "declared"]
    assert not hasattr(svc, "timeline_update")
    assert not hasattr(svc, "timeline_delete")
    with pytest.raises(InputError):
        svc.timeline_add(actor=org.lead, incident=incident, text="x", kind="status")


def test_review_after_recovery_with_actions_and_decisions(org: Org) -> None:
    incident = declare(org)
    before = _snapshot(incident)
    with pytest.raises(RuleViolation, match="after recovery"):
        svc.review_record(actor=org.lead, incident=incident, what_happened="x")
    assert _snapshot(incident) == before
    for to in (S.CONTAINED, S.ERADICATED, S.RECOVERED):
        svc.incident_transition(actor=org.lead, incident=incident, to=to)
    record = decision_create(
        actor=org.ciso,
        title="Take the shop offline",
        pressure_point="incident",
        question="Offline for 2 hours?",
        options=[{"title": "yes", "business_benefit": "stops the leak"}],
    )
    review = svc.review_record(
        actor=org.lead, incident=incident, what_happened="Web shell via an old plugin.",
        went_well="Containment in 40 minutes.", went_badly="Asset inventory was stale.",
        actions=[ActionItem("Remove the plugin fleet-wide", org.engineer, dt.date(2026, 11, 20))],
        decisions=[record],
    )  # fmt: skip
    assert [(a.text, a.owner, a.due) for a in review.actions.all()] == [
        ("Remove the plugin fleet-wide", org.engineer, dt.date(2026, 11, 20))
    ]
    assert list(review.decisions.all()) == [record]
    assert audit_verify().ok

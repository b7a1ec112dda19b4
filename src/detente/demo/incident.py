"""A past SEV2 incident for the demo, built through the real services with the clock moved."""

from __future__ import annotations

import datetime as dt

from detente.core import clock
from detente.core.errors import InputError
from detente.incidents.models import Incident
from detente.incidents.services import (
    ActionItem,
    Unknown,
    briefing_acknowledge,
    briefing_issue,
    clock_met,
    incident_declare,
    incident_set_facts,
    incident_transition,
    regimes_configure,
    review_record,
    timeline_add,
)
from detente.inventory.models import BusinessService
from detente.people.models import Person


def _person(email: str) -> Person:
    person = Person.objects.filter(email=email).first()
    if person is None:
        raise InputError(f"demo person {email} is missing; build the demo organisation first")
    return person


def build_incident_demo(*, days_ago: int = 30) -> Incident:
    """Declare, brief, acknowledge, file and review a SEV2 credential-stuffing incident that
    started ``days_ago`` days ago. Uses the people of ``demo.org.PEOPLE``."""
    cio, ciso = _person("cio@demo.detente"), _person("ciso@demo.detente")
    lead, it_lead = _person("security.lead@demo.detente"), _person("it.lead@demo.detente")
    engineer = _person("engineer@demo.detente")
    start = (clock.now() - dt.timedelta(days=days_ago)).replace(minute=0, second=0, microsecond=0)
    h = dt.timedelta(hours=1)

    with clock.frozen_at(start - 2 * h):
        regimes_configure(
            actor=ciso, sec_registrant=True, gdpr_role="controller", nis2_entity="essential"
        )
    with clock.frozen_at(start):
        incident = incident_declare(
            actor=lead,
            title="Credential stuffing against online banking",
            type="account_compromise",
            severity="sev2",
            lead=lead,
            liaison=it_lead,
            scribe=engineer,
            summary="A botnet replays leaked passwords against the online banking login.",
            detected_at=start - 2 * h,
            aware_at=start - h,
            services=list(BusinessService.objects.filter(slug="online-banking")),
            personal_data=True,
            data_categories=["account balances", "names", "IBANs"],
        )
    with clock.frozen_at(start + h):
        incident_set_facts(actor=lead, incident=incident, nis2_significant=True)
        timeline_add(
            actor=engineer, incident=incident, text="WAF rate limit raised to block the botnet"
        )
    with clock.frozen_at(start + 3 * h):
        first = briefing_issue(
            actor=lead,
            incident=incident,
            status_summary="Attack slowed by rate limiting; attacker logged into 312 accounts.",
            overview="Leaked passwords from a third-party breach are being replayed at our login.",
            knowns=["312 accounts accessed", "No payments initiated from those accounts"],
            unknowns=[
                Unknown("Whether data was exported from accessed accounts", "medium"),
                Unknown("Size of the password list", "low"),
            ],
            actions=[
                "Forced password reset for the 312 accounts",
                "Botnet IPs blocked at the edge",
            ],
            asks=["Approve mandatory MFA enrolment for all online-banking customers this week"],
            next_steps=["Notify the CNIL within 72 hours", "NIS2 early warning today"],
        )
    with clock.frozen_at(start + 3 * h + dt.timedelta(minutes=20)):
        briefing_acknowledge(actor=cio, briefing=first)
    with clock.frozen_at(start + 5 * h):
        briefing_issue(
            actor=lead,
            incident=incident,
            form="tactical",
            status_summary="Login traffic back to normal; resets under way.",
            knowns=["Reset e-mails sent to 312 customers"],
            actions=["Review logs for data exports"],
            asks=["Two more analysts for log review"],
        )
    with clock.frozen_at(start + 8 * h):
        incident_transition(actor=lead, incident=incident, to="contained", note="Botnet blocked")
    with clock.frozen_at(start + 9 * h):
        briefing_issue(
            actor=lead,
            incident=incident,
            status_summary="Contained; no data export found so far.",
            asks=["Sign off the customer notice text"],
            next_steps=["Finish log review"],
        )
    with clock.frozen_at(start + 20 * h):
        clock_met(
            actor=lead,
            incident=incident,
            clock_key="nis2_early_warning",
            reference="ANSSI-2026-0412",
        )
    with clock.frozen_at(start + 30 * h):
        incident_transition(actor=lead, incident=incident, to="eradicated")
    with clock.frozen_at(start + 40 * h):
        clock_met(actor=lead, incident=incident, clock_key="gdpr_33", reference="CNIL-2026-1189")
    with clock.frozen_at(start + 50 * h):
        incident_transition(actor=lead, incident=incident, to="recovered")
    with clock.frozen_at(start + 60 * h):
        clock_met(
            actor=lead,
            incident=incident,
            clock_key="nis2_notification",
            reference="ANSSI-2026-0412",
        )
    review_at = start + dt.timedelta(days=6)
    with clock.frozen_at(review_at):
        review_record(
            actor=lead,
            incident=incident,
            what_happened="Passwords leaked elsewhere were replayed; accounts without MFA fell.",
            went_well="Rate limiting within the hour; the CIO was briefed and decided in 3 hours.",
            went_badly="No bot detection on the login; the customer notice took a day to agree.",
            actions=[
                ActionItem(
                    "Bot detection on the online-banking login",
                    it_lead,
                    (review_at + dt.timedelta(days=30)).date(),
                ),
                ActionItem(
                    "Pre-approved customer notice templates",
                    lead,
                    (review_at + dt.timedelta(days=14)).date(),
                ),
            ],
        )
    with clock.frozen_at(start + dt.timedelta(days=7)):
        incident_transition(actor=ciso, incident=incident, to="closed", note="Review accepted")
    incident.refresh_from_db()
    return incident

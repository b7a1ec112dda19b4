"""Demo history for the first pressure point: a decision record and acceptances in each state,
made through the real services (the clock is moved for the one that has already expired)."""

from __future__ import annotations

import datetime as dt

from detente.acceptances.models import RiskAcceptance, ScopeKind
from detente.acceptances.services import (
    acceptance_reject,
    acceptance_request,
    acceptance_sign,
    acceptances_expire,
)
from detente.core import clock
from detente.decisions.models import DecisionRecord
from detente.decisions.services import decision_create, decision_decide
from detente.findings.models import Finding, Status
from detente.inventory.models import BusinessService
from detente.people.models import Person


def _p(email: str) -> Person:
    return Person.objects.get(email=email)


def _open(**filters: object) -> Finding | None:
    return Finding.objects.filter(status=Status.OPEN, **filters).order_by("id").first()


def build_history() -> dict[str, int]:
    """Return the ids made: the decision and the acceptances by state."""
    if DecisionRecord.objects.filter(title__startswith="Log4j on the Payments API").exists():
        return {}  # already built (the demo is re-runnable)
    cio, ciso = _p("cio@demo.detente"), _p("ciso@demo.detente")
    lead, it_lead = _p("security.lead@demo.detente"), _p("it.lead@demo.detente")
    owner = _p("owner.payments@demo.detente")
    today = clock.today()
    made: dict[str, int] = {}

    decision = decision_create(
        actor=ciso,
        title="Log4j on the Payments API during the peak-trading freeze",
        pressure_point="patching",
        question="Patch log4j on the payments SBOM now, inside the freeze, or defer five days "
        "behind a verified WAF rule?",
        options=[
            {
                "title": "Emergency change now",
                "business_benefit": "Removes a known-exploited flaw from a customer-facing "
                "service today",
                "facts": [
                    "CVE-2021-44228 is in CISA KEV",
                    "BOD 26-04 row 15: 3 days with forensic triage",
                ],
            },
            {
                "title": "Defer five days behind a WAF virtual patch",
                "business_benefit": "No change during peak trading; the WAF blocks the JNDI "
                "patterns",
                "facts": ["Change freeze ends Friday", "WAF rule verified in production logs"],
            },
        ],
        company_first="Customer trust comes first, and so does the peak-trading revenue: "
        "defer only behind a control we have verified.",
        cio_position="Defer: an outage in the freeze would hurt customers more.",
        ciso_position="Defer only with the WAF rule verified and patch first thing after.",
        informed=["CEO", "Head of Payments"],
        win_win="Verified WAF rule today, patch in the first window after the freeze.",
        review_date=today + dt.timedelta(days=7),
        escalation_level="leaders",
    )
    decision_decide(
        actor=cio, record=decision, decision="Defer five days behind the verified WAF rule.",
        chosen_option=1, ciso_recommendation_followed=True,
        why_blank="decided in the weekly call; the minutes hold the rest",
    )  # fmt: skip
    made["decision"] = decision.pk

    payments = BusinessService.objects.get(slug="payments-api")
    if _open(cve="CVE-2021-44228", asset__service=payments):
        approved = acceptance_request(
            actor=it_lead, title="Log4j behind the WAF until the freeze ends", scope=ScopeKind.CVE,
            cve="CVE-2021-44228", service=payments,
            justification="Peak-trading freeze: no change on the payments path until Friday.",
            compensating_controls="WAF virtual patch for JNDI lookups, verified in production.",
            until=today + dt.timedelta(days=5), decision=decision,
        )  # fmt: skip
        acceptance_sign(actor=ciso, acceptance=approved, comment="WAF rule verified.")
        acceptance_sign(actor=cio, acceptance=approved)
        made["approved"] = approved.pk

    hr = BusinessService.objects.get(slug="hr-portal")
    waiting = _open(asset__service=hr)
    if waiting:
        requested = acceptance_request(
            actor=it_lead, title="HR Portal base image: fix with the January rebuild",
            scope=ScopeKind.FINDINGS, finding_ids=[waiting.pk],
            justification="The image is rebuilt with the January platform upgrade; no separate "
            "change window before then.",
            until=today + dt.timedelta(days=45),
        )  # fmt: skip
        made["requested"] = requested.pk

    rejected_target = _open(asset__service=payments, kev=True)
    if rejected_target:
        rejected = acceptance_request(
            actor=owner, title="Skip the payments KEV fix this sprint", scope=ScopeKind.FINDINGS,
            finding_ids=[rejected_target.pk], justification="Sprint capacity is committed.",
            compensating_controls="None yet", until=today + dt.timedelta(days=6),
        )  # fmt: skip
        acceptance_reject(
            actor=ciso, acceptance=rejected,
            reason="Known exploited and exposed: capacity is not a reason; take the WAF route.",
        )  # fmt: skip
        made["rejected"] = rejected.pk

    # One that ran its course: requested and approved 40 days ago for 30 days, expired since.
    banking = BusinessService.objects.get(slug="online-banking")
    past_target = _open(asset__service=banking, deadline_class="60d") or _open(
        asset__service=banking
    )
    if past_target:
        with clock.frozen_at(clock.now() - dt.timedelta(days=40)):
            expired = acceptance_request(
                actor=it_lead, title="Banking web: wait for the vendor release",
                scope=ScopeKind.FINDINGS, finding_ids=[past_target.pk],
                justification="The vendor ships the fix in its next release.",
                compensating_controls="Feature flag disables the affected endpoint.",
                until=clock.today() + dt.timedelta(days=30),
            )  # fmt: skip
            for signer in _signers(expired, cio=cio, ciso=ciso, lead=lead):
                acceptance_sign(actor=signer, acceptance=expired)
        acceptances_expire()
        made["expired"] = expired.pk
    return made


def _signers(
    acceptance: RiskAcceptance, *, cio: Person, ciso: Person, lead: Person
) -> list[Person]:
    by_role = {"cio": cio, "ciso": ciso, "security_lead": lead}
    people = []
    for role in acceptance.required_roles:
        if role in by_role:
            people.append(by_role[role])
        elif role == "service_owner":
            service = BusinessService.objects.filter(
                assets__findings__acceptance_items__acceptance=acceptance
            ).first()
            if service and service.owner:
                people.append(service.owner)
    return people

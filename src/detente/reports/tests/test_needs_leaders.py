"""Initiatives and gate overrides waiting for a leader appear in their "needs you now" block and
count in the navigation; they leave it once done."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from detente.access.services import account_set_password
from detente.core import clock
from detente.gates.models import GateDecision, GateRun
from detente.gates.services import gate_override, gate_override_sign
from detente.initiatives.models import Phase
from detente.initiatives.services import comms_complete, guardrails_sign, phase_pause
from detente.initiatives.tests.conftest import Org, build_org, create, started
from detente.people.models import Person
from detente.reports.needs import needs_count, needs_for

H = dt.timedelta(hours=1)


@pytest.fixture
def org(db: None) -> Org:
    """The initiatives tests' organisation: every role, the online-banking service."""
    return build_org()


def _labels(person: Person, kind: str) -> list[tuple[str, bool]]:
    return [(n.label, n.urgent) for n in needs_for(person).items if n.kind == kind]


def test_a_planned_phase_waits_for_each_sponsors_guardrails_and_the_comms_owner(org: Org) -> None:
    initiative = create(org)
    name = f"IN-{initiative.pk} “MFA for online-banking customers” phase 1"
    # given: phase 1 planned, nothing signed; the CIO owns its one communication
    assert _labels(org.cio, "initiative") == [
        (f"Sign the guardrails of {name} (CIO side)", False),
        (f"Send communication 1 of {name}: Pilot customers by e-mail, 2026-09-28", False),
    ]
    assert _labels(org.ciso, "initiative") == [
        (f"Sign the guardrails of {name} (CISO side)", False)
    ]
    assert _labels(org.engineer, "initiative") == []  # neither sponsor nor owner
    count = needs_count(org.cio)
    # when: the CIO signs and sends the communication
    phase = Phase.objects.get(initiative=initiative, number=1)
    guardrails_sign(actor=org.cio, phase=phase)
    comms_complete(actor=org.cio, phase=phase, item=1)
    # then: nothing is left for the CIO; the CISO's signature still waits
    assert _labels(org.cio, "initiative") == []
    assert needs_count(org.cio) == count - 2
    assert len(_labels(org.ciso, "initiative")) == 1


def test_a_paused_phase_asks_both_leaders_for_its_go_no_go_first(org: Org) -> None:
    initiative = create(org)
    phase = started(org, initiative)
    # when: the CISO pauses the running pilot
    clock.set_now(clock.now() + H)
    phase_pause(actor=org.ciso, phase=phase, reason="Login failures above the guardrail")
    phase.refresh_from_db()
    # then: the go/no-go decision is urgent on both leaders' homes, linking to its record
    for leader in (org.cio, org.ciso):
        needs = needs_for(leader)
        first = needs.items[0]
        assert (first.kind, first.urgent, first.view, first.arg) == (
            "initiative", True, "web:decision", phase.go_no_go_id,
        )  # fmt: skip
        assert first.label.startswith(f"Decide go/no-go DR-{phase.go_no_go_id}: IN-")
        assert first.label.endswith("phase 1 is paused")


def _blocked_run(org: Org) -> GateRun:
    return GateRun.objects.create(
        service=org.service, version="2.4.0", decision=GateDecision.BLOCKED, policy_version=1,
        started_at=clock.now(),
    )  # fmt: skip


def test_a_gate_override_waits_for_the_other_leaders_second_signature(org: Org) -> None:
    # given: the CISO overrides a blocked release (policy: the second signer is another role)
    override = gate_override(run=_blocked_run(org), actor=org.ciso, reason="Regulator deadline")
    label = (
        f"Co-sign or reject gate override GO-{override.pk}: Online banking 2.4.0 shipped by "
        "CISO (CISO), due in 1 d"
    )
    # then: the CIO is asked, the CISO (who overrode) and the IT lead are not
    assert _labels(org.cio, "override") == [(label, False)]
    assert _labels(org.ciso, "override") == []
    assert _labels(org.it_lead, "override") == []
    before = needs_count(org.cio)
    # when: the day passes without a signature, the item turns urgent and says how late
    clock.set_now(clock.now() + 26 * H)
    assert _labels(org.cio, "override") == [(label.replace("due in 1 d", "late by 2 h"), True)]
    assert needs_for(org.cio).items[0].kind == "override"  # urgent first
    # when: the CIO co-signs, it leaves the block and the count
    gate_override_sign(actor=org.cio, override=override)
    assert _labels(org.cio, "override") == []
    assert needs_count(org.cio) == before - 1


def test_the_cio_home_links_the_override_to_the_gate_page(org: Org) -> None:
    override = gate_override(run=_blocked_run(org), actor=org.ciso, reason="Regulator deadline")
    account_set_password(person=org.cio, password="correct horse battery staple")
    org.cio.refresh_from_db()
    client = Client()
    client.force_login(org.cio.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    html = client.get("/cio").content.decode()
    assert f'href="/gate/?override={override.pk}">Co-sign or reject gate override' in html

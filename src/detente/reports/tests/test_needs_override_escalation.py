"""An escalated gate override reaches the people who can sign it: an e-mail through the outbox
and an urgent item on their "Needs you now" (gates.services.gate_overrides_escalate, run by the
worker's job)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from detente.acceptances.tests.factories import GRYPE, NOW, Org, org
from detente.core import clock
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.gates.tasks import escalate_overrides
from detente.gates.tests.test_tasks import make_override
from detente.inventory.services import service_upsert
from detente.notifications.models import Channel, OutboxMessage
from detente.people.models import Role
from detente.people.services import person_upsert
from detente.reports.needs import needs_count, needs_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(samples: Path) -> Org:
    """The CISO, CIO and engineer; the Grype sample imported for ``shop`` (as test_tasks)."""
    clock.set_now(NOW)
    found = org()
    scan_import(paths=[samples / GRYPE], options=ImportOptions(service=service_upsert(
        slug="shop", name="Shop", owner=None, criticality="high")))  # fmt: skip
    return found


def test_an_escalation_reaches_the_people_who_can_sign_it(samples: Path, people: Org) -> None:
    """Escalated: an e-mail in the outbox and an urgent "needs you now" item for whoever can give
    the second signature (policy: a CIO or CISO of another role than the CIO who overrode), and
    for nobody else; once."""
    other_cio = person_upsert(name="Otto CIO", email="otto@example.org", role=Role.CIO)
    second_ciso = person_upsert(name="Sara CISO", email="sara@example.org", role=Role.CISO)
    gone = person_upsert(name="Gina CISO", email="gina@example.org", role=Role.CISO)
    gone.active = False
    gone.save()
    late = make_override(samples, people, "2.0")

    before = needs_for(people.ciso).items
    assert [n.urgent for n in before if n.kind == "override"] == [False]  # due, not late yet
    assert not OutboxMessage.objects.filter(event="gate.override.escalated").exists()

    clock.set_now(NOW + dt.timedelta(hours=25))
    assert escalate_overrides.call() == [late.pk]

    mails = OutboxMessage.objects.filter(event="gate.override.escalated", channel=Channel.EMAIL)
    assert sorted(mails.values_list("target", flat=True)) == [
        "carla@example.org", "sara@example.org"
    ]  # fmt: skip
    mail = mails.first()
    assert mail is not None
    assert f"GO-{late.pk}" in mail.subject
    assert "Shop 2.0" in mail.subject
    assert f"detente gate-override sign {late.pk}" in mail.body
    assert "late by 1 h" in mail.body

    for signer in (people.ciso, second_ciso):
        items = [n for n in needs_for(signer).items if n.kind == "override"]
        assert [n.urgent for n in items] == [True], signer
        assert items[0].query == f"override={late.pk}"
        assert needs_for(signer).items[0].urgent  # urgent items come first
        assert needs_count(signer) >= 1  # and the navigation's badge counts it
    for other in (people.cio, other_cio, people.engineer):  # the author, the same role, no signer
        assert not [n for n in needs_for(other).items if n.kind == "override"], other

    assert escalate_overrides.call() == []
    assert OutboxMessage.objects.filter(event="gate.override.escalated").count() == 2

"""Background jobs with a frozen, moved clock: reminders once per point, expiry reopens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from detente.acceptances.models import AcceptanceStatus
from detente.acceptances.tasks import (
    acceptance_recipients,
    expire_acceptances,
    send_reminders,
    worker_round,
)
from detente.acceptances.tests.factories import NOW, approved, import_grype, org
from detente.core import clock
from detente.findings.models import Finding, Status
from detente.notifications.models import Channel, OutboxMessage

pytestmark = pytest.mark.django_db


def _queued(event: str) -> list[tuple[str, str]]:
    return list(
        OutboxMessage.objects.filter(event=event, channel=Channel.EMAIL)
        .order_by("id")
        .values_list("target", "subject")
    )


def test_reminder_at_t_minus_7_goes_once_to_requester_and_signers(samples: Path) -> None:
    clock.set_now(NOW)
    people = org()
    acceptance = approved(people, import_grype(samples)["CVE-2021-32626"], days=10)
    assert acceptance.expires_at == dt.datetime(2026, 11, 12, 23, 59, 59, tzinfo=dt.UTC)
    assert acceptance_recipients(acceptance) == [people.engineer, people.ciso, people.cio]
    ra = f"RA-{acceptance.pk}"

    # Approved 10.6 days before the end: the 30-day reminder point is already passed.
    assert send_reminders.call() == 3
    assert _queued("acceptance.expiring") == [
        ("eva@example.org", f"{ra} expires in 11 days"),
        ("carla@example.org", f"{ra} expires in 11 days"),
        ("ivo@example.org", f"{ra} expires in 11 days"),
    ]
    OutboxMessage.objects.all().delete()
    clock.set_now(dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.UTC))  # 7.6 days left: not yet
    assert send_reminders.call() == 0

    clock.set_now(dt.datetime(2026, 11, 6, 9, 0, tzinfo=dt.UTC))  # T-7
    assert send_reminders.call() == 3
    assert _queued("acceptance.expiring") == [
        ("eva@example.org", f"{ra} expires in 7 days"),
        ("carla@example.org", f"{ra} expires in 7 days"),
        ("ivo@example.org", f"{ra} expires in 7 days"),
    ]
    message = OutboxMessage.objects.get(target="ivo@example.org")
    facts = dict(message.payload["facts"])
    assert (facts["reminder_days"], facts["acceptance"]) == (7, ra)

    # Running again sends nothing more for that point.
    assert send_reminders.call() == 0
    assert OutboxMessage.objects.count() == 3
    acceptance.refresh_from_db()
    assert acceptance.reminders_sent == [30, 7]


def test_after_expiry_the_acceptance_is_expired_and_its_findings_reopen(samples: Path) -> None:
    clock.set_now(NOW)
    people = org()
    findings = import_grype(samples)["CVE-2021-32626"]
    acceptance = approved(people, findings, days=10)
    assert Finding.objects.get(pk=findings[0].pk).status == Status.ACCEPTED

    clock.set_now(dt.datetime(2026, 11, 12, 23, 59, 58, tzinfo=dt.UTC))
    assert expire_acceptances.call() == []

    clock.set_now(dt.datetime(2026, 11, 13, 0, 0, tzinfo=dt.UTC))
    assert expire_acceptances.call() == [acceptance.pk]

    acceptance.refresh_from_db()
    assert acceptance.status == AcceptanceStatus.EXPIRED
    assert Finding.objects.get(pk=findings[0].pk).status == Status.OPEN
    assert _queued("acceptance.expired") == [
        ("eva@example.org", f"RA-{acceptance.pk} has expired"),
        ("carla@example.org", f"RA-{acceptance.pk} has expired"),
        ("ivo@example.org", f"RA-{acceptance.pk} has expired"),
    ]
    assert expire_acceptances.call() == []


def test_a_worker_round_runs_the_periodic_jobs_through_the_database_queue(
    samples: Path,
) -> None:
    clock.set_now(NOW)
    approved(org(), import_grype(samples)["CVE-2021-32626"], days=10)

    assert worker_round(worker_id="test-worker") == (3, 0)

    results = DBTaskResult.objects.order_by("enqueued_at")
    assert sorted(r.task_path.rsplit(".", 1)[1] for r in results) == [
        "deliver_outbox", "expire_acceptances", "send_reminders",
    ]  # fmt: skip
    assert {r.status for r in results} == {TaskResultStatus.SUCCESSFUL}
    assert {r.worker_ids[-1] for r in results} == {"test-worker"}
    # No SMTP server is configured: the three reminders wait for a retry.
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("pending", 1)}

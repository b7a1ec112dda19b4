"""Background jobs: expire approvals, remind before expiry, deliver the notification outbox.

Each job is a django-tasks ``Task`` kept in the database queue (``django_tasks_db``);
``detente worker`` queues the periodic ones every round and then runs whatever is ready.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance, SignatureDecision
from detente.acceptances.services import acceptances_due_reminders, acceptances_expire
from detente.core import clock
from detente.notifications.services import notify, outbox_deliver
from detente.people.models import Person

log = logging.getLogger(__name__)

BACKEND = "default"


def acceptance_recipients(acceptance: RiskAcceptance) -> list[Person]:
    """The requester, then everyone who signed it in approval, in signing order."""
    signers = list(
        acceptance.signatures.filter(verdict=SignatureDecision.APPROVE)
        .order_by("signed_at", "id")
        .values_list("signer_id", flat=True)
    )
    order = [acceptance.requester_id, *[s for s in signers if s != acceptance.requester_id]]
    rank = Case(
        *[When(pk=pk, then=Value(i)) for i, pk in enumerate(order)], output_field=IntegerField()
    )
    return list(Person.objects.filter(pk__in=order).order_by(rank))


def _facts(acceptance: RiskAcceptance) -> dict[str, object]:
    return {
        "acceptance": f"RA-{acceptance.pk}",
        "title": acceptance.title,
        "expires_at": acceptance.expires_at.isoformat(),
        "findings": acceptance.items.count(),
        "deadline_class": acceptance.deadline_class,
    }


def _days(left: dt.timedelta) -> str:
    days = max(1, math.ceil(left.total_seconds() / 86400))
    return f"{days} day" if days == 1 else f"{days} days"


def acceptances_send_reminders(*, now: dt.datetime | None = None) -> int:
    """Queue one reminder per recipient for each approval reaching a policy reminder point.

    Marking an acceptance as reminded and queuing its messages share one transaction: either both
    happen or neither does, so a reminder is neither lost nor sent twice.
    """
    moment = now or clock.now()
    queued = 0
    with transaction.atomic():
        for acceptance, point in acceptances_due_reminders(now=moment):
            left = _days(acceptance.expires_at - moment)
            messages = notify(
                event="acceptance.expiring",
                title=f"RA-{acceptance.pk} expires in {left}",
                text=(
                    f"The risk acceptance “{acceptance.title}” ends on "
                    f"{acceptance.expires_at:%Y-%m-%d %H:%M} UTC; its findings then reopen. "
                    "Renew it or fix them before then."
                ),
                people=acceptance_recipients(acceptance),
                facts={**_facts(acceptance), "reminder_days": point},
            )
            queued += len(messages)
    return queued


def acceptances_expire_and_notify(*, now: dt.datetime | None = None) -> list[int]:
    """Expire approvals that reached their end, and tell their requesters and signers."""
    with transaction.atomic():
        expired = acceptances_expire(now=now)
        for acceptance in RiskAcceptance.objects.filter(
            id__in=expired, status=AcceptanceStatus.EXPIRED
        ).order_by("id"):
            notify(
                event="acceptance.expired",
                title=f"RA-{acceptance.pk} has expired",
                text=(
                    f"The risk acceptance “{acceptance.title}” has ended; the findings it "
                    "covered are open again and count against their deadlines."
                ),
                people=acceptance_recipients(acceptance),
                facts=_facts(acceptance),
            )
    return expired


# ------------------------------------------------------------------------------ tasks


@task()
def expire_acceptances() -> list[int]:
    return acceptances_expire_and_notify()


@task()
def send_reminders() -> int:
    return acceptances_send_reminders()


@task()
def deliver_outbox() -> dict[str, int]:
    report = outbox_deliver()
    return {"sent": len(report.sent), "retrying": len(report.retrying),
            "failed": len(report.failed)}  # fmt: skip


# Order matters: expiry before reminders (an expired approval needs no reminder), and delivery
# last, so what the first two queued goes out in the same round.
PERIODIC = (expire_acceptances, send_reminders, deliver_outbox)


def run_queued(*, worker_id: str, max_tasks: int = 1000) -> tuple[int, int]:
    """Run ready tasks of the database queue until none is left; returns (run, failed).

    Uses django_tasks_db's own claim and run steps, without its process loop (which also closes
    database connections: the CLI does that between rounds, outside any transaction).
    """
    runner = Worker(
        queue_names=["*"], interval=0, batch=True, backend_name=BACKEND, startup_delay=False,
        max_tasks=None, worker_id=worker_id, excluded_queue_names=[],
    )  # fmt: skip
    run = failed = 0
    while run < max_tasks:
        with exclusive_transaction(DBTaskResult.objects.db):
            result = DBTaskResult.objects.ready().filter(backend_name=BACKEND).get_locked()
            if result is not None:
                result.claim(worker_id)
        if result is None:
            break
        runner.run_task(result)
        run += 1
        result.refresh_from_db(fields=["status"])
        if result.status != TaskResultStatus.SUCCESSFUL:
            failed += 1
            log.warning("task %s (%s) ended %s", result.pk, result.task_path, result.status)
    return run, failed


def worker_round(*, worker_id: str) -> tuple[int, int]:
    """Queue the periodic jobs, then run everything ready (theirs and any other queued task)."""
    for job in PERIODIC:
        job.enqueue()
    return run_queued(worker_id=worker_id)

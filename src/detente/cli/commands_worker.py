"""``detente worker``: run the periodic jobs and the background task queue."""

from __future__ import annotations

import os
import signal
import socket
import time
from types import FrameType
from typing import Annotated, Any

import typer

from detente.cli.common import console, ensure_database


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    interval: Annotated[
        int, typer.Option(min=1, help="Seconds between rounds of the periodic jobs.")
    ] = 60,
    once: Annotated[bool, typer.Option("--once", help="Run one round, then exit.")] = False,
) -> None:
    """Expire acceptances, send acceptance and incident reminders, escalate gate overrides left
    unsigned, deliver notifications; run queued tasks; append the audit head to the witness file.

    Every round queues the periodic jobs and runs every ready task of the database queue.
    SIGTERM or Ctrl-C stops it after the round in progress.
    """
    ensure_database()
    from django.db import close_old_connections

    from detente.acceptances.tasks import (
        deliver_outbox,
        expire_acceptances,
        run_queued,
        send_reminders,
    )
    from detente.gates.tasks import escalate_overrides
    from detente.incidents.tasks import send_incident_reminders
    from detente.initiatives.tasks import evaluate_guardrails
    from detente.tension.tasks import refresh_radar

    # Expiry before reminders (an expired approval needs none); delivery last, so what the
    # others queued goes out in the same round. The radar after expiry (it counts expired ones);
    # guardrails (initiatives) before delivery, so a pause's notices go out this round. Gate
    # overrides left unsigned escalate before the radar, which counts them.
    jobs = (
        expire_acceptances,
        send_reminders,
        send_incident_reminders,
        escalate_overrides,
        refresh_radar,
        evaluate_guardrails,
        deliver_outbox,
    )

    from django.conf import settings

    from detente.audit.witness import witness_anchor

    def worker_round(*, worker_id: str) -> tuple[int, int]:
        if settings.DETENTE_TASKS_BACKEND == "rq":
            return rq_round(worker_id=worker_id, jobs=jobs, interval=interval)
        for job in jobs:
            job.enqueue()
        outcome = run_queued(worker_id=worker_id)
        witness_anchor()  # anchor the audit head outside the database, every round
        return outcome

    worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    while True:
        run, failed = worker_round(worker_id=worker_id)
        if not once:  # set after each round: RQ's worker installs its own while it works
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        console.print(f"worker round: {run} task(s) run, {failed} failed")
        if once:
            if failed:
                raise typer.Exit(1)
            return
        slept = 0.0
        while slept < interval and not stopping:
            time.sleep(0.5)
            slept += 0.5
        if stopping:
            console.print("worker stopped")
            return
        close_old_connections()  # drop connections the database closed while we slept


# ------------------------------------------------------------------------------ Redis (RQ)

ROUND_LOCK = "detente:worker:round"


def rq_round(*, worker_id: str, jobs: tuple[Any, ...], interval: int) -> tuple[int, int]:
    """One round on the Redis queue shared by every worker (``DETENTE_TASKS_BACKEND=rq``).

    1. Requeue (once: ``RetryingRQBackend``) jobs whose worker died mid-job: their lease, the
       job timeout + ``DETENTE_RQ_GRACE``, ran out without the job finishing.
    2. One worker per interval (a Redis lock) queues the periodic jobs and anchors the audit
       head, so N workers do not queue N copies.
    3. Run every queued job in this process (RQ's ``SimpleWorker``, burst mode), then return.
    """
    import django_rq
    from django_tasks_rq.backend import Job
    from rq.registry import StartedJobRegistry

    from detente.audit.witness import witness_anchor

    queue = django_rq.get_queue("default", job_class=Job)
    connection = queue.connection
    StartedJobRegistry(queue=queue).cleanup()
    lead = bool(connection.set(ROUND_LOCK, worker_id, nx=True, px=max(interval * 1000 - 200, 500)))
    if lead:
        for job in jobs:
            job.enqueue()
    runner = _rq_worker_class()(
        [queue], connection=connection, name=f"{worker_id}-{time.monotonic_ns()}"[:100],
        job_class=Job, worker_ttl=max(interval * 3, 60),
    )  # fmt: skip
    runner.work(burst=True, logging_level="WARNING")
    if lead:
        witness_anchor()
    return (
        runner.successful_job_count + runner.failed_job_count,
        runner.failed_job_count,
    )


def _rq_worker_class() -> type[Any]:
    from django.conf import settings
    from rq.worker import SimpleWorker

    class DetenteRQWorker(SimpleWorker):
        """Runs jobs in the worker's own process (no fork per job: Django's database connection
        stays the worker's). Without a forked child nobody beats the heart during a job, so the
        job's lease is its timeout plus ``DETENTE_RQ_GRACE`` instead of RQ's fixed minute."""

        def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
            timeout = job.timeout if job.timeout and job.timeout > 0 else 0
            return int(timeout or settings.DETENTE_RQ_JOB_TIMEOUT) + settings.DETENTE_RQ_GRACE

    return DetenteRQWorker

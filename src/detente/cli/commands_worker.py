"""``detente worker``: run the periodic jobs and the background task queue."""

from __future__ import annotations

import os
import signal
import socket
import time
from types import FrameType
from typing import Annotated

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

    from detente.audit.witness import witness_append

    def worker_round(*, worker_id: str) -> tuple[int, int]:
        for job in jobs:
            job.enqueue()
        outcome = run_queued(worker_id=worker_id)
        witness_append()  # anchor the audit head outside the database, every round
        return outcome

    worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    while True:
        run, failed = worker_round(worker_id=worker_id)
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

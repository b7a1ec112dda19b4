"""Background jobs of the initiatives app (run by ``detente worker``)."""

from __future__ import annotations

import os

from django_tasks import task

from detente.initiatives.prometheus import pull_live
from detente.initiatives.services import guardrails_evaluate


@task()
def evaluate_guardrails() -> int:
    """Pull PromQL guardrails (when ``DETENTE_PROMETHEUS_URL`` is set), then judge every
    guardrail of every live phase; returns how many phases paused."""
    url = os.environ.get("DETENTE_PROMETHEUS_URL", "").strip()
    if url:
        pull_live(base_url=url)
    return len(guardrails_evaluate().paused)

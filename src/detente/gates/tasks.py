"""Background jobs of the release gate (run by ``detente worker``)."""

from __future__ import annotations

from django_tasks import task

from detente.gates.services import gate_overrides_escalate


@task()
def escalate_overrides() -> list[int]:
    """Overrides still without their second signature past the policy's hours become
    escalations to both leaders (as ``detente gate-override escalate``)."""
    return gate_overrides_escalate()

"""Background jobs of the incidents app (run by ``detente worker``)."""

from __future__ import annotations

from django_tasks import task

from detente.incidents.services import incidents_send_reminders


@task()
def send_incident_reminders() -> int:
    """Remind incident leads before a CIO briefing falls due; flag overdue ones to both leaders."""
    return len(incidents_send_reminders())

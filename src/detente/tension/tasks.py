"""Background jobs of the tension app (run by ``detente worker``)."""

from __future__ import annotations

from django_tasks import task

from detente.tension.services import radar_refresh


@task()
def refresh_radar() -> list[str]:
    """Recompute the current month's radar (month to date) and close last month once it ended."""
    return [s.period for s in radar_refresh()]

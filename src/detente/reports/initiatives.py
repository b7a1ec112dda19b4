"""Initiatives for the pages and the board report: each guardrail metric's chart with its
threshold and the phase bands, and the board's summary rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from detente.core import clock
from detente.initiatives.models import Guardrail, Initiative, Phase, PhaseTransition
from detente.initiatives.selectors import initiative_rows, metric_series
from detente.reports.initiative_charts import Band, guardrail_chart


def phase_bands(initiative: Initiative, now: dt.datetime | None = None) -> list[Band]:
    """A band per started phase, and one per paused stretch (pause to resume or end)."""
    moment = now or clock.now()
    bands: list[Band] = []
    for phase in Phase.objects.filter(initiative=initiative, started_at__isnull=False):
        assert phase.started_at is not None
        end = phase.ended_at or moment
        bands.append(Band(phase.started_at, end, f"phase {phase.number}", "phase"))
        paused_at: dt.datetime | None = None
        for move in PhaseTransition.objects.filter(phase=phase).order_by("at", "id"):
            if move.to_status == "paused":
                paused_at = move.at
            elif paused_at is not None:
                bands.append(Band(paused_at, move.at, f"phase {phase.number} paused", "paused"))
                paused_at = None
        if paused_at is not None:
            bands.append(Band(paused_at, end, f"phase {phase.number} paused", "paused"))
    return bands


def initiative_charts(
    initiative: Initiative, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """One chart per guarded metric, with the threshold of the latest phase that guards it."""
    bands = phase_bands(initiative, now)
    latest: dict[str, Guardrail] = {}
    for guardrail in Guardrail.objects.filter(phase__initiative=initiative).order_by(
        "phase__number", "id"
    ):
        started = guardrail.phase.started_at is not None
        if guardrail.metric not in latest or started:
            latest[guardrail.metric] = guardrail
    charts = []
    for metric, guardrail in latest.items():
        series = metric_series(initiative, metric)
        charts.append(
            {
                "metric": metric,
                "label": guardrail.label,
                "unit": guardrail.unit,
                "threshold": guardrail.threshold,
                "baseline": guardrail.baseline,
                "points": len(series),
                "latest": series[-1][1] if series else None,
                "svg": guardrail_chart(
                    series,
                    title=f"{guardrail.label} ({guardrail.unit})",
                    unit=guardrail.unit,
                    threshold=guardrail.threshold,
                    baseline=guardrail.baseline,
                    bands=bands,
                ),
            }
        )
    return charts


def board_initiatives() -> list[dict[str, Any]]:
    """The board report's rows: every initiative, its phase, guardrails and risk figures."""
    rows = initiative_rows()
    risks = {
        i.pk: (i.risk_measure, i.risk_baseline, i.risk_expected, i.risk_observed)
        for i in Initiative.objects.all()
    }
    for row in rows:
        measure, baseline, expected, observed = risks[row["id"]]
        row |= {"risk_measure": measure, "risk_baseline": baseline, "risk_expected": expected,
                "risk_observed": observed}  # fmt: skip
    return rows

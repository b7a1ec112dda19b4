"""Pulling guardrail metrics from Prometheus by PromQL (``/api/v1/query_range``).

A guardrail with a ``promql`` query is pulled for live phases; the query must return one series
(aggregate it: ``avg(...)``, ``sum(...) / sum(...)``). A Prometheus that is down, times out,
answers an HTTP error or ``"status": "error"``, or returns several series, records the guardrail as
"metric unavailable" (never healthy) with the reason; nothing else is written for it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from detente.core import clock
from detente.core.errors import InputError
from detente.initiatives.csvfile import Point
from detente.initiatives.models import LIVE, Guardrail
from detente.initiatives.services import guardrail_mark_unavailable, metrics_record

DEFAULT_STEP = dt.timedelta(minutes=5)
TIMEOUT = 5.0
MAX_POINTS = 11_000  # Prometheus itself refuses more than 11,000 points per series


class SourceError(Exception):
    """The source did not give a usable answer; the message says why in one line."""


def prometheus_url() -> str:
    url = os.environ.get("DETENTE_PROMETHEUS_URL", "").strip()
    if not url:
        raise InputError("no Prometheus configured: --url or DETENTE_PROMETHEUS_URL", field="url")
    return url


def _check_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"not an http(s) URL: {base_url!r}", field="url")
    return base_url.rstrip("/")


def query_range(
    base_url: str,
    promql: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    step: dt.timedelta = DEFAULT_STEP,
    timeout: float = TIMEOUT,
) -> list[tuple[dt.datetime, float]]:
    """The one series ``promql`` returns between ``start`` and ``end``."""
    seconds = max(int(step.total_seconds()), 1)
    if (end - start).total_seconds() / seconds > MAX_POINTS:
        raise SourceError(f"more than {MAX_POINTS} points; use a larger step")
    query = urllib.parse.urlencode(
        {"query": promql, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}",
         "step": f"{seconds}s"}
    )  # fmt: skip
    url = f"{_check_url(base_url)}/api/v1/query_range?{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:2000]
        raise SourceError(f"HTTP {exc.code}: {_error_text(detail) or exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError(f"cannot reach {base_url}: {reason}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise SourceError("the answer is not JSON") from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        raise SourceError(f"error: {_error_text(body) or 'no status'}")
    data = answer.get("data") or {}
    if data.get("resultType") != "matrix":
        raise SourceError(f"expected a range result (matrix), got {data.get('resultType')!r}")
    series = data.get("result") or []
    if len(series) > 1:
        raise SourceError(f"the query returns {len(series)} series; aggregate it to one")
    points: list[tuple[dt.datetime, float]] = []
    for pair in series[0].get("values", []) if series else []:
        try:
            at, value = float(pair[0]), float(pair[1])
        except (TypeError, ValueError, IndexError):
            raise SourceError(f"unreadable point {pair!r}") from None
        if math.isfinite(value):  # NaN (0/0 in a ratio) is no observation
            points.append((dt.datetime.fromtimestamp(at, tz=dt.UTC), value))
    return points


def _error_text(body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    if isinstance(answer, dict):
        return " ".join(str(answer.get(k, "")) for k in ("errorType", "error")).strip()
    return ""


@dataclass
class PullReport:
    queries: int = 0
    points: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (guardrail id, reason)


def pull_live(
    *,
    base_url: str,
    lookback: dt.timedelta = dt.timedelta(hours=2),
    step: dt.timedelta = DEFAULT_STEP,
    now: dt.datetime | None = None,
) -> PullReport:
    """Pull every PromQL guardrail of every live phase for the last ``lookback``."""
    _check_url(base_url)
    end = now or clock.now()
    report = PullReport()
    guardrails = (
        Guardrail.objects.filter(phase__status__in=LIVE)
        .exclude(promql="")
        .select_related("phase__initiative")
        .order_by("id")
    )
    for guardrail in guardrails:
        report.queries += 1
        try:
            series = query_range(base_url, guardrail.promql, start=end - lookback, end=end,
                                 step=step)  # fmt: skip
        except SourceError as exc:
            guardrail_mark_unavailable(guardrail=guardrail, detail=f"prometheus: {exc}")
            report.failed.append((guardrail.pk, str(exc)))
            continue
        if series:
            points = [Point(guardrail.metric, at, value) for at, value in series]
            report.points += metrics_record(
                actor=None, initiative=guardrail.phase.initiative, points=points,
                source=f"prometheus {base_url}",
            )  # fmt: skip
        if guardrail.state_detail.startswith("source:"):
            # The source answers again: the next evaluation judges the points.
            Guardrail.objects.filter(pk=guardrail.pk).update(state="unknown", state_detail="")
    return report

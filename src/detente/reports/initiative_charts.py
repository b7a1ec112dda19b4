"""An initiative's guardrail series as inline SVG: the line, its threshold and baseline, the phase
bands (and the paused stretches within them), for the page and the board report.

Same rules as ``charts.py``: no JavaScript, a title and a description for screen readers,
escaped labels, numbers also readable in the table beside the chart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 36
MAX_DRAWN = 600  # points drawn; a longer series is thinned evenly (the table keeps them all)


@dataclass(frozen=True)
class Band:
    start: dt.datetime
    end: dt.datetime
    label: str
    kind: str  # "phase" or "paused"


def guardrail_chart(
    series: Sequence[tuple[dt.datetime, float]],
    *,
    title: str,
    unit: str,
    threshold: float,
    baseline: float,
    bands: Sequence[Band] = (),
) -> str:
    if not series:
        return f'<p class="muted">{escape(title)}: no points yet.</p>'
    if len(series) > MAX_DRAWN:
        stride = len(series) / MAX_DRAWN
        series = [series[int(i * stride)] for i in range(MAX_DRAWN)] + [series[-1]]
    # The time axis runs to the latest band's end (now, for a live phase), so a phase started or
    # paused after the last point still shows.
    t0, t1 = series[0][0], max([series[-1][0], *(b.end for b in bands)])
    span = max((t1 - t0).total_seconds(), 1.0)
    values = [v for _, v in series] + [threshold, baseline]
    low, high = min(values), max(values)
    margin = (high - low) * 0.1 or 1.0
    low, high = low - margin, high + margin
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(at: dt.datetime) -> float:
        seconds = min(max((at - t0).total_seconds(), 0.0), span)
        return PAD + inner_w * seconds / span

    def y(value: float) -> float:
        return PAD + inner_h * (high - value) / (high - low)

    parts: list[str] = []
    for band in bands:
        if band.end < t0 or band.start > t1:
            continue
        left, right = x(band.start), x(band.end)
        fill = "#fde2e1" if band.kind == "paused" else "#eef2ff"
        parts.append(
            f'<rect x="{left:.1f}" y="{PAD}" width="{max(right - left, 1):.1f}" '
            f'height="{inner_h}" class="band {band.kind}" fill="{fill}">'
            f"<title>{escape(band.label)}</title></rect>"
        )
        if band.kind == "phase":
            parts.append(
                f'<text x="{left + 3:.1f}" y="{PAD + 10}" font-size="9" fill="#555" '
                f'class="tick">{escape(band.label)}</text>'
            )
    for name, value, colour in (("threshold", threshold, "#c92a2a"), ("baseline", baseline,
                                                                      "#868e96")):  # fmt: skip
        parts.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="{name}" stroke="{colour}" stroke-dasharray="4 3"/>'
            f'<text x="{WIDTH - PAD + 2}" y="{y(value) + 3:.1f}" font-size="9" fill="{colour}">'
            f"{value:g}</text>"
        )
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(at):.1f},{y(v):.1f}" for i, (at, v) in enumerate(series)
    )
    parts.append(f'<path d="{path}" class="line" fill="none" stroke="#3b5bdb" stroke-width="1.5"/>')
    tick = 'font-size="9" fill="#555" class="tick"'
    parts.append(
        f'<text x="{PAD}" y="{HEIGHT - 8}" {tick}>{t0:%Y-%m-%d %H:%M}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" {tick} text-anchor="end">'
        f"{t1:%Y-%m-%d %H:%M}</text>"
    )
    summary = (
        f"{len(series)} points from {t0:%Y-%m-%d %H:%M} to {series[-1][0]:%Y-%m-%d %H:%M} UTC; "
        f"latest "
        f"{series[-1][1]:g} {unit}; lowest {min(v for _, v in series):g}, highest "
        f"{max(v for _, v in series):g}; threshold {threshold:g}, baseline {baseline:g}"
    )
    cid = (
        "chart-"
        + hashlib.sha1(f"{title}|{summary}".encode(), usedforsecurity=False).hexdigest()[:8]
    )
    return (
        f'<svg class="chart guardrail" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(summary)}</desc>' + "".join(parts) + "</svg>"
    )

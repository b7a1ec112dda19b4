"""Charts as inline SVG, drawn from the same figures the pages and the board report show.

No JavaScript and no external files: an SVG string with a title and a description for screen
readers, escaped labels, and numbers a person can also read in the table beside it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from html import escape

from detente.reports.dashboards import SeriesPoint

WIDTH, HEIGHT, PAD = 640, 220, 32


def bar_chart(
    points: Sequence[SeriesPoint],
    *,
    title: str,
    unit: str = "",
    maximum: float | None = None,
    font_size: int = 10,
) -> str:
    """Bars with their labels; ``font_size`` (in the 640-wide drawing's units) is raised where the
    chart is drawn small, e.g. half a printed page; crowded labels are then thinned out."""
    if not points:
        return f'<p class="muted">{escape(title)}: no data yet.</p>'
    top = maximum if maximum is not None else max((p.value for p in points), default=1.0) or 1.0
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / len(points)
    every = max(1, math.ceil(5 * 0.62 * font_size / step))  # labels show 5 characters
    tick = f'font-size="{font_size}" fill="#555"'
    bars = []
    for index, point in enumerate(points):
        height = 0 if top == 0 else inner_h * min(point.value, top) / top
        x = PAD + index * step + step * 0.15
        y = PAD + inner_h - height
        label = f"{point.label}: {point.value:g}{unit}"
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" '
            f'class="bar" fill="#3b5bdb"><title>{escape(label)}</title></rect>'
        )
        if len(points) <= 16 and index % every == 0:
            bars.append(
                f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - 8}" class="tick" {tick} '
                f'text-anchor="middle">{escape(point.label[-5:])}</text>'
            )
    summary = "; ".join(f"{p.label} {p.value:g}{unit}" for p in points)
    # Ids unique per chart (a report holds several); presentation attributes give the colours
    # where no style sheet reaches the SVG (the PDF); the pages' CSS overrides them.
    cid = (
        "chart-"
        + hashlib.sha1(f"{title}|{summary}".encode(), usedforsecurity=False).hexdigest()[:8]
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(summary)}</desc>'
        f'<line x1="{PAD}" y1="{PAD + inner_h}" x2="{WIDTH - PAD}" '
        f'y2="{PAD + inner_h}" class="axis" stroke="#888"/>'
        f'<text x="{PAD}" y="{PAD - 10}" class="tick" {tick}>{top:g}{escape(unit)}</text>'
        + "".join(bars)
        + "</svg>"
    )

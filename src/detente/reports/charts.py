"""Charts as inline SVG, drawn from the same figures the pages and the board report show.

No JavaScript and no external files: an SVG string with a title and a description for screen
readers, escaped labels, and numbers a person can also read in the table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from detente.reports.dashboards import SeriesPoint

WIDTH, HEIGHT, PAD = 640, 220, 32


def bar_chart(
    points: Sequence[SeriesPoint], *, title: str, unit: str = "", maximum: float | None = None
) -> str:
    if not points:
        return f'<p class="muted">{escape(title)}: no data yet.</p>'
    top = maximum if maximum is not None else max((p.value for p in points), default=1.0) or 1.0
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / len(points)
    bars = []
    for index, point in enumerate(points):
        height = 0 if top == 0 else inner_h * min(point.value, top) / top
        x = PAD + index * step + step * 0.15
        y = PAD + inner_h - height
        label = f"{point.label}: {point.value:g}{unit}"
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" '
            f'class="bar"><title>{escape(label)}</title></rect>'
        )
        if len(points) <= 16:
            bars.append(
                f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - 8}" class="tick" '
                f'text-anchor="middle">{escape(point.label[-5:])}</text>'
            )
    summary = "; ".join(f"{p.label} {p.value:g}{unit}" for p in points)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(summary)}</desc>'
        f'<line x1="{PAD}" y1="{PAD + inner_h}" x2="{WIDTH - PAD}" '
        f'y2="{PAD + inner_h}" class="axis"/>'
        f'<text x="{PAD}" y="{PAD - 10}" class="tick">{top:g}{escape(unit)}</text>'
        + "".join(bars)
        + "</svg>"
    )

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


def _chart_id(title: str, summary: str) -> str:
    return (
        "chart-"
        + hashlib.sha1(f"{title}|{summary}".encode(), usedforsecurity=False).hexdigest()[:8]
    )


def bar_chart(
    points: Sequence[SeriesPoint],
    *,
    title: str,
    unit: str = "",
    maximum: float | None = None,
    font_size: int = 10,
    tick_chars: int = 5,
) -> str:
    """Bars with their labels; ``font_size`` (in the 640-wide drawing's units) is raised where the
    chart is drawn small, e.g. half a printed page; crowded labels are then thinned out. Each bar's
    tick shows the last ``tick_chars`` characters of its label."""
    if not points:
        return f'<p class="muted">{escape(title)}: no data yet.</p>'
    top = maximum if maximum is not None else max((p.value for p in points), default=1.0) or 1.0
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / len(points)
    every = max(1, math.ceil(tick_chars * 0.62 * font_size / step))
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
                f'text-anchor="middle">{escape(point.label[-tick_chars:])}</text>'
            )
    summary = "; ".join(f"{p.label} {p.value:g}{unit}" for p in points)
    # Ids unique per chart (a report holds several); presentation attributes give the colours
    # where no style sheet reaches the SVG (the PDF); the pages' CSS overrides them.
    cid = _chart_id(title, summary)
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


def stacked_bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    title: str,
    tick_chars: int = 5,
) -> str:
    """One bar per label, stacked from ``series`` (name, colour, one value per label), with a
    legend; the description reads every bar's parts, and a page shows the same numbers in a
    table beside it."""
    totals = [sum(values[n] for _, _, values in series) for n in range(len(labels))]
    if not labels or not any(totals):
        return f'<p class="muted">{escape(title)}: no data yet.</p>'
    top = max(totals)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD - 14  # room for the legend
    base = PAD + 14 + inner_h
    step = inner_w / len(labels)
    every = max(1, math.ceil(tick_chars * 0.62 * 10 / step))
    tick = 'font-size="10" fill="#555"'
    parts = []
    for index, label in enumerate(labels):
        x = PAD + index * step + step * 0.15
        y = float(base)
        for name, colour, values in series:
            value = values[index]
            if not value:
                continue
            height = inner_h * value / top
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(f"{label} {name}: {value:g}")}</title></rect>'
            )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - 8}" class="tick" {tick} '
                f'text-anchor="middle">{escape(label[-tick_chars:])}</text>'
            )
    legend, lx = [], PAD
    for name, colour, _ in series:
        legend.append(
            f'<rect x="{lx}" y="{PAD - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{PAD + 1}" class="tick" {tick}>{escape(name)}</text>'
        )
        lx += 24 + 7 * len(name)
    summary = "; ".join(
        f"{label}: " + ", ".join(f"{name} {values[n]:g}" for name, _, values in series)
        for n, label in enumerate(labels)
    )
    cid = _chart_id(title, summary)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(summary)}</desc>'
        f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" class="axis" '
        f'stroke="#888"/>'
        f'<text x="{WIDTH - PAD}" y="{PAD + 1}" class="tick" {tick} text-anchor="end">'
        f"{top:g}</text>" + "".join(legend) + "".join(parts) + "</svg>"
    )

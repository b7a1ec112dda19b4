"""Rendering a briefing: Markdown (the message body), HTML (escaped string builder) and PDF
(that HTML through ``core.pdf``).

Executive form: status, overview, asks, next steps — plus knowns, unknowns with confidence, the
regulatory clocks panel and the list of previous executive briefings. Tactical form (CAN):
conditions (status, knowns, unknowns), actions, needs.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from detente.core.pdf import html_to_pdf
from detente.incidents.clocks import Clock, ClockState

if TYPE_CHECKING:
    from detente.incidents.models import Briefing


def _when(moment: dt.datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def clock_line(c: Clock) -> str:
    if c.state == ClockState.MET:
        return f"met, filed {_when(c.filed_at)} (due {_when(c.due)})"
    if c.state == ClockState.LATE:
        filed = f", filed {_when(c.filed_at)}" if c.filed_at else ", not filed"
        return f"LATE: due {_when(c.due)}{filed}"
    if c.asap:
        return "due now: without undue delay"
    if c.due is None:
        return f"waiting: {c.basis}"
    return f"due {_when(c.due)}"


@dataclass(frozen=True)
class Section:
    heading: str
    items: list[str]


def sections(briefing: Briefing, clocks: Sequence[Clock] = ()) -> list[Section]:
    """The briefing's content in order, shared by every output format."""
    unknowns = [f"{u['text']} (confidence: {u['confidence']})" for u in briefing.unknowns]
    applicable = [
        f"{c.regime} {c.label}: {clock_line(c)}"
        for c in clocks
        if c.state != ClockState.NOT_APPLICABLE
    ]
    if briefing.form == "tactical":
        conditions = [briefing.status_summary, *briefing.knowns]
        conditions += [f"Unknown: {u}" for u in unknowns]
        out = [
            Section("Conditions", conditions),
            Section("Actions", list(briefing.actions)),
            Section("Needs", list(briefing.asks)),
        ]
    else:
        out = [
            Section("Current status", [briefing.status_summary]),
            Section("Overview", [briefing.overview] if briefing.overview else []),
            Section("What we know", list(briefing.knowns)),
            Section("What we do not know yet", unknowns),
            Section("Actions under way", list(briefing.actions)),
            Section("Decisions needed from you", list(briefing.asks)),
            Section("Next steps", list(briefing.next_steps)),
        ]
    out.append(Section("Regulatory clocks", applicable))
    out.append(Section("Next update due", [_when(briefing.next_update_due)]))
    return [s for s in out if s.items]


def _title(briefing: Briefing) -> str:
    incident = briefing.incident
    return (
        f"INC-{incident.pk} {incident.get_severity_display()} — {incident.title}: "
        f"{briefing.get_form_display().lower()} briefing #{briefing.number}"
    )


def _meta(briefing: Briefing) -> str:
    return (
        f"Issued {_when(briefing.issued_at)} by {briefing.author.name}; "
        f"incident {briefing.incident_status}"
    )


def render_markdown(
    briefing: Briefing, *, clocks: Sequence[Clock] = (), previous: Sequence[Briefing] = ()
) -> str:
    lines = [f"# {_title(briefing)}", "", _meta(briefing), ""]
    for section in sections(briefing, clocks):
        lines.append(f"## {section.heading}")
        lines.extend(f"- {item}" for item in section.items)
        lines.append("")
    if previous:
        lines.append("## Previous briefings")
        lines.extend(f"- #{b.number} {_when(b.issued_at)}: {b.status_summary}" for b in previous)
        lines.append("")
    return "\n".join(lines)


def render_html(
    briefing: Briefing, *, clocks: Sequence[Clock] = (), previous: Sequence[Briefing] = ()
) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(_title(briefing))}</title></head><body>",
        f"<h1>{e(_title(briefing))}</h1>",
        f"<p>{e(_meta(briefing))}</p>",
    ]
    for section in sections(briefing, clocks):
        parts.append(f"<h2>{e(section.heading)}</h2><ul>")
        parts.extend(f"<li>{e(item)}</li>" for item in section.items)
        parts.append("</ul>")
    if previous:
        parts.append("<h2>Previous briefings</h2><ul>")
        parts.extend(
            f"<li>#{b.number} {e(_when(b.issued_at))}: {e(b.status_summary)}</li>" for b in previous
        )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


# Print layout of the HTML rendering (a stylesheet given to the PDF engine, not inlined in the
# HTML download: the pages' CSP allows no inline style).
_PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 10pt; }
h1 { font-size: 15pt; margin: 0 0 4pt; }
h2 { font-size: 12pt; margin: 10pt 0 3pt; }
ul { margin: 0; padding-left: 14pt; }
"""


def render_pdf(
    briefing: Briefing, *, clocks: Sequence[Clock] = (), previous: Sequence[Briefing] = ()
) -> bytes:
    """The HTML rendering printed by the one PDF engine (``core.pdf``, WeasyPrint): any script
    the system fonts cover is printed as written."""
    document = render_html(briefing, clocks=clocks, previous=previous)
    return html_to_pdf(document, css=_PRINT_CSS)

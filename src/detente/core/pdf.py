"""The one PDF engine: WeasyPrint renders HTML (board report, incident briefings) to PDF.

WeasyPrint lays text out with Pango and the system's fonts, so any script a font on the machine
covers is printed as written (no Latin-1 core fonts, no replacement characters). It is imported
late: loading Pango costs about a second, and most commands never print.
"""

from __future__ import annotations

from pathlib import Path


def html_to_pdf(html: str, *, base_url: Path | str | None = None, css: str = "") -> bytes:
    """``html`` (a complete document) as PDF bytes; ``base_url`` resolves relative links and
    ``css`` is an extra print stylesheet."""
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]  # late: it loads Pango

    stylesheets = [CSS(string=css)] if css else None
    pdf = HTML(string=html, base_url=None if base_url is None else str(base_url)).write_pdf(
        stylesheets=stylesheets
    )
    if pdf is None:
        raise RuntimeError("WeasyPrint wrote no PDF")
    return bytes(pdf)

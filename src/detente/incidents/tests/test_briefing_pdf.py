"""A briefing's PDF prints text outside Latin-1 as written (one PDF engine: WeasyPrint)."""

from __future__ import annotations

import io

import pytest

from detente.incidents import services as svc
from detente.incidents.briefings import render_pdf
from detente.incidents.selectors import incident_clocks
from detente.incidents.tests.conftest import Org, declare

pypdf = pytest.importorskip("pypdf")


def test_greek_cyrillic_and_typography_survive_in_the_pdf(org: Org) -> None:
    incident = declare(org)
    briefing = svc.briefing_issue(
        actor=org.lead,
        incident=incident,
        status_summary="Zugriff gesperrt — Ωμέγα-Server isoliert",
        overview="Сервер платежей отключён → резервный узел",
        asks=["Budget ≤ 20 k€ for forensics"],
    )
    pdf = render_pdf(briefing, clocks=incident_clocks(incident))
    assert pdf.startswith(b"%PDF-")
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
    )
    for written in ("Ωμέγα-Server", "Сервер платежей отключён", "→", "≤ 20 k€", "—"):
        assert written in text, written

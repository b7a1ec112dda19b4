"""An upload over the configured limit is a clear 413, refused before its body is read, and
nothing is imported; one under the limit still imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from detente.findings.models import ScanImport
from detente.people.models import Person
from detente.web.tests.test_headers import _client, ciso  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_an_oversized_upload_is_413_and_nothing_is_imported(
    ciso: Person,  # noqa: F811
    settings: Any,
    samples: Path,
) -> None:
    report = (samples / "scans/cyclonedx/log4j.json").read_bytes()
    settings.DETENTE_MAX_UPLOAD_BYTES = len(report) // 2
    client = _client(ciso)
    page = client.post("/imports/new", {"file": SimpleUploadedFile("log4j.json", report)})
    assert page.status_code == 413
    assert "over the" in page.content.decode()
    assert "byte limit (DETENTE_MAX_UPLOAD_BYTES)" in page.content.decode()
    as_json = client.post(
        "/api/imports", {"file": SimpleUploadedFile("log4j.json", report)},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert as_json.status_code == 413
    assert as_json.json()["error"]["code"] == "too_large"
    assert ScanImport.objects.count() == 0
    settings.DETENTE_MAX_UPLOAD_BYTES = len(report) * 2
    fits = client.post(
        "/imports/new", {"file": SimpleUploadedFile("log4j.json", report), "asset": "pay"},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert fits.status_code == 201, fits.content
    assert ScanImport.objects.count() == 1

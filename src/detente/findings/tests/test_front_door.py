"""One front door for imports: every way in (file, folder, upload) runs the same import and the
work registered after it (acceptances squaring the findings they cover)."""

from __future__ import annotations

import pytest

from detente.core.errors import InputError
from detente.findings.importer import ImportOptions
from detente.findings.models import ScanImport
from detente.findings.services import upload_import
from detente.findings.tests.factories import trivy_report, trivy_vuln

pytestmark = pytest.mark.django_db


def test_an_upload_runs_the_hooks_and_names_the_file_as_the_user_knows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    seen: list[ScanImport] = []
    monkeypatch.setattr("detente.findings.services._AFTER_IMPORT", [lambda s, a: seen.append(s)])
    body = json.dumps(trivy_report([trivy_vuln("CVE-2024-6000")])).encode()
    scan = upload_import(
        chunks=[body[:100], body[100:]], name="../../etc/build.json", size=len(body), actor=None,
        options=ImportOptions(asset_name="build"),
    )  # fmt: skip
    assert seen == [scan]
    assert scan.new == 1
    with pytest.raises(InputError) as refused:
        upload_import(
            chunks=[b"{not json"], name="broken.json", size=9, actor=None, options=ImportOptions()
        )
    assert refused.value.file == "broken.json"
    assert "detente-upload-" not in str(refused.value)


def test_an_upload_over_the_limit_is_refused_before_it_is_written(settings: object) -> None:
    settings.DETENTE_MAX_IMPORT_BYTES = 10  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="import limit") as refused:
        upload_import(chunks=[], name="big.json", size=11, actor=None, options=ImportOptions())
    assert refused.value.file == "big.json"
    assert not ScanImport.objects.exists()

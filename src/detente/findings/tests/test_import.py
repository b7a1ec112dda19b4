"""The import pipeline against real files: identity, re-import, enrichment, deadlines, refusals."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.core import clock
from detente.core.errors import InputError
from detente.findings import importer
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, ScanImport, Status, Vulnerability
from detente.findings.services import findings_reevaluate, scan_import
from detente.findings.tests.factories import LOCAL_LOW, trivy_report, trivy_vuln, write_json
from detente.intel.services import intel_load
from detente.inventory.models import Asset
from detente.inventory.services import asset_set_exposure

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _import(path: Path, **options: object) -> ScanImport:
    (scan,) = scan_import(paths=[path], options=ImportOptions(**options))  # type: ignore[arg-type]
    return scan


def _counts(scan: ScanImport) -> tuple[int, int, int, int]:
    return scan.new, scan.unchanged, scan.reopened, scan.closed


def _nothing_written() -> None:
    assert Finding.objects.count() == 0
    assert ScanImport.objects.count() == 0
    assert Vulnerability.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="scan.imported").exists()


# ------------------------------------------------------------------ re-import (ZAP series)


def test_importing_the_same_file_twice_changes_nothing(samples: Path) -> None:
    zap0 = samples / "scans/zap/0_zap_sample.xml"
    first = _import(zap0)
    before = list(Finding.objects.order_by("id").values_list("id", "fingerprint", "status"))
    second = _import(zap0)
    assert _counts(first) == (4, 0, 0, 0)
    assert _counts(second) == (0, 4, 0, 0)
    assert second.refreshed == 0
    assert list(Finding.objects.order_by("id").values_list("id", "fingerprint", "status")) == before


def test_reimport_closes_what_is_gone_and_reopens_what_returns(samples: Path) -> None:
    zap = samples / "scans/zap"
    _import(zap / "0_zap_sample.xml")
    absent = _import(zap / "1_zap_sample_0_and_new_absent.xml")
    assert _counts(absent) == (1, 3, 0, 1)
    closed = Finding.objects.get(status=Status.FIXED)
    assert closed.closed_at is not None

    back = _import(zap / "0_zap_sample.xml")
    assert _counts(back) == (0, 3, 1, 1)
    closed.refresh_from_db()
    assert closed.status == Status.OPEN
    assert closed.closed_at is None
    assert Finding.objects.filter(status=Status.OPEN).count() == 4


def test_severity_change_is_the_same_finding_not_a_new_one(samples: Path) -> None:
    zap = samples / "scans/zap"
    _import(zap / "0_zap_sample.xml")
    changed = _import(zap / "3_zap_sampl_0_and_different_severities.xml")
    # DefectDojo hashes severity and reports created 2 / closed 2; we keep identity stable.
    assert (changed.new, changed.closed) == (0, 0)
    assert changed.refreshed == 2


def test_reimport_only_closes_within_the_same_scanner_and_asset(tmp_path: Path) -> None:
    shop = write_json(tmp_path / "shop.json", trivy_report([trivy_vuln("CVE-2024-0001")]))
    other = write_json(
        tmp_path / "other.json",
        trivy_report([trivy_vuln("CVE-2024-0002")], artifact="registry.example/other:2.0"),
    )
    _import(shop)
    _import(other)
    shop_again = write_json(tmp_path / "shop2.json", trivy_report([]))
    scan = _import(shop_again, asset_name="registry.example/shop:1.0", asset_kind="image")
    assert scan.closed == 1
    assert Finding.objects.get(vuln_id="CVE-2024-0002").status == Status.OPEN
    assert Finding.objects.get(vuln_id="CVE-2024-0001").status == Status.FIXED


def test_volatile_text_never_changes_identity(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", trivy_report([trivy_vuln("CVE-2024-1000", title="Old")]))
    b = write_json(tmp_path / "b.json", trivy_report([trivy_vuln("CVE-2024-1000", title="New!")]))
    _import(a)
    scan = _import(b)
    assert _counts(scan) == (0, 1, 0, 0)
    assert Finding.objects.get().title == "New!"


def test_duplicates_inside_one_report_are_merged_and_counted(tmp_path: Path) -> None:
    vuln = trivy_vuln("CVE-2024-2000")
    path = write_json(tmp_path / "dup.json", trivy_report([vuln, vuln]))
    scan = _import(path)
    assert (scan.parsed, scan.duplicates, scan.new) == (2, 1, 1)
    assert Finding.objects.count() == 1


# ------------------------------------------------------------------ enrichment and deadlines


def test_kev_listed_flaw_on_exposed_asset_gets_the_bod_26_04_three_day_triage(
    samples: Path, tmp_path: Path
) -> None:
    clock.set_now(NOW)
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    intel_load(path=samples / "intel/vulnrichment_CVE-2021-44228_CISA-ADP_excerpt.json")
    path = write_json(
        tmp_path / "app.json",
        trivy_report(
            [
                trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
                trivy_vuln("CVE-2024-9999", pkg="zlib", severity="LOW", vector=LOCAL_LOW),
            ]
        ),
    )
    _import(path)
    asset = Asset.objects.get()
    assert asset.publicly_exposed is None  # unknown: treated as exposed
    log4shell = Finding.objects.get(cve="CVE-2021-44228")
    assert log4shell.kev is True
    # In KEV, exposed (unknown ⇒ yes), automatable yes and total impact (Vulnrichment): row 15.
    assert log4shell.deadline_class == "3d-triage"
    assert log4shell.deadline == NOW + dt.timedelta(days=3)
    assert log4shell.reason["rule"] == "BOD 26-04 row 15"
    assert log4shell.reason["automatable"] == ["yes", "vulnrichment"]
    assert log4shell.reason["publicly_exposed"] == [True, "unknown, treated as exposed"]

    local = Finding.objects.get(cve="CVE-2024-9999")
    # Not in KEV, exposed, not automatable (AV:L), partial impact (C:L, I:N): row 2 → 60 days.
    assert local.reason["rule"] == "BOD 26-04 row 2"
    assert local.deadline == NOW + dt.timedelta(days=60)
    assert local.cvss_score == 1.8  # roundup(1.4124 impact + 0.333 exploitability)

    # The owner says the asset is internal: row 0 → fix on the next system upgrade.
    asset_set_exposure(asset=asset, publicly_exposed=False)
    result = findings_reevaluate()
    assert result.changed == 2
    local.refresh_from_db()
    assert local.deadline is None
    assert local.deadline_class == "next-upgrade"
    log4shell.refresh_from_db()
    assert log4shell.reason["rule"] == "BOD 26-04 row 13"


def test_missing_ssvc_and_vector_assumes_the_worst_and_flags_an_analyst(tmp_path: Path) -> None:
    path = write_json(tmp_path / "x.json", trivy_report([trivy_vuln("CVE-2024-3000", vector=None)]))
    _import(path)
    finding = Finding.objects.get()
    assert finding.needs_analyst is True
    assert finding.reason["rule"] == "BOD 26-04 row 14"
    assert finding.reason["automatable"] == ["yes", "worst case"]


def test_findings_without_cve_fall_back_to_severity(samples: Path) -> None:
    clock.set_now(NOW)
    _import(samples / "scans/bandit/one_vuln.json")
    finding = Finding.objects.get()
    assert finding.cve is None
    assert str(finding.reason["rule"]).startswith("severity ")


def test_epss_is_attached_with_its_model_version(samples: Path, tmp_path: Path) -> None:
    intel_load(path=samples / "intel/epss_scores-current_SAMPLE_head_tail.csv")
    path = write_json(tmp_path / "e.json", trivy_report([trivy_vuln("CVE-1999-0001")]))
    _import(path)
    assert Finding.objects.get().epss == pytest.approx(0.03351)


# ------------------------------------------------------------------ refusals change nothing


def test_truncated_json_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "a", "Vul')
    with pytest.raises(InputError) as caught:
        _import(path, fmt="trivy")
    assert "cut.json" in str(caught.value)
    _nothing_written()


def test_a_file_of_no_known_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(InputError, match=r"notes\.json: format not recognised"):
        _import(path)
    _nothing_written()


def test_an_xml_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<OWASPZAPReport version="2.9"><site name="http://x" host="x" port="80">'
        "<alerts><alertitem><name>&lol2;</name></alertitem></alerts></site></OWASPZAPReport>"
    )
    with pytest.raises(InputError, match=r"bomb\.xml"):
        _import(path, fmt="zap")
    _nothing_written()


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, settings: object) -> None:
    settings.DETENTE_MAX_IMPORT_BYTES = 100  # type: ignore[attr-defined]
    path = write_json(tmp_path / "big.json", trivy_report([trivy_vuln("CVE-2024-0001")]))
    with pytest.raises(InputError, match=r"big.json: file is \d+ bytes, over the 100 byte"):
        _import(path)
    _nothing_written()


def test_a_malformed_cvss_vector_names_record_and_field_under_strict(tmp_path: Path) -> None:
    bad = trivy_vuln("CVE-2024-0002", vector="CVSS:3.1/AV:Q/AC:L")
    path = write_json(tmp_path / "v.json", trivy_report([trivy_vuln("CVE-2024-0001"), bad]))
    with pytest.raises(InputError) as caught:
        _import(path, strict=True)
    message = str(caught.value)
    assert "v.json" in message
    assert "field 'cvss_vector'" in message
    assert "Vulnerabilities[1]" in message
    _nothing_written()


def test_an_unknown_severity_is_refused_under_strict(tmp_path: Path) -> None:
    bad = trivy_vuln("CVE-2024-0002", severity="APOCALYPTIC")
    path = write_json(tmp_path / "s.json", trivy_report([bad]))
    with pytest.raises(InputError, match="APOCALYPTIC"):
        _import(path, strict=True)
    _nothing_written()


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    doc = write_json(tmp_path / "ok.json", trivy_report([trivy_vuln("CVE-2024-0001")]))
    path.write_bytes(doc.read_bytes().replace(b"openssl", b"openss\xe9"))
    with pytest.raises(InputError, match=r"latin\.json"):
        _import(path)
    _nothing_written()


def test_an_error_late_in_a_large_file_rolls_back_the_whole_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CHUNK", 2)  # force several flushes before the error
    vulns = [trivy_vuln(f"CVE-2024-{1000 + i}") for i in range(7)]
    vulns.append(trivy_vuln("CVE-2024-9000", vector="CVSS:3.1/nonsense"))
    path = write_json(tmp_path / "late.json", trivy_report(vulns))
    with pytest.raises(InputError, match=r"late\.json"):
        _import(path, strict=True)
    _nothing_written()


def test_each_import_is_audited_and_the_chain_verifies(samples: Path) -> None:
    _import(samples / "scans/zap/0_zap_sample.xml")
    _import(samples / "scans/zap/0_zap_sample.xml")
    events = AuditEvent.objects.filter(verb="scan.imported").order_by("seq")
    assert [(e.after or {})["new"] for e in events] == [4, 0]
    assert audit_verify().ok


def test_a_folder_imports_every_scanner_file_in_it(samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in ("0_zap_sample.xml", "zap-results-first-scan.xml"):
        shutil.copy(samples / "scans/zap" / name, folder / name)
    scans = scan_import(paths=[folder])
    assert [s.parsed for s in scans] == [4, 15]


def test_conflicting_duplicated_entries_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    doc = {
        "findings": [
            {"title": "Hard-coded key", "severity": "High", "unique_id_from_tool": "k-1",
             "file_path": "app/settings.py", "line": 10},
            {"title": "Hard-coded key", "severity": "Low", "unique_id_from_tool": "k-1",
             "file_path": "app/settings.py", "line": 12},
        ]
    }  # fmt: skip
    path = write_json(tmp_path / "dups.json", doc)
    with pytest.raises(InputError) as caught:
        _import(path, fmt="generic", asset_name="repo")
    message = str(caught.value)
    assert message.startswith(f"{path}")
    assert "unique_id_from_tool" in message
    _nothing_written()

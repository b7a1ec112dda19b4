"""The real KEV, EPSS and Vulnrichment files, and broken ones."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from detente.core.errors import InputError
from detente.intel import feeds
from detente.intel.cvss import cvss_facts
from detente.intel.models import EpssScore, IntelLoad, KevEntry, SsvcRecord
from detente.intel.services import intel_load


def test_kev_json_2026_snapshot(samples: Path) -> None:
    cat = feeds.read_kev_json(
        (samples / "intel/known_exploited_vulnerabilities_2026-08-07.json").read_bytes()
    )
    assert (cat.version, len(cat.entries)) == ("2026.08.07", 1662)
    assert sum(e.known_ransomware for e in cat.entries) == 338
    assert cat.released == dt.datetime(2026, 8, 7, 16, 45, 47, 64800, tzinfo=dt.UTC)


def test_kev_csv_and_json_agree(samples: Path) -> None:
    from_json = feeds.read_kev_json(
        (samples / "intel/known_exploited_vulnerabilities_2025-08-25.json").read_bytes()
    )
    from_csv = feeds.read_kev_csv(
        (samples / "intel/known_exploited_vulnerabilities_2025-08-25.csv").read_bytes()
    )
    assert len(from_json.entries) == len(from_csv.entries) == 1404
    by_cve = {e.cve_id: e for e in from_csv.entries}
    for entry in from_json.entries:
        twin = by_cve[entry.cve_id]
        assert (twin.due_date, twin.date_added, twin.cwes) == (
            entry.due_date,
            entry.date_added,
            entry.cwes,
        )
    # Trap from intel.md: some 2021 entries are due before they were added. We keep them as data.
    assert any(e.due_date and e.due_date < e.date_added for e in from_json.entries)


def test_epss_header_and_scores(samples: Path) -> None:
    data = (samples / "intel/epss_scores-current_SAMPLE_head_tail.csv").read_bytes()
    epss = feeds.read_epss_csv(data)
    assert epss.model_version == "v2026.06.15"
    assert epss.score_date == dt.datetime(2026, 9, 29, 12, 0, 22, tzinfo=dt.UTC)
    assert len(epss.rows) == 62
    assert epss.rows[0] == feeds.EpssRecord("CVE-1999-0001", 0.03351, 0.88255)
    assert feeds.read_epss_csv(gzip.compress(data)) == epss


def test_epss_without_header_line_and_with_2025_offset() -> None:
    plain = feeds.read_epss_csv(b"cve,epss,percentile\nCVE-2024-0001,5e-05,0.1\n")
    assert (plain.model_version, plain.rows[0].epss) == ("", 5e-05)
    old = feeds.read_epss_csv(
        b"#model_version:v2025.03.14,score_date:2025-04-01T00:00:00+0000\ncve,epss,percentile\n"
    )
    assert old.score_date == dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"cve,epss,percentile\nCVE-2024-0001,1.5,0.1\n", "between 0 and 1"),
        (b"cve,epss,percentile\nCVE-2024-0001,high,0.1\n", "not a number"),
        (b"cve,score\n", "expected header"),
        (b"\x1f\x8bnot gzip", "broken gzip"),
    ],
)
def test_broken_epss_files(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        feeds.read_epss_csv(data)


def test_vulnrichment_ssvc(samples: Path) -> None:
    (decision,) = feeds.read_vulnrichment(
        (samples / "intel/vulnrichment_CVE-2021-44228_CISA-ADP_excerpt.json").read_bytes()
    )
    d = decision
    assert (d.cve_id, d.exploitation, d.automatable, d.technical_impact) == (
        "CVE-2021-44228", "active", "yes", "total",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("vector", "version", "score", "automatable", "total"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8, True, True),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", "3.0", 6.5, False, False),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3, True, True),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "2", 7.5, True, False),
    ],
)
def test_cvss_facts(
    vector: str, version: str, score: float, automatable: bool, total: bool
) -> None:
    facts = cvss_facts(vector)
    assert (facts.version, facts.score, facts.automatable, facts.total_impact) == (
        version, score, automatable, total,
    )  # fmt: skip


def test_malformed_vector_is_refused() -> None:
    with pytest.raises(InputError, match="malformed CVSS vector"):
        cvss_facts("CVSS:3.1/AV:X")


@pytest.mark.django_db
def test_loading_replaces_the_kev_catalogue_and_records_the_load(samples: Path) -> None:
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2025-08-25.json")
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    assert KevEntry.objects.count() == 1662
    assert list(IntelLoad.objects.values_list("version", flat=True)) == ["2026.08.07", "2025.08.25"]
    intel_load(path=samples / "intel/epss_scores-current_SAMPLE_head_tail.csv")
    intel_load(path=samples / "intel/vulnrichment_CVE-2021-44228_CISA-ADP_excerpt.json")
    assert EpssScore.objects.get(cve_id="CVE-1999-0001").model_version == "v2026.06.15"
    assert SsvcRecord.objects.get().automatable == "yes"


@pytest.mark.django_db
def test_a_broken_feed_changes_nothing(samples: Path, tmp_path: Path) -> None:
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2025-08-25.json")
    bad = tmp_path / "kev.json"
    text = (samples / "intel/known_exploited_vulnerabilities_2026-08-07.json").read_text()
    bad.write_text(text.replace('"dateAdded": "2026-08-07"', '"dateAdded": "yesterday"', 1))
    with pytest.raises(
        InputError, match=r"kev\.json, record vulnerabilities\[0\], field 'dateAdded'"
    ):
        intel_load(path=bad)
    assert KevEntry.objects.count() == 1404
    assert IntelLoad.objects.count() == 1

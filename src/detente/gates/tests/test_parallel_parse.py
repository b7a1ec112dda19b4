"""Reports parsed on two cores (the largest here, the others in a forked child) decide exactly as
the serial reading does, and a bad report is refused the same way: the first bad one in the
order given, with its file and record named, nothing decided."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from detente.core import clock
from detente.core.errors import InputError
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json
from detente.gates import evaluate as gate_evaluate
from detente.gates.evaluate import GateRequest, Result, evaluate
from detente.intel.services import intel_load
from detente.inventory.models import BusinessService
from detente.inventory.services import service_upsert

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the parallel reading needs fork"),
]
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
SARIF = "scans/sarif/codeQL-output.sarif"


@pytest.fixture
def service(samples: Path) -> BusinessService:
    clock.set_now(NOW)
    intel_load(path=samples / "intel/known_exploited_vulnerabilities_2026-08-07.json")
    return service_upsert(slug="shop", name="Shop", owner=None, criticality="high")


def _decide(service: BusinessService, paths: list[Path], parallel: bool) -> Result:
    limit = 0 if parallel else 1 << 60
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gate_evaluate, "PARALLEL_MIN_BYTES", limit)
        return evaluate(GateRequest(service=service, version="1.0", paths=paths))


def _reports(samples: Path, tmp_path: Path) -> list[Path]:
    trivy = write_json(tmp_path / "image.json", trivy_report([
        trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL"),
        trivy_vuln("CVE-2024-5000", pkg="libxml2", severity="HIGH", fixed="2.12.7"),
    ]))  # fmt: skip
    return [samples / "scans/anchore_grype/check_all_fields.json", trivy, samples / SARIF]


def test_two_cores_decide_as_one(service: BusinessService, samples: Path, tmp_path: Path) -> None:
    paths = _reports(samples, tmp_path)

    serial = _decide(service, paths, parallel=False)
    parallel = _decide(service, paths, parallel=True)

    assert [f.name for f in parallel.files] == [p.name for p in paths]
    assert [f.__dict__ for f in parallel.files] == [f.__dict__ for f in serial.files]
    assert [i.as_dict() for i in parallel.items] == [i.as_dict() for i in serial.items]
    assert parallel.decision == serial.decision == "blocked"
    assert parallel.counts["findings"] > 5


@pytest.mark.parametrize("parallel", [False, True])
def test_the_first_bad_report_is_refused_whichever_core_read_it(
    service: BusinessService, samples: Path, tmp_path: Path, parallel: bool
) -> None:
    paths = _reports(samples, tmp_path)
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(paths[1].read_bytes()[:-40])
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"hello": "world"}')

    # the bad reports are small, so the child (not the largest-report parent) reads them
    with pytest.raises(InputError) as first:
        _decide(service, [paths[0], truncated, unknown, paths[2]], parallel)
    with pytest.raises(InputError) as second:
        _decide(service, [paths[0], unknown, truncated, paths[2]], parallel)

    assert first.value.file == str(truncated)
    assert second.value.file == str(unknown)
    assert "format not recognised" in second.value.message

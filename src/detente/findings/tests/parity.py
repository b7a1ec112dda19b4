"""Shared facts for the parity tests: where the samples live and our deliberate differences."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from detente.findings.parsers.base import Severity

REPO = Path(__file__).resolve().parents[4]
SAMPLES = Path(os.environ.get("DETENTE_SAMPLES", REPO.parent / "shared" / "samples"))
SCANS = SAMPLES / "scans"

# manifest scanner folder -> our format name
EXPECTED_FORMAT: dict[str, str] = {
    "trivy": "trivy",
    "anchore_grype": "grype",
    "sarif": "sarif",
    "osv_scanner": "osv",
    "tenable": "nessus",
    "cyclonedx": "cyclonedx",
    "dependency_check": "dependency-check",
    "npm_audit": "npm-audit",
    "npm_audit_7_plus": "npm-audit-7",
    "github_vulnerability": "github",
    "snyk": "snyk",
    "semgrep": "semgrep",
    "bandit": "bandit",
    "generic": "generic",
    "zap": "zap",
    "pip_audit": "pip-audit",
    "gitleaks": "gitleaks",
    "npm_audit/many_vuln_npm7.json": "npm-audit-7",
    # single files whose content is another format than their folder says
    "tenable/issue_9612.csv": "tenable-csv",
    "tenable/nessus/nessus-template.csv": "tenable-csv",
    "tenable/nessus/nessus_many_vuln.csv": "tenable-csv",
    "tenable/nessus/nessus_many_vuln2-all.csv": "tenable-csv",
    "tenable/nessus/nessus_new.csv": "tenable-csv",
    "tenable/tenable_many_vuln.csv": "tenable-csv",
}

# local_path -> our pinned count where our semantics differ on purpose (docs/formats.md).
DELIBERATE_DIFFERENCES: dict[str, int] = {
    # osv: one finding per package per groups[] entry (aliases are one flaw), not per OSV record
    # (docs/formats/pkg.md)
    "osv_scanner/many_findings.json": 37,
    # generic: one finding per CSV row / per JSON endpoint (docs/formats/deps.md)
    "generic/generic_report1.csv": 5,
    "generic/generic_report3.json": 5,
    # semgrep App page: one finding per vulnerable dependency per repository (docs/formats/code.md)
    "semgrep/sca-deployments-vulns.json": 22,
    # nessus / tenable-csv: one finding per plugin x host x port, not per severity+title across
    # hosts (docs/formats/infra.md)
    "tenable/issue_9612.csv": 3,
    "tenable/nessus/nessus_many_vuln.xml": 7,
    "tenable/nessus/nessus_v_unknown.xml": 296,
    "tenable/nessus/nessus_with_cvssv3.nessus": 49,
}


# Files detection refuses on purpose (docs/formats.md): an empty file and a bare JSON null are no
# report of any format (issue 14); with their format forced they still parse as clean scans.
DETECTION_REFUSED: frozenset[str] = frozenset(
    {"osv_scanner/no_findings.json", "gitleaks/no_findings.json"}
)


# local_path -> first-finding fields where we deliberately differ from DefectDojo (docs/formats).
DELIBERATE_FIRST_DIFFERENCES: dict[str, set[str]] = {
    # Nessus's own @severity (2, Medium) is authoritative; DefectDojo re-bands by CVSS v3 (High).
    "tenable/nessus/issue_6992.nessus": {"severity"},
}


def detected_format(record: dict[str, Any]) -> str:
    """The format our detector must find in this file's content."""
    return EXPECTED_FORMAT.get(record["local_path"], EXPECTED_FORMAT[record["scanner"]])


def forced_format(record: dict[str, Any]) -> str:
    """The format the manifest's tool used: the folder's, except where the content is another.

    Files the manifest marks as errors were given to their folder's parser (an npm 7 report to the
    npm 6 parser, say), so they are parsed with the folder's format.
    """
    if record["expected_findings"] is None:
        return EXPECTED_FORMAT[record["scanner"]]
    return detected_format(record)


def manifest_records() -> list[dict[str, Any]]:
    manifest = json.loads((SCANS / "manifest.json").read_text())
    return list(manifest["files"])


_WORDS = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
}


def severity_word(severity: Severity) -> str:
    return _WORDS[severity]

"""Builders for small, realistic scanner files used by the import tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LOG4SHELL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
LOCAL_LOW = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"


def trivy_vuln(
    cve: str,
    pkg: str = "openssl",
    version: str = "1.1.1k",
    severity: str = "HIGH",
    vector: str | None = LOG4SHELL,
    title: str | None = None,
    fixed: str = "",
) -> dict[str, Any]:
    vuln: dict[str, Any] = {
        "VulnerabilityID": cve,
        "PkgName": pkg,
        "InstalledVersion": version,
        "FixedVersion": fixed,
        "Severity": severity,
        "Title": title or f"{pkg}: flaw {cve}",
        "Description": f"A long description of {cve} in {pkg}.",
        "References": [f"https://nvd.nist.gov/vuln/detail/{cve}"],
    }
    if vector:
        vuln["CVSS"] = {"nvd": {"V3Vector": vector, "V3Score": 9.0}}
    return vuln


def trivy_report(
    vulns: list[dict[str, Any]], artifact: str = "registry.example/shop:1.0"
) -> dict[str, Any]:
    return {
        "SchemaVersion": 2,
        "ArtifactName": artifact,
        "ArtifactType": "container_image",
        "Results": [
            {
                "Target": f"{artifact} (debian 12.5)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": vulns,
            }
        ],
    }


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path

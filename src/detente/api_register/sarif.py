"""SARIF 2.1.0 of an audit: what ``detente api audit --sarif`` writes and what the findings
import reads (scanner ``detente-api``, through the SARIF parser).

Severity as ``shared/domain/api-security.md`` sets it: critical/high → ``error``, medium →
``warning``, low/info → ``note``; ``security-severity`` 9.5 / 8.0 / 5.5 / 3.0 / 0.0 on each result.
A result's identity is its rule and JSON pointer (``partialFingerprints``), never a line number,
so a re-audit of a new version keeps what did not move and closes what was fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from detente.api_register.rules import RULES, Result

SCANNER = "detente-api"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_document(
    results: Sequence[Result], *, artifact_uri: str | None = None, version: str = ""
) -> dict[str, Any]:
    index = {rule.id: number for number, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.id,
            "name": rule.title,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.rationale},
            "help": {"text": rule.fix},
            "defaultConfiguration": {"level": LEVEL[rule.severity]},
            "relationships": [{"target": {"id": str(rule.cwe), "toolComponent": {"name": "CWE"}}}]
            if rule.cwe
            else [],
            "properties": {
                "tags": ["security", f"OWASP-{rule.category}:2023", f"CWE-{rule.cwe}"]
                if rule.cwe
                else ["security", f"OWASP-{rule.category}:2023"],
                "precision": rule.precision,
                "aggregate": rule.aggregate,
            },
        }
        for rule in RULES
    ]
    out = []
    for result in results:
        location: dict[str, Any] = {
            "logicalLocations": [{"fullyQualifiedName": result.hit.pointer, "kind": "member"}]
        }
        if artifact_uri:
            location["physicalLocation"] = {"artifactLocation": {"uri": artifact_uri}}
        out.append(
            {
                "ruleId": result.rule.id,
                "ruleIndex": index[result.rule.id],
                "level": LEVEL[result.severity],
                "message": {"text": f"{result.rule.title}: {result.hit.message}"},
                "locations": [location],
                "partialFingerprints": {"jsonPointer/v1": result.hit.pointer},
                "properties": {
                    "security-severity": SCORE[result.severity],
                    "owasp": result.rule.category,
                },
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": SCANNER,
                        "informationUri": "https://owasp.org/API-Security/editions/2023/en/0x11-t10/",
                        "version": version or "1",
                        "rules": rules,
                    }
                },
                "results": out,
            }
        ],
    }

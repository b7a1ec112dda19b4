"""CVSS vectors: score and version through the ``cvss`` package, and the SSVC heuristics.

Vectors repeat heavily across a large import, so every function here is cached by vector string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from detente.core.errors import InputError


@dataclass(frozen=True, slots=True)
class CvssFacts:
    vector: str
    version: str  # "2", "3.0", "3.1", "4.0"
    score: float
    automatable: bool  # AV:N, AC:L, PR:N, UI:N (v4: also AT:N)
    total_impact: bool  # confidentiality and integrity both High


def _metrics(vector: str) -> dict[str, str]:
    parts = vector.split("/")
    return {k: v for k, _, v in (p.partition(":") for p in parts) if k and v}


@lru_cache(maxsize=65536)
def cvss_facts(vector: str) -> CvssFacts:
    """Parse and score a vector; raise InputError (field cvss_vector) when it is malformed."""
    try:
        if vector.startswith("CVSS:4.0/"):
            v4 = CVSS4(vector)
            score, version = float(v4.base_score), "4.0"
        elif vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            v3 = CVSS3(vector)
            score, version = float(v3.base_score), vector[5:8]
        else:
            v2 = CVSS2(vector)
            score, version = float(v2.base_score), "2"
    except (CVSSError, ValueError, KeyError, IndexError) as exc:
        raise InputError(f"malformed CVSS vector {vector!r} ({exc})", field="cvss_vector") from None
    m = _metrics(vector)
    if version == "2":
        automatable = m.get("AV") == "N" and m.get("AC") == "L" and m.get("Au") == "N"
        total = m.get("C") == "C" and m.get("I") == "C"
    elif version == "4.0":
        automatable = all(m.get(k) == "N" for k in ("AT", "PR", "UI")) and (
            m.get("AV") == "N" and m.get("AC") == "L"
        )
        total = m.get("VC") == "H" and m.get("VI") == "H"
    else:
        automatable = (
            m.get("AV") == "N" and m.get("AC") == "L" and m.get("PR") == "N" and m.get("UI") == "N"
        )
        total = m.get("C") == "H" and m.get("I") == "H"
    return CvssFacts(vector, version, score, automatable, total)

"""Reading intelligence for enrichment, in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from detente.intel.models import EpssScore, FeedKind, IntelLoad, KevEntry, SsvcRecord


@dataclass(frozen=True, slots=True)
class Kev:
    due_date: dt.date | None
    date_added: dt.date
    ransomware: bool


@dataclass(frozen=True, slots=True)
class Epss:
    epss: float
    percentile: float
    model_version: str


@dataclass(frozen=True, slots=True)
class Ssvc:
    automatable: str
    technical_impact: str
    exploitation: str
    source: str


@dataclass(frozen=True)
class IntelSnapshot:
    """Everything enrichment needs for a set of CVEs, loaded in a few queries."""

    kev: dict[str, Kev]
    epss: dict[str, Epss]
    ssvc: dict[str, Ssvc]


def _chunks(items: list[str], size: int = 900) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def intel_for(cves: Iterable[str]) -> IntelSnapshot:
    wanted = sorted(set(cves))
    kev = {
        cve: Kev(due, added, ransom)
        for cve, due, added, ransom in KevEntry.objects.values_list(
            "cve_id", "due_date", "date_added", "known_ransomware"
        )
    }
    epss: dict[str, Epss] = {}
    ssvc: dict[str, Ssvc] = {}
    if EpssScore.objects.exists():
        for chunk in _chunks(wanted):
            for cve, score, pct, model in EpssScore.objects.filter(cve_id__in=chunk).values_list(
                "cve_id", "epss", "percentile", "model_version"
            ):
                epss[cve] = Epss(score, pct, model)
    if SsvcRecord.objects.exists():
        for chunk in _chunks(wanted):
            for row in SsvcRecord.objects.filter(cve_id__in=chunk):
                ssvc[row.cve_id] = Ssvc(
                    row.automatable, row.technical_impact, row.exploitation, row.source
                )
    return IntelSnapshot(kev=kev, epss=epss, ssvc=ssvc)


def intel_status() -> dict[str, IntelLoad | None]:
    return {kind.value: IntelLoad.objects.filter(kind=kind).first() for kind in FeedKind}


def intel_counts() -> dict[str, int]:
    return {
        "kev": KevEntry.objects.count(),
        "epss": EpssScore.objects.count(),
        "ssvc": SsvcRecord.objects.count(),
    }

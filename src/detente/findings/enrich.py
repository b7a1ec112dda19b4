"""Enrichment: a finding's facts (KEV, EPSS, CVSS, SSVC inputs, exposure) and its deadline.

Shared by the import pipeline and by re-evaluation after a policy or intel change, so a finding's
deadline is decided by exactly one piece of code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from detente.core.errors import InputError
from detente.findings.models import DeadlineReason
from detente.intel.cvss import CvssFacts, cvss_facts
from detente.intel.models import EpssScore, KevEntry, SsvcRecord
from detente.intel.selectors import Epss, Kev, Ssvc
from detente.policy.deadlines import DeadlineDecision, DeadlineEvaluator, DeadlineInputs

_CHUNK = 900


class IntelCache:
    """KEV in full; EPSS and SSVC fetched lazily for the CVEs an import actually carries."""

    def __init__(self) -> None:
        self.kev: dict[str, Kev] = {
            cve: Kev(due, added, ransom)
            for cve, due, added, ransom in KevEntry.objects.values_list(
                "cve_id", "due_date", "date_added", "known_ransomware"
            )
        }
        self.epss: dict[str, Epss | None] = {}
        self.ssvc: dict[str, Ssvc | None] = {}
        self._has_epss = EpssScore.objects.exists()
        self._has_ssvc = SsvcRecord.objects.exists()

    def missing(self, cves: Iterable[str]) -> bool:
        """Whether ``ensure(cves)`` would query the database."""
        epss = self.epss
        return any(c not in epss for c in cves)

    def ensure(self, cves: Iterable[str]) -> None:
        missing = sorted({c for c in cves if c not in self.epss})
        if not missing:
            return
        for cve in missing:
            self.epss[cve] = None
            self.ssvc[cve] = None
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            if self._has_epss:
                for cve, score, pct, model in EpssScore.objects.filter(
                    cve_id__in=chunk
                ).values_list("cve_id", "epss", "percentile", "model_version"):
                    self.epss[cve] = Epss(score, pct, model)
            if self._has_ssvc:
                for cve, auto, impact, expl, source in SsvcRecord.objects.filter(
                    cve_id__in=chunk
                ).values_list(
                    "cve_id", "automatable", "technical_impact", "exploitation", "source"
                ):
                    self.ssvc[cve] = Ssvc(auto, impact, expl, source)


@dataclass(frozen=True, slots=True)
class Enriched:
    cvss: CvssFacts | None
    kev: Kev | None
    epss: Epss | None
    decision: DeadlineDecision


_UNKNOWN_EXPOSURE = "unknown, treated as exposed"


def enrich(
    *,
    cve: str | None,
    severity: str,
    cvss_vector: str | None,
    exposed: bool | None,
    intel: IntelCache,
    evaluator: DeadlineEvaluator,
    record: str | None = None,
    service: tuple[str, bool] | None = None,
) -> Enriched:
    """``service``: the asset's business service's (criticality, internet_facing), which the
    policy's ``deadlines.by_service`` rules key on (None: the asset belongs to no service)."""
    facts: CvssFacts | None = None
    if cvss_vector:
        try:
            facts = cvss_facts(cvss_vector)
        except InputError as exc:
            raise InputError(exc.message, record=record, field="cvss_vector") from None
    kev = intel.kev.get(cve) if cve else None
    epss = intel.epss.get(cve) if cve else None
    ssvc = intel.ssvc.get(cve) if cve else None
    if ssvc is not None:
        automatable, auto_src = ssvc.automatable == "yes", "vulnrichment"
        total, impact_src = ssvc.technical_impact == "total", "vulnrichment"
    elif facts is not None:
        automatable, auto_src = facts.automatable, f"cvss {facts.version}"
        total, impact_src = facts.total_impact, f"cvss {facts.version}"
    else:
        automatable, auto_src, total, impact_src = True, "worst case", True, "worst case"
    decision = evaluator.decide(
        DeadlineInputs(
            has_cve=cve is not None,
            severity=severity,
            in_kev=kev is not None,
            exposed=exposed is not False,
            exposure_source="asset" if exposed is not None else _UNKNOWN_EXPOSURE,
            automatable=automatable,
            automatable_source=auto_src,
            total_impact=total,
            impact_source=impact_src,
            criticality=service[0] if service else None,
            internet_facing=service[1] if service else None,
        )
    )
    return Enriched(facts, kev, epss, decision)


class ReasonCache:
    """Deadline reasons are few and shared: each distinct one is stored once and cached by text."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def id_for(self, reason_json: str) -> int:
        found = self._ids.get(reason_json)
        if found is None:
            digest = hashlib.blake2b(reason_json.encode(), digest_size=16).hexdigest()
            row, _ = DeadlineReason.objects.get_or_create(
                digest=digest, defaults={"reason": json.loads(reason_json)}
            )
            found = self._ids[reason_json] = row.pk
        return found


def enrichment_signature(e: Enriched, exposed: bool | None) -> str:
    """Everything in a finding's state that comes from enrichment and policy, as one string."""
    return "\x1f".join(
        (
            e.cvss.vector if e.cvss else "",
            str(e.cvss.score) if e.cvss else "",
            str(e.kev.due_date) if e.kev else "-",
            repr(e.epss.epss) if e.epss else "",
            str(exposed),
            e.decision.reason,
        )
    )


def state_hash(
    signature: str,
    title: str,
    severity: str,
    scanner_severity: str,
    component_version: str | None,
    fixed_in: str | None,
    score: float | None,
    status: str,
    suppressed: bool,
    first_seen: str,
) -> str:
    """A short digest of a finding's mutable facts: equal digests mean nothing to write.

    The import pipeline and re-evaluation both call this, so they agree on what "changed" means.
    The importer's chunk loop calls it positionally (a keyword call costs a second per million).
    """
    text = "\x1f".join(
        (
            signature,
            title,
            severity,
            scanner_severity,
            component_version or "",
            fixed_in or "",
            "" if score is None else str(score),
            status,
            "1" if suppressed else "0",
            first_seen,
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def due_for(
    decision: DeadlineDecision, basis: dt.datetime, kev: Kev | None, evaluator: DeadlineEvaluator
) -> dt.datetime | None:
    return decision.due(basis, kev.due_date if kev else None, kev_earliest=evaluator.kev_earliest)

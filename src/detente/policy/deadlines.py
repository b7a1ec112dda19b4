"""Deadline decisions: from a finding's facts to a deadline class, with the reason recorded.

Pure and cached: a large import asks the same question (same KEV, exposure, automatable, impact)
hundreds of thousands of times, so every distinct input tuple is decided once.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from detente.policy.document import PolicyDocument


@dataclass(frozen=True, slots=True)
class DeadlineInputs:
    has_cve: bool
    severity: str
    in_kev: bool
    exposed: bool
    exposure_source: str  # "asset" or "unknown (treated as exposed)"
    automatable: bool
    automatable_source: str  # "vulnrichment", "cvss", "worst case"
    total_impact: bool
    impact_source: str
    # the finding's business service (None: the asset belongs to none), for deadlines.by_service
    criticality: str | None = None
    internet_facing: bool | None = None


@dataclass(frozen=True, slots=True)
class DeadlineDecision:
    deadline_class: str
    days: int | None
    forensic_triage: bool
    needs_analyst: bool
    reason: str  # compact JSON: rule, row, inputs and their sources

    def due(
        self, basis: dt.datetime, kev_due: dt.date | None, *, kev_earliest: bool
    ) -> dt.datetime | None:
        """The deadline counted from ``basis`` (discovery), optionally capped by KEV's dueDate."""
        due = None if self.days is None else basis + dt.timedelta(days=self.days)
        if kev_earliest and kev_due is not None:
            kev_end = dt.datetime.combine(kev_due, dt.time(23, 59, 59), tzinfo=dt.UTC)
            due = kev_end if due is None else min(due, kev_end)
        return due


class DeadlineEvaluator:
    def __init__(self, doc: PolicyDocument, version: int | None) -> None:
        self.doc = doc
        self.version = version
        self.kev_earliest = doc.deadlines.kev_due_date == "earliest"
        self._cache: dict[DeadlineInputs, DeadlineDecision] = {}

    def decide(self, inputs: DeadlineInputs) -> DeadlineDecision:
        cached = self._cache.get(inputs)
        if cached is None:
            cached = self._cache[inputs] = self._decide(inputs)
        return cached

    def _decide(self, i: DeadlineInputs) -> DeadlineDecision:
        d = self.doc.deadlines
        reason: dict[str, object] = {"policy": self.doc.pack, "policy_version": self.version}
        needs_analyst = False
        if i.has_cve and d.cve_rule == "bod-26-04":
            row, cls = self.doc.bod_table[(i.in_kev, i.exposed, i.automatable, i.total_impact)]
            needs_analyst = i.automatable_source == "worst case" or i.impact_source == "worst case"
            reason |= {
                "rule": f"BOD 26-04 row {row}",
                "in_kev": i.in_kev,
                "publicly_exposed": [i.exposed, i.exposure_source],
                "automatable": ["yes" if i.automatable else "no", i.automatable_source],
                "technical_impact": ["total" if i.total_impact else "partial", i.impact_source],
            }
        else:
            cls = d.by_severity[i.severity]  # type: ignore[index]
            reason |= {
                "rule": f"severity {i.severity}" + ("" if i.has_cve else " (no CVE)"),
                "in_kev": i.in_kev,
            }
            if i.in_kev and d.kev_class is not None:
                kev_cls = d.classes[d.kev_class]
                current = d.classes[cls]
                if current.days is None or (
                    kev_cls.days is not None and kev_cls.days < current.days
                ):
                    cls = d.kev_class
                    reason["rule"] = f"KEV-listed: at most {kev_cls.label}"
        for number, rule in enumerate(d.by_service):
            if rule.matches(
                criticality=i.criticality,
                internet_facing=i.internet_facing,
                in_kev=i.in_kev,
                exposed=i.exposed,
            ):
                capped, current = d.classes[rule.at_most], d.classes[cls]
                if capped.days is not None and (current.days is None or capped.days < current.days):
                    cls = rule.at_most
                    reason["service_rule"] = (
                        f"by_service[{number}]: {i.criticality} service"
                        + (", internet-facing" if i.internet_facing else "")
                        + f": at most {capped.label}"
                    )
                break
        klass = d.classes[cls]
        reason |= {"class": cls, "label": klass.label}
        if needs_analyst:
            reason["needs_analyst"] = "no SSVC record and no CVSS vector: worst case assumed"
        return DeadlineDecision(
            deadline_class=cls,
            days=klass.days,
            forensic_triage=klass.forensic_triage,
            needs_analyst=needs_analyst,
            reason=json.dumps(reason, separators=(",", ":")),
        )

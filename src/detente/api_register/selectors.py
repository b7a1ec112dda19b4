"""Reads of the API register: lookups, the promotion gate's check, list and detail rows."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from detente.api_register.diff import SpecDiff, spec_diff
from detente.api_register.models import Api, ApiVersion, PenTest
from detente.api_register.spec import LoadedSpec
from detente.core import clock
from detente.core.errors import InputError, NotFound
from detente.findings.models import Finding, Status
from detente.people.models import Person, Role
from detente.policy.api_register import ApiRegisterPolicy, StageGate
from detente.policy.services import active_policy

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")

# Who may do what in the register: decided here once; services enforce it, pages and the API
# show its answer (``api_actions``).
REGISTER_ROLES = frozenset(
    {Role.CIO, Role.CISO, Role.SECURITY_LEAD, Role.IT_LEAD, Role.SERVICE_OWNER, Role.ENGINEER}
)
PENTEST_ROLES = frozenset({Role.CISO, Role.SECURITY_LEAD})
PROMOTE_ROLES = frozenset({Role.CIO, Role.IT_LEAD, Role.CISO, Role.SECURITY_LEAD})
# a pen-test report maps the API's weak spots: the security side, the CIO, auditors, and the
# API's own owners and security contact read it; nobody else
REPORT_READ_ROLES = frozenset({Role.CIO, Role.CISO, Role.SECURITY_LEAD, Role.AUDITOR})


def can_register(person: Person) -> bool:
    """Register APIs and upload spec versions."""
    return person.has_any_role(REGISTER_ROLES)


def can_record_pentest(person: Person) -> bool:
    """Record pen tests and attach their reports."""
    return person.has_any_role(PENTEST_ROLES)


def can_promote(person: Person, api: Api) -> bool:
    """Change an API's exposure stage (forcing past the gate is the policy's ``force_roles``)."""
    return person.has_any_role(PROMOTE_ROLES) or api.owners.filter(pk=person.pk).exists()


def can_read_pentest_report(person: Person, api: Api) -> bool:
    """Download a pen test's report file."""
    return (
        person.has_any_role(REPORT_READ_ROLES)
        or api.security_contact_id == person.pk
        or api.owners.filter(pk=person.pk).exists()
    )


@dataclass(frozen=True)
class ApiActions:
    """What ``person`` may do on the register (and on ``api``, when given): what pages show."""

    register: bool
    update: bool
    pentest: bool
    promote: bool
    read_reports: bool


def api_actions(person: Person, api: Api | None = None) -> ApiActions:
    writer = not person.has_role(Role.AUDITOR)
    return ApiActions(
        register=writer and can_register(person),
        update=writer and api is not None and can_register(person),
        pentest=writer and api is not None and can_record_pentest(person),
        promote=writer and api is not None and can_promote(person, api),
        read_reports=api is not None and can_read_pentest_report(person, api),
    )


def api_policy() -> ApiRegisterPolicy:
    doc, _ = active_policy()
    return doc.api_register


def api_by_name(name: str) -> Api:
    found = Api.objects.select_related("service", "asset", "security_contact").filter(name=name)
    api = found.first()
    if api is None:
        raise NotFound(f"no API named {name!r}")
    return api


def version_of(api: Api, number: int | None = None) -> ApiVersion:
    versions = api.versions.order_by("-number")
    version = versions.filter(number=number).first() if number else versions.first()
    if version is None:
        raise NotFound(
            f"{api.name} has no version {number}" if number else f"{api.name} has no spec"
        )
    return version


def pentest_of(api: Api, pentest_id: int) -> PenTest:
    test = api.pentests.select_related("api", "version").filter(pk=pentest_id).first()
    if test is None:
        raise NotFound(f"{api.name} has no pen test {pentest_id}")
    return test


def load_version(version: ApiVersion) -> LoadedSpec:
    """A stored version as the rules and the diff read it (already normalised and bounded)."""
    return LoadedSpec(
        data=json.loads(version.document),
        version=version.openapi_version,
        digest=version.digest,
        fmt=version.fmt,
    )


def versions_diff(old: ApiVersion, new: ApiVersion) -> SpecDiff:
    return spec_diff(load_version(old), load_version(new))


@dataclass
class GateCheck:
    to_stage: str
    missing: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    blocking_ids: list[int] = field(default_factory=list)
    pentest_missing: bool = False

    @property
    def allowed(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class TestStatus:
    status: str  # valid, stale, expired, none
    pentest: PenTest | None
    detail: str


def pentest_status(api: Api, gate: StageGate, *, now: dt.date | None = None) -> TestStatus:
    """Whether a pen test covers the API's current spec under ``gate``'s age and drift rules."""
    today = now or clock.today()
    current = api.current
    tests = list(api.pentests.select_related("version").order_by("-ended_on", "-id"))
    if current is None or not tests:
        return TestStatus("none", None, "no pen test recorded")
    oldest = today - dt.timedelta(days=gate.pentest_max_age_days)
    recent = [t for t in tests if t.ended_on >= oldest]
    if not recent:
        return TestStatus(
            "expired", tests[0], f"last pen test ended {tests[0].ended_on.isoformat()}, "
            f"over {gate.pentest_max_age_days} days ago",
        )  # fmt: skip
    for test in recent:
        if test.spec_digest == current.digest:
            return TestStatus("valid", test, f"pen test {test.pk} tested v{current.number}")
    if gate.accept_unchanged_versions:
        for test in recent:
            drift = versions_diff(test.version, current)
            if not drift.material:
                return TestStatus(
                    "valid", test,
                    f"pen test {test.pk} tested v{test.version.number}; no new operation or "
                    "security change since",
                )  # fmt: skip
    test = recent[0]
    drift = versions_diff(test.version, current)
    changes = []
    if drift.operations_added:
        changes.append(f"new operations {', '.join(drift.operations_added[:5])}")
    if drift.security_changed:
        changes.append(f"security changed on {', '.join(drift.security_changed[:5])}")
    moved = drift.schemes_added + drift.schemes_removed + drift.schemes_changed
    if moved:
        changes.append(f"schemes changed: {', '.join(moved[:5])}")
    return TestStatus(
        "stale", test, f"pen test {test.pk} tested v{test.version.number}; since: "
        + ("; ".join(changes) if changes else "the spec changed"),
    )  # fmt: skip


def promotion_check(api: Api, to_stage: str) -> GateCheck:
    """What the policy's gate for ``to_stage`` requires that is missing now (pure read)."""
    policy = api_policy()
    check = GateCheck(to_stage)
    gate = policy.gates.get(to_stage)
    current = api.current
    check.facts["version"] = current.number if current else None
    check.facts["digest"] = current.digest if current else None
    if gate is None:
        return check
    if current is None:
        check.missing.append("no spec version")
        return check
    if gate.pentest_required:
        status = pentest_status(api, gate)
        check.facts["pentest"] = {
            "status": status.status,
            "id": status.pentest.pk if status.pentest else None,
            "detail": status.detail,
        }
        if status.status != "valid":
            check.pentest_missing = True
            check.missing.append(
                f"a pen test of v{current.number} (sha256 {current.digest[:12]}) within "
                f"{gate.pentest_max_age_days} days: {status.detail}"
            )
    blocking = list(
        Finding.objects.filter(
            asset_id=api.asset_id, status=Status.OPEN, severity__in=gate.blocking_severities
        )
        .order_by("id")
        .values_list("id", "severity", "vuln_id")
    )
    check.blocking_ids = [row[0] for row in blocking]
    check.facts["blocking_findings"] = [
        {"id": fid, "severity": sev, "rule": vid} for fid, sev, vid in blocking[:50]
    ]
    if blocking:
        by_severity: dict[str, int] = {}
        for _, severity, _ in blocking:
            by_severity[severity] = by_severity.get(severity, 0) + 1
        text = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITY_ORDER if s in by_severity)
        check.missing.append(f"{text} open finding(s) without an approved acceptance")
    return check


def _gate_for_status(policy: ApiRegisterPolicy, stage: str) -> StageGate | None:
    """The gate an API's test status is judged by: its own stage's, else the next stage's."""
    if stage in policy.gates:
        return policy.gates[stage]
    later = policy.stages[policy.stages.index(stage) + 1 :] if stage in policy.stages else []
    return next((policy.gates[s] for s in later if s in policy.gates), None)


def api_rows(*, stage: str | None = None) -> list[dict[str, Any]]:
    """One row per API: exposure, current version, test status, open findings by severity."""
    policy = api_policy()
    apis = Api.objects.select_related("service", "asset", "security_contact").prefetch_related(
        "owners"
    )
    if stage:
        if stage not in policy.stages:
            raise InputError(
                f"unknown stage {stage!r}; the policy's stages are {', '.join(policy.stages)}",
                field="stage",
            )
        apis = apis.filter(stage=stage)
    listed = list(apis)
    # By the APIs' own assets (the finding_identity index leads with the asset), never by a join
    # from every open finding to the register: /cio and /ciso show this block.
    counts = {
        row["asset_id"]: row
        for row in Finding.objects.filter(
            status=Status.OPEN, asset_id__in=[api.asset_id for api in listed]
        )
        .values("asset_id")
        .annotate(**{s: Count("id", filter=Q(severity=s)) for s in SEVERITY_ORDER})
    }
    rows = []
    for api in listed:
        current = api.current
        gate = _gate_for_status(policy, api.stage)
        status = pentest_status(api, gate) if gate else TestStatus("none", None, "no gate")
        open_counts = counts.get(api.asset_id, {})
        rows.append(
            {
                "name": api.name,
                "service": api.service.slug,
                "stage": api.stage,
                "exposed": api.stage in policy.exposed_stages,
                "version": current.number if current else None,
                "digest": current.digest[:12] if current else "",
                "openapi": current.openapi_version if current else "",
                "operations": current.operations if current else 0,
                "test": status.status,
                "last_test": status.pentest.ended_on if status.pentest else None,
                "owners": ", ".join(o.email for o in api.owners.all()),
                "security_contact": api.security_contact.email if api.security_contact else "",
                **{s: open_counts.get(s, 0) for s in SEVERITY_ORDER},
            }
        )
    return rows


def api_detail(api: Api) -> dict[str, Any]:
    """Everything the API page and ``detente api show`` say about one API."""
    versions = list(api.versions.order_by("-number"))
    policy = api_policy()
    gate = _gate_for_status(policy, api.stage)
    status = pentest_status(api, gate) if gate else TestStatus("none", None, "no gate")
    findings = list(
        Finding.objects.filter(asset_id=api.asset_id, status__in=(Status.OPEN, Status.ACCEPTED))
        .order_by("-priority", "id")
        .values("id", "scanner", "vuln_id", "title", "severity", "status", "deadline")[:200]
    )
    return {
        "name": api.name,
        "service": api.service.slug,
        "stage": api.stage,
        "exposed": api.stage in policy.exposed_stages,
        "asset": api.asset.identifier,
        "owners": [o.email for o in api.owners.all()],
        "security_contact": api.security_contact.email if api.security_contact else None,
        "test": {"status": status.status, "detail": status.detail},
        "versions": [
            {
                "number": v.number,
                "digest": v.digest,
                "file": v.file_name,
                "openapi": v.openapi_version,
                "info_version": v.info_version,
                "operations": v.operations,
                "audit": v.audit_counts,
                "problems": v.problems,
                "created_at": v.created_at,
            }
            for v in versions
        ],
        "pentests": [
            {
                "id": t.pk,
                "version": t.version.number,
                "digest": t.spec_digest,
                "started_on": t.started_on,
                "ended_on": t.ended_on,
                "tester": t.tester,
                "tester_kind": t.tester_kind,
                "method": t.method,
                "scope": t.scope,
                "report": t.report_name,
                "report_sha256": t.report_sha256,
                "findings_import": t.scan_id,
            }
            for t in api.pentests.select_related("version").order_by("-ended_on", "-id")
        ],
        "promotions": [
            {
                "from": p.from_stage,
                "to": p.to_stage,
                "outcome": p.outcome,
                "missing": p.missing,
                "reason": p.reason,
                "at": p.at,
                "actor": p.actor.email if p.actor else None,
                "acceptance": p.acceptance_id,
            }
            for p in api.promotions.select_related("actor").order_by("-at", "-id")
        ],
        "findings": findings,
    }


def apis_waiting() -> list[dict[str, Any]]:
    """APIs waiting for a test (exposed or gated next, without a valid test) or for promotion
    (an open acceptance requested by a refused promotion): what both leaders' views show."""
    return [row for row in api_rows() if row["test"] != "valid"]


def exposed_api_lines() -> list[dict[str, Any]]:
    """The board report's line per exposed API: stage, version, pen-test status, open
    critical/high findings (the register's state now)."""
    return [row for row in api_rows() if row["exposed"]]

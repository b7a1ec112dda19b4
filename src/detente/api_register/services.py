"""Writes on the API register: add and update specs, audit them, record pen tests, promote.

Every service is keyword-only, atomic and audited. Audit results become findings on the API's
asset through the findings import (the SARIF our audit writes, scanner ``detente-api``), so a
re-audit closes what a new version fixed and deadlines, acceptances and the radar apply.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from detente.acceptances.models import RiskAcceptance, ScopeKind
from detente.acceptances.services import acceptance_request
from detente.api_register.models import Api, ApiVersion, Outcome, PenTest, Promotion, TesterKind
from detente.api_register.pentest_reports import report_chunks, store_report
from detente.api_register.rules import Result, audit_spec
from detente.api_register.sarif import SCANNER, sarif_document
from detente.api_register.selectors import (
    PENTEST_ROLES,
    REGISTER_ROLES,
    GateCheck,
    api_policy,
    can_promote,
    load_version,
    promotion_check,
)
from detente.api_register.spec import LoadedSpec, canonical_json, load_spec
from detente.api_register.view import SpecView
from detente.audit.services import audit_record
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.findings.importer import ImportOptions, import_path, import_stream
from detente.findings.models import Finding, ScanImport
from detente.findings.services import findings_reevaluate
from detente.inventory.models import Asset, AssetKind, BusinessService
from detente.people.models import Person
from detente.policy.services import active_policy

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


def _check_role(actor: Person | None, roles: frozenset[str], what: str) -> None:
    if actor is not None and not actor.has_any_role(roles):
        raise PermissionDenied(f"a {actor.get_role_display()} does not {what}")


def read_spec_file(path: Path) -> bytes:
    """The bytes of a spec file, refusing one over the size limit before reading it."""
    from detente.api_register.spec import MAX_BYTES

    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"spec is {size} bytes, over the {MAX_BYTES} byte limit", file=str(path)
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None


@dataclass(frozen=True)
class AuditOutcome:
    version: ApiVersion
    results: list[Result]
    scan: ScanImport


def api_add(
    *,
    actor: Person | None,
    name: str,
    service: BusinessService,
    spec: bytes,
    file_name: str,
    owners: Sequence[Person] = (),
    security_contact: Person | None = None,
) -> Api:
    """Register an API at the first stage with its first spec version, audited."""
    _check_role(actor, REGISTER_ROLES, "register APIs")
    if not NAME.match(name):
        raise InputError(
            "use letters, digits, '.', '_' or '-' (at most 120)", record=name, field="name"
        )
    loaded = load_spec(spec, name=file_name)  # refuse bad input before writing anything
    policy = api_policy()
    with transaction.atomic():
        if Api.objects.filter(name=name).exists():
            raise RuleViolation(f"API {name!r} is already registered")
        asset, _ = Asset.objects.get_or_create(
            kind=AssetKind.API,
            identifier=f"api:{name}",
            defaults={"name": name, "service": service, "publicly_exposed": False},
        )
        api = Api.objects.create(
            name=name,
            service=service,
            asset=asset,
            stage=policy.stages[0],
            security_contact=security_contact,
            created_at=clock.now(),
        )
        api.owners.set(owners)
        audit_record(
            actor=actor,
            verb="api.registered",
            subject_type="api",
            subject_id=api.pk,
            after={
                "name": name,
                "service": service.slug,
                "stage": api.stage,
                "owners": sorted(o.email for o in owners),
                "security_contact": security_contact.email if security_contact else None,
            },
        )
        version = _new_version(actor=actor, api=api, loaded=loaded, file_name=file_name)
        _audit(actor=actor, version=version, loaded=loaded)
    return api


def api_update(
    *, actor: Person | None, api: Api, spec: bytes, file_name: str
) -> tuple[ApiVersion, bool]:
    """Store a new spec version and audit it; (the current version, False) when unchanged."""
    _check_role(actor, REGISTER_ROLES, "update APIs")
    loaded = load_spec(spec, name=file_name)
    with transaction.atomic():
        locked = Api.objects.select_for_update().get(pk=api.pk)
        current = locked.current
        if current is not None and current.digest == loaded.digest:
            return current, False
        version = _new_version(actor=actor, api=locked, loaded=loaded, file_name=file_name)
        _audit(actor=actor, version=version, loaded=loaded)
    return version, True


def _new_version(
    *, actor: Person | None, api: Api, loaded: LoadedSpec, file_name: str
) -> ApiVersion:
    last = api.versions.order_by("-number").values_list("number", flat=True).first()
    info = loaded.data.get("info")
    version = ApiVersion.objects.create(
        api=api,
        number=(last or 0) + 1,
        digest=loaded.digest,
        file_name=Path(file_name).name[:500],
        fmt=loaded.fmt,
        openapi_version=loaded.version,
        info_version=str(info.get("version", ""))[:100] if isinstance(info, dict) else "",
        document=canonical_json(loaded.data),
        operations=len(SpecView(loaded).operations),
        problems=[{"pointer": p.pointer, "message": p.message} for p in loaded.problems],
        created_at=clock.now(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        verb="api.version_added",
        subject_type="api",
        subject_id=api.pk,
        after={"version": version.number, "digest": version.digest, "file": version.file_name},
    )
    return version


def api_audit(*, actor: Person | None, api: Api) -> AuditOutcome:
    """Re-run the audit on the current version (after a policy change, or a rule update)."""
    _check_role(actor, REGISTER_ROLES, "audit APIs")
    version = api.current
    if version is None:
        raise InputError("the API has no spec version", record=api.name)
    with transaction.atomic():
        return _audit(actor=actor, version=version, loaded=load_version(version))


def _audit(*, actor: Person | None, version: ApiVersion, loaded: LoadedSpec) -> AuditOutcome:
    policy = api_policy()
    results = audit_spec(
        loaded, severity=policy.severity, disabled=frozenset(policy.disabled_rules)
    )
    document = json.dumps(sarif_document(results, version=str(version.number))).encode()
    api = version.api
    scan = import_stream(
        stream=io.BytesIO(document),
        name=f"{SCANNER}-{api.name}-v{version.number}.sarif",
        size=len(document),
        sha256=None,
        actor=actor,
        options=ImportOptions(
            fmt="sarif", service=api.service, asset_name=api.asset.identifier,
            asset_kind=AssetKind.API,
        ),
    )  # fmt: skip
    counts: dict[str, int] = {}
    for result in results:
        counts[result.severity] = counts.get(result.severity, 0) + 1
    version.audit_counts = counts
    version.scan = scan
    version.save(update_fields=["audit_counts", "scan"])
    audit_record(
        actor=actor,
        verb="api.audited",
        subject_type="api",
        subject_id=api.pk,
        after={"version": version.number, "results": counts, "scan": scan.pk},
    )
    return AuditOutcome(version, results, scan)


def pentest_record(  # noqa: PLR0913 - keyword-only service: one argument per field of the pentest
    *,
    actor: Person | None,
    api: Api,
    version: ApiVersion,
    started_on: dt.date,
    ended_on: dt.date,
    tester: str,
    tester_kind: str,
    method: str = "",
    scope: Sequence[str] = (),
    report: Path | None = None,
    report_upload: tuple[str, Iterable[bytes]] | None = None,
    findings_file: Path | None = None,
    findings_format: str | None = None,
) -> PenTest:
    """Record a pen test of one spec version; attach its report (a file, or an upload's name
    and chunks), import its findings. A report over the limit leaves nothing recorded."""
    _check_role(actor, PENTEST_ROLES, "record pen tests")
    if version.api_id != api.pk:
        raise InputError("the version belongs to another API", field="version")
    if ended_on < started_on:
        raise InputError("ends before it starts", field="ended_on")
    if ended_on > clock.today():
        raise InputError("a pen test cannot end in the future", field="ended_on")
    if tester_kind not in TesterKind.values:
        raise InputError(
            f"tester kind is one of {', '.join(TesterKind.values)}", field="tester_kind"
        )
    if not tester.strip():
        raise InputError("name the tester or firm", field="tester")
    known = {op.key for op in SpecView(load_version(version)).operations}
    unknown = [op for op in scope if op not in known]
    if unknown:
        raise InputError(
            f"not operations of v{version.number}: {', '.join(unknown[:5])}", field="scope"
        )
    if report is not None and not report.is_file():
        raise InputError("no such file", file=str(report))
    if findings_file is not None and not findings_file.is_file():
        raise InputError("no such file", file=str(findings_file))
    with transaction.atomic():
        test = PenTest.objects.create(
            api=api, version=version, spec_digest=version.digest, scope=list(scope),
            started_on=started_on, ended_on=ended_on, tester=tester.strip()[:200],
            tester_kind=tester_kind, method=method[:200], recorded_by=actor,
            recorded_at=clock.now(),
        )  # fmt: skip
        if report is not None:
            report_upload = (report.name, report_chunks(report))
        if report_upload is not None:
            name = Path(report_upload[0] or "report").name[:500] or "report"
            test.report_name = name
            test.report_sha256, test.report_path = store_report(name, report_upload[1])
        if findings_file is not None:
            test.scan = import_path(
                path=findings_file,
                actor=actor,
                options=ImportOptions(
                    fmt=findings_format, service=api.service, asset_name=api.asset.identifier,
                    asset_kind=AssetKind.API,
                ),
            )  # fmt: skip
        test.save()
        audit_record(
            actor=actor,
            verb="api.pentest_recorded",
            subject_type="api",
            subject_id=api.pk,
            after={
                "pentest": test.pk, "version": version.number, "digest": version.digest,
                "tester": test.tester, "ended_on": ended_on.isoformat(),
                "report_sha256": test.report_sha256, "scan": test.scan_id,
            },
        )  # fmt: skip
    return test


def pentest_findings_import(
    *, actor: Person | None, test: PenTest, findings_file: Path, findings_format: str | None = None
) -> PenTest:
    """Import a recorded pen test's findings (when they arrive after the test was recorded): they
    land on the API's asset like the audit's, and the import becomes the test's. One
    transaction: a file the import refuses leaves the test as it was."""
    _check_role(actor, PENTEST_ROLES, "record pen tests")
    if not findings_file.is_file():
        raise InputError("no such file", file=str(findings_file))
    api = test.api
    with transaction.atomic():
        locked = PenTest.objects.select_for_update().get(pk=test.pk)
        before = locked.scan_id
        locked.scan = import_path(
            path=findings_file,
            actor=actor,
            options=ImportOptions(
                fmt=findings_format, service=api.service, asset_name=api.asset.identifier,
                asset_kind=AssetKind.API,
            ),
        )  # fmt: skip
        locked.save(update_fields=["scan"])
        audit_record(
            actor=actor,
            verb="api.pentest_findings_imported",
            subject_type="api",
            subject_id=api.pk,
            before={"pentest": locked.pk, "scan": before},
            after={"pentest": locked.pk, "scan": locked.scan_id},
        )
    return locked


def _longest_deferral(finding_ids: Sequence[int]) -> int:
    """The most days the policy lets every one of these findings be deferred."""
    doc, _ = active_policy()
    classes = set(
        Finding.objects.filter(pk__in=finding_ids).values_list("deadline_class", flat=True)
    )
    rules = doc.acceptances.by_class
    return min((rules[c].max_days for c in classes if c in rules), default=30)


@dataclass(frozen=True)
class PromotionResult:
    promotion: Promotion
    check: GateCheck


def api_promote(  # noqa: C901, PLR0912 - the promotion gate's checks in order; split pending
    *,
    actor: Person,
    api: Api,
    to_stage: str,
    force: bool = False,
    reason: str = "",
) -> PromotionResult:
    """Move an API to another exposure stage if the policy's gate holds.

    Down is always allowed. Up with the gate's conditions missing: refused (the refusal is
    recorded, then ``RuleViolation`` raised), or forced by a role the policy names (with a reason;
    never by one of the API's owners), or, if policy says so, a risk acceptance is requested for
    the blocking findings with the facts filled in (the API stays where it is).
    """
    owner = api.owners.filter(pk=actor.pk).exists()
    if not can_promote(actor, api):
        raise PermissionDenied(f"a {actor.get_role_display()} does not promote APIs")
    policy = api_policy()
    if to_stage not in policy.stages:
        raise InputError(f"stages are {', '.join(policy.stages)}", field="to")
    refused: PromotionResult | None = None
    with transaction.atomic():
        locked = Api.objects.select_for_update().get(pk=api.pk)
        if to_stage == locked.stage:
            raise RuleViolation(f"{locked.name} is already {to_stage}")
        check = promotion_check(locked, to_stage)
        up = policy.stages.index(to_stage) > policy.stages.index(locked.stage)
        if not up:
            outcome = Outcome.DEMOTED
        elif check.allowed:
            outcome = Outcome.PROMOTED
        elif force:
            if not actor.has_any_role(policy.force_roles):
                raise PermissionDenied(
                    f"only {', '.join(policy.force_roles)} may force a promotion past the gate"
                )
            if owner:
                raise PermissionDenied("an owner of the API cannot force its own promotion")
            if not reason.strip():
                raise InputError("give the reason for forcing", field="reason")
            outcome = Outcome.FORCED
        else:
            outcome = Outcome.REFUSED
        acceptance: RiskAcceptance | None = None
        # an acceptance covers findings; a missing pen test is not something one can accept
        acceptable = bool(check.blocking_ids) and not check.pentest_missing
        if outcome == Outcome.REFUSED and policy.on_refusal == "request_acceptance" and acceptable:
            acceptance = acceptance_request(
                actor=actor,
                title=f"Promote API {locked.name} to {to_stage}",
                scope=ScopeKind.FINDINGS,
                justification=reason.strip() or f"promotion of {locked.name} to {to_stage}",
                until=clock.today() + dt.timedelta(days=_longest_deferral(check.blocking_ids)),
                finding_ids=check.blocking_ids,
                compensating_controls="; ".join(check.missing),
            )
            outcome = Outcome.ACCEPTANCE_REQUESTED
        version = locked.current
        promotion = Promotion.objects.create(
            api=locked, from_stage=locked.stage, to_stage=to_stage, outcome=outcome,
            missing=check.missing, reason=reason.strip(), version=version,
            acceptance=acceptance, actor=actor, at=clock.now(),
        )  # fmt: skip
        audit_record(
            actor=actor,
            verb=f"api.{outcome}",
            subject_type="api",
            subject_id=locked.pk,
            before={"stage": locked.stage},
            after={"to": to_stage, "missing": check.missing, "facts": check.facts,
                   "acceptance": acceptance.pk if acceptance else None},
        )  # fmt: skip
        result = PromotionResult(promotion, check)
        if outcome in (Outcome.PROMOTED, Outcome.FORCED, Outcome.DEMOTED):
            locked.stage = to_stage
            locked.save(update_fields=["stage"])
            exposed = to_stage in policy.exposed_stages
            if locked.asset.publicly_exposed != exposed:
                Asset.objects.filter(pk=locked.asset_id).update(publicly_exposed=exposed)
                audit_record(
                    actor=actor, verb="asset.exposure_set", subject_type="asset",
                    subject_id=locked.asset_id, after={"publicly_exposed": exposed},
                )  # fmt: skip
                ids = list(locked.asset.findings.values_list("id", flat=True))
                if ids:
                    findings_reevaluate(actor=actor, ids=ids)
        else:
            refused = result
    if refused is not None:
        what = "; ".join(refused.check.missing)
        if refused.promotion.outcome == Outcome.ACCEPTANCE_REQUESTED:
            raise RuleViolation(
                f"{api.name} stays {refused.promotion.from_stage}: {what}; "
                f"risk acceptance RA-{refused.promotion.acceptance_id} requested"
            )
        raise RuleViolation(f"{api.name} cannot go {to_stage}: {what}")
    return result

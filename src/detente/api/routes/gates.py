"""/api/gate: decide a build on uploaded scan reports, recorded runs, overrides and coverage.

Deciding needs a read token; recording the run (``record=true``, the default) and overriding
need a write token.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import msgspec
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from detente.api.auth import actor, require_write
from detente.api.schemas import ERRORS, In, Limit, PathId
from detente.core.errors import InputError, NotFound
from detente.decisions.principles import missing_of

router = Router(tags=["gates"])


class GateOut(Schema):
    service: str
    version: str
    decision: str
    policy_version: int
    started_at: str
    duration_ms: int
    baseline: str | None
    counts: dict[str, int]
    rules_hit: dict[str, Any]
    scan_kinds: list[str]
    files: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    keys: list[str]
    run: int | None
    override: dict[str, Any] | None
    outputs: dict[str, Any]


class RunOut(Schema):
    id: int
    service: str
    version: str
    commit: str
    decision: str
    counts: dict[str, int]
    rules_hit: dict[str, Any]
    duration_ms: int
    started_at: str
    override: dict[str, Any] | None


class SignOverrideIn(In):
    approve: bool = True
    comment: str = ""


class OverrideOut(Schema):
    id: int
    run: int
    status: str
    decision: int
    second_due: str
    principles_missing: list[str]  # of its decision record (keys of the five principles)


class CoverageOut(Schema):
    service: str
    runs: int
    passed: int
    blocked: int
    overridden: int
    kinds: dict[str, Any]
    lead_time_hours: float
    waited: int
    pending_overrides: int


@router.post("/gate/runs", response={200: GateOut, **ERRORS}, summary="Decide a build")
def gate_run(
    request: HttpRequest,
    files: File[list[UploadedFile]],
    service: Form[str],
    version: Form[str],
    asset: Form[str | None] = None,
    asset_kind: Form[str] = "application",
    scan_format: Form[str | None] = None,
    commit: Form[str] = "",
    ref: Form[str] = "",
    baseline: Form[str | None] = None,
    record: Form[bool] = True,
    override: Form[bool] = False,
    reason: Form[str] = "",
    outputs: Form[str] = "",
) -> HttpResponse:
    """Upload the build's scan reports; get the decision (``outputs``: any of
    ``sarif,junit,markdown`` to have them returned too)."""
    from detente.findings.importer import ImportOptions
    from detente.gates import outputs as out
    from detente.gates.evaluate import GateRequest, evaluate
    from detente.gates.selectors import baseline_for
    from detente.gates.services import gate_override, gate_run_record
    from detente.inventory.selectors import service_by_slug

    person = require_write(request) if (record or override) else actor(request)
    texts = {"service": service, "version": version, "asset": asset or "",
             "asset_kind": asset_kind, "scan_format": scan_format or "", "commit": commit,
             "ref": ref, "baseline": baseline or "", "reason": reason,
             "outputs": outputs}  # fmt: skip
    for key, text in texts.items():
        if "\x00" in text:
            raise InputError("text must not contain NUL characters", field=key)
    if override and not reason.strip():
        raise InputError("an override states its business reason", field="reason")
    wanted = {w.strip() for w in outputs.split(",") if w.strip()}
    unknown = wanted - {"sarif", "junit", "markdown"}
    if unknown:
        raise InputError(f"unknown outputs {sorted(unknown)}", field="outputs")
    limit: int = settings.DETENTE_MAX_IMPORT_BYTES
    target = service_by_slug(service)
    options = ImportOptions(fmt=scan_format or None, service=target, asset_name=asset or None,
                            asset_kind=asset_kind)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="detente-gate-") as folder:
        paths = []
        for index, upload in enumerate(files):
            if upload.size is not None and upload.size > limit:
                raise InputError(f"file is over the {limit} byte limit", file=upload.name)
            name = Path(upload.name or f"report-{index}.json").name
            path = Path(folder) / f"{index:03d}" / name
            path.parent.mkdir()
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            paths.append(path)
        base = (  # server side: only a recorded run's ref or version, never a server path
            baseline_for(service=target, baseline=baseline, options=options, files=False)
            if baseline
            else None
        )
        try:
            result = evaluate(
                GateRequest(
                    service=target, version=version, paths=paths, asset_name=asset or None,
                    asset_kind=asset_kind, fmt=scan_format or None,
                    baseline=base.keys if base else None,
                    baseline_label=base.label if base else None,
                )
            )  # fmt: skip
        except InputError as exc:
            shown = Path(exc.file).name if exc.file else None
            raise InputError(exc.message, file=shown, record=exc.record, field=exc.field) from None
    if override and result.decision == "pass":
        raise InputError("the build passes; there is nothing to override", field="override")
    run_id, done = None, None
    if record or override:
        run = gate_run_record(
            result=result, service=target, actor=person, commit=commit, ref=ref,
            asset_name=asset or "", baseline_of=base.run if base else None,
        )  # fmt: skip
        run_id = run.pk
        if override:
            made = gate_override(run=run, actor=person, reason=reason)
            done = {"id": made.pk, "decision": made.decision_id, "status": made.status,
                    "second_due": made.second_due.isoformat()}  # fmt: skip
    data = result.as_dict()  # its findings are Structs: msgspec encodes them as objects
    data["run"], data["override"] = run_id, done
    data["outputs"] = {
        **({"sarif": out.sarif(result)} if "sarif" in wanted else {}),
        **({"junit": out.junit(result)} if "junit" in wanted else {}),
        **({"markdown": out.markdown(result, override=done)} if "markdown" in wanted else {}),
    }
    data["outputs"]["summary"] = out.summary(result, override=done)
    # Encoded here (msgspec) rather than validated and rendered by the schema: 15,000 findings'
    # worth of SARIF, JUnit and findings took pydantic and json ~0.6 s of the 1-second budget.
    # The body is exactly GateOut's fields (test_gate_api checks it against the schema).
    return HttpResponse(msgspec.json.encode(data), content_type="application/json; charset=utf-8")


@router.get("/gate/runs", response={200: list[RunOut], **ERRORS}, summary="Recent gate runs")
def gate_runs(
    request: HttpRequest, service: str | None = None, limit: Limit = 50
) -> list[dict[str, Any]]:
    from detente.gates.selectors import runs
    from detente.gates.services import run_summary
    from detente.inventory.selectors import service_by_slug

    if not 1 <= limit <= 500:
        raise InputError("limit 1..500", field="limit")
    target = service_by_slug(service) if service else None
    person = actor(request)
    found = runs(target, limit, owner=person if person.owner_scoped else None)
    return [run_summary(r) for r in found]


@router.get("/gate/runs/{run_id}", response={200: RunOut, **ERRORS}, summary="One gate run")
def gate_run_get(request: HttpRequest, run_id: PathId) -> dict[str, Any]:
    from detente.gates.selectors import run_by_id
    from detente.gates.services import run_summary

    run = run_by_id(run_id)
    person = actor(request)
    if person.owner_scoped and run.service.owner_id != person.pk:
        raise NotFound(f"gate run {run_id} does not exist")  # as for findings: not visible
    out = run_summary(run)
    if out.get("override") is not None:
        # which of the five principles the override's decision record still lacks
        out["override"] = {
            **out["override"],
            "principles_missing": [p.key for p in missing_of(run.override.decision)],
        }
    return out


@router.post(
    "/gate/overrides/{override_id}/sign",
    response={200: OverrideOut, **ERRORS},
    summary="Second signature on an override",
)
def gate_override_sign(
    request: HttpRequest, override_id: PathId, body: SignOverrideIn
) -> dict[str, Any]:
    from detente.gates.selectors import override_by_id
    from detente.gates.services import gate_override_sign as sign

    person = require_write(request)
    done = sign(actor=person, override=override_by_id(override_id), approve=body.approve,
                comment=body.comment)  # fmt: skip
    return {"id": done.pk, "run": done.run_id, "status": done.status,
            "decision": done.decision_id, "second_due": done.second_due.isoformat(),
            "principles_missing": [p.key for p in missing_of(done.decision)]}  # fmt: skip


@router.get("/gate/coverage", response={200: list[CoverageOut], **ERRORS},
            summary="DevSecOps coverage per service")  # fmt: skip
def gate_coverage(request: HttpRequest) -> list[dict[str, Any]]:
    from detente.gates.selectors import coverage

    return [
        {"service": c.service.slug, "runs": c.runs, "passed": c.passed, "blocked": c.blocked,
         "overridden": c.overridden, "kinds": c.kinds, "lead_time_hours": c.lead_time_hours,
         "waited": c.waited, "pending_overrides": c.pending_overrides}
        for c in coverage()
    ]  # fmt: skip

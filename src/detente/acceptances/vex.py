"""Accepted risks as VEX: CycloneDX 1.6 (what Dependency-Track imports) and OpenVEX v0.2.0.

What is exported: every finding that an approved, unexpired acceptance covers and that is still
accepted (not fixed meanwhile). A finding covered by several approvals is stated once, under the
one that ends last. Both documents are validated before they are returned; an invalid document
is a bug and is never handed out.

Mapping (see docs/acceptances.md, "VEX exports"): a risk acceptance defers remediation, it does
not deny the vulnerability. So the product *is* affected: CycloneDX ``exploitable`` with response
``will_not_fix`` (for the acceptance's term; Dependency-Track keeps only that last response),
OpenVEX ``affected`` with the deferral and its end as ``action_statement``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.parse
import uuid
from collections import defaultdict
from decimal import Decimal
from importlib import resources
from typing import Any

import jsonschema
from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from detente.acceptances.models import AcceptanceFinding, AcceptanceStatus, RiskAcceptance
from detente.core import clock
from detente.core.errors import DetenteError, InputError, NotFound
from detente.findings.models import Finding, Status

OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
# Our own JSON schema, written from the OpenVEX v0.2.0 specification (not a copy of upstream's).
OPENVEX_SCHEMA = "openvex_v0.2.0.schema.json"
FORMATS = ("cyclonedx", "openvex")
TOOL = "Détente"


class VexInvalid(DetenteError):
    """An export failed its own schema: a bug, reported instead of handing out a bad file."""

    exit_code = 3
    http_status = 500
    code = "invalid_export"


Group = tuple[RiskAcceptance, str, list[Finding]]


def accepted_risks(*, now: dt.datetime | None = None) -> list[Group]:
    """(acceptance, vulnerability id, findings) for every accepted risk, in a stable order."""
    moment = now or clock.now()
    items = (
        AcceptanceFinding.objects.filter(
            acceptance__status=AcceptanceStatus.APPROVED,
            acceptance__expires_at__gt=moment,
            fixed_at__isnull=True,
            finding__status=Status.ACCEPTED,
        )
        .select_related("acceptance", "finding", "finding__asset")
        .order_by("finding_id", "-acceptance__expires_at", "-acceptance_id")
    )
    governing: dict[int, AcceptanceFinding] = {}
    for item in items:
        governing.setdefault(item.finding_id, item)  # the approval that ends last
    grouped: dict[tuple[int, str], list[Finding]] = defaultdict(list)
    acceptances: dict[int, RiskAcceptance] = {}
    for item in governing.values():
        acceptances[item.acceptance_id] = item.acceptance
        grouped[(item.acceptance_id, item.finding.vuln_id)].append(item.finding)
    return [
        (acceptances[pk], vuln_id, sorted(findings, key=lambda f: f.pk))
        for (pk, vuln_id), findings in sorted(grouped.items())
    ]


# ------------------------------------------------------------------------------ shared pieces


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _statement(acceptance: RiskAcceptance) -> str:
    """The deferral in words: why, what else protects, until when, and what happens after."""
    parts = [
        f"Risk accepted under RA-{acceptance.pk} ({acceptance.title}): remediation is deferred, "
        f"not waived, until {_iso(acceptance.expires_at)}.",
        f"Justification: {acceptance.justification}",
    ]
    if acceptance.compensating_controls:
        parts.append(f"Compensating controls: {acceptance.compensating_controls}")
    parts.append("When the acceptance ends the finding reopens against its deadline.")
    return " ".join(parts)


def _source(vuln_id: str) -> tuple[str, str | None]:
    """Dependency-Track's source names (it ignores entries whose source it does not know)."""
    upper = vuln_id.upper()
    if upper.startswith("CVE-"):
        return "NVD", f"https://nvd.nist.gov/vuln/detail/{upper}"
    if upper.startswith("GHSA-"):
        return "GITHUB", f"https://github.com/advisories/{vuln_id}"
    if upper.startswith(("PYSEC-", "GO-", "RUSTSEC-", "OSV-", "GSD-", "MAL-")):
        return "OSV", f"https://osv.dev/vulnerability/{vuln_id}"
    return "INTERNAL", None


def _aliases(vuln_id: str, findings: list[Finding]) -> list[str]:
    names = [f.cve for f in findings if f.cve] + [a for f in findings for a in f.aliases or ()]
    return sorted({str(n) for n in names} - {vuln_id})


def _purl(finding: Finding) -> str | None:
    if not finding.component:
        return None
    purl = PackageURL(type="generic", name=finding.component, version=finding.component_version)
    return str(purl.to_string())


def _target_ref(finding: Finding) -> str:
    """bom-ref of what is affected: one per asset and component (version)."""
    asset = f"detente:asset:{finding.asset_id}"
    if not finding.component:
        return asset
    version = f"@{finding.component_version}" if finding.component_version else ""
    return f"{asset}:{urllib.parse.quote(finding.component, safe='')}{version}"


# ------------------------------------------------------------------------------ CycloneDX

_SEVERITY = {
    "critical": VulnerabilitySeverity.CRITICAL,
    "high": VulnerabilitySeverity.HIGH,
    "medium": VulnerabilitySeverity.MEDIUM,
    "low": VulnerabilitySeverity.LOW,
    "info": VulnerabilitySeverity.INFO,
}
_METHOD = {
    "2": VulnerabilityScoreSource.CVSS_V2,
    "2.0": VulnerabilityScoreSource.CVSS_V2,
    "3": VulnerabilityScoreSource.CVSS_V3,
    "3.0": VulnerabilityScoreSource.CVSS_V3,
    "3.1": VulnerabilityScoreSource.CVSS_V3_1,
    "4": VulnerabilityScoreSource.CVSS_V4,
    "4.0": VulnerabilityScoreSource.CVSS_V4,
}


def _ratings(findings: list[Finding]) -> list[VulnerabilityRating]:
    ratings: dict[tuple[str | None, float | None], VulnerabilityRating] = {}
    for f in findings:
        key = (f.cvss_vector, f.cvss_score)
        if key in ratings:
            continue
        ratings[key] = VulnerabilityRating(
            score=Decimal(str(f.cvss_score)) if f.cvss_score is not None else None,
            severity=_SEVERITY.get(f.severity, VulnerabilitySeverity.UNKNOWN),
            method=_METHOD.get(f.cvss_version) if f.cvss_vector else None,
            vector=f.cvss_vector or None,
        )
    return list(ratings.values())


def _cyclonedx_bom(groups: list[Group], moment: dt.datetime) -> Bom:
    bom = Bom()
    bom.metadata.timestamp = moment
    bom.metadata.tools.components.add(
        Component(name=TOOL, type=ComponentType.APPLICATION, bom_ref="detente:tool")
    )
    components: dict[str, Component] = {}
    for acceptance, vuln_id, findings in groups:
        targets: dict[str, BomTarget] = {}
        for f in findings:
            ref = _target_ref(f)
            if ref not in components:
                purl = _purl(f)
                components[ref] = Component(
                    bom_ref=ref,
                    name=f.component or f.asset.name,
                    version=f.component_version or None,
                    type=ComponentType.LIBRARY if f.component else ComponentType.APPLICATION,
                    purl=PackageURL.from_string(purl) if purl else None,
                    properties=[Property(name="detente:asset", value=f.asset.identifier)],
                )
            versions = (
                [BomTargetVersionRange(version=f.component_version,
                                       status=ImpactAnalysisAffectedStatus.AFFECTED)]
                if f.component_version else []
            )  # fmt: skip
            targets.setdefault(ref, BomTarget(ref=ref, versions=versions))
        name, url = _source(vuln_id)
        cwes = sorted({f.cwe for f in findings if f.cwe})
        bom.vulnerabilities.add(
            Vulnerability(
                bom_ref=f"RA-{acceptance.pk}:{vuln_id}",
                id=vuln_id,
                source=VulnerabilitySource(name=name, url=XsUri(url) if url else None),
                references=[
                    VulnerabilityReference(
                        id=alias,
                        source=VulnerabilitySource(
                            name=_source(alias)[0],
                            url=XsUri(u) if (u := _source(alias)[1]) else None,
                        ),
                    )
                    for alias in _aliases(vuln_id, findings)
                ],
                ratings=_ratings(findings),
                cwes=cwes,
                description=findings[0].title,
                analysis=VulnerabilityAnalysis(
                    state=ImpactAnalysisState.EXPLOITABLE,
                    responses=[ImpactAnalysisResponse.WILL_NOT_FIX],
                    detail=_statement(acceptance),
                    first_issued=acceptance.approved_at,
                    last_updated=moment,
                ),
                affects=list(targets.values()),
                properties=[
                    Property(name="detente:acceptance", value=f"RA-{acceptance.pk}"),
                    Property(name="detente:expires_at", value=_iso(acceptance.expires_at)),
                    Property(name="detente:findings", value=",".join(str(f.pk) for f in findings)),
                ],
            )
        )
    for component in components.values():
        bom.components.add(component)
    return bom


def vex_cyclonedx(*, now: dt.datetime | None = None) -> str:
    """CycloneDX 1.6 JSON with one vulnerability per accepted (acceptance, vulnerability)."""
    moment = now or clock.now()
    bom = _cyclonedx_bom(accepted_risks(now=moment), moment)
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise VexInvalid(f"CycloneDX export fails the 1.6 schema: {error}")
    return text


# ------------------------------------------------------------------------------ OpenVEX


def _openvex_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(resources.files(__package__).joinpath(OPENVEX_SCHEMA).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def _asset_iri(finding: Finding) -> str:
    return "urn:detente:asset:" + urllib.parse.quote(finding.asset.identifier, safe=":@+.-_~")


def _products(findings: list[Finding]) -> list[dict[str, Any]]:
    by_asset: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        subs = by_asset[_asset_iri(f)]
        purl = _purl(f)
        if purl and purl not in subs:
            subs.append(purl)
    products = []
    for iri, purls in by_asset.items():
        product: dict[str, Any] = {"@id": iri}
        if purls:
            product["subcomponents"] = [{"@id": p, "identifiers": {"purl": p}} for p in purls]
        products.append(product)
    return products


def vex_openvex(*, now: dt.datetime | None = None, author: str = TOOL) -> str:
    """OpenVEX v0.2.0 JSON: one ``affected`` statement per accepted (acceptance, vulnerability)."""
    moment = now or clock.now()
    groups = accepted_risks(now=moment)
    if not groups:
        raise NotFound("no approved risk acceptance to export (OpenVEX needs one statement)")
    statements = []
    for acceptance, vuln_id, findings in groups:
        vulnerability: dict[str, Any] = {"name": vuln_id}
        if url := _source(vuln_id)[1]:
            vulnerability["@id"] = url
        if aliases := _aliases(vuln_id, findings):
            vulnerability["aliases"] = aliases
        issued = _iso(acceptance.approved_at or acceptance.created_at)
        statements.append(
            {
                "vulnerability": vulnerability,
                "timestamp": issued,
                "products": _products(findings),
                "status": "affected",
                "status_notes": f"Détente risk acceptance RA-{acceptance.pk}",
                "action_statement": _statement(acceptance),
                "action_statement_timestamp": issued,
            }
        )
    digest = hashlib.sha256(json.dumps(statements, sort_keys=True).encode()).hexdigest()
    document: dict[str, Any] = {
        "@context": OPENVEX_CONTEXT,
        "@id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'detente-openvex:' + digest)}",
        "author": author,
        "timestamp": _iso(moment),
        "version": 1,
        "tooling": TOOL,
        "statements": statements,
    }
    errors = sorted(_openvex_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path)
        raise VexInvalid(f"OpenVEX export fails its schema at {where or '/'}: {errors[0].message}")
    return json.dumps(document, indent=2, ensure_ascii=False)


def vex_export(*, fmt: str, now: dt.datetime | None = None) -> str:
    if fmt == "cyclonedx":
        return vex_cyclonedx(now=now)
    if fmt == "openvex":
        return vex_openvex(now=now)
    raise InputError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})", field="format")

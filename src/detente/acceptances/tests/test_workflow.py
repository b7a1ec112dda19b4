"""The acceptance workflow: who may sign what, for how long, and what every refusal leaves alone."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from detente.acceptances.models import (
    ALLOWED,
    AcceptanceFinding,
    AcceptanceStatus,
    RiskAcceptance,
    ScopeKind,
    Signature,
)
from detente.acceptances.services import (
    _move,
    acceptance_reject,
    acceptance_renew,
    acceptance_request,
    acceptance_revoke,
    acceptance_sign,
    acceptance_submit,
    acceptances_expire,
    acceptances_reconcile,
)
from detente.acceptances.tests.conftest import NOW, Org
from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.findings.importer import ImportOptions
from detente.findings.models import Finding, Status
from detente.findings.services import scan_import
from detente.findings.tests.factories import trivy_report, trivy_vuln, write_json

S = AcceptanceStatus
TODAY = NOW.date()


def _request(org: Org, finding: Finding, days: int = 5, **extra: object) -> RiskAcceptance:
    params: dict[str, object] = {
        "actor": org.it_lead,
        "title": "Defer until the release freeze ends",
        "scope": ScopeKind.FINDINGS,
        "finding_ids": [finding.pk],
        "justification": "The fix needs a platform upgrade planned with the next release.",
        "compensating_controls": "WAF rule blocks the JNDI lookup pattern.",
        "until": TODAY + dt.timedelta(days=days),
    }
    return acceptance_request(**(params | extra))  # type: ignore[arg-type]


def _state(acceptance: RiskAcceptance) -> tuple[str, int, list[str]]:
    acceptance.refresh_from_db()
    statuses = list(
        Finding.objects.filter(acceptance_items__acceptance=acceptance)
        .order_by("id")
        .values_list("status", flat=True)
    )
    return acceptance.status, acceptance.signatures.count(), statuses


# ------------------------------------------------------------------ the transition table


@pytest.mark.parametrize(("start", "end"), list(itertools.product(S.values, S.values)))
def test_every_transition_is_allowed_or_refused_by_the_table(start: str, end: str) -> None:
    acceptance = RiskAcceptance(pk=1, status=start)
    if end in ALLOWED[start]:
        _move(acceptance, end)
        assert acceptance.status == end
    else:
        with pytest.raises(RuleViolation):
            _move(acceptance, end)
        assert acceptance.status == start


def test_terminal_states_have_no_way_out() -> None:
    for state in (S.REJECTED, S.EXPIRED, S.REVOKED, S.SUPERSEDED):
        assert ALLOWED[state] == frozenset()


# ------------------------------------------------------------------ the happy path


def test_both_leaders_sign_and_the_findings_turn_accepted(org: Org) -> None:
    acceptance = _request(org, org.kev)
    assert acceptance.deadline_class == "3d-triage"
    assert acceptance.required_roles == ["ciso", "cio"]
    assert _state(acceptance) == (S.REQUESTED, 0, [Status.OPEN])

    acceptance_sign(actor=org.ciso, acceptance=acceptance, comment="WAF verified")
    assert _state(acceptance) == (S.REQUESTED, 1, [Status.OPEN])
    acceptance_sign(actor=org.cio, acceptance=acceptance)
    assert _state(acceptance) == (S.APPROVED, 2, [Status.ACCEPTED])

    snapshot = Signature.objects.get(acceptance=acceptance, role="ciso").facts
    assert (snapshot["findings"], snapshot["in_kev"], snapshot["exposed"]) == (1, 1, 1)
    assert snapshot["items"][0]["vuln_id"] == "CVE-2021-44228"
    assert snapshot["earliest_deadline"] == (NOW + dt.timedelta(days=3)).isoformat()
    verbs = list(
        AuditEvent.objects.filter(subject_type="acceptance").values_list("verb", flat=True)
    )
    assert verbs == [
        "acceptance.requested",
        "acceptance.signed.approve",
        "acceptance.signed.approve",
        "acceptance.approved",
    ]
    assert audit_verify().ok


def test_sixty_day_class_needs_security_lead_and_the_service_owner(org: Org) -> None:
    acceptance = _request(org, org.sixty, days=80, compensating_controls="")
    assert acceptance.required_roles == ["security_lead", "service_owner"]
    with pytest.raises(PermissionDenied, match="no authority"):
        acceptance_sign(actor=org.other_owner, acceptance=acceptance)  # owns another service
    acceptance_sign(actor=org.owner, acceptance=acceptance)
    acceptance_sign(actor=org.security_lead, acceptance=acceptance)
    assert _state(acceptance)[0] == S.APPROVED


def test_a_draft_is_submitted_by_its_requester_only(org: Org) -> None:
    draft = _request(org, org.kev, submit=False)
    assert draft.status == S.DRAFT
    with pytest.raises(RuleViolation):
        acceptance_sign(actor=org.ciso, acceptance=draft)
    with pytest.raises(PermissionDenied):
        acceptance_submit(actor=org.engineer, acceptance=draft)
    acceptance_submit(actor=org.it_lead, acceptance=draft)
    assert _state(draft)[0] == S.REQUESTED


# ------------------------------------------------------------------ refusals change nothing


def test_nobody_signs_their_own_request(org: Org) -> None:
    acceptance = _request(org, org.kev, actor=org.ciso)
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied, match="separation of duties"):
        acceptance_sign(actor=org.ciso, acceptance=acceptance)
    assert _state(acceptance) == (S.REQUESTED, 0, [Status.OPEN])
    assert AuditEvent.objects.count() == before


def test_signing_without_authority_is_refused(org: Org) -> None:
    acceptance = _request(org, org.kev)
    for person in (org.security_lead, org.engineer, org.auditor, org.owner):
        with pytest.raises(PermissionDenied):
            acceptance_sign(actor=person, acceptance=acceptance)
    assert _state(acceptance) == (S.REQUESTED, 0, [Status.OPEN])


def test_one_person_signs_once_and_each_role_once(org: Org) -> None:
    acceptance = _request(org, org.kev)
    acceptance_sign(actor=org.ciso, acceptance=acceptance)
    with pytest.raises(RuleViolation, match="already signed"):
        acceptance_sign(actor=org.ciso, acceptance=acceptance)
    with pytest.raises(RuleViolation):
        acceptance_sign(actor=org.ciso, acceptance=acceptance, role="cio")
    assert _state(acceptance) == (S.REQUESTED, 1, [Status.OPEN])


def test_deferring_beyond_the_policy_maximum_is_refused(org: Org) -> None:
    with pytest.raises(RuleViolation, match="at most 7 days"):
        _request(org, org.kev, days=8)
    assert RiskAcceptance.objects.count() == 0
    assert AcceptanceFinding.objects.count() == 0


def test_kev_deferral_needs_compensating_controls(org: Org) -> None:
    with pytest.raises(RuleViolation, match="compensating controls"):
        _request(org, org.kev, compensating_controls=" ")
    assert RiskAcceptance.objects.count() == 0


def test_auditors_and_change_managers_cannot_request(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        _request(org, org.kev, actor=org.auditor)
    assert RiskAcceptance.objects.count() == 0


def test_a_rejection_needs_a_reason_and_ends_the_request(org: Org) -> None:
    acceptance = _request(org, org.kev)
    with pytest.raises(InputError):
        acceptance_reject(actor=org.cio, acceptance=acceptance, reason="")
    assert _state(acceptance) == (S.REQUESTED, 0, [Status.OPEN])
    acceptance_reject(actor=org.cio, acceptance=acceptance, reason="Exploited and exposed: fix now")
    assert _state(acceptance) == (S.REJECTED, 1, [Status.OPEN])
    with pytest.raises(RuleViolation):
        acceptance_sign(actor=org.ciso, acceptance=acceptance)


# ------------------------------------------------------------------ time


def _approved(org: Org, finding: Finding, days: int = 5) -> RiskAcceptance:
    acceptance = _request(org, finding, days=days)
    for person in (org.ciso, org.cio):
        acceptance_sign(actor=person, acceptance=acceptance)
    return acceptance


def test_expiry_reopens_the_findings(org: Org) -> None:
    acceptance = _approved(org, org.kev, days=5)
    assert acceptances_expire(now=NOW + dt.timedelta(days=5)) == []
    assert acceptances_expire(now=NOW + dt.timedelta(days=6)) == [acceptance.pk]
    assert _state(acceptance) == (S.EXPIRED, 2, [Status.OPEN])
    assert acceptances_expire(now=NOW + dt.timedelta(days=7)) == []


def test_revoking_an_approval_reopens_unless_another_covers(org: Org) -> None:
    acceptance = _approved(org, org.kev)
    with pytest.raises(PermissionDenied):
        acceptance_revoke(actor=org.engineer, acceptance=acceptance, reason="no")
    acceptance_revoke(actor=org.ciso, acceptance=acceptance, reason="Exploitation seen in our logs")
    assert _state(acceptance) == (S.REVOKED, 2, [Status.OPEN])


def test_renewals_are_counted_and_beyond_the_limit_need_more_authority(org: Org) -> None:
    current = _request(org, org.sixty, days=30, compensating_controls="")
    acceptance_sign(actor=org.owner, acceptance=current)
    acceptance_sign(actor=org.security_lead, acceptance=current)
    for expected_renewals in (1, 2):
        renewal = acceptance_renew(
            actor=org.it_lead, acceptance=current, until=TODAY + dt.timedelta(days=60),
            justification="Vendor patch slipped a month.",
        )  # fmt: skip
        assert (renewal.renewals, renewal.required_roles) == (
            expected_renewals, ["security_lead", "service_owner"],
        )  # fmt: skip
        acceptance_sign(actor=org.owner, acceptance=renewal)
        acceptance_sign(actor=org.security_lead, acceptance=renewal)
        assert _state(current)[0] == S.SUPERSEDED
        assert _state(renewal)[0] == S.APPROVED
        current = renewal
    third = acceptance_renew(
        actor=org.it_lead, acceptance=current, until=TODAY + dt.timedelta(days=60),
        justification="Still waiting for the vendor.",
    )  # fmt: skip
    assert third.renewals == 3
    assert third.required_roles == ["security_lead", "service_owner", "ciso", "cio"]
    with pytest.raises(RuleViolation, match="already has a renewal"):
        acceptance_renew(
            actor=org.it_lead, acceptance=current, until=TODAY + dt.timedelta(days=60),
            justification="again",
        )  # fmt: skip


# ------------------------------------------------------------------ interplay with re-import


def test_accepted_findings_stay_accepted_when_reported_again(org: Org) -> None:
    acceptance = _approved(org, org.kev)
    (scan,) = scan_import(paths=[org.report], options=ImportOptions(service=org.service))
    assert acceptances_reconcile(scan=scan) == {"noted_fixed": 0, "covered_new": 0}
    assert _state(acceptance)[2] == [Status.ACCEPTED]


def test_a_covered_finding_that_disappears_closes_and_is_noted(org: Org, tmp_path: object) -> None:
    acceptance = _approved(org, org.kev)
    path = write_json(
        org.report.with_name("fixed.json"),
        trivy_report([trivy_vuln("CVE-2024-6000", pkg="zlib", severity="LOW")]),
    )
    (scan,) = scan_import(paths=[path], options=ImportOptions(service=org.service))
    # the import itself squared the acceptance (findings.services.after_import); again is a no-op
    assert acceptances_reconcile(scan=scan) == {"noted_fixed": 0, "covered_new": 0}
    item = AcceptanceFinding.objects.get(acceptance=acceptance)
    assert item.fixed_at is not None
    assert _state(acceptance)[2] == [Status.FIXED]


def test_a_new_finding_inside_a_cve_scope_is_covered_and_listed(org: Org) -> None:
    acceptance = acceptance_request(
        actor=org.it_lead, title="log4j across the shop", scope=ScopeKind.CVE,
        cve="CVE-2021-44228", service=org.service, justification="Freeze until the release.",
        compensating_controls="WAF", until=TODAY + dt.timedelta(days=5),
    )  # fmt: skip
    acceptance_sign(actor=org.ciso, acceptance=acceptance)
    acceptance_sign(actor=org.cio, acceptance=acceptance)
    other_image = write_json(
        org.report.with_name("admin.json"),
        trivy_report(
            [trivy_vuln("CVE-2021-44228", pkg="log4j-core", severity="CRITICAL")],
            artifact="registry.example/admin:3.1",
        ),
    )
    (scan,) = scan_import(paths=[other_image], options=ImportOptions(service=org.service))
    # the import itself covered the new finding (findings.services.after_import); again is a no-op
    assert acceptances_reconcile(scan=scan) == {"noted_fixed": 0, "covered_new": 0}
    assert _state(acceptance)[2] == [Status.ACCEPTED, Status.ACCEPTED]
    assert list(acceptance.items.order_by("id").values_list("reason", flat=True)) == [
        "requested",
        "new_in_scope",
    ]


def test_policy_can_refuse_to_cover_new_findings(org: Org) -> None:
    from detente.policy.document import pack_text
    from detente.policy.services import policy_activate

    policy_activate(
        text=pack_text("bod-26-04").replace(
            "cover_new_findings: true", "cover_new_findings: false"
        ),
        source="no-cover.yaml",
    )
    acceptance = acceptance_request(
        actor=org.it_lead, title="log4j", scope=ScopeKind.CVE, cve="CVE-2021-44228",
        service=org.service, justification="Freeze.", compensating_controls="WAF",
        until=TODAY + dt.timedelta(days=5),
    )  # fmt: skip
    acceptance_sign(actor=org.ciso, acceptance=acceptance)
    acceptance_sign(actor=org.cio, acceptance=acceptance)
    other = write_json(
        org.report.with_name("admin.json"),
        trivy_report([trivy_vuln("CVE-2021-44228")], artifact="registry.example/admin:3.1"),
    )
    (scan,) = scan_import(paths=[other], options=ImportOptions(service=org.service))
    assert acceptances_reconcile(scan=scan)["covered_new"] == 0
    assert Finding.objects.filter(cve="CVE-2021-44228", status=Status.OPEN).count() == 1


def test_the_clock_is_used_for_all_times(org: Org) -> None:
    clock.set_now(NOW + dt.timedelta(hours=2))
    acceptance = _approved(org, org.kev)
    assert acceptance.created_at == NOW + dt.timedelta(hours=2)


def test_policy_decides_whether_the_deadline_restarts_on_expiry(org: Org) -> None:
    from detente.policy.document import pack_text
    from detente.policy.services import policy_activate

    original = org.kev.deadline
    acceptance = _approved(org, org.kev, days=5)
    expired_at = NOW + dt.timedelta(days=6)
    acceptances_expire(now=expired_at)
    org.kev.refresh_from_db()
    assert (org.kev.status, org.kev.deadline) == (Status.OPEN, original)  # default: no restart

    policy_activate(
        text=pack_text("bod-26-04").replace(
            "restart_deadline_on_expiry: false", "restart_deadline_on_expiry: true"
        ),
        source="restart.yaml",
    )
    second = _approved(org, org.kev, days=5)
    clock.set_now(expired_at + dt.timedelta(days=1))
    acceptances_expire()
    org.kev.refresh_from_db()
    assert acceptance.pk != second.pk
    second.refresh_from_db()
    assert org.kev.status == Status.OPEN
    assert second.closed_at is not None
    assert org.kev.deadline_basis == second.closed_at
    assert org.kev.deadline == second.closed_at + dt.timedelta(days=3)  # 3d-triage, counted again
    assert org.kev.first_seen == NOW  # discovery never moves

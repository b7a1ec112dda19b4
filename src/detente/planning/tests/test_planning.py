"""Work items, plans, misses and remedies, the link to acceptances, emergency changes, what-if,
the ICS export and the radar signals — through the real services and database."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from icalendar import Calendar

from detente.acceptances.models import AcceptanceStatus, RiskAcceptance
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, PermissionDenied, RuleViolation
from detente.findings.models import Status
from detente.planning import signals
from detente.planning.ics import plan_ics
from detente.planning.models import (
    ALLOWED,
    ChangeWindow,
    EmergencyChange,
    MissReason,
    PatchPlan,
    PlanItem,
    PlanStatus,
)
from detente.planning.scenarios import compare, parse
from detente.planning.selectors import planning_input, services_by_slug, work_items
from detente.planning.services import (
    _move,
    blackout_add,
    effort_override_set,
    emergency_change_call,
    plan_item_defer,
    plan_make,
    window_add,
)
from detente.planning.tests.conftest import NOW, Org, asset, finding
from detente.planning.workitems import FindingFacts, finding_weight
from detente.policy.document import pack_text, parse_policy
from detente.policy.services import active_policy

UTC = dt.UTC


def _saturdays(org: Org, *, slots: int = 2, **extra: object) -> ChangeWindow:
    params: dict[str, object] = {
        "actor": org.people["change_manager"], "service": org.shop, "name": "Saturday night",
        "rrule": "FREQ=WEEKLY;BYDAY=SA", "start_time": dt.time(2, 0), "duration_minutes": 240,
        "capacity": slots, "capacity_unit": "slots", "timezone": "UTC",
    }  # fmt: skip
    return window_add(**(params | extra))  # type: ignore[arg-type]


def _three_images(org: Org, days: int = 14) -> list[int]:
    return [finding(asset(org.shop), days=days).pk for _ in range(3)]


# ------------------------------------------------------------------ policy and work items


@pytest.mark.parametrize("pack", ["bod-26-04", "fedramp", "pci-dss-4"])
def test_every_pack_states_the_planning_rules(pack: str) -> None:
    doc = parse_policy(pack_text(pack))
    assert doc.planning.effort_hours == {"package": 1.0, "image": 2.0, "host": 4.0, "other": 2.0}
    assert doc.planning.emergency.roles == ["cio", "change_manager"]
    assert doc.planning.emergency.max_per_month == 2


def test_a_policy_without_a_planning_section_gets_the_defaults() -> None:
    text = pack_text("bod-26-04").split("\nplanning:")[0]
    assert parse_policy(text).planning.horizon_days == 120


def test_a_bad_planning_section_is_refused() -> None:
    text = pack_text("bod-26-04").replace("max_per_month: 2", "max_per_month: -1")
    with pytest.raises(InputError, match=r"planning\.emergency"):
        parse_policy(text)


def test_findings_group_the_way_patching_happens(org: Org) -> None:
    image = asset(org.shop, "image")
    host = asset(org.shop, "host")
    repo = asset(org.billing, "repository")
    in_image = [finding(image, days=14, component=c).pk for c in ("openssl", "zlib")]
    on_host = [finding(host, days=30, component=c).pk for c in ("openssl", "bash")]
    host_setting = finding(host, days=60, component=None)
    ssl_twice = [finding(repo, days=d, component="openssl").pk for d in (30, 90)]
    lib = finding(repo, days=180, component="lodash")
    finding(repo, days=14, status=Status.FIXED)  # closed: no work
    finding(repo, days=365, cls="next-upgrade")  # no calendar deadline: not planned
    doc, _ = active_policy()
    items = {i.key: i for i in work_items(doc)}
    assert sorted(items) == sorted([
        f"image:{image.pk}", f"host:{host.pk}", f"other:{host_setting.pk}",
        f"package:{repo.pk}:openssl", f"package:{repo.pk}:lodash",
    ])  # fmt: skip
    assert items[f"image:{image.pk}"].finding_ids == in_image
    assert items[f"host:{host.pk}"].finding_ids == on_host
    assert items[f"package:{repo.pk}:openssl"].finding_ids == ssl_twice
    assert items[f"package:{repo.pk}:lodash"].finding_ids == [lib.pk]
    # Effort by kind from policy; the earliest deadline and its class.
    assert [items[k].effort_hours for k in (f"image:{image.pk}", f"host:{host.pk}")] == [2.0, 4.0]
    assert items[f"package:{repo.pk}:openssl"].deadline_class == "30d"
    assert items[f"package:{repo.pk}:openssl"].deadline == NOW + dt.timedelta(days=30)
    # Weight: the sum of the findings' weights (30-day, exposed, no KEV, no EPSS → 1 each).
    assert items[f"host:{host.pk}"].weight == pytest.approx(2.0)
    assert items[f"package:{repo.pk}:openssl"].weight == pytest.approx(1.0 + 1 / 3)


def test_the_weight_formula() -> None:
    def facts(**extra: object) -> FindingFacts:
        base: dict[str, object] = {
            "id": 1, "asset_id": 1, "asset_kind": "image", "service_id": 1, "component": "x",
            "deadline": NOW, "deadline_class": "3d", "kev": False, "epss": None, "exposed": True,
        }  # fmt: skip
        return FindingFacts(**(base | extra))  # type: ignore[arg-type]

    assert finding_weight(facts(), 30) == 1.0
    assert finding_weight(facts(exposed=False), 30) == 0.5
    assert finding_weight(facts(kev=True, epss=0.5), 3) == pytest.approx(10 * 3 * 3)
    assert finding_weight(facts(epss=0.25), 60) == pytest.approx(0.5 * 2)


def test_an_effort_override_replaces_the_default(org: Org) -> None:
    image = asset(org.shop)
    finding(image, days=14)
    with pytest.raises(PermissionDenied):
        effort_override_set(actor=org.people["auditor"], item_key=f"image:{image.pk}", hours=6,
                            reason="multi-stage build")  # fmt: skip
    effort_override_set(actor=org.people["engineer"], item_key=f"image:{image.pk}", hours=6,
                        reason="multi-stage build")  # fmt: skip
    doc, _ = active_policy()
    (item,) = work_items(doc)
    assert item.effort_hours == 6


# ------------------------------------------------------------------ windows and blackouts


def test_only_planners_add_windows_and_a_bad_rule_changes_nothing(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        _saturdays(org, actor=org.people["engineer"])
    with pytest.raises(PermissionDenied):  # owner of shop, not of billing
        _saturdays(org, actor=org.people["service_owner"], service=org.billing)
    with pytest.raises(InputError):
        _saturdays(org, rrule="FREQ=NEVER")
    with pytest.raises(InputError):
        _saturdays(org, timezone="Mars/Olympus")
    assert ChangeWindow.objects.count() == 0
    window = _saturdays(org, actor=org.people["service_owner"])
    assert window.starts_on == NOW.date()
    assert AuditEvent.objects.filter(verb="planning.window_added").count() == 1


def test_a_blackout_needs_a_reason_an_order_and_authority(org: Org) -> None:
    start = dt.datetime(2026, 12, 18, tzinfo=UTC)
    with pytest.raises(InputError):
        blackout_add(actor=org.people["cio"], starts_at=start, ends_at=start, reason="x")
    with pytest.raises(PermissionDenied):
        blackout_add(actor=org.people["service_owner"], starts_at=start,
                     ends_at=start + dt.timedelta(days=1), reason="freeze")  # fmt: skip
    blackout_add(actor=org.people["change_manager"], starts_at=start,
                 ends_at=start + dt.timedelta(days=14), reason="year-end freeze")  # fmt: skip
    assert AuditEvent.objects.filter(verb="planning.blackout_added").count() == 1


# ------------------------------------------------------------------ plans


def test_capacity_is_honoured_and_everything_fits_before_the_deadline(org: Org) -> None:
    # Given two slots each Saturday and three 14-day image rebuilds (deadline 2026-11-16)
    _saturdays(org, slots=2)
    _three_images(org)
    # When the plan is made
    plan = plan_make(actor=org.people["change_manager"])
    # Then two go on 7 November, one on 14 November, none misses
    starts = sorted(str(s.date()) for s in plan.work.values_list("starts_at", flat=True) if s)
    assert starts == ["2026-11-07", "2026-11-07", "2026-11-14"]
    assert (plan.items, plan.planned, plan.missed) == (3, 3, 0)
    assert plan.method == "cp-sat"
    assert plan.optimal


def test_lack_of_capacity_is_a_miss_with_remedies_ranked_by_cost(org: Org) -> None:
    # One slot a week: two fit before 16 November, the third is a week late.
    _saturdays(org, slots=1)
    _three_images(org)
    plan = plan_make(actor=None)
    (late,) = plan.work.exclude(miss="")
    assert late.miss == MissReason.CAPACITY
    assert late.starts_at is not None
    assert late.starts_at.date() == dt.date(2026, 11, 21)
    assert late.late_days == pytest.approx(5 - 9 / 24 + 6 / 24)  # 21 Nov 06:00 − 16 Nov 09:00
    kinds = [r["kind"] for r in late.remedies]
    assert kinds == ["extra_window", "deferral", "emergency_change"]  # 5 < ~5.9 < 20
    assert all(r["feasible"] for r in late.remedies)
    assert late.remedies[1]["until"] == "2026-11-21"
    assert plan.summary["extra_windows"] == 1


def test_a_service_without_windows_misses_for_lack_of_a_window(org: Org) -> None:
    finding(asset(org.billing), days=14)
    plan = plan_make(actor=None)
    (item,) = plan.work.all()
    assert (item.miss, item.window_id) == (MissReason.NO_WINDOW, None)
    assert plan.missed == 1


def test_a_blackout_removes_occurrences_and_pushes_work_past_its_deadline(org: Org) -> None:
    _saturdays(org, slots=2)
    _three_images(org)
    blackout_add(actor=org.people["change_manager"], service=org.shop, reason="peak trading",
                 starts_at=dt.datetime(2026, 11, 14, tzinfo=UTC),
                 ends_at=dt.datetime(2026, 11, 15, tzinfo=UTC))  # fmt: skip
    plan = plan_make(actor=None)
    assert len(plan.summary["blocked"]) == 1
    assert plan.summary["blocked"][0]["blackout"] == "peak trading"
    days = sorted(str(s.date()) for s in plan.work.values_list("starts_at", flat=True) if s)
    assert days == ["2026-11-07", "2026-11-07", "2026-11-21"]
    assert plan.missed == 1


def test_a_global_blackout_applies_to_every_service(org: Org) -> None:
    _saturdays(org, slots=5)
    _three_images(org)
    blackout_add(actor=org.people["cio"], reason="freeze",
                 starts_at=dt.datetime(2026, 11, 1, tzinfo=UTC),
                 ends_at=dt.datetime(2026, 11, 20, tzinfo=UTC))  # fmt: skip
    plan = plan_make(actor=None)
    assert plan.missed == 3
    # Extra windows cannot be placed inside the freeze either.
    extra = next(r for r in plan.work.first().remedies if r["kind"] == "extra_window")  # type: ignore[union-attr]
    assert extra["feasible"] is False


def test_a_new_plan_supersedes_the_current_one(org: Org) -> None:
    first = plan_make(actor=None)
    second = plan_make(actor=None)
    first.refresh_from_db()
    assert (first.status, second.status) == (PlanStatus.SUPERSEDED, PlanStatus.CURRENT)


@pytest.mark.parametrize(("start", "end"), list(itertools.product(PlanStatus.values, repeat=2)))
def test_every_plan_transition_is_allowed_or_refused_by_the_table(start: str, end: str) -> None:
    plan = PatchPlan(pk=1, status=start)
    if end in ALLOWED[start]:
        _move(plan, end)
        assert plan.status == end
    else:
        with pytest.raises(RuleViolation):
            _move(plan, end)
        assert plan.status == start


# ------------------------------------------------------------------ misses → acceptances


def test_a_miss_becomes_an_acceptance_request_with_the_facts_filled_in(org: Org) -> None:
    _saturdays(org, slots=1)
    ids = _three_images(org)
    plan = plan_make(actor=None)
    late = plan.work.exclude(miss="").get()
    acceptance = plan_item_defer(
        actor=org.people["it_lead"], item=late, justification="Rebuild needs the base image."
    )
    assert acceptance.status == AcceptanceStatus.REQUESTED
    assert acceptance.requested_until == dt.date(2026, 11, 21)
    assert sorted(acceptance.items.values_list("finding_id", flat=True)) == late.finding_ids
    assert set(late.finding_ids) <= set(ids)
    assert acceptance.required_roles == ["ciso", "cio"]  # 14-day class
    assert f"Patch plan {plan.pk}" in acceptance.justification
    assert "deadline 2026-11-16, earliest planned slot 2026-11-21" in acceptance.justification
    late.refresh_from_db()
    assert late.acceptance_id == acceptance.pk
    # Once only.
    with pytest.raises(RuleViolation):
        plan_item_defer(actor=org.people["it_lead"], item=late)
    assert RiskAcceptance.objects.count() == 1


def test_a_pending_deferral_stays_linked_in_the_next_plan(org: Org) -> None:
    _saturdays(org, slots=1)
    _three_images(org)
    first = plan_make(actor=None)
    acceptance = plan_item_defer(
        actor=org.people["it_lead"], item=first.work.exclude(miss="").get(), justification="x"
    )
    again = plan_make(actor=None).work.exclude(miss="").get()
    assert again.acceptance_id == acceptance.pk
    with pytest.raises(RuleViolation, match=f"RA-{acceptance.pk}"):
        plan_item_defer(actor=org.people["it_lead"], item=again)
    assert RiskAcceptance.objects.count() == 1


def test_an_item_on_time_is_not_deferred_and_nothing_is_written(org: Org) -> None:
    _saturdays(org, slots=5)
    _three_images(org)
    plan = plan_make(actor=None)
    events = AuditEvent.objects.count()
    with pytest.raises(RuleViolation):
        plan_item_defer(actor=org.people["it_lead"], item=plan.work.first())  # type: ignore[arg-type]
    assert RiskAcceptance.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_superseded_plan_is_not_deferred_from(org: Org) -> None:
    _saturdays(org, slots=1)
    _three_images(org)
    old = plan_make(actor=None)
    plan_make(actor=None)
    with pytest.raises(RuleViolation, match="superseded"):
        plan_item_defer(actor=org.people["it_lead"], item=old.work.exclude(miss="").get())
    assert RiskAcceptance.objects.count() == 0


# ------------------------------------------------------------------ emergency changes


def test_emergency_changes_follow_the_policy_roles_and_monthly_limit(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        emergency_change_call(actor=org.people["engineer"], service=org.shop, reason="KEV")
    for _ in range(2):
        emergency_change_call(actor=org.people["change_manager"], service=org.shop, reason="KEV")
    with pytest.raises(RuleViolation, match="2 of 2"):
        emergency_change_call(actor=org.people["cio"], service=org.shop, reason="KEV")
    assert EmergencyChange.objects.count() == 2
    # Another service, or next month, has its own quota.
    emergency_change_call(actor=org.people["cio"], service=org.billing, reason="KEV")
    emergency_change_call(actor=org.people["cio"], service=org.shop, reason="KEV",
                          when=dt.datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # fmt: skip
    assert EmergencyChange.objects.count() == 4


def test_a_spent_emergency_quota_is_no_remedy(org: Org) -> None:
    _saturdays(org, slots=1)
    _three_images(org)
    for _ in range(2):
        emergency_change_call(actor=org.people["cio"], service=org.shop, reason="earlier",
                              when=dt.datetime(2026, 11, 3, tzinfo=UTC))  # fmt: skip
    plan = plan_make(actor=None)
    late = plan.work.exclude(miss="").get()
    emergency = next(r for r in late.remedies if r["kind"] == "emergency_change")
    assert emergency["feasible"] is False
    assert emergency["detail"] == "0 of 2 left in 2026-11"


# ------------------------------------------------------------------ what-if


def test_what_if_compares_scenarios_with_the_baseline(org: Org) -> None:
    _saturdays(org, slots=1)
    _three_images(org, days=14)
    finding(asset(org.shop), days=60)
    doc, _ = active_policy()
    slugs = services_by_slug()
    results = dict(
        compare(
            planning_input(doc),
            [
                parse("add-window:shop:FREQ=WEEKLY;BYDAY=WE", services=slugs),
                parse("freeze:2026-11-01:2026-11-30", services=slugs),
                parse("defer:60d:28", services=slugs),
            ],
        )
    )
    base = results["baseline"]
    assert (base["missed"], base["acceptances_needed"], base["extra_windows"]) == (1, 0, 1)
    assert results["add window shop (FREQ=WEEKLY;BYDAY=WE)"]["missed"] == 0
    frozen = results["freeze 2026-11-01..2026-11-30"]
    assert frozen["missed"] == 3
    assert frozen["exposure_days"] > base["exposure_days"]
    deferred = results["defer 60d items 28 days"]
    assert deferred["missed"] == 1
    assert deferred["exposure_days"] > base["exposure_days"]


def test_an_unknown_scenario_is_refused() -> None:
    for spec in ("defer:60d:soon", "freeze:2026-12-31:2026-12-01", "add-window:nope", "x"):
        with pytest.raises(InputError):
            parse(spec, services={"shop": 1})


# ------------------------------------------------------------------ outputs


def test_the_ics_export_parses_back_with_the_windows_and_their_work(org: Org) -> None:
    _saturdays(org, slots=2, timezone="Europe/Paris")
    ids = _three_images(org)
    plan = plan_make(actor=None)
    calendar = Calendar.from_ical(plan_ics(plan))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 2
    first = events[0]
    assert first.decoded("dtstart") == dt.datetime(2026, 11, 7, 1, 0, tzinfo=UTC)
    assert str(first.decoded("dtstart").tzinfo) == "Europe/Paris"
    assert first.decoded("dtend") - first.decoded("dtstart") == dt.timedelta(hours=4)
    assert str(first["summary"]) == "Shop: Saturday night — 2 change(s), 4 h"
    described = "".join(str(e["description"]) for e in events)
    assert described.count("image:") == 3
    assert f"{len(ids)}" in described or "finding(s) closed" in described


def test_signals_count_capacity_misses_emergencies_and_deferrals(org: Org) -> None:
    _saturdays(org, slots=1)
    _three_images(org)
    plan = plan_make(actor=None)
    late = plan.work.exclude(miss="").get()
    november = (dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 12, 1, tzinfo=UTC))
    october = (dt.datetime(2026, 10, 1, tzinfo=UTC), dt.datetime(2026, 11, 1, tzinfo=UTC))
    missed = signals.deadlines_missed_for_capacity(*november)
    assert (missed.value, missed.evidence["items"]) == (1, [late.key])
    assert signals.deadlines_missed_for_capacity(*october).value == 0
    emergency_change_call(actor=org.people["cio"], service=org.shop, reason="plan miss",
                          item=late)  # fmt: skip
    forced = signals.emergency_changes_forced(*november)
    assert (forced.value, forced.evidence["from_plan_misses"]) == (1, 1)
    plan_item_defer(actor=org.people["it_lead"], item=late, justification="base image")
    deferred = signals.deferrals_made_necessary(*november)
    assert deferred.value == 1
    assert deferred.evidence["acceptances"][0]["status"] == AcceptanceStatus.REQUESTED
    assert signals.deferrals_made_necessary(*october).value == 0


def test_plan_items_persist_every_column_the_planner_decided(org: Org) -> None:
    window = _saturdays(org, slots=1)
    ids = _three_images(org)
    plan = plan_make(actor=None)
    assert PlanItem.objects.filter(plan=plan).count() == 3
    late = plan.work.exclude(miss="").get()
    assert late.finding_ids[0] in ids
    assert (late.window_id, late.service_id, late.component) == (window.pk, org.shop.pk, "")
    assert late.starts_at == dt.datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert late.ends_at == dt.datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert late.deadline == NOW + dt.timedelta(days=14)
    assert (late.miss, late.acceptance_id) == (MissReason.CAPACITY, None)
    assert [r["kind"] for r in late.remedies] == ["extra_window", "deferral", "emergency_change"]
    assert late.asset.findings.get().pk == late.finding_ids[0]
    item = plan.work.first()
    assert item is not None
    assert (item.kind, item.effort_hours, item.deadline_class) == ("image", 2.0, "14d")
    assert item.weight == pytest.approx(30 / 14)
    assert item.ends_at is not None
    assert item.exposure_days == pytest.approx(
        item.weight * ((item.ends_at - NOW).total_seconds() / 86400)
    )
    assert clock.now() == NOW

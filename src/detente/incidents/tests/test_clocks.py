"""Regulatory clocks: worked examples checked by hand, and properties across weekends, holidays,
time zones and DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.incidents import clocks
from detente.incidents.clocks import (
    ClockFacts,
    ClockState,
    Regimes,
    add_month,
    compute_clocks,
    dora_initial_due,
    dora_move,
    eu_working_day,
    sec_due,
    us_business_day,
)

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = [UTC, PARIS, NEW_YORK, ZoneInfo("Asia/Tokyo"), ZoneInfo("Australia/Sydney")]
NOW = dt.datetime(2026, 11, 1, tzinfo=UTC)


def _by_key(cs: list[clocks.Clock]) -> dict[str, clocks.Clock]:
    return {c.key: c for c in cs}


# ------------------------------------------------------------------ SEC worked examples


def test_sec_thanksgiving_pushes_the_due_date_to_wednesday() -> None:
    # Wed 25 Nov 2026; Thu 26 is Thanksgiving: Fri 27 (1), Mon 30 (2), Tue 1 (3), Wed 2 Dec (4).
    determined = dt.datetime(2026, 11, 25, 15, 0, tzinfo=NEW_YORK)
    assert sec_due(determined) == dt.datetime(2026, 12, 2, 17, 30, tzinfo=NEW_YORK)
    assert sec_due(determined) == dt.datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # EST = UTC-5


def test_sec_observed_independence_day_is_skipped() -> None:
    # 4 July 2026 is a Saturday, observed Fri 3 July: Thu 2 (1), Mon 6 (2), Tue 7 (3), Wed 8 (4).
    determined = dt.datetime(2026, 7, 1, 10, 0, tzinfo=NEW_YORK)
    assert sec_due(determined) == dt.datetime(2026, 7, 8, 21, 30, tzinfo=UTC)  # EDT = UTC-4


def test_sec_counts_from_the_new_york_date_not_the_utc_date() -> None:
    # 03:00 UTC on Tue 10 March is 23:00 EDT on Mon 9 March (US DST began Sun 8 March).
    determined = dt.datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    assert sec_due(determined) == dt.datetime(2026, 3, 13, 17, 30, tzinfo=NEW_YORK)


def test_sec_8k_a_runs_from_when_missing_details_arrive() -> None:
    facts = ClockFacts(
        aware_at=dt.datetime(2026, 11, 20, tzinfo=UTC),
        material_determined_at=dt.datetime(2026, 11, 25, 15, 0, tzinfo=NEW_YORK),
        sec_details_available_at=dt.datetime(2026, 12, 24, 9, 0, tzinfo=NEW_YORK),
        filings={"sec_8k": [dt.datetime(2026, 12, 1, 16, 0, tzinfo=NEW_YORK)]},
    )
    out = _by_key(compute_clocks(facts, Regimes(sec_registrant=True), NOW))
    assert out["sec_8k"].state == ClockState.MET
    # Thu 24 Dec: Fri 25 is Christmas: Mon 28 (1), Tue 29 (2), Wed 30 (3), Thu 31 (4).
    assert out["sec_8k_a"].due == dt.datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    assert out["sec_8k_a"].state == ClockState.PENDING


# ------------------------------------------------------------------ GDPR and NIS2


def test_gdpr_72_hours_across_the_eu_spring_dst_change() -> None:
    aware = dt.datetime(2026, 3, 27, 10, 0, tzinfo=PARIS)  # CET, 09:00 UTC
    facts = ClockFacts(aware_at=aware, personal_data=True, high_risk_to_subjects=True)
    out = _by_key(compute_clocks(facts, Regimes(gdpr_role="controller"), aware))
    assert out["gdpr_33"].due == dt.datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert out["gdpr_33"].due == dt.datetime(2026, 3, 30, 11, 0, tzinfo=PARIS)  # now CEST
    assert (out["gdpr_34"].asap, out["gdpr_34"].state) == (True, ClockState.PENDING)
    assert out["gdpr_33_processor"].state == ClockState.NOT_APPLICABLE


def test_gdpr_does_not_apply_without_personal_data_and_processors_tell_the_controller() -> None:
    aware = dt.datetime(2026, 3, 27, 10, 0, tzinfo=PARIS)
    none = _by_key(compute_clocks(ClockFacts(aware_at=aware), Regimes(gdpr_role="controller"), NOW))
    assert none["gdpr_33"].state == ClockState.NOT_APPLICABLE
    facts = ClockFacts(aware_at=aware, personal_data=True)
    processor = _by_key(compute_clocks(facts, Regimes(gdpr_role="processor"), NOW))
    assert processor["gdpr_33"].state == ClockState.NOT_APPLICABLE
    assert processor["gdpr_33_processor"].asap


def test_nis2_early_warning_across_the_eu_autumn_dst_change() -> None:
    aware = dt.datetime(2026, 10, 24, 10, 0, tzinfo=PARIS)  # CEST, 08:00 UTC
    facts = ClockFacts(
        aware_at=aware,
        nis2_significant=True,
        filings={"nis2_notification": [dt.datetime(2026, 10, 26, 16, 0, tzinfo=PARIS)]},
    )
    out = _by_key(compute_clocks(facts, Regimes(nis2_entity="essential"), aware))
    # 24 elapsed hours end at 08:00 UTC, which is 09:00 on Paris clocks after the change.
    assert out["nis2_early_warning"].due == dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert out["nis2_early_warning"].due == dt.datetime(2026, 10, 25, 9, 0, tzinfo=PARIS)
    assert out["nis2_notification"].due == dt.datetime(2026, 10, 27, 8, 0, tzinfo=UTC)
    assert out["nis2_notification"].state == ClockState.MET
    # Final: one calendar month after the notification, same Paris wall-clock time.
    assert out["nis2_final"].due == dt.datetime(2026, 11, 26, 16, 0, tzinfo=PARIS)
    assert "progress report" in out["nis2_final"].label  # not handled yet
    assert out["nis2_final_after_handling"].waiting


def test_nis2_final_after_handling_runs_one_month_from_handling() -> None:
    aware = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    facts = ClockFacts(
        aware_at=aware, nis2_significant=True, handled_at=dt.datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
    )
    out = _by_key(compute_clocks(facts, Regimes(nis2_entity="important"), aware))
    assert out["nis2_final"].due == dt.datetime(2026, 2, 8, 9, 0, tzinfo=UTC)  # 10:00 CET
    # 31 March + one month → 30 April (clamped), 11:00 CEST = 09:00 UTC.
    assert out["nis2_final_after_handling"].due == dt.datetime(2026, 4, 30, 9, 0, tzinfo=UTC)


def test_nis2_needs_a_significant_incident() -> None:
    aware = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    out = _by_key(compute_clocks(ClockFacts(aware_at=aware), Regimes(nis2_entity="essential"), NOW))
    assert out["nis2_early_warning"].state == ClockState.NOT_APPLICABLE


# ------------------------------------------------------------------ DORA


PAYMENTS = Regimes(dora_entity_type="payment_institution", eu_calendar="FR")
BANK = Regimes(dora_entity_type="credit_institution", eu_calendar="FR")


def test_dora_saturday_deadline_moves_to_monday_noon() -> None:
    # Initial filed Wed 4 Nov 10:00 Paris; +72 h = Sat 7 Nov 10:00 → Mon 9 Nov 12:00 Paris.
    facts = ClockFacts(
        aware_at=dt.datetime(2026, 11, 4, 6, 0, tzinfo=PARIS),
        classified_major_at=dt.datetime(2026, 11, 4, 8, 0, tzinfo=PARIS),
        filings={"dora_initial": [dt.datetime(2026, 11, 4, 10, 0, tzinfo=PARIS)]},
    )
    out = _by_key(compute_clocks(facts, PAYMENTS, NOW))
    assert out["dora_initial"].due == dt.datetime(2026, 11, 4, 12, 0, tzinfo=PARIS)
    assert out["dora_initial"].state == ClockState.MET
    assert out["dora_intermediate"].due == dt.datetime(2026, 11, 9, 12, 0, tzinfo=PARIS)
    assert out["dora_intermediate"].due == dt.datetime(2026, 11, 9, 11, 0, tzinfo=UTC)
    assert "weekend/holiday" in out["dora_intermediate"].basis
    # Final: one month after the intermediate's due time (none filed): Wed 9 Dec 12:00.
    assert out["dora_final"].due == dt.datetime(2026, 12, 9, 12, 0, tzinfo=PARIS)


def test_dora_french_bank_holiday_and_the_credit_institution_exception() -> None:
    # Classified on Sunday 8 Nov: raw initial Sun 13:00 Paris. Initial filed Sun 10:00 → +72 h
    # = Wed 11 Nov 10:00, Armistice Day in France → Thu 12 Nov 12:00.
    facts = ClockFacts(
        aware_at=dt.datetime(2026, 11, 8, 8, 0, tzinfo=PARIS),
        classified_major_at=dt.datetime(2026, 11, 8, 9, 0, tzinfo=PARIS),
        filings={"dora_initial": [dt.datetime(2026, 11, 8, 10, 0, tzinfo=PARIS)]},
    )
    moved = _by_key(compute_clocks(facts, PAYMENTS, NOW))
    assert moved["dora_initial"].due == dt.datetime(2026, 11, 9, 12, 0, tzinfo=PARIS)
    assert moved["dora_intermediate"].due == dt.datetime(2026, 11, 12, 12, 0, tzinfo=PARIS)
    exempt = _by_key(compute_clocks(facts, BANK, NOW))
    assert exempt["dora_initial"].due == dt.datetime(2026, 11, 8, 13, 0, tzinfo=PARIS)
    assert exempt["dora_intermediate"].due == dt.datetime(2026, 11, 11, 10, 0, tzinfo=PARIS)
    nis2_payments = Regimes(dora_entity_type="payment_institution", nis2_entity="important")
    assert nis2_payments.dora_weekend_exempt


def test_dora_initial_four_hours_capped_by_twenty_four_after_awareness() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert dora_initial_due(aware, aware + dt.timedelta(hours=1)) == aware + dt.timedelta(hours=5)
    # Classified 22 h after awareness: the 24 h limit comes first.
    assert dora_initial_due(aware, aware + dt.timedelta(hours=22)) == aware + dt.timedelta(hours=24)
    # Classified 26 h after awareness (late classification): 4 h from classification.
    assert dora_initial_due(aware, aware + dt.timedelta(hours=26)) == aware + dt.timedelta(hours=30)


def test_dora_target_calendar_moves_labour_day() -> None:
    friday_may_day = dt.datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert dora_move(friday_may_day, "Europe/Paris", "TARGET") == dt.datetime(
        2026, 5, 4, 12, 0, tzinfo=PARIS
    )


def test_dora_waits_for_classification_and_skips_non_financial_entities() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    waiting = _by_key(compute_clocks(ClockFacts(aware_at=aware), PAYMENTS, NOW))
    assert waiting["dora_initial"].waiting
    none = _by_key(compute_clocks(ClockFacts(aware_at=aware), Regimes(), NOW))
    assert {c.state for c in none.values()} == {ClockState.NOT_APPLICABLE}


def test_states_follow_due_versus_filed_time() -> None:
    aware = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    regimes = Regimes(gdpr_role="controller")

    def state(filed: list[dt.datetime], now: dt.datetime) -> ClockState:
        facts = ClockFacts(aware_at=aware, personal_data=True, filings={"gdpr_33": filed})
        return _by_key(compute_clocks(facts, regimes, now))["gdpr_33"].state

    due = aware + dt.timedelta(hours=72)
    assert state([], due) == ClockState.PENDING
    assert state([], due + dt.timedelta(seconds=1)) == ClockState.LATE
    assert state([due], due + dt.timedelta(days=9)) == ClockState.MET
    assert state([due + dt.timedelta(minutes=1)], due) == ClockState.LATE


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        sec_due(dt.datetime(2026, 11, 25, 15, 0))


# ------------------------------------------------------------------ properties

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)
calendars = st.sampled_from(["FR", "DE", "IE", "TARGET"])
eu_zones = st.sampled_from(["Europe/Paris", "Europe/Dublin", "Europe/Helsinki"])


@settings(max_examples=300, deadline=None)
@given(moments)
def test_sec_due_is_a_business_day_four_business_days_on(determined: dt.datetime) -> None:
    due = sec_due(determined)
    assert due.tzinfo is not None
    local = due.astimezone(NEW_YORK)
    assert (local.hour, local.minute) == (17, 30)
    assert us_business_day(local.date())
    start = determined.astimezone(NEW_YORK).date()
    days = [start + dt.timedelta(days=i) for i in range(1, (local.date() - start).days + 1)]
    assert sum(us_business_day(d) for d in days) == 4
    assert due > determined


@settings(max_examples=300, deadline=None)
@given(moments, eu_zones, calendars)
def test_dora_moved_deadlines_are_noon_on_a_working_day(
    moment: dt.datetime, zone: str, calendar: str
) -> None:
    after = dora_move(moment, zone, calendar)
    assert after.tzinfo is not None
    local = after.astimezone(ZoneInfo(zone))
    assert eu_working_day(local.date(), calendar)
    if after == moment:
        assert eu_working_day(moment.astimezone(ZoneInfo(zone)).date(), calendar)
    else:
        assert (local.hour, local.minute) == (12, 0)
        assert after > moment
        assert (local.date() - moment.astimezone(ZoneInfo(zone)).date()).days <= 10


@settings(max_examples=200, deadline=None)
@given(moments, eu_zones)
def test_add_month_keeps_wall_clock_and_advances_one_month(moment: dt.datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    later = add_month(moment, tz)
    before, after = moment.astimezone(tz), later.astimezone(tz)
    assert later.tzinfo is not None
    assert (after.year * 12 + after.month) - (before.year * 12 + before.month) == 1
    assert after.day <= before.day
    assert 27 <= (later - moment).days <= 32


@settings(max_examples=200, deadline=None)
@given(
    moments,
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
    st.sampled_from(["payment_institution", "credit_institution", "insurance"]),
    calendars,
    st.booleans(),
)
def test_every_clock_is_aware_and_hour_clocks_are_elapsed_time(
    aware: dt.datetime, lag: dt.timedelta, entity: str, calendar: str, filed: bool
) -> None:
    regimes = Regimes(
        sec_registrant=True, gdpr_role="controller", nis2_entity="essential",
        dora_entity_type=entity, eu_calendar=calendar,
    )  # fmt: skip
    facts = ClockFacts(
        aware_at=aware, classified_major_at=aware + lag, material_determined_at=aware + lag,
        personal_data=True, high_risk_to_subjects=True, nis2_significant=True,
        filings={"dora_initial": [aware + lag + dt.timedelta(hours=2)]} if filed else {},
    )  # fmt: skip
    out = _by_key(compute_clocks(facts, regimes, aware))
    assert list(out) == list(clocks.CLOCKS)
    for c in out.values():
        assert c.due is None or c.due.tzinfo is not None
        assert c.state in ClockState
    # Elapsed hours: added in UTC (Python adds to a zoned datetime in wall-clock time).
    base = aware.astimezone(UTC)
    assert out["nis2_early_warning"].due == base + dt.timedelta(hours=24)
    assert out["gdpr_33"].due == base + dt.timedelta(hours=72)
    initial = out["dora_initial"].due
    assert initial is not None
    assert initial >= dora_initial_due(aware, aware + lag)
    if initial != dora_initial_due(aware, aware + lag):
        local = initial.astimezone(PARIS)
        assert (local.hour, local.minute) == (12, 0)
        assert entity != "credit_institution"

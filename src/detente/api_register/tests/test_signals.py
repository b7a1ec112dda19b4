"""The radar's API signals: exposed without a valid test, pen-test backlog age, refused → forced."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.api_register import signals
from detente.api_register.services import api_promote, pentest_record
from detente.api_register.tests.test_workflow import NOW, Org, _add, org  # noqa: F401
from detente.core import clock
from detente.core.errors import RuleViolation

DAY = dt.timedelta(days=1)


def test_refused_then_forced_and_exposed_without_a_test(org: Org) -> None:  # noqa: F811
    # given an API registered now, refused on day 1, forced public on day 2
    api = _add(org)
    clock.set_now(NOW + DAY)
    with pytest.raises(RuleViolation):
        api_promote(actor=org["service_owner"], api=api, to_stage="public")
    clock.set_now(NOW + 2 * DAY)
    api_promote(actor=org["ciso"], api=api, to_stage="public", force=True, reason="launch")
    start, end = NOW, NOW + 30 * DAY
    # then the forced promotion counts, and the API is exposed without a test, waiting 30 days
    forced = signals.promotions_refused_then_forced(start, end)
    assert (forced.value, len(forced.evidence["promotions"])) == (1, 1)
    exposed = signals.apis_exposed_without_valid_test(start, end)
    assert (exposed.value, exposed.evidence) == (1, {"apis": [api.pk]})
    backlog = signals.pentest_backlog_age(start, end)
    assert (backlog.value, backlog.evidence) == (30, {"apis": [api.pk], "waiting": 1})
    # before the promotion, nothing was exposed, but the refused API already waited
    early = NOW + DAY + dt.timedelta(hours=1)
    assert signals.apis_exposed_without_valid_test(start, early).value == 0
    assert signals.pentest_backlog_age(start, early).value == 1
    # when the version is pen-tested, the API no longer counts after the test's end date
    clock.set_now(NOW + 10 * DAY)
    assert api.current is not None
    pentest_record(
        actor=org["security_lead"], api=api, version=api.current, started_on=NOW.date(),
        ended_on=(NOW + 5 * DAY).date(), tester="ACME", tester_kind="firm",
    )  # fmt: skip
    assert signals.apis_exposed_without_valid_test(start, end).value == 0
    assert signals.pentest_backlog_age(start, end).value == 0

"""The radar's API signals: exposed without a valid test, pen-test backlog age, refused → forced."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import yaml

from detente.api_register import signals
from detente.api_register.selectors import api_policy, pentest_status, versions_diff
from detente.api_register.services import api_promote, api_update, pentest_record
from detente.api_register.tests.test_rules import HARDENED
from detente.api_register.tests.test_workflow import NOW, Org, _add, org  # noqa: F401
from detente.core import clock
from detente.core.errors import RuleViolation
from detente.policy.document import pack_text
from detente.policy.services import policy_activate

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


def test_a_pen_test_of_a_version_with_a_non_material_diff_still_covers_it(
    org: Org,  # noqa: F811
) -> None:
    # given an API whose v1 was pen-tested, promoted to partner
    api = _add(org, HARDENED)
    v1 = api.current
    assert v1 is not None
    pentest_record(
        actor=org["security_lead"], api=api, version=v1, started_on=(NOW - 3 * DAY).date(),
        ended_on=(NOW - DAY).date(), tester="ACME", tester_kind="firm",
    )  # fmt: skip
    api_promote(actor=org["cio"], api=api, to_stage="partner")
    # when v2 only documents more (a description, a new schema property): no new operation,
    # no security change
    clock.set_now(NOW + DAY)
    doc = copy.deepcopy(HARDENED)
    doc["info"]["description"] = "Items, now documented."
    doc["components"]["schemas"]["Item"]["properties"]["colour"] = {
        "type": "string", "maxLength": 20, "enum": ["red", "blue"],
    }  # fmt: skip
    v2, changed = api_update(
        actor=org["engineer"], api=api, spec=json.dumps(doc).encode(), file_name="items.json"
    )
    assert changed
    assert versions_diff(v1, v2).material is False
    start, end = NOW, NOW + 5 * DAY
    # then the test of v1 still covers the exposed API, as the gate judges it
    assert pentest_status(api, api_policy().gates["partner"]).status == "valid"
    assert signals.apis_exposed_without_valid_test(start, end).value == 0
    assert signals.pentest_backlog_age(start, end).value == 0
    # when v3 adds an operation (material), then the API counts as exposed without a test
    clock.set_now(NOW + 2 * DAY)
    doc["paths"]["/items"] = {"get": copy.deepcopy(doc["paths"]["/items/{itemId}"]["get"])}
    v3, _ = api_update(
        actor=org["engineer"], api=api, spec=json.dumps(doc).encode(), file_name="items.json"
    )
    assert versions_diff(v1, v3).material is True
    exposed = signals.apis_exposed_without_valid_test(start, end)
    assert (exposed.value, exposed.evidence) == (1, {"apis": [api.pk]})
    assert signals.pentest_backlog_age(start, end).value == 3  # v3 uploaded 3 days before end
    # and for the period that ended before v3, the v1 test still covered v2
    assert signals.apis_exposed_without_valid_test(start, NOW + DAY + DAY / 2).value == 0


def test_a_policy_that_credits_only_the_exact_version_counts_the_non_material_drift(
    org: Org,  # noqa: F811
) -> None:
    raw = yaml.safe_load(pack_text("bod-26-04"))
    for gate in raw["api_register"]["gates"].values():
        gate["accept_unchanged_versions"] = False
    policy_activate(text=yaml.safe_dump(raw), source="test")
    api = _add(org, HARDENED)
    v1 = api.current
    assert v1 is not None
    pentest_record(
        actor=org["security_lead"], api=api, version=v1, started_on=(NOW - 3 * DAY).date(),
        ended_on=(NOW - DAY).date(), tester="ACME", tester_kind="firm",
    )  # fmt: skip
    api_promote(actor=org["cio"], api=api, to_stage="partner")
    clock.set_now(NOW + DAY)
    doc = copy.deepcopy(HARDENED)
    doc["info"]["description"] = "Items, now documented."
    api_update(actor=org["engineer"], api=api, spec=json.dumps(doc).encode(), file_name="i.json")
    assert signals.apis_exposed_without_valid_test(NOW, NOW + 5 * DAY).value == 1

"""The initiative file: what it accepts, and every refusal naming file, entry and field."""

from __future__ import annotations

import pytest

from detente.core.errors import InputError
from detente.initiatives.document import parse_initiative
from detente.initiatives.tests.conftest import MFA


def _text() -> str:
    return MFA.read_text()


def test_the_mfa_file_is_read_into_checked_values() -> None:
    spec = parse_initiative(_text(), source="mfa.yaml")
    assert (spec.title, spec.cio_sponsor, spec.ciso_sponsor) == (
        "MFA for online-banking customers", "cio@example.org", "ciso@example.org",
    )  # fmt: skip
    assert [p.share for p in spec.phases] == [5.0, 25.0]
    latency = spec.phases[1].guardrails[2]
    # "1.2 s" is converted to the metric's unit, milliseconds.
    assert (latency.metric, latency.unit, latency.threshold, latency.baseline) == (
        "latency_p95", "ms", 1200.0, 420.0,
    )  # fmt: skip
    login = spec.phases[0].guardrails[0]
    assert (login.direction, login.threshold, login.window_minutes, login.action) == (
        "below", 97.0, 120, "pause",
    )  # fmt: skip
    assert spec.phases[0].comms[0]["owner"] == "cio@example.org"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{share: 3 %, segment: volunteers, channel: web}",
            "{share: 99 %, segment: volunteers, channel: web}",
            "mfa.yaml, record phases[0], field 'cohorts': the cohorts add up to 101 %, more than "
            "100 %",
        ),
        (
            "{metric: drop_off_rate, baseline: 4 %, threshold: 7 %, window: 2h}\n      - {metric: "
            "support",
            "{metric: drop_off_rate, threshold: 7 %, window: 2h}\n      - {metric: support",
            "mfa.yaml, record phases[0].guardrails[1], field 'baseline': Object missing "
            "required field `baseline`",
        ),
        (
            "threshold: 1.2 s",
            "threshold: 1.2 %",
            "mfa.yaml, record phases[1].guardrails[2], field 'threshold': '1.2 %' is in %, this "
            "metric is measured in ms",
        ),
        (
            "threshold: 1.2 s",
            "threshold: 1.2 furlongs",
            "mfa.yaml, record phases[1].guardrails[2], field 'threshold': unknown unit "
            "'furlongs'; units: %, ms, per_1000, count, ratio",
        ),
        (
            "login_success_rate, baseline: 98.6 %, threshold: 97 %",
            "login_success_rate, baseline: 98.6 %, threshold: 99 %",
            "mfa.yaml, record phases[0].guardrails[0], field 'threshold': the threshold 99 % is "
            "breached by the baseline 98.6 % (login_success_rate breaches below its threshold)",
        ),
        (
            "metric: latency_p95",
            "metric: latency_p99",
            "mfa.yaml, record phases[1].guardrails[2], field 'metric': unknown metric "
            "'latency_p99'; metrics: login_success_rate, drop_off_rate, "
            "support_tickets_per_1000, conversion_rate, latency_p95, custom",
        ),
        (
            "window: 1d",
            "window: 1 week",
            "mfa.yaml, record phases[0].guardrails[2], field 'window': expected a window such "
            "as 30m, 2h or 1d, got '1 week'",
        ),
        (
            "end: 2026-10-18",
            "end: 2026-10-01",
            "mfa.yaml, record phases[0], field 'end': the phase ends before it starts",
        ),
        (
            "  ciso_side: ciso@example.org\n",
            "",
            "mfa.yaml, record sponsors, field 'ciso_side': Object missing required field "
            "`ciso_side`",
        ),
        (
            "title: MFA",
            "titel: MFA",
            "mfa.yaml, field 'titel': Object contains unknown field `titel`",
        ),
        (
            "baseline: 42",
            "baseline: many",
            "mfa.yaml, record risk, field 'baseline': Expected `float`, got `str`",
        ),
        (
            "date: 2026-09-28",
            "date: someday",
            "mfa.yaml, record phases[0].comms[0], field 'date': Invalid RFC3339 encoded date",
        ),
    ],
)
def test_bad_input_names_file_entry_and_field(old: str, new: str, message: str) -> None:
    text = _text()
    assert old in text
    with pytest.raises(InputError) as caught:
        parse_initiative(text.replace(old, new, 1), source="mfa.yaml")
    assert str(caught.value) == message


def test_malformed_yaml_names_the_file() -> None:
    with pytest.raises(InputError) as caught:
        parse_initiative("title: [unclosed", source="broken.yaml")
    assert str(caught.value).startswith("broken.yaml: not valid YAML (")


def test_a_custom_metric_declares_its_unit_and_direction() -> None:
    text = _text().replace(
        "{metric: latency_p95, baseline: 420 ms, threshold: 1.2 s, window: 2h}",
        "{metric: custom, name: sms_code_failures, baseline: 2 %, threshold: 5 %, window: 1h}",
    )
    with pytest.raises(InputError) as caught:
        parse_initiative(text, source="mfa.yaml")
    assert str(caught.value) == (
        "mfa.yaml, record phases[1].guardrails[2], field 'unit': a custom metric needs a unit: "
        "%, ms, per_1000, count, ratio"
    )
    fixed = text.replace("name: sms_code_failures,", "name: sms_code_failures, unit: '%', "
                         "direction: above,")  # fmt: skip
    guardrail = parse_initiative(fixed, source="mfa.yaml").phases[1].guardrails[2]
    assert (guardrail.metric, guardrail.unit, guardrail.direction, guardrail.threshold) == (
        "sms_code_failures", "%", "above", 5.0,
    )  # fmt: skip

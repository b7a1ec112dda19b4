"""Pulling guardrails from a real Prometheus (Debian's package) on a loopback port, its history
backfilled by promtool: a drop in login success pauses the phase; a Prometheus that is down or
answers an error leaves the guardrail "metric unavailable", never healthy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from detente.initiatives.models import Guardrail, MetricPoint, Phase
from detente.initiatives.prometheus import SourceError, pull_live, query_range
from detente.initiatives.services import guardrails_evaluate
from detente.initiatives.tests.conftest import MFA, NOW, Org, create, started
from detente.initiatives.tests.prometheus_server import (
    MISSING,
    available,
    openmetrics,
    running_prometheus,
)

pytestmark = pytest.mark.skipif(not available(), reason=MISSING)
H = dt.timedelta(hours=1)
LOGIN = [98.6, 98.5, 98.4, 96.2, 95.9, 95.7]  # hourly from NOW - 2 h
DROP = [4.0, 4.1, 4.0, 4.2, 4.1, 4.0]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    start = NOW - 2 * H
    history = openmetrics([
        ("login_success_ratio", {"flow": "online_banking", "region": "de"},
         [(start + i * H, v) for i, v in enumerate(LOGIN)]),
        ("drop_off_ratio", {"flow": "online_banking"},
         [(start + i * H, v) for i, v in enumerate(DROP)]),
        ("drop_off_ratio", {"flow": "mobile"}, [(start + i * H, 3.0) for i in range(6)]),
    ])  # fmt: skip
    with running_prometheus(tmp_path_factory.mktemp("prometheus"), history) as url:
        yield url


def _with_promql(org: Org, login: str, drop: str) -> Phase:
    text = MFA.read_text()
    text = text.replace(
        "{metric: login_success_rate, baseline: 98.6 %, threshold: 97 %, window: 2h}",
        f"{{metric: login_success_rate, baseline: 98.6 %, threshold: 97 %, window: 2h, "
        f"promql: '{login}'}}",
        1,
    )
    text = text.replace(
        "{metric: drop_off_rate, baseline: 4 %, threshold: 7 %, window: 2h}",
        f"{{metric: drop_off_rate, baseline: 4 %, threshold: 7 %, window: 2h, promql: '{drop}'}}",
        1,
    )
    return started(org, create(org, text))


def test_query_range_reads_the_backfilled_series(prometheus: str) -> None:
    series = query_range(
        prometheus, 'avg(login_success_ratio{flow="online_banking"})',
        start=NOW - 2 * H, end=NOW + 3 * H, step=H,
    )  # fmt: skip
    assert series == [(NOW + (i - 2) * H, v) for i, v in enumerate(LOGIN)]


def test_a_pulled_drop_pauses_the_phase(org: Org, prometheus: str) -> None:
    phase = _with_promql(
        org, 'avg(login_success_ratio{flow="online_banking"})',
        'max(drop_off_ratio{flow="online_banking"})',
    )  # fmt: skip
    report = pull_live(base_url=prometheus, lookback=5 * H, step=H, now=NOW + 3 * H)
    assert (report.queries, report.points, report.failed) == (2, 12, [])
    assert (
        list(
            MetricPoint.objects.filter(metric="login_success_rate")
            .order_by("at")
            .values_list("value", flat=True)
        )
        == LOGIN
    )
    evaluation = guardrails_evaluate(now=NOW + 3 * H)
    assert evaluation.paused == [phase.pk]
    phase.refresh_from_db()
    assert phase.status == "paused"
    login = Guardrail.objects.get(phase=phase, metric="login_success_rate")
    assert login.state_detail == "all 2 points of the last 2 h below 97 % (worst 95.7 %)"


def test_a_prometheus_that_is_down_leaves_the_metric_unavailable(org: Org) -> None:
    phase = _with_promql(org, "avg(login_success_ratio)", "max(drop_off_ratio)")
    down = "http://127.0.0.1:9"  # discard port: nothing listens
    report = pull_live(base_url=down, lookback=2 * H, step=H, now=NOW + 3 * H)
    assert report.queries == 2
    reasons = [reason.split(": ")[0] for _, reason in report.failed]
    assert reasons == ["cannot reach http://127.0.0.1:9", "cannot reach http://127.0.0.1:9"]
    evaluation = guardrails_evaluate(now=NOW + 3 * H)
    assert (evaluation.healthy, evaluation.unavailable) == (0, 3)
    states = set(Guardrail.objects.filter(phase=phase).values_list("state", flat=True))
    assert states == {"unavailable"}
    assert MetricPoint.objects.count() == 0


def test_an_error_answer_or_several_series_leave_the_metric_unavailable(
    org: Org, prometheus: str
) -> None:
    phase = _with_promql(org, "avg(login_success_ratio", "drop_off_ratio")
    report = pull_live(base_url=prometheus, lookback=5 * H, step=H, now=NOW + 3 * H)
    reasons = dict(report.failed)
    by_metric = dict(Guardrail.objects.filter(phase=phase).values_list("metric", "pk"))
    assert reasons[by_metric["login_success_rate"]].startswith("HTTP 400: bad_data ")
    assert reasons[by_metric["drop_off_rate"]] == "the query returns 2 series; aggregate it to one"
    details = dict(Guardrail.objects.filter(phase=phase).values_list("metric", "state_detail"))
    assert details["drop_off_rate"] == (
        "source: prometheus: the query returns 2 series; aggregate it to one"
    )
    assert MetricPoint.objects.count() == 0


def test_a_query_refuses_too_many_points(prometheus: str) -> None:
    with pytest.raises(SourceError, match="more than 11000 points"):
        query_range(prometheus, "up", start=NOW - 365 * 24 * H, end=NOW,
                    step=dt.timedelta(minutes=1))  # fmt: skip

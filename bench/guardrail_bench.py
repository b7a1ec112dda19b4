"""The guardrail benchmark: the figures in docs/initiatives.md ("Measured") come from this.

    .venv/bin/python bench/guardrail_bench.py        # 200 phases x 3 guardrails, a year each
    .venv/bin/python bench/guardrail_bench.py --phases 20 --days 30   # smoke
    .venv/bin/python bench/guardrail_bench.py --skip-evaluate --queries 50   # the pull only

1. **Evaluate**: ``--phases`` initiatives, each with one running phase guarding three metrics
   (login success, drop-off, latency p95), each with ``--days`` of hourly points, on an embedded
   SQLite file; ``guardrails_evaluate`` (every guardrail of every live phase: window read, verdict,
   state written; one transaction per phase) is timed ``--rounds`` times.
2. **Pull**: a real Prometheus (Debian's package) on a loopback port with ``--queries`` series of
   a day of 1-minute samples backfilled by promtool; one live phase with ``--queries`` PromQL
   guardrails; ``pull_live`` (2 hours at a 1-minute step: 120 points a query, stored) is timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

if TYPE_CHECKING:
    from detente.initiatives.models import Initiative

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
GUARDS = (
    "{metric: login_success_rate, baseline: 98.6 %, threshold: 97 %, window: 2h}",
    "{metric: drop_off_rate, baseline: 4 %, threshold: 7 %, window: 2h}",
    "{metric: latency_p95, baseline: 420 ms, threshold: 1.2 s, window: 2h}",
)


def _yaml(title: str, guardrails: list[str]) -> str:
    rails = "\n".join(f"      - {g}" for g in guardrails)
    return (
        f"title: {title}\n"
        "sponsors: {cio_side: cio@bench.example, ciso_side: ciso@bench.example}\n"
        "risk: {reduces: account takeovers per quarter, baseline: 40, expected: 6}\n"
        "phases:\n  - name: Everyone\n    cohorts: [{share: 100 %}]\n"
        f"    start: 2025-11-01\n    end: 2026-12-31\n    guardrails:\n{rails}\n"
    )


def _setup() -> tuple[object, object]:
    folder = tempfile.mkdtemp(prefix="detente-guardrail-bench-")
    os.environ["DETENTE_DATA_DIR"] = folder
    os.environ.setdefault("DETENTE_SECRET_KEY", "bench")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from detente.core import clock
    from detente.people.models import Role
    from detente.people.services import person_upsert

    clock.set_now(NOW)
    cio = person_upsert(name="CIO", email="cio@bench.example", role=Role.CIO)
    ciso = person_upsert(name="CISO", email="ciso@bench.example", role=Role.CISO)
    return cio, ciso


def _running(title: str, guardrails: list[str], cio: object, ciso: object) -> Initiative:
    from detente.initiatives.document import parse_initiative
    from detente.initiatives.models import Phase
    from detente.initiatives.services import guardrails_sign, initiative_create, phase_start
    from detente.people.models import Person

    assert isinstance(cio, Person)
    assert isinstance(ciso, Person)
    initiative = initiative_create(actor=ciso, spec=parse_initiative(_yaml(title, guardrails)))
    phase = Phase.objects.get(initiative=initiative)
    guardrails_sign(actor=cio, phase=phase)
    guardrails_sign(actor=ciso, phase=phase)
    phase_start(actor=cio, phase=phase)
    return initiative


def bench_evaluate(args: argparse.Namespace, cio: object, ciso: object) -> None:
    from django.db import connection, transaction

    from detente.initiatives.services import guardrails_evaluate

    hours = args.days * 24
    started = time.perf_counter()
    ids = [_running(f"I{n}", list(GUARDS), cio, ciso).pk for n in range(args.phases)]
    stamps = [connection.ops.adapt_datetimefield_value(NOW - (hours - 1 - h) * H)
              for h in range(hours)]  # fmt: skip
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for initiative in ids:
            for metric, base in (("login_success_rate", 98.5), ("drop_off_rate", 4.0),
                                 ("latency_p95", 420.0)):  # fmt: skip
                batch = [(initiative, metric, at, base + (h % 7) * 0.01)
                         for h, at in enumerate(stamps)]  # fmt: skip
                cursor.executemany(
                    "INSERT INTO initiatives_metricpoint (initiative_id, metric, at, value) "
                    "VALUES (%s, %s, %s, %s)",
                    batch,
                )
                rows += len(batch)
    print(f"setup: {args.phases} running phases, {rows:,} points in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    times = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        report = guardrails_evaluate(now=NOW)
        times.append(time.perf_counter() - t0)
        assert report.guardrails == 3 * args.phases
        assert report.healthy == report.guardrails
    print(
        f"evaluate {3 * args.phases} guardrails of {args.phases} phases ({rows:,} points): "
        f"median {statistics.median(times):.3f} s, best {min(times):.3f} s, "
        f"worst {max(times):.3f} s over {args.rounds} rounds"
    )


def bench_pull(args: argparse.Namespace, cio: object, ciso: object) -> None:
    from detente.initiatives.prometheus import pull_live
    from detente.initiatives.tests.prometheus_server import (
        MISSING,
        available,
        openmetrics,
        running_prometheus,
    )

    if not available():
        print(f"pull: skipped ({MISSING})")
        return
    minute = dt.timedelta(minutes=1)
    week = [NOW - (24 * 60 - 1 - m) * minute for m in range(24 * 60)]  # a day
    series = [(f"bench_metric_{q}", {"flow": "web"}, [(at, 5.0 + (i % 5) * 0.1)
              for i, at in enumerate(week)]) for q in range(args.queries)]  # fmt: skip
    rails = [
        f"{{metric: custom, name: m{q}, unit: count, direction: above, baseline: 5, "
        f"threshold: 50, window: 2h, promql: 'avg(bench_metric_{q})'}}"
        for q in range(args.queries)
    ]
    _running("Pulled", rails, cio, ciso)
    with tempfile.TemporaryDirectory(prefix="detente-prom-bench-") as folder:
        t0 = time.perf_counter()
        with running_prometheus(Path(folder), openmetrics(series)) as url:
            print(f"setup: {args.queries} series x {len(week):,} samples backfilled and served "
                  f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
            times = []
            for _ in range(args.rounds):
                t1 = time.perf_counter()
                report = pull_live(base_url=url, lookback=2 * H, step=minute, now=NOW)
                times.append(time.perf_counter() - t1)
                assert report.failed == []
                assert report.queries == args.queries
            print(
                f"pull {args.queries} PromQL queries ({report.points:,} points stored): median "
                f"{statistics.median(times):.3f} s, best {min(times):.3f} s, worst "
                f"{max(times):.3f} s over {args.rounds} rounds"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-evaluate", action="store_true")
    parser.add_argument("--skip-pull", action="store_true")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cpu, SQLite")
    cio, ciso = _setup()
    if not args.skip_evaluate:
        bench_evaluate(args, cio, ciso)
    if not args.skip_pull:
        bench_pull(args, cio, ciso)


if __name__ == "__main__":
    main()

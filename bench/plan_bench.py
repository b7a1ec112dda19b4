"""The patch-planning benchmark: the figures in docs/planning.md ("Measured") come from this.

    .venv/bin/python bench/plan_bench.py                    # 20,000 items, 500 windows; 30 gaps
    .venv/bin/python bench/plan_bench.py --items 2000 --windows 50 --gap-instances 5   # smoke
    .venv/bin/python bench/plan_bench.py --db --gap-instances 0   # + plan make through SQLite

1. **Scale**: a synthetic organisation (``--services`` services, ``--windows`` change windows with
   weekly, fortnightly and monthly RRULEs in three time zones, capacity in slots or hours, a
   year-end freeze and per-service blackouts) and ``--items`` work items whose classes, KEV, EPSS
   and exposure follow a realistic mix; ``plan_compute`` (occurrence expansion, blackouts, the
   solver — the greedy method at this size — misses and remedies) is timed end to end, in memory.
2. **Gap**: ``--gap-instances`` instances small enough for CP-SAT to prove optimality (the same
   generator, ``--gap-items`` items), each solved exactly (CP-SAT, 2 workers, time-limited) and
   by the greedy method; the gap is (greedy − optimum) / optimum of the solver's objective
   (weighted exposure-days with the late penalty) and, separately, of the weighted exposure-days
   alone. Instances where CP-SAT does not prove optimality within its limit are not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from detente.planning.occurrences import BlackoutSpec, WindowSpec
from detente.planning.planner import PlanningInput, Rules, plan_compute
from detente.planning.solver import Job, Problem, Slot, exact, greedy
from detente.planning.workitems import FindingFacts, WorkItem, finding_weight

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
CLASSES = [("3d", 3, 0.02), ("14d", 14, 0.10), ("30d", 30, 0.20), ("60d", 60, 0.30),
           ("90d", 90, 0.23), ("180d", 180, 0.15)]  # fmt: skip
KINDS = [("package", 1.0, 0.6), ("image", 2.0, 0.25), ("host", 4.0, 0.1), ("other", 2.0, 0.05)]
RULES = ["FREQ=WEEKLY;BYDAY=SA", "FREQ=WEEKLY;BYDAY=WE", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
         "FREQ=MONTHLY;BYDAY=1SA", "FREQ=WEEKLY;BYDAY=TU,TH"]  # fmt: skip
ZONES = ["Europe/Paris", "America/New_York", "UTC"]


def _pick(r: random.Random, table: Sequence[tuple[str, float, float]]) -> tuple[str, float]:
    x = r.random()
    for name, value, share in table:
        x -= share
        if x <= 0:
            return name, value
    return table[-1][0], table[-1][1]


def organisation(
    seed: int, *, services: int, windows: int, items: int, horizon: int = 120, load: float = 1.0
) -> PlanningInput:
    """Windows spread over services (capacity scaled by ``load``), items spread over services."""
    r = random.Random(seed)
    specs = []
    for w in range(windows):
        in_slots = r.random() < 0.4
        specs.append(
            WindowSpec(
                id=w + 1, service_id=w % services + 1, name=f"w{w}", rrule=r.choice(RULES),
                starts_on=NOW.date() - dt.timedelta(days=r.randrange(14)),
                start_time=dt.time(r.choice([1, 2, 22]), r.choice([0, 30])),
                timezone=r.choice(ZONES), duration_minutes=r.choice([120, 240, 360]),
                capacity=(r.choice([3, 4, 6]) if in_slots else r.choice([6.0, 8.0, 12.0])) * load,
                in_slots=in_slots,
            )
        )  # fmt: skip
    peaks = [(r.randrange(services) + 1, r.randrange(horizon)) for _ in range(services // 4)]
    blackouts = [
        BlackoutSpec(dt.datetime(2026, 12, 18, tzinfo=dt.UTC),
                     dt.datetime(2027, 1, 2, tzinfo=dt.UTC), None, "year-end freeze")
    ] + [
        BlackoutSpec(NOW + dt.timedelta(days=d), NOW + dt.timedelta(days=d + 3), s, "peak")
        for s, d in peaks
    ]  # fmt: skip
    work = []
    for n in range(items):
        kind, effort = _pick(r, KINDS)
        count = 1 if kind == "other" else r.choice([1, 1, 1, 1, 2, 2, 3])
        weight, deadline, cls_first = 0.0, None, ""
        for _ in range(count):
            cls, days = _pick(r, CLASSES)
            facts = FindingFacts(
                id=0, asset_id=n, asset_kind=kind, service_id=None, component="c",
                deadline=NOW, deadline_class=cls, kev=r.random() < 0.03,
                epss=r.random() ** 4, exposed=r.random() < 0.4,
            )  # fmt: skip
            weight += finding_weight(facts, int(days))
            due = NOW + dt.timedelta(days=days * r.uniform(0.3, 1.0))
            if deadline is None or due < deadline:
                deadline, cls_first = due, cls
        assert deadline is not None
        work.append(
            WorkItem(
                key=f"{kind}:{n}", kind=kind, asset_id=n, service_id=r.randrange(services) + 1,
                component="", effort_hours=effort, deadline=deadline, deadline_class=cls_first,
                weight=weight, finding_ids=list(range(count)),
            )
        )  # fmt: skip
    return PlanningInput(
        now=NOW, windows=specs, blackouts=blackouts, items=work,
        rules=Rules(horizon_days=horizon, max_defer_days={c: 2 * d for c, d, _ in CLASSES},
                    remedy_cost={"extra_window": 5.0, "emergency_change": 20.0, "deferral": 0.0},
                    exact_max_pairs=0, solver_seconds=10.0),
    )  # fmt: skip


def small_problem(seed: int, items: int) -> Problem:
    """A small instance in solver terms: 3 services, 2 windows each, a 6-week horizon."""
    r = random.Random(seed)
    slots = []
    for service in range(3):
        for _ in range(2):
            in_slots = r.random() < 0.4
            first = r.uniform(0, 7)
            step = r.choice([7, 7, 14])
            for k in range(int(42 // step) + 1):
                start = first + k * step
                if start < 42:
                    slots.append(
                        Slot(group=service, start=start, end=start + 0.17,
                             capacity=r.choice([1, 2]) if in_slots else r.choice([2.0, 4.0]),
                             in_slots=in_slots)
                    )  # fmt: skip
    jobs = []
    for _ in range(items):
        kind, effort = _pick(r, KINDS)
        cls, days = _pick(r, CLASSES)
        facts = FindingFacts(
            id=0, asset_id=0, asset_kind=kind, service_id=None, component="c", deadline=NOW,
            deadline_class=cls, kev=r.random() < 0.05, epss=r.random() ** 4,
            exposed=r.random() < 0.4,
        )  # fmt: skip
        count = r.choice([1, 1, 2, 3])
        jobs.append(
            Job(group=r.randrange(3), effort=effort,
                weight=finding_weight(facts, int(days)) * count,
                deadline=days * r.uniform(0.3, 1.0))
        )  # fmt: skip
    return Problem(jobs=jobs, slots=slots, horizon=42, late_factor=10, unplanned_extra=30)


def exposure(problem: Problem, assignment: list[int | None]) -> float:
    never = problem.horizon + problem.unplanned_extra
    return sum(
        job.weight * (problem.slots[s].end if s is not None else never)
        for job, s in zip(problem.jobs, assignment, strict=True)
    )


def through_database(data: PlanningInput) -> None:
    """``plan_make`` end to end on a fresh SQLite database holding ``data`` as real rows."""
    import tempfile

    os.environ["DETENTE_DATA_DIR"] = tempfile.mkdtemp(prefix="plan-bench-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from detente.core import clock
    from detente.findings.models import Finding
    from detente.inventory.models import Asset, BusinessService
    from detente.planning.models import CapacityUnit, ChangeWindow, PlanItem
    from detente.planning.services import plan_make

    call_command("migrate", verbosity=0)
    clock.set_now(NOW)
    services = {
        sid: BusinessService.objects.create(slug=f"s{sid}", name=f"Service {sid}")
        for sid in sorted(
            {w.service_id for w in data.windows} | {i.service_id or 1 for i in data.items}
        )
    }
    ChangeWindow.objects.bulk_create(
        ChangeWindow(
            service=services[w.service_id], name=w.name, rrule=w.rrule, starts_on=w.starts_on,
            start_time=w.start_time, timezone=w.timezone, duration_minutes=w.duration_minutes,
            capacity=w.capacity,
            capacity_unit=CapacityUnit.SLOTS if w.in_slots else CapacityUnit.HOURS,
            created_at=NOW,
        )
        for w in data.windows
    )  # fmt: skip
    kind_of = {"package": "repository", "image": "image", "host": "host", "other": "application"}
    assets = Asset.objects.bulk_create(
        Asset(kind=kind_of[i.kind], identifier=f"a{n}", name=f"a{n}",
              service=services[i.service_id or 1], publicly_exposed=True)
        for n, i in enumerate(data.items)
    )  # fmt: skip
    rows = []
    for n, (item, made) in enumerate(zip(data.items, assets, strict=True)):
        for k in range(len(item.finding_ids)):
            rows.append(
                Finding(
                    fingerprint=f"{n:08d}{k:04d}", asset=made, scanner="bench",
                    vuln_id=f"CVE-2026-{n}-{k}", title="x", severity="high",
                    component=None if item.kind == "other" else f"pkg{n}",
                    first_seen=NOW, last_seen=NOW, deadline=item.deadline,
                    deadline_class=item.deadline_class, state_hash="x",
                )
            )  # fmt: skip
    Finding.objects.bulk_create(rows, batch_size=5000)
    began = time.perf_counter()
    plan = plan_make(actor=None)
    took = time.perf_counter() - began
    print(
        f"database: plan make over {len(rows)} findings → {plan.items} items "
        f"({PlanItem.objects.filter(plan=plan).count()} rows) in {took:.2f} s on SQLite "
        f"[{plan.method}; planning {plan.solve_ms / 1000:.2f} s], missed {plan.missed}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--windows", type=int, default=500)
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--gap-instances", type=int, default=30)
    parser.add_argument("--gap-items", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0, help="CP-SAT limit per instance")
    parser.add_argument("--db", action="store_true", help="also time plan make through SQLite")
    args = parser.parse_args()
    print(f"# {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")

    data = organisation(1, services=args.services, windows=args.windows, items=args.items)
    began = time.perf_counter()
    result = plan_compute(data)
    took = time.perf_counter() - began
    m = result.metrics()
    print(
        f"scale: {args.items} items, {args.windows} windows, {len(result.usable)} usable "
        f"occurrences ({len(result.blocked)} blacked out) in {took:.2f} s "
        f"[{m['method']}; solver {result.seconds:.2f} s]; planned {m['planned']}, "
        f"missed {m['missed']} ({m['missed_for_capacity']} for capacity), "
        f"exposure-days {m['exposure_days']:.0f}"
    )

    if args.db:
        through_database(data)

    gaps, exposure_gaps, solved, skipped = [], [], 0, 0
    for seed in range(args.gap_instances):
        problem = small_problem(100 + seed, args.gap_items)
        best = exact(problem, seconds=args.seconds, workers=2)
        if not best.optimal:
            skipped += 1
            continue
        solved += 1
        fast = greedy(problem)
        gaps.append((fast.objective - best.objective) / best.objective)
        exposure_gaps.append(
            (exposure(problem, fast.assignment) - exposure(problem, best.assignment))
            / exposure(problem, best.assignment)
        )
    if gaps:
        print(
            f"gap: {solved} instances of {args.gap_items} items proven optimal by CP-SAT "
            f"({skipped} not within {args.seconds:g} s); greedy objective gap mean "
            f"{100 * statistics.mean(gaps):.2f}%, median {100 * statistics.median(gaps):.2f}%, "
            f"max {100 * max(gaps):.2f}%, optimal on {sum(g < 1e-9 for g in gaps)}; "
            f"weighted exposure-days gap mean {100 * statistics.mean(exposure_gaps):.2f}%"
        )


if __name__ == "__main__":
    main()

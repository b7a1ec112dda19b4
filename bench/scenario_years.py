"""Does the radar tell the truth? Generated organisational years of each kind, judged.

    .venv/bin/python bench/scenario_years.py [--years 200] [--kinds calm,covert,...] [--workers 2]

``--years`` per kind (default 200: 1,000 years over the five kinds; ``--years 40`` is the issue's
200 years in all). Each year is built through the real services
(``detente.demo.scenarios_gen.run_year``): the database is migrated once into a template SQLite
file, each worker process copies it, creates the organisation (the cast and the policy) once, and
builds every year inside a savepoint rolled back afterwards, so each year starts from the same
organisation with no history. The radar's computation is the real one, month by month.

Prints, per kind, how many years the radar judged right (``scenarios_gen.verdict``), false reds
and ambers of calm years, the months recovering years took to leave red, the wall time, the CPU
time of the workers (user + sys) and the load average. Figures go in docs/tension.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

Job = tuple[str, int]  # (kind, seed)
Result = dict[str, Any]


def _setup(folder: str) -> None:
    os.environ["DETENTE_DATA_DIR"] = folder
    os.environ.setdefault("DETENTE_SECRET_KEY", "scenario-years-bench")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "detente.config.settings"
    import django

    django.setup()


def _template() -> str:
    """A migrated SQLite database in a fresh folder (made once, copied by each worker)."""
    folder = tempfile.mkdtemp(prefix="detente-years-template-")
    _setup(folder)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return folder


def _worker(template: str, jobs: list[Job]) -> list[Result]:
    folder = tempfile.mkdtemp(prefix="detente-years-worker-")
    shutil.copy(Path(template) / "detente.sqlite3", Path(folder) / "detente.sqlite3")
    _setup(folder)
    from django.db import transaction

    from detente.core import clock
    from detente.demo.scenarios_gen import judge, organisation, run_year
    from detente.tension.selectors import tension_policy

    results = []
    with transaction.atomic(), clock.frozen_at(clock.now()):
        cast = organisation()  # the policy and the people, once for every year
        step_down = tension_policy().periods_to_step_down
        for kind, seed in jobs:
            before = resource.getrusage(resource.RUSAGE_SELF)
            with transaction.atomic():
                snapshots = run_year(kind, seed, cast=cast)
                results.append(judge(kind, seed, snapshots, step_down=step_down))
                transaction.set_rollback(True)
            after = resource.getrusage(resource.RUSAGE_SELF)
            results[-1]["cpu"] = (after.ru_utime - before.ru_utime) + (
                after.ru_stime - before.ru_stime
            )
        transaction.set_rollback(True)
    shutil.rmtree(folder, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=200, help="years per kind")
    parser.add_argument("--kinds", default="calm,simmering,overt,covert,recovering")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    template = _template()
    # Interleaved so each worker gets a similar mix of kinds.
    jobs = [(k, s) for s in range(args.first_seed, args.first_seed + args.years) for k in kinds]
    chunks = [jobs[i :: args.workers] for i in range(args.workers)]
    results: list[Result] = []
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
        for part in pool.map(_worker, [template] * args.workers, chunks):
            results.extend(part)
    seconds = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(template, ignore_errors=True)
    load_after = Path("/proc/loadavg").read_text().split()[:3]

    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    wrong: list[str] = []
    for r in results:
        total[r["kind"]] += 1
        right[r["kind"]] += r["right"]
        if not r["right"]:
            wrong.append(f"{r['kind']}-{r['seed']}: {' '.join(z[0] for z in r['zones'])}")
    calm = [r for r in results if r["kind"] == "calm"]
    took = Counter(r["recovery"] for r in results if r["kind"] == "recovering")
    print("| kind | years | judged right |")
    print("|---|---|---|")
    for kind in kinds:
        share = 100 * right[kind] / max(1, total[kind])
        print(f"| {kind} | {total[kind]} | {right[kind]} ({share:.1f} %) |")
    if calm:
        print(
            f"\ncalm years with a red month: {sum('red' in r['zones'] for r in calm)}; "
            f"with an amber month: {sum('amber' in r['zones'] for r in calm)}"
        )
    if took:
        print(
            "recovering: months to leave red after its own month stopped being red: "
            + ", ".join(f"{k}: {v} years" for k, v in sorted(took.items(), key=str))
        )
    if wrong:
        print("judged wrong: " + "; ".join(wrong[:20]))
    cpu = children.ru_utime + children.ru_stime
    year_cpu = sum(r["cpu"] for r in results) / max(1, len(results))
    print(
        f"{len(results)} years in {seconds:.0f} s wall, {cpu:.0f} s CPU in the workers "
        f"(user+sys; {year_cpu:.2f} s CPU a year), {args.workers} workers; "
        f"load average {' '.join(load_before)} before, {' '.join(load_after)} after"
    )


if __name__ == "__main__":
    main()

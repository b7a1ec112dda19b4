"""Does the radar tell the truth? Generated organisational years of each kind, judged.

    .venv/bin/python bench/scenario_years.py [--years 40] [--kinds calm,covert,...]

``--years`` per kind (default 40: 200 years over the five kinds). Each year is built through the
real services (``detente.demo.scenarios_gen.run_year``) in one SQLite database under a temporary
folder, inside a transaction rolled back afterwards. Prints, per kind, how many years the radar
judged right (``scenarios_gen.verdict``), false reds of calm years, the months recovering years
took to leave red, and the time. Figures go in docs/tension.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=40, help="years per kind")
    parser.add_argument("--kinds", default="calm,simmering,overt,covert,recovering")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="detente-years-")
    os.environ["DETENTE_DATA_DIR"] = folder
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from detente.core import clock
    from detente.demo.scenarios_gen import recovery_months, run_year, verdict
    from detente.policy.services import policy_ensure_default
    from detente.tension.selectors import tension_policy

    call_command("migrate", verbosity=0)
    right: dict[str, int] = defaultdict(int)
    false_red = 0
    amber_calm = 0
    recoveries: list[int] = []
    started = time.perf_counter()
    kinds = args.kinds.split(",")
    for kind in kinds:
        for seed in range(args.years):
            with transaction.atomic(), clock.frozen_at(clock.now()):
                policy_ensure_default()
                step_down = tension_policy().periods_to_step_down
                snapshots = run_year(kind, seed)
                zones = [s.zone for s in snapshots]
                right[kind] += verdict(kind, snapshots, step_down=step_down)
                if kind == "calm":
                    false_red += "red" in zones
                    amber_calm += "amber" in zones
                if kind == "recovering":
                    took = recovery_months(snapshots, step_down=step_down)
                    if took is not None:
                        recoveries.append(took)
                transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    print("| kind | years | judged right |")
    print("|---|---|---|")
    for kind in kinds:
        print(f"| {kind} | {args.years} | {right[kind]} ({100 * right[kind] / args.years:.0f} %) |")
    print(f"\ncalm years with a red month: {false_red}; with an amber month: {amber_calm}")
    if recoveries:
        print(
            f"recovering: left red {max(recoveries)} month(s) at most after its own month "
            f"stopped being red"
        )
    total = args.years * len(kinds)
    print(f"{total} years in {seconds:.0f} s ({seconds / total:.1f} s a year)")


if __name__ == "__main__":
    main()

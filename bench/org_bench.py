"""The organisation benchmark: the figures in docs/organisation.md ("Measured") come from this.

    .venv/bin/python bench/org_bench.py                     # 20,000 people, 2,000 services,
                                                            # 200,000 assets (SQLite, temp dir)
    .venv/bin/python bench/org_bench.py --scale 0.05        # smoke

Generates an organisation file (teams of 20, each service owned by a person and a team, assets
of every kind spread over the services), then times, on a fresh database: reading and
validating the file, the first apply (everything added and audited), a re-apply with no change,
and a re-apply where 1% of the assets changed exposure. ``DATABASE_URL`` selects PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

KINDS = ("host", "image", "repository", "application", "api", "cloud", "workload", "package")
ROLES = ("engineer",) * 8 + ("service_owner", "it_lead")
CRIT = ("low", "medium", "high", "critical")


def organisation(people: int, services: int, assets: int, *, changed: int = 0) -> dict[str, Any]:
    return {
        "version": 1,
        "people": [
            {"name": f"Person {i}", "email": f"p{i}@bench.example", "role": ROLES[i % len(ROLES)]}
            for i in range(people)
        ],
        "teams": [
            {
                "slug": f"team-{t}",
                "name": f"Team {t}",
                "parent": f"team-{t // 10}" if t >= 10 else None,
                "members": [f"p{i}@bench.example" for i in range(t * 20, min(t * 20 + 20, people))],
            }
            for t in range(max(1, people // 20))
        ],
        "services": [
            {
                "slug": f"svc-{s}",
                "name": f"Service {s}",
                "owner": f"p{(s * 10 + 8) % people}@bench.example",
                "team": f"team-{s % max(1, people // 20)}",
                "criticality": CRIT[s % 4],
                "internet_facing": s % 3 == 0,
            }
            for s in range(services)
        ],
        "assets": [
            {
                "kind": KINDS[a % len(KINDS)],
                "identifier": f"asset-{a}.bench.example",
                "service": f"svc-{a % services}",
                "exposed": ("yes" if (a < changed) else "no") if a % 2 else "unknown",
            }
            for a in range(assets)
        ],
    }


def _timed(label: str, fn: Any) -> Any:
    """Wall time, and this process's CPU time: on a shared machine the second says what the
    work costs, the first also what the neighbours took."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<44} {wall:7.2f} s wall, {used:7.2f} s CPU", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--yaml", action="store_true", help="also time the YAML file (slow)")
    args = parser.parse_args()
    people, services, assets = (int(n * args.scale) for n in (20_000, 2_000, 200_000))
    work = Path(tempfile.mkdtemp(prefix="org-bench-"))
    os.environ.setdefault("DETENTE_DATA_DIR", str(work / "data"))
    os.environ.setdefault("DETENTE_SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from detente.org.document import read_document
    from detente.org.services import org_apply

    call_command("migrate", interactive=False, verbosity=0)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(
        f"{machine}, {connection.vendor}; {people:,} people, {services:,} services, "
        f"{assets:,} assets"
    )
    first = work / "org.yaml"
    first.write_text(yaml.dump(organisation(people, services, assets), sort_keys=False))
    changed = work / "org-1pct.yaml"
    changed.write_text(
        yaml.dump(organisation(people, services, assets, changed=assets // 50), sort_keys=False)
    )
    print(f"file: {first.stat().st_size / 2**20:.1f} MB")
    as_json = work / "org.json"
    as_json.write_text(json.dumps(organisation(people, services, assets)))
    changed_json = work / "org-1pct.json"
    changed_json.write_text(
        json.dumps(organisation(people, services, assets, changed=assets // 50))
    )

    def apply(path: Path) -> str:
        plan = org_apply(document=read_document(path), actor=None)
        return plan.summary()

    if args.yaml:
        _timed("read + validate org.yaml", lambda: read_document(first))
    _timed("read + validate org.json", lambda: read_document(as_json))
    print("  ", _timed("first apply of org.json (read to audit)", lambda: apply(as_json)))
    print("  ", _timed("re-apply org.json, no change", lambda: apply(as_json)))
    print("  ", _timed("re-apply org.json, 1% of assets changed", lambda: apply(changed_json)))
    if args.yaml:
        print("  ", _timed("re-apply org.yaml, no change", lambda: apply(first)))


if __name__ == "__main__":
    main()

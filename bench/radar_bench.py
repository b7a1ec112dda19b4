"""The tension-radar benchmark: a year of monthly periods over a large organisation.

    .venv/bin/python bench/radar_bench.py                          # 1,000,000 findings, 10,000 RAs
    .venv/bin/python bench/radar_bench.py --findings 50000 --acceptances 500     # smoke
    .venv/bin/python bench/radar_bench.py --db /tmp/radar-bench   # build once there, then reuse

Builds a fresh SQLite database in a temporary folder with raw bulk inserts (core.bulk.insert_rows,
not the services: this measures reading, not writing), then times ``radar_compute_range`` for the
twelve months of 2026. The figure is in docs/tension.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
YEAR_START = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
DAYS = 396  # 2025-12-01 .. 2026-12-31


def _t(moment: dt.datetime | None) -> str | None:
    return None if moment is None else str(moment.astimezone(dt.UTC).replace(tzinfo=None))


def _findings(count: int, assets: list[int], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for n in range(count):
        first = YEAR_START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        closed = first + dt.timedelta(days=rng.randrange(3, 90)) if rng.random() < 0.6 else None
        kev = rng.random() < 0.01
        deadline = first + dt.timedelta(days=14 if kev else 30)
        yield (
            f"{n:032x}", assets[n % len(assets)], "trivy", f"CVE-2026-{n:07d}", f"CVE-2026-{n:07d}",
            "[]", "Flaw", "high", "HIGH", "", kev, rng.random() < 0.5,
            "fixed" if closed else "open", False, _t(first), _t(closed or first), _t(closed),
            _t(deadline), "30d", False, "0" * 16,
        )  # fmt: skip


FINDING_COLUMNS = (
    "fingerprint", "asset_id", "scanner", "vuln_id", "cve", "aliases", "title", "severity",
    "scanner_severity", "cvss_version", "kev", "exposed", "status", "suppressed_by_tool",
    "first_seen", "last_seen", "closed_at", "deadline", "deadline_class", "needs_analyst",
    "state_hash",
)  # fmt: skip

ACCEPTANCE_COLUMNS = (
    "id", "title", "scope", "cve", "rule_id", "justification", "compensating_controls",
    "requested_until", "expires_at", "deadline_class", "required_roles", "status", "requester_id",
    "renewals", "policy_version", "created_at", "requested_at", "approved_at", "closed_at",
    "closed_reason", "reminders_sent",
)  # fmt: skip


def _acceptances(
    count: int, requester: int, end: dt.datetime, rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    for n in range(1, count + 1):
        created = YEAR_START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        expires = created + dt.timedelta(days=30)
        expired = expires < end
        yield (
            n, f"RA {n}", "findings", "", "", "Vendor fix next release", "WAF",
            (expires.date()).isoformat(), _t(expires), "30d", '["ciso", "cio"]',
            "expired" if expired else "approved", requester, rng.choice((0, 0, 0, 1, 2, 3)), 1,
            _t(created), _t(created), _t(created + dt.timedelta(hours=6)),
            _t(expires) if expired else None, "reached its end" if expired else "", "[]",
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--acceptances", type=int, default=10_000)
    parser.add_argument(
        "--db",
        help="data folder to keep the database in; an existing one is reused (no rebuild)",
    )
    args = parser.parse_args()
    folder = args.db or tempfile.mkdtemp(prefix="detente-radar-bench-")
    reuse = bool(args.db) and (Path(folder) / "built.json").exists()
    Path(folder).mkdir(parents=True, exist_ok=True)
    os.environ["DETENTE_DATA_DIR"] = folder
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from detente.core import clock
    from detente.tension.services import radar_compute_range
    from detente.tension.signals import Period

    call_command("migrate", verbosity=0)
    rng = random.Random(26)
    clock.set_now(dt.datetime(2027, 1, 1, 0, 10, tzinfo=dt.UTC))
    if reuse:
        built_info = json.loads((Path(folder) / "built.json").read_text())
        args.findings, args.acceptances = built_info["findings"], built_info["acceptances"]
        built = float(built_info["build_s"])
    else:
        built = _build(args, rng)
        (Path(folder) / "built.json").write_text(
            json.dumps(
                {"findings": args.findings, "acceptances": args.acceptances, "build_s": built}
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    started, cpu = time.perf_counter(), time.process_time()
    snapshots = radar_compute_range(first=Period(2026, 1), last=Period(2026, 12))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "findings": args.findings,
                "acceptances": args.acceptances,
                "build_s": round(built, 1),
                "reused": reuse,
                "radar_year_s": round(took, 2),
                # CPU time of this process (Python and SQLite): the figure that does not depend
                # on what else the machine runs.
                "radar_year_cpu_s": round(cpu, 2),
                "zones": [s.zone for s in snapshots],
                "indices": [s.index for s in snapshots],
            }
        )
    )


def _build(args: argparse.Namespace, rng: random.Random) -> float:
    from django.db import connection, transaction

    from detente.core import clock
    from detente.core.bulk import insert_rows
    from detente.decisions.models import DecisionRecord
    from detente.inventory.models import Asset
    from detente.people.models import Role
    from detente.people.services import person_upsert
    from detente.policy.services import policy_ensure_default
    from detente.tension.models import PulseResponse
    from detente.tension.signals import Period

    policy_ensure_default()
    cio = person_upsert(name="C", email="cio@bench.detente", role=Role.CIO)
    ciso = person_upsert(name="S", email="ciso@bench.detente", role=Role.CISO)
    assets = [
        Asset.objects.create(kind="image", identifier=f"img-{n}", name=f"img-{n}").pk
        for n in range(200)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        insert_rows("findings_finding", FINDING_COLUMNS, _findings(args.findings, assets, rng))
        insert_rows(
            "acceptances_riskacceptance",
            ACCEPTANCE_COLUMNS,
            _acceptances(args.acceptances, ciso.pk, clock.now(), rng),
        )
        items = (
            (n, rng.randrange(1, args.findings + 1), "requested", _t(YEAR_START))
            for n in range(1, args.acceptances + 1)
            for _ in range(3)
        )
        insert_rows(
            "acceptances_acceptancefinding",
            ("acceptance_id", "finding_id", "reason", "added_at"),
            {(a, f): (a, f, r, t) for a, f, r, t in items}.values(),
        )
        levels = ("team", "leaders", "executive", "facilitator")
        DecisionRecord.objects.bulk_create(
            DecisionRecord(
                title=f"D{n}", pressure_point="patching", question="?",
                options=[{"title": "a", "business_benefit": "b", "facts": [], "findings": []}],
                escalation_level=rng.choice(levels), created_by=ciso,
                created_at=YEAR_START + dt.timedelta(days=rng.randrange(DAYS)),
                status="decided", decided_at=YEAR_START + dt.timedelta(days=rng.randrange(DAYS)),
                ciso_recommendation_followed=rng.random() < 0.7,
            )
            for n in range(500)
        )  # fmt: skip
        for period in Period(2026, 1).until(Period(2026, 12)):
            for person in (cio, ciso):
                answers = {f"P{i}": rng.randint(1, 5) for i in range(1, 11)}
                PulseResponse.objects.create(
                    person=person, role=person.role, period=period.label, answers=answers,
                    meta={"P3": 3, "P9": 3}, submitted_at=period.start + dt.timedelta(days=20),
                )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

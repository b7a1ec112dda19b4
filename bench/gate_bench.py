"""The release-gate benchmark: the figures in docs/gate.md come from this script.

    .venv/bin/python bench/gate_bench.py                 # 1M stored; 10k SARIF + 5k Trivy
    .venv/bin/python bench/gate_bench.py --stored 50000  # a quick smoke

1. A fresh SQLite database (migrated, KEV + EPSS loaded) with ``--stored`` findings imported
   from one generated Trivy report (bench/generate.py), for service ``bench``.
2. The gate input: a generated 10,000-result SARIF (500 rules, code locations) and a 5,000-finding
   Trivy report whose findings are the first 5,000 of the stored ones (so every one is looked up
   in the million-row table and matched).
3. ``detente gate --service bench --version 1.0 --sarif --junit --markdown --format json`` with
   the run recorded: wall time from process start, CPU, and peak RSS (``wait4``'s ru_maxrss).
4. Server time: the same two files through ``POST /api/gate/runs`` (``record=true``, all
   outputs) with Django's test client in one process against the same database, the handler's
   time measured around the request (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PYTHON = ROOT / ".venv/bin/python"
DETENTE = ROOT / ".venv/bin/detente"


def generate(*args: str) -> None:
    """bench/generate.py (Trivy reports named ``bench/large:1.0``, KEV + EPSS)."""
    subprocess.run([str(PYTHON), str(BENCH / "generate.py"), *args], check=True)


def write_sarif(path: Path, results: int, *, seed: int = 5) -> None:
    rng = random.Random(seed)
    rules = [
        {"id": f"py/rule-{r:03d}", "shortDescription": {"text": f"Rule {r}"},
         "properties": {"security-severity": f"{rng.uniform(1, 10):.1f}"}}
        for r in range(500)
    ]  # fmt: skip
    levels = ("error", "warning", "note")
    out = []
    for i in range(results):
        rule = i % 500
        out.append({
            "ruleId": f"py/rule-{rule:03d}", "ruleIndex": rule, "level": levels[i % 3],
            "message": {"text": f"Possible flaw number {i} in module {i % 731}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f"src/pkg{i % 97}/module_{i % 731}.py"},
                "region": {"startLine": 1 + i % 400, "startColumn": 1 + i % 30},
            }}],
        })  # fmt: skip
    doc = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "CodeQL", "rules": rules}}, "results": out}],
    }
    path.write_text(json.dumps(doc))


def _env(data_dir: Path) -> dict[str, str]:
    # A pipeline runs an installed package, whose modules are compiled at install time: without
    # PYTHONDONTWRITEBYTECODE (set in the sessions' shells) the warm-up run writes the .pyc files
    # that every later run reads, instead of every run compiling 170 modules (~1 s of CPU).
    drop = ("DATABASE_URL", "DETENTE_URL", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {"DETENTE_DATA_DIR": str(data_dir), "DETENTE_SECRET_KEY": "bench-only-not-secret"}
    return env


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, int, str]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, output


SERVER = """
import json, os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
django.setup()
from django.test import Client
from detente.access.services import token_issue
from detente.people.models import Role
from detente.people.services import person_upsert
cio = person_upsert(name="Bench CIO", email="bench-cio@example.org", role=Role.CIO)
_, token = token_issue(actor=cio, person=cio, name="bench", scope="write")
client = Client(HTTP_HOST="127.0.0.1")
best = None
cpus = []
for _ in range(int(sys.argv[3])):
    with open(sys.argv[1], "rb") as a, open(sys.argv[2], "rb") as b:
        before = os.times()
        started = time.perf_counter()
        response = client.post("/api/gate/runs", {"files": [a, b], "service": "bench",
            "version": "1.0", "outputs": "sarif,junit,markdown"},
            headers={"Authorization": f"Bearer {token}"})
        took = time.perf_counter() - started
        after = os.times()  # the server's CPU, its forked parse child's included
        cpus.append(sum(after[:4]) - sum(before[:4]))
    assert response.status_code == 200, response.content[:500]
    best = took if best is None else min(best, took)
print(json.dumps({"seconds": best, "cpu": min(cpus), "decision": response.json()["decision"],
                  "findings": response.json()["counts"]["findings"]}))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--sarif", type=int, default=10_000)
    parser.add_argument("--trivy", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="Keep the database here and reuse it on the next run (default: a temporary folder).",
    )  # fmt: skip
    parser.add_argument("--skip-api", action="store_true", help="Only the CLI runs.")
    parser.add_argument("--skip-cli", action="store_true", help="Only the API runs.")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    intel = OUT / "intel"
    if not (intel / "epss.csv").exists():
        generate("intel", str(intel))
    stored = OUT / f"gate-stored-{args.stored}.json"
    if not stored.exists():
        generate("large", str(args.stored), str(stored))
    gate_trivy = OUT / f"gate-trivy-{args.trivy}.json"
    if not gate_trivy.exists():
        generate("large", str(args.trivy), str(gate_trivy))
    gate_sarif = OUT / f"gate-sarif-{args.sarif}.sarif"
    write_sarif(gate_sarif, args.sarif)
    with tempfile.TemporaryDirectory(prefix="detente-gate-bench-") as scratch:
        folder = str(args.data_dir or scratch)
        Path(folder).mkdir(parents=True, exist_ok=True)
        env = _env(Path(folder))
        ready = Path(folder) / f"ready-{args.stored}"
        setup = (
            "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'detente.config.settings'); django.setup(); "
            "from detente.inventory.services import service_upsert; "
            "service_upsert(slug='bench', name='Bench', owner=None, criticality='high')"
        )
        if not ready.exists():
            for step in (
                [str(DETENTE), "migrate"],
                [str(DETENTE), "intel", "load", str(intel / "kev.json"), str(intel / "epss.csv")],
                [str(PYTHON), "-c", setup],
            ):
                subprocess.run(step, env=env, cwd=ROOT, check=True, capture_output=True)
            wall, _, _, code, output = _run(
                [str(DETENTE), "import", str(stored), "--service", "bench"], env
            )
            print(f"setup: {args.stored:,} findings imported in {wall:.1f} s ({code})")
            if code:
                raise SystemExit(f"import failed ({code}):\n{output[-2000:]}")
            ready.touch()
        outs = Path(folder) / "outs"
        outs.mkdir(exist_ok=True)
        gate = [
            str(DETENTE), "gate", "--service", "bench", "--version", "1.0", "--format", "json",
            "--sarif", str(outs / "g.sarif"), "--junit", str(outs / "g.xml"),
            "--markdown", str(outs / "g.md"), str(gate_sarif), str(gate_trivy),
        ]  # fmt: skip
        if not args.skip_cli:
            _run(gate, env)  # warm-up: .pyc files written, the database file in the page cache
        rows = []
        for _ in range(0 if args.skip_cli else args.repeat):
            wall, cpu, rss, code, output = _run(gate, env)
            if code not in (0, 1):
                raise SystemExit(f"gate failed ({code}):\n{output[-2000:]}")
            counts = json.loads(output)["counts"]
            rows.append((wall, cpu, rss, code, counts))
        for wall, cpu, rss, code, counts in rows:
            print(
                f"| CLI gate, {args.sarif:,} SARIF + {args.trivy:,} Trivy, {args.stored:,} "
                f"stored | {wall:.2f} s wall | {cpu:.2f} s CPU | {rss:,.0f} MB peak | exit {code}"
                f" | {counts['findings']:,} findings, {counts['blocking']:,} blocking |"
            )
        if args.skip_api:
            return
        done = subprocess.run(
            [str(PYTHON), "-c", SERVER, str(gate_sarif), str(gate_trivy), str(args.repeat)],
            env=env, cwd=ROOT, check=False, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"API gate failed:\n{done.stderr[-3000:]}")
        server = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| API gate (server time, best of {args.repeat}) | {server['seconds']:.2f} s wall | "
            f"{server['cpu']:.2f} s CPU | {server['findings']:,} findings, {server['decision']} |"
        )


if __name__ == "__main__":
    main()

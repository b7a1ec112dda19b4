"""Availability during a long import: the figures in docs/performance.md come from this script.

    .venv/bin/python bench/availability_bench.py --findings 1000000 --db sqlite
    .venv/bin/python bench/availability_bench.py --findings 200000 --db postgres

A fresh database (SQLite in a temporary data directory, or a database of its own on the
PostgreSQL server of --pg-url) gets a CISO with 20 read tokens never used yet and a small
import; ``detente serve`` (2 workers x 10 threads) starts; then ``detente import`` of the bench
report (bench/generate.py ``large``) runs while CLIENTS clients read for the whole import: each
in turn ``GET /api/findings`` with its own token (the first use of a token wants to write its
last-used time, while the import holds the write lock), the ``/findings`` page and the home page
(signed in before the import), with THINK seconds between requests (a person reading, not a
load generator: 20 clients without pause would take both cores from the import).

Printed: requests, errors (any status but 200, or no answer in 30 s) by kind, latency p50/p95/
p99/max, the import's wall and CPU time (from wait4), and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PYTHON = ROOT / ".venv/bin/python"
DETENTE = ROOT / ".venv/bin/detente"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/test"
BENCH_DB = "detente_availability"
PASSWORD = "bench password, not secret"
SAMPLE = ROOT.parent / "shared/samples/scans/cyclonedx/log4j.json"

SETUP = """
import django
django.setup()
from detente.cli.common import ensure_database
ensure_database()
from detente.access import services as access
from detente.people.models import Role
from detente.people.services import person_upsert
eve = person_upsert(name="Eve", email="eve@example.org", role=Role.CISO)
access.account_set_password(person=eve, password={password!r})
for n in range({clients}):
    print(access.token_issue(actor=eve, person=eve, name=f"c{{n}}", scope="read", days=30)[1])
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def _report(findings: int) -> Path:
    path = OUT / f"large-{findings}.json"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        print(f"generating {path.name} …", flush=True)
        subprocess.run(
            [str(PYTHON), str(BENCH / "generate.py"), "large", str(findings), str(path)],
            check=True,
        )
    return path


class Clients:
    def __init__(self, url: str, tokens: list[str], sessions: list[requests.Session], think: float):
        self.url, self.tokens, self.sessions, self.think = url, tokens, sessions, think
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.requests = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def _one(self, client: int, step: int) -> None:
        kind = ("api", "findings page", "home page")[step % 3]
        session = self.sessions[client]
        started = time.perf_counter()
        try:
            if kind == "api":
                response = requests.get(
                    f"{self.url}/api/findings?limit=50",
                    headers={"Authorization": f"Bearer {self.tokens[client]}"},
                    timeout=30,
                )
            else:
                response = session.get(
                    f"{self.url}{'/findings' if kind == 'findings page' else '/'}",
                    timeout=30,
                )  # the home page sends each role to its own (the CISO's view)
            error = None if response.status_code == 200 else f"{kind} {response.status_code}"
        except requests.RequestException as exc:
            error = f"{kind} {type(exc).__name__}"
            if not self.errors[error]:
                print(f"first {error}: {exc}", file=sys.stderr, flush=True)
        took = time.perf_counter() - started
        with self.lock:
            self.requests += 1
            self.latencies.append(took)
            if error:
                self.errors[error] += 1

    def _run(self, client: int) -> None:
        rng = random.Random(client)
        time.sleep(rng.random() * self.think)
        step = client
        while not self.stop.is_set():
            self._one(client, step)
            step += 1
            self.stop.wait(self.think)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._run, args=(c,)) for c in range(len(self.tokens))]
        for thread in threads:
            thread.start()
        return threads


def _signed_in(url: str) -> requests.Session:
    session = requests.Session()
    # a connection per request, as the API clients: a kept-alive connection that the server
    # closes after its keep-alive time (2 s) just as the client reuses it is reset, and counted
    # as an error of the bench, not of the server (a browser retries such a request)
    session.headers["Connection"] = "close"
    session.get(f"{url}/login", timeout=60)
    signed = session.post(
        f"{url}/login",
        data={"email": "eve@example.org", "password": PASSWORD,
              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{url}/login"}, timeout=60, allow_redirects=False,
    )  # fmt: skip
    if signed.status_code != 302:
        raise SystemExit(f"sign-in failed: {signed.status_code}")
    return session


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run(args: argparse.Namespace) -> None:
    report = _report(args.findings)
    work = Path(tempfile.mkdtemp(prefix="detente-availability-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_AUDIT_KEY")}
    env |= {
        "DETENTE_DATA_DIR": str(work),
        "DETENTE_SECRET_KEY": "bench-only-not-secret",
        "DJANGO_SETTINGS_MODULE": "detente.config.settings",
    }
    server_url = args.pg_url.rsplit("/", 1)[0]
    if args.db == "postgres":
        _psql(args.pg_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        _psql(args.pg_url, f"CREATE DATABASE {BENCH_DB}")
        env["DATABASE_URL"] = f"{server_url}/{BENCH_DB}"
    server: subprocess.Popen[bytes] | None = None
    try:
        setup = SETUP.format(password=PASSWORD, clients=args.clients)
        done = subprocess.run(
            [str(PYTHON), "-c", setup], env=env, capture_output=True, text=True, check=True
        )
        tokens = done.stdout.split()
        subprocess.run(
            [str(DETENTE), "import", str(SAMPLE), "--asset", "seed"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        port = _port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(DETENTE), "serve", "--port", str(port), "--workers", "2", "--threads", "10"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(600):
            try:
                requests.get(f"{url}/login", timeout=60)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        sessions = [_signed_in(url) for _ in range(args.clients)]
        load_before = os.getloadavg()
        clients = Clients(url, tokens, sessions, args.think)
        threads = clients.start()
        started = time.perf_counter()
        importer = subprocess.Popen(
            [str(DETENTE), "import", str(report)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        _, status, usage = os.wait4(importer.pid, 0)
        wall = time.perf_counter() - started
        clients.stop.set()
        for thread in threads:
            thread.join()
        load_after = os.getloadavg()
        assert importer.stderr is not None
        failure = importer.stderr.read().decode(errors="replace").strip()
        code = os.waitstatus_to_exitcode(status)
        lat = clients.latencies
        print(f"db: {args.db}; findings: {args.findings:,}; clients: {args.clients}, "
              f"think {args.think} s")  # fmt: skip
        cpu = usage.ru_utime + usage.ru_stime
        told = "; " + failure[-300:] if code else ""
        print(f"import: exit {code}, wall {wall:.1f} s, CPU {cpu:.1f} s (user "
              f"{usage.ru_utime:.1f} + sys {usage.ru_stime:.1f}), max RSS "
              f"{usage.ru_maxrss / 1024:,.0f} MB{told}")  # fmt: skip
        print(f"requests: {clients.requests}, errors: {sum(clients.errors.values())} "
              f"{dict(clients.errors) if clients.errors else ''}")  # fmt: skip
        print(f"latency s: p50 {_percentile(lat, 0.5):.3f}, p95 {_percentile(lat, 0.95):.3f}, "
              f"p99 {_percentile(lat, 0.99):.3f}, max {max(lat, default=0):.3f}")  # fmt: skip
        print("load average before: " + ", ".join(f"{x:.2f}" for x in load_before)
              + "; after: " + ", ".join(f"{x:.2f}" for x in load_after))  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.db == "postgres":
            _psql(args.pg_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=1_000_000, help="findings imported")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between requests")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--pg-url", default=os.environ.get("DATABASE_URL", PG_DEFAULT),
        help=f"an existing database to connect through (it creates {BENCH_DB})",
    )  # fmt: skip
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])

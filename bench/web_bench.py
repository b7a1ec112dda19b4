"""Web and API figures with a large database (issue figures: list page and dashboards ≤ 300 ms
at the server, median of 20; API ≥ 300 finding-list requests/s with 20 concurrent clients).

    .venv/bin/python bench/web_bench.py --data /tmp/web-bench [--import FILE.json]

1. ``--import FILE``: a fresh SQLite database in DATA with KEV/EPSS and FILE imported (skip it to
   reuse DATA's database).
2. Server-side render time of /findings, /ciso, /cio, /me, /radar, /trends, /incidents and
   GET /api/findings in process (Django's test client, signed in), median and p95 of 20 after
   2 warm-up requests.
3. A real server (``detente serve``, gunicorn) on 127.0.0.1 and 20 client threads sending
   ``GET /api/findings?limit=50`` with a bearer token for 15 s: requests/s and errors.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DETENTE = ROOT / ".venv/bin/detente"


def run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([str(DETENTE), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(env: dict[str, str], source: Path | None) -> None:
    if source is None:
        return
    intel = ROOT / "bench/out/intel"
    run(["migrate"], env)
    run(["intel", "load", str(intel / "kev.json"), str(intel / "epss.csv")], env)
    started = time.perf_counter()
    run(["import", str(source)], env)
    print(f"imported {source.name} in {time.perf_counter() - started:.1f} s")


def in_process(env: dict[str, str]) -> tuple[str, str]:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detente.config.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client

    from detente.access.services import account_set_password, token_issue
    from detente.findings.models import Finding
    from detente.people.models import Person, Role
    from detente.people.services import person_upsert

    ciso = Person.objects.filter(email="bench-ciso@example.org").first() or person_upsert(
        name="Bench CISO", email="bench-ciso@example.org", role=Role.CISO
    )
    account_set_password(person=ciso, password="bench password 123")
    token = token_issue(actor=ciso, person=ciso, name="bench", scope="read", days=1)[1]
    client = Client()
    ciso.refresh_from_db()
    assert ciso.user is not None
    client.force_login(ciso.user)
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    total = Finding.objects.count()
    print(f"\nfindings in the database: {total:,}")
    print("| page | first (cold) ms | median ms | p95 ms |\n|---|---|---|---|")
    cache.clear()  # the first request computes the dashboards' cached figures
    for url in (
        "/findings",
        "/findings?exploited=1",
        "/ciso",
        "/cio",
        "/me",
        "/radar",
        "/trends",
        "/incidents",
        "/api/findings?limit=50",
    ):
        timings = []
        for _ in range(22):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            timings.append(elapsed)
        cold, timings = timings[0], sorted(timings[2:])
        print(
            f"| {url} | {cold:.0f} | {statistics.median(timings):.0f} | "
            f"{timings[int(len(timings) * 0.95) - 1]:.0f} |"
        )
    return token, str(total)


def wrk(token: str, port: int, clients: int, seconds: float) -> None:
    """The load from wrk (C, two threads): the client costs little of the two cores."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--latency",
         "-H", f"Authorization: Bearer {token}",
         f"http://127.0.0.1:{port}/api/findings?limit=50"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    print(
        f"\nAPI load (wrk, {clients} connections, {seconds:.0f} s): "
        f"{float(rate.group(1)) if rate else 0:.0f} requests/s, latency p50 "
        f"{p50.group(1) if p50 else '?'} p99 {p99.group(1) if p99 else '?'}, "
        f"non-2xx {non_2xx.group(1) if non_2xx else 0}, "
        f"socket errors: {socket_errors.group(1) if socket_errors else 'none'}"
    )


def load(
    env: dict[str, str], token: str, port: int, clients: int, seconds: float,
    workers: int, threads: int,
) -> None:  # fmt: skip
    server = subprocess.Popen(
        [str(DETENTE), "serve", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/login")
                break
            except OSError:
                time.sleep(0.2)
        if shutil.which("wrk"):
            wrk(token, port, clients, seconds)
            return
        done = 0
        errors = 0
        lock = threading.Lock()
        stop = time.perf_counter() + seconds

        def worker() -> None:
            nonlocal done, errors
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while time.perf_counter() < stop:
                try:
                    conn.request("GET", "/api/findings?limit=50",
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except OSError:
                    ok = False
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                with lock:
                    done += ok
                    errors += not ok

        client_threads = [threading.Thread(target=worker) for _ in range(clients)]
        started = time.perf_counter()
        for thread in client_threads:
            thread.start()
        for thread in client_threads:
            thread.join()
        elapsed = time.perf_counter() - started
        print(f"\nAPI load: {clients} clients, {elapsed:.1f} s: {done / elapsed:.0f} requests/s, "
              f"{errors} errors")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--import", dest="source", type=Path)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--pg-url", help="a PostgreSQL database to use instead of DATA's SQLite file"
    )
    args = parser.parse_args()
    env = dict(
        os.environ, DETENTE_DATA_DIR=str(args.data), DETENTE_SECRET_KEY="bench",
        DETENTE_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DETENTE_API_RATE_PER_MINUTE="0",  # one token, 20 clients: measure the server, not the limit
    )  # fmt: skip
    env.pop("DATABASE_URL", None)
    if args.pg_url:
        env["DATABASE_URL"] = args.pg_url
    if args.port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    if args.source:
        prepare(env, args.source)
    token, _ = in_process(env)
    load(env, token, args.port, args.clients, args.seconds, args.workers, args.threads)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Web and API figures with a large database (issue figures: list page and dashboards ≤ 300 ms
at the server, median of 20; API ≥ 300 finding-list requests/s with 20 concurrent clients).

    .venv/bin/python bench/web_bench.py --data /tmp/web-bench [--import FILE.json]

1. ``--import FILE``: a fresh SQLite database in DATA with KEV/EPSS and FILE imported (skip it to
   reuse DATA's database).
2. Server-side render time of /findings, /ciso, /cio and GET /api/findings in process (Django's
   test client, signed in), median and p95 of 20 after 2 warm-up requests.
3. A real server (``detente serve``, gunicorn) on 127.0.0.1 and 20 client threads sending
   ``GET /api/findings?limit=50`` with a bearer token for 15 s: requests/s and errors.
"""

from __future__ import annotations

import argparse
import http.client
import os
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
    print("| page | median ms | p95 ms |\n|---|---|---|")
    for url in ("/findings", "/findings?exploited=1", "/ciso", "/cio", "/api/findings?limit=50"):
        timings = []
        for attempt in range(22):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if attempt >= 2:
                timings.append(elapsed)
        timings.sort()
        print(
            f"| {url} | {statistics.median(timings):.0f} | "
            f"{timings[int(len(timings) * 0.95) - 1]:.0f} |"
        )
    return token, str(total)


def load(env: dict[str, str], token: str, port: int, clients: int, seconds: float) -> None:
    server = subprocess.Popen(
        [str(DETENTE), "serve", "--port", str(port), "--workers", "2", "--threads", "8"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/login")
                break
            except OSError:
                time.sleep(0.2)
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

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
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
    args = parser.parse_args()
    env = dict(
        os.environ, DETENTE_DATA_DIR=str(args.data), DETENTE_SECRET_KEY="bench",
        DETENTE_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
    )  # fmt: skip
    env.pop("DATABASE_URL", None)
    if args.port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    if args.source:
        prepare(env, args.source)
    token, _ = in_process(env)
    load(env, token, args.port, args.clients, args.seconds)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

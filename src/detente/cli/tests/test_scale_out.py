"""Scale-out on existing engines (docs/deployment.md): PostgreSQL, two ``detente serve``
processes answering the same data, and ``detente worker`` processes sharing a Redis queue through
django-tasks' RQ backend. A worker killed mid-job: the job is retried once by another worker and
no notification is delivered twice.

Everything runs as the installed ``detente`` in subprocesses, against a database of its own
(created and dropped here) and a Redis database of its own. Skipped, saying why, when PostgreSQL
or Redis is not reachable.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DETENTE = Path(sys.executable).with_name("detente")
PG_ADMIN = os.environ.get("DETENTE_SCALE_PG", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("DETENTE_SCALE_REDIS", "redis://127.0.0.1:6379")
MESSAGES = 5
HELD = 3  # the receiver holds the third POST open until the worker sending it is killed


def _postgres() -> Any:
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN} ({exc}); set DETENTE_SCALE_PG")


def _redis(url: str) -> Any:
    redis = pytest.importorskip(
        "redis", reason="the RQ backend is not installed (pip install .[scale])"
    )
    pytest.importorskip("django_tasks_rq", reason="django-tasks-rq is not installed")
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_BASE} ({exc}); set DETENTE_SCALE_REDIS")
    return client


@dataclass
class Receiver:
    """A webhook receiver on loopback that keeps each POST's Idempotency-Key."""

    url: str = ""
    posted: list[str] = field(default_factory=list)  # every key, in order of arrival
    accepted: list[str] = field(default_factory=list)  # keys answered 2xx
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                state.posted.append(key)
                held = len(state.posted) == HELD
            if held:
                # The worker dies while this request is open; the receiver never commits it
                # (as a proxy drops a request whose client went away).
                state.holding.set()
                state.release.wait(120)
                status = 503
            else:
                status = 200
                with lock:
                    state.accepted.append(key)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Site:
    env: dict[str, str]
    redis: Any
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        handle = log.open("ab")
        process = subprocess.Popen(
            [str(DETENTE), *args], env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def python(self, code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], env=self.env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout


def _kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)  # the whole group, as systemd stops a unit's cgroup
        process.wait(30)


@pytest.fixture
def site(tmp_path: Path, receiver: Receiver) -> Iterator[Site]:
    admin = _postgres()
    redis_db = random.randint(1, 15)
    redis_url = f"{REDIS_BASE}/{redis_db}"
    client = _redis(redis_url)
    name = f"detente_scale_{os.getpid()}_{random.randint(0, 99999)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))}
    env |= {
        "DATABASE_URL": f"{base}/{name}",
        "DETENTE_DATA_DIR": str(tmp_path / "data"),
        "DETENTE_SECRET_KEY": "test-only-not-secret",
        "DETENTE_TASKS_BACKEND": "rq",
        "DETENTE_REDIS_URL": redis_url,
        "DETENTE_RQ_JOB_TIMEOUT": "20",
        "DETENTE_RQ_GRACE": "1",
        "DETENTE_OUTBOX_LEASE_SECONDS": "2",
        "DETENTE_WEBHOOKS": json.dumps([{"url": receiver.url, "events": ["scale.check"]}]),
        "DJANGO_SETTINGS_MODULE": "detente.config.settings",
    }
    client.flushdb()
    state = Site(env=env, redis=client)
    try:
        yield state
    finally:
        for process in state.processes:
            _kill(process)
        client.flushdb()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


SETUP = """
import sys, django
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", interactive=False, verbosity=0)
from detente.access.services import token_issue
from detente.findings.importer import ImportOptions
from detente.findings.services import scan_import
from detente.notifications.services import notify
from detente.people.models import Role
from detente.people.services import person_upsert
ciso = person_upsert(name="Scale CISO", email="ciso@example.org", role=Role.CISO)
from pathlib import Path
scan_import(paths=[Path(sys.argv[1])], options=ImportOptions())
with transaction.atomic():
    for n in range(1, {messages} + 1):
        notify(event="scale.check", title=f"message {{n}}", text="t", people=[], facts={{"n": n}})
print(token_issue(actor=ciso, person=ciso, name="scale", scope="read")[1])
"""

OUTBOX = """
import json, django
django.setup()
from detente.notifications.models import OutboxMessage
rows = OutboxMessage.objects.filter(event="scale.check").order_by("id")
print(json.dumps([[m.pk, m.status, m.attempts] for m in rows]))
"""


def _wait(what: str, ready: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status), response.read()


def _serving(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_two_servers_and_workers_on_redis_survive_a_killed_worker(
    site: Site, receiver: Receiver, tmp_path: Path, samples: Path
) -> None:
    from rq.job import Job, JobStatus
    from rq.queue import Queue
    from rq.registry import StartedJobRegistry

    zap = samples / "scans/zap/0_zap_sample.xml"
    done = subprocess.run(
        [sys.executable, "-c", SETUP.format(messages=MESSAGES), str(zap)], env=site.env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    token = done.stdout.strip().splitlines()[-1]

    # Two servers on one database: each answers the same data.
    ports = [_free_port(), _free_port()]
    for port in ports:
        site.start("serve", "--port", str(port), "--workers", "1", "--threads", "2",
                   log=tmp_path / f"serve-{port}.log")  # fmt: skip

    # Worker A takes the round: it queues the jobs and starts delivering; the receiver holds
    # the third message open. Then A is killed, its whole process group, mid-job.
    first = site.start("worker", "--interval", "1", log=tmp_path / "worker-a.log")
    _wait("worker A to post the held message", receiver.holding.is_set, 240)
    queue = Queue("default", connection=site.redis)
    started = [
        Job.fetch(job_id, connection=site.redis)
        for job_id in StartedJobRegistry(queue=queue).get_job_ids()
    ]
    killed = [job for job in started if (job.func_name or "").endswith("deliver_outbox")]
    assert len(killed) == 1, [job.func_name for job in started]
    job = killed[0]
    assert job.retries_left == 1
    _kill(first)
    receiver.release.set()
    assert receiver.accepted == receiver.posted[: HELD - 1]  # two delivered before the kill

    # Two workers share the queue from now on.
    for name in ("b", "c"):
        site.start("worker", "--interval", "1", log=tmp_path / f"worker-{name}.log")

    def retried_and_delivered() -> bool:
        job.refresh()  # type: ignore[no-untyped-call]
        return job.get_status() == JobStatus.FINISHED and len(set(receiver.accepted)) == MESSAGES

    _wait("the killed job's retry and every message delivered", retried_and_delivered, 240)

    # The job was retried exactly once, by another worker.
    assert job.retries_left == 0
    # Nothing was delivered twice: each message accepted once; those delivered before the kill
    # were never posted again (marked sent); only the one in flight at the kill was re-posted.
    assert Counter(receiver.accepted) == dict.fromkeys(set(receiver.accepted), 1)
    before_kill = receiver.posted[: HELD - 1]
    counts = Counter(receiver.posted)
    assert all(counts[key] == 1 for key in before_kill)
    assert counts[receiver.posted[HELD - 1]] == 2
    outbox = json.loads(site.python(OUTBOX))
    assert [status for _, status, _ in outbox] == ["sent"] * MESSAGES
    assert sorted(f"detente-outbox-{pk}" for pk, _, _ in outbox) == sorted(receiver.accepted)

    # Both servers: up, and the same answer whichever one a request reaches.
    for port in ports:
        _wait(f"detente serve on port {port}", partial(_serving, port), 240)
    answers = [
        _get(f"http://127.0.0.1:{ports[i % 2]}/api/findings?limit=50", token) for i in range(10)
    ]
    assert {status for status, _ in answers} == {200}
    bodies = {body for _, body in answers}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["items"]

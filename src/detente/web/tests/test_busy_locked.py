"""A real write lock on the SQLite file (``BEGIN IMMEDIATE`` held by another connection, as a long
import holds it) against the installed ``detente serve``: reads answer, bookkeeping writes skip,
a write that truly waits gives up after the bounded busy timeout with a 503 and ``Retry-After``
(JSON on the API, a page on the web), never a 500; a CLI import waits its turn and then succeeds.

No patching: the server, the lock and the import are real processes on one database file."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from detente.findings.tests.parity import SAMPLES

DETENTE = str(Path(sys.executable).with_name("detente"))
BUSY_MS = 1500  # the server's bounded wait for the lock (10 s by default)
PASSWORD = "correct horse battery staple"
ZOE = {"version": 1, "people": [{"email": "zoe@example.org", "name": "Zoe", "role": "engineer"}]}

SETUP = f"""
from detente.cli.common import ensure_database
ensure_database()
from detente.access import services as access
from detente.people.models import Role
from detente.people.services import person_upsert
eve = person_upsert(name="Eve", email="eve@example.org", role=Role.CISO)
access.account_set_password(person=eve, password={PASSWORD!r})
for scope in ("read", "write"):
    print(access.token_issue(actor=eve, person=eve, name=scope, scope=scope, days=30)[1])
"""


@dataclass
class Server:
    url: str
    data: Path
    env: dict[str, str]
    read_token: str
    write_token: str

    @property
    def database(self) -> Path:
        return self.data / "detente.sqlite3"

    @contextmanager
    def write_lock(self) -> Iterator[sqlite3.Connection]:
        """Hold SQLite's write lock from another connection, as an import's transaction does."""
        db = sqlite3.connect(self.database, isolation_level=None, timeout=30)
        db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TABLE IF NOT EXISTS held_by_test (x INTEGER)")
        try:
            yield db
        finally:
            db.execute("ROLLBACK")
            db.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("locked")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_AUDIT_KEY")}
    env |= {
        "DETENTE_DATA_DIR": str(data),
        "DETENTE_SECRET_KEY": "test-only-not-secret",
        "DETENTE_SQLITE_BUSY_TIMEOUT_MS": str(BUSY_MS),
        "DJANGO_SETTINGS_MODULE": "detente.config.settings",
    }
    setup = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SETUP],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    read_token, write_token = setup.stdout.split()
    report = str(SAMPLES / "scans/cyclonedx/log4j.json")
    imported = subprocess.run(
        [DETENTE, "import", report, "--asset", "pay"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    port = _port()
    process = subprocess.Popen(
        [DETENTE, "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/login", timeout=60)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield Server(url, data, env, read_token, write_token)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _signed_in(server: Server) -> requests.Session:
    session = requests.Session()
    session.get(f"{server.url}/login", timeout=30)
    signed = session.post(
        f"{server.url}/login",
        data={"email": "eve@example.org", "password": PASSWORD,
              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{server.url}/login"}, timeout=30, allow_redirects=False,
    )  # fmt: skip
    assert signed.status_code == 302, signed.text
    return session


def test_api_reads_answer_while_the_write_lock_is_held(server: Server) -> None:
    # given a token never used (its last-used time wants a write) and the lock held
    with server.write_lock():
        started = time.monotonic()
        response = requests.get(
            f"{server.url}/api/findings",
            headers={"Authorization": f"Bearer {server.read_token}"}, timeout=30,
        )  # fmt: skip
        took = time.monotonic() - started
    # then the read answers, without waiting out the busy timeout
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 8
    assert took < BUSY_MS / 1000


def test_pages_answer_to_a_signed_in_reader_while_the_lock_is_held(server: Server) -> None:
    session = _signed_in(server)
    with server.write_lock():
        pages = {path: session.get(f"{server.url}{path}", timeout=30) for path in
                 ("/findings", "/decisions", "/ciso")}  # fmt: skip
    assert {path: r.status_code for path, r in pages.items()} == dict.fromkeys(pages, 200)


def test_a_sign_in_answers_while_the_lock_is_held(server: Server) -> None:
    session = requests.Session()
    session.get(f"{server.url}/login", timeout=30)
    with server.write_lock():
        answers = [
            session.post(
                f"{server.url}/login",
                data={
                    "email": "eve@example.org",
                    "password": password,
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={"Referer": f"{server.url}/login"},
                timeout=30,
                allow_redirects=False,
            )
            for password in ("wrong password", PASSWORD)
        ]
    for answer in answers:
        assert answer.status_code != 500, answer.text
        if answer.status_code == 503:  # a write it had to make waited its bounded time
            assert answer.headers["Retry-After"] == "5"
            assert "<h1>Busy</h1>" in answer.text
    # the right password signs in (302), or is told to come back (503), never an error page
    assert answers[1].status_code in (302, 503)


def test_an_api_write_that_waits_gets_json_503_with_retry_after(server: Server) -> None:
    with server.write_lock():
        started = time.monotonic()
        response = requests.post(
            f"{server.url}/api/org/apply",
            json=ZOE,
            headers={"Authorization": f"Bearer {server.write_token}"}, timeout=60,
        )  # fmt: skip
        took = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "busy"
    assert took >= BUSY_MS / 1000 * 0.9  # it waited its bounded time, then gave up
    # and once the lock is released, the same write goes through
    again = requests.post(
        f"{server.url}/api/org/apply",
        json=ZOE,
        headers={"Authorization": f"Bearer {server.write_token}"}, timeout=60,
    )  # fmt: skip
    assert again.status_code == 200, again.text


def test_a_page_write_that_waits_gets_the_busy_page(server: Server) -> None:
    session = _signed_in(server)
    with server.write_lock():
        response = session.post(
            f"{server.url}/logout",
            data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{server.url}/findings"}, timeout=60, allow_redirects=False,
        )  # fmt: skip
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert "<h1>Busy</h1>" in response.text


def test_a_cli_import_waits_for_the_lock_and_then_succeeds(server: Server, samples: Path) -> None:
    report = str(samples / "scans/cyclonedx/log4j.json")
    with server.write_lock():
        waiting = subprocess.Popen(
            [DETENTE, "import", report, "--asset", "later"],
            env=server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert waiting.stderr is not None
        assert waiting.stderr.readline().strip() == "waiting for another import to finish…"
        time.sleep(BUSY_MS / 1000 * 2)  # longer than the busy timeout: it still waits
        assert waiting.poll() is None
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "8 parsed, 8 new" in out

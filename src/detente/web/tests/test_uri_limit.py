"""A huge query string is a clean 414 (URI too long): the API's error model on /api/, the error
page on the web; under ``detente serve`` a request line past gunicorn's own limit is still a 414
(docs/web-and-api.md)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from detente.people.models import Person
from detente.web.tests.test_headers import _client, ciso  # noqa: F401 - fixture

DETENTE = Path(sys.executable).with_name("detente")


@pytest.mark.django_db
def test_a_query_string_over_the_limit_is_414_on_the_api_and_the_web(
    ciso: Person,  # noqa: F811
    settings: Any,
) -> None:
    client = _client(ciso)
    huge = "q=" + "x" * 5000
    api = client.get(f"/api/findings?{huge}")
    assert api.status_code == 414
    assert api.json()["error"]["code"] == "uri_too_long"
    assert (
        "5002 bytes, over the 4096 byte limit (DETENTE_MAX_QUERY_BYTES)"
        in (api.json()["error"]["message"])
    )
    page = client.get(f"/findings?{huge}")
    assert page.status_code == 414
    assert page["Content-Type"].startswith("text/html")
    assert "over the 4096 byte limit" in page.content.decode()

    settings.DETENTE_MAX_QUERY_BYTES = 8000
    assert client.get(f"/api/findings?{huge}").status_code != 414


def _raw_get(port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_detente_serve_answers_414_below_and_above_gunicorns_line_limit(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))}
    env |= {"DETENTE_DATA_DIR": str(tmp_path), "DETENTE_SECRET_KEY": "test-only-not-secret"}
    server = subprocess.Popen(
        [str(DETENTE), "serve", "--port", str(port), "--workers", "1", "--threads", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("detente serve did not start")
                time.sleep(0.3)
        # Over DETENTE_MAX_QUERY_BYTES, within gunicorn's line: the app's JSON 414.
        answer = _raw_get(port, "/api/findings?q=" + "x" * 6000)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414 ")
        assert b'"code": "uri_too_long"' in body
        # Past gunicorn's request-line limit (8190): gunicorn's own 414, never a 500.
        answer = _raw_get(port, "/api/findings?q=" + "x" * 9000)
        assert answer.startswith(b"HTTP/1.1 414 ")
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)

"""The witness webhook: each anchor ``(seq, hash, time)`` POSTed to a real loopback HTTP server,
signed so the receiver can check it; a receiver that is down gets the newest anchor later."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from detente.audit.services import audit_record
from detente.audit.witness import SIGNATURE_HEADER, witness_anchor, witness_read
from detente.core.errors import InputError

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-receiver"


@dataclass
class Receiver:
    url: str
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answer: int = 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/anchors?token=x"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hooked(settings: Any, receiver: Receiver) -> Receiver:
    settings.DETENTE_WITNESS_WEBHOOK_URL = receiver.url
    settings.DETENTE_WITNESS_WEBHOOK_SECRET = SECRET
    return receiver


def _events(count: int) -> None:
    for i in range(count):
        audit_record(actor=None, verb="thing.done", subject_type="thing", subject_id=i, after={})


def _verified(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What a receiver does: recompute the HMAC of the raw body, compare in constant time."""
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], expected)
    anchor: dict[str, Any] = json.loads(body)
    return anchor


def test_each_anchor_is_posted_signed_and_matches_the_witness_file(hooked: Receiver) -> None:
    _events(3)
    first = witness_anchor()
    _events(2)
    second = witness_anchor()

    assert first is not None
    assert second is not None
    anchors = [_verified(headers, body) for headers, body in hooked.posts]
    assert anchors == [{"seq": e.seq, "hash": e.hash, "at": e.at} for e in witness_read()]
    assert [a["seq"] for a in anchors] == [first.seq, second.seq]
    assert hooked.posts[0][0]["content-type"] == "application/json"


def test_a_forged_body_fails_the_signature_check(hooked: Receiver) -> None:
    _events(1)
    witness_anchor()
    headers, body = hooked.posts[0]
    forged = body.replace(b'"seq":', b'"seq":9')
    expected = "sha256=" + hmac.new(SECRET.encode(), forged, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], expected)


def test_nothing_new_is_not_posted_again(hooked: Receiver) -> None:
    _events(2)
    witness_anchor()
    witness_anchor()
    assert len(hooked.posts) == 1


def test_a_receiver_that_was_down_gets_the_newest_anchor_next_round(hooked: Receiver) -> None:
    hooked.answer = 503
    _events(2)
    witness_anchor()  # refused: the witness file has it, the receiver does not
    hooked.answer = 200
    witness_anchor()  # head unchanged: the same anchor again, now accepted
    _events(1)
    witness_anchor()
    seqs = [_verified(h, b)["seq"] for h, b in hooked.posts]
    head = witness_read()[-1].seq
    assert seqs == [head - 1, head - 1, head]


def test_an_unreachable_receiver_does_not_stop_the_witness_file(
    settings: Any, hooked: Receiver
) -> None:
    settings.DETENTE_WITNESS_WEBHOOK_URL = "http://127.0.0.1:9/closed"
    _events(1)
    entry = witness_anchor()
    assert entry is not None
    assert witness_read()[-1] == entry


def test_a_webhook_without_a_secret_is_refused_by_name(settings: Any, hooked: Receiver) -> None:
    settings.DETENTE_WITNESS_WEBHOOK_SECRET = ""
    _events(1)
    with pytest.raises(InputError) as refused:
        witness_anchor()
    assert "DETENTE_WITNESS_WEBHOOK_SECRET" in str(refused.value)
    assert hooked.posts == []

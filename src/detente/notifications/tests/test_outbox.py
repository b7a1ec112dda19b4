"""The outbox against a real SMTP server and a real HTTP receiver on loopback."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.db import transaction
from pytest_django.fixtures import Settings

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import InputError, RuleViolation
from detente.notifications.channels import redact_url, webhooks_configured
from detente.notifications.models import ALLOWED, Channel, OutboxMessage, OutboxStatus
from detente.notifications.services import _move, notify, outbox_deliver
from detente.notifications.tests.servers import free_port, http_receiver, smtp_server
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
FACTS: dict[str, object] = {"acceptance": "RA-12", "expires_at": "2026-11-12", "findings": 2}


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.set_now(NOW)


@pytest.fixture
def people() -> list[Person]:
    return [
        person_upsert(name="Carla CISO", email="carla@example.org", role=Role.CISO),
        person_upsert(name="Ivo CIO", email="Ivo@Example.org", role=Role.CIO),
    ]


def _notify(people: list[Person], event: str = "acceptance.expiring") -> list[OutboxMessage]:
    return notify(
        event=event, title="RA-12 expires in 7 days", text="Renew it or fix the findings.",
        people=people, facts=FACTS,
    )  # fmt: skip


# ------------------------------------------------------------------ queueing


def test_notify_queues_one_email_per_person_and_one_post_per_wanting_webhook(
    settings: Settings, people: list[Person]
) -> None:
    settings.DETENTE_WEBHOOKS = json.dumps(
        [
            {"url": "https://hooks.example/a?token=s3cret", "kind": "slack"},
            {"url": "https://hooks.example/b", "kind": "generic", "events": ["other.event"]},
            {"url": "https://hooks.example/c", "kind": "teams", "events": ["acceptance.expiring"]},
        ]
    )
    dormant = person_upsert(name="Old", email="old@example.org", role=Role.CISO)
    Person.objects.filter(pk=dormant.pk).update(active=False)
    dormant.refresh_from_db()

    messages = _notify([*people, people[0], dormant])

    rows = list(OutboxMessage.objects.order_by("id").values_list("channel", "target", "kind"))
    assert rows == [
        (Channel.EMAIL, "carla@example.org", ""),
        (Channel.EMAIL, "ivo@example.org", ""),
        (Channel.WEBHOOK, "https://hooks.example/a?token=s3cret", "slack"),
        (Channel.WEBHOOK, "https://hooks.example/c", "teams"),
    ]
    assert [m.pk for m in messages] == list(
        OutboxMessage.objects.order_by("id").values_list("id", flat=True)
    )
    first = OutboxMessage.objects.order_by("id").first()
    assert first is not None
    assert first.status == OutboxStatus.PENDING
    assert (first.attempts, first.next_attempt_at, first.created_at) == (0, NOW, NOW)
    assert first.subject == "RA-12 expires in 7 days"
    assert first.body == (
        "Renew it or fix the findings.\n\nacceptance: RA-12\nexpires_at: 2026-11-12\n"
        "findings: 2\n\n-- \nDétente"
    )
    event = AuditEvent.objects.get(verb="notification.queued")
    assert event.after == {
        "event": "acceptance.expiring", "title": "RA-12 expires in 7 days",
        "emails": 2, "webhooks": 2,
    }  # fmt: skip
    assert "s3cret" not in json.dumps(event.after)


def test_a_rolled_back_change_leaves_no_outbox_row(people: list[Person]) -> None:
    class Boom(Exception):
        pass

    def change_that_fails() -> None:
        with transaction.atomic():
            _notify(people)
            assert OutboxMessage.objects.count() == 2
            raise Boom

    with pytest.raises(Boom):
        change_that_fails()

    assert OutboxMessage.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="notification.queued").exists()
    assert outbox_deliver().attempted == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not JSON"),
        ('{"url": "https://x"}', "expected a JSON list"),
        ('[{"kind": "slack"}]', "each webhook needs a url"),
        ('[{"url": "file:///etc/passwd"}]', r"is not an http\(s\) URL"),
        ('[{"url": "https://x.example", "kind": "irc"}]', "unknown kind 'irc'"),
        ('[{"url": "https://x.example", "events": "a"}]', "events is a list"),
    ],
)
def test_bad_webhook_configuration_is_refused(raw: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        webhooks_configured(raw)


def test_transition_table_is_walked_exhaustively() -> None:
    for start in OutboxStatus.values:
        for end in OutboxStatus.values:
            msg = OutboxMessage(status=start)
            if end in ALLOWED[start]:
                _move(msg, end)
                assert msg.status == end
            else:
                with pytest.raises(RuleViolation):
                    _move(msg, end)
                assert msg.status == start


# ------------------------------------------------------------------ e-mail


def test_email_is_delivered_over_real_smtp_with_login_and_no_password_in_logs(
    settings: Settings, people: list[Person], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(user="mailer", password="pa55-w0rd") as server:
        settings.DETENTE_SMTP_HOST = server.host
        settings.DETENTE_SMTP_PORT = server.port
        settings.DETENTE_SMTP_USER = "mailer"
        settings.DETENTE_SMTP_PASSWORD = "pa55-w0rd"
        settings.DETENTE_SMTP_FROM = "detente@example.org"
        settings.DETENTE_SMTP_STARTTLS = False
        _notify(people)
        report = outbox_deliver()

    assert len(report.sent) == 2
    assert (report.retrying, report.failed) == ([], [])
    assert server.mailbox.logins == ["mailer"]
    received = sorted(server.mailbox.messages, key=lambda m: m[1])
    assert [(sender, to) for sender, to, _ in received] == [
        ("detente@example.org", ["carla@example.org"]),
        ("detente@example.org", ["ivo@example.org"]),
    ]
    mail = received[0][2]
    assert mail["Subject"] == "RA-12 expires in 7 days"
    assert mail["To"] == "carla@example.org"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert body.decode().splitlines()[:5] == [
        "Renew it or fix the findings.", "", "acceptance: RA-12", "expires_at: 2026-11-12",
        "findings: 2",
    ]  # fmt: skip
    assert set(OutboxMessage.objects.values_list("status", "attempts", "sent_at")) == {
        (OutboxStatus.SENT, 1, NOW)
    }
    assert "pa55-w0rd" not in caplog.text
    assert "pa55-w0rd" not in json.dumps(list(AuditEvent.objects.values_list("after", flat=True)))
    # Nothing is due any more.
    assert outbox_deliver().attempted == 0


def test_an_unreachable_smtp_server_schedules_a_retry(
    settings: Settings, people: list[Person]
) -> None:
    settings.DETENTE_SMTP_HOST = "127.0.0.1"
    settings.DETENTE_SMTP_PORT = free_port()  # nobody listens
    settings.DETENTE_SMTP_PASSWORD = "pa55-w0rd"
    _notify(people[:1])

    report = outbox_deliver()

    message = OutboxMessage.objects.get()
    assert report.retrying == [message.pk]
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert message.last_error.startswith("SMTP ConnectionRefusedError")


# ------------------------------------------------------------------ webhooks


def test_webhooks_deliver_generic_slack_and_teams_payloads(
    settings: Settings, people: list[Person]
) -> None:
    with http_receiver(200) as receiver:
        settings.DETENTE_WEBHOOKS = json.dumps(
            [
                {"url": f"{receiver.url}/generic", "kind": "generic"},
                {"url": f"{receiver.url}/slack?token=xyz", "kind": "slack"},
                {"url": f"{receiver.url}/teams", "kind": "teams"},
                {"url": f"{receiver.url}/legacy", "kind": "teams_messagecard"},
            ]
        )
        _notify([])
        clock.set_now(NOW + dt.timedelta(seconds=5))
        report = outbox_deliver()

    assert len(report.sent) == 4
    got = {r.path: r for r in receiver.requests}
    assert set(got) == {"/generic", "/slack?token=xyz", "/teams", "/legacy"}
    assert got["/generic"].headers["Content-Type"] == "application/json; charset=utf-8"
    assert got["/generic"].body == {
        "event": "acceptance.expiring",
        "title": "RA-12 expires in 7 days",
        "text": "Renew it or fix the findings.",
        "facts": FACTS,
        "sent_at": "2026-11-02T09:00:05Z",
    }
    slack = got["/slack?token=xyz"].body
    assert slack["text"] == "RA-12 expires in 7 days: Renew it or fix the findings."
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "section", "context"]
    assert slack["blocks"][2]["fields"][0] == {"type": "mrkdwn", "text": "*acceptance*\nRA-12"}
    teams = got["/teams"].body
    assert teams["type"] == "message"
    card = teams["attachments"][0]["content"]
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "RA-12 expires in 7 days"
    assert card["body"][2]["facts"] == [
        {"title": "acceptance", "value": "RA-12"},
        {"title": "expires_at", "value": "2026-11-12"},
        {"title": "findings", "value": "2"},
    ]
    legacy = got["/legacy"].body
    assert (legacy["@type"], legacy["title"]) == ("MessageCard", "RA-12 expires in 7 days")
    assert legacy["sections"][0]["facts"][2] == {"name": "findings", "value": "2"}


def test_a_failing_receiver_is_retried_with_backoff_then_marked_failed(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with http_receiver(500) as receiver:
        url = f"{receiver.url}/hook/T000/B000/secret-path?token=query-secret"
        settings.DETENTE_WEBHOOKS = json.dumps([{"url": url}])
        _notify([])
        message = OutboxMessage.objects.get()
        waits = []
        for attempt in range(1, 9):
            report = outbox_deliver()
            message.refresh_from_db()
            assert message.attempts == attempt
            if attempt < 8:
                assert report.retrying == [message.pk]
                assert message.status == OutboxStatus.PENDING
                wait = message.next_attempt_at - clock.now()
                waits.append(int(wait.total_seconds() // 60))
                # Not due a moment before its time.
                clock.set_now(message.next_attempt_at - dt.timedelta(seconds=1))
                assert outbox_deliver().attempted == 0
                clock.set_now(message.next_attempt_at)
            else:
                assert report.failed == [message.pk]
        assert len(receiver.requests) == 8

    assert waits == [1, 2, 4, 8, 16, 32, 64]
    assert message.status == OutboxStatus.FAILED
    assert message.sent_at is None
    assert message.last_error == f"HTTP 500 from {redact_url(url)}"
    assert redact_url(url).endswith("/…")
    # Later rounds leave a failed message alone.
    clock.advance(dt.timedelta(days=1))
    assert outbox_deliver().attempted == 0
    for secret in ("secret-path", "query-secret"):
        assert secret not in caplog.text
        assert secret not in message.last_error
    assert AuditEvent.objects.filter(verb="notification.delivered").last().after == {  # type: ignore[union-attr]
        "sent": 0, "retrying": 0, "failed": [message.pk],
    }  # fmt: skip


def test_an_unreachable_webhook_is_retried_and_the_url_not_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}/x?token=hidden"
    settings.DETENTE_WEBHOOKS = json.dumps([{"url": url}])
    _notify([])

    report = outbox_deliver()

    message = OutboxMessage.objects.get()
    assert report.retrying == [message.pk]
    assert "hidden" not in message.last_error
    assert "hidden" not in caplog.text

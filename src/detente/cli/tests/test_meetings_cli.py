"""``detente meeting …``, ``detente reset …`` and the radar's action state, end to end."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from detente.cli import main as cli_main
from detente.core import clock
from detente.decisions.models import DecisionStatus
from detente.meetings.models import Meeting, MeetingStatus, ResetEngagement
from detente.meetings.tests.conftest import NOW, Org, both_answer_pulse, make_amber, make_org
from detente.tension.models import TensionSnapshot

DETENTE = Path(sys.executable).with_name("detente")


@pytest.fixture
def org(db: None) -> Org:
    return make_org()


@pytest.fixture
def amber(org: Org) -> TensionSnapshot:
    return make_amber(org)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        cli_main.run(list(argv))
    out, err = capsys.readouterr()
    # Rich wraps at the terminal's width: compare words, not line breaks.
    return (
        int(caught.value.code or 0),
        out if out.lstrip()[:1] in "[{" else " ".join(out.split()),
        err,
    )


def test_propose_schedule_minute_and_the_radar_shows_the_follow_through(
    org: Org, amber: TensionSnapshot, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    os.environ.pop("DETENTE_ACTOR", None)
    code, out, err = _run(capsys, "meeting", "propose")
    assert (code, err) == (0, "")
    meeting = Meeting.objects.get()
    assert f"M-{meeting.pk} proposed for the 2026-11 radar (amber)" in out
    invite = tmp_path / "invite.ics"
    code, out, err = _run(
        capsys,
        "meeting",
        "schedule",
        str(meeting.pk),
        "--at",
        "2026-11-23T10:00+01:00",
        "--delegate",
        "security_lead@example.org",
        "--ics",
        str(invite),
        "--as",
        "cio@example.org",
    )
    assert (code, err) == (0, "")
    assert "scheduled for 2026-11-23 09:00 UTC (sequence 0), 3 attendee(s)" in out
    event = Calendar.from_ical(invite.read_bytes()).walk("VEVENT")[0]
    assert len(event.get("attendee", [])) == 3
    # a move without a reason is bad input: exit 2, nothing moved
    code, _, err = _run(
        capsys,
        "meeting",
        "schedule",
        str(meeting.pk),
        "--at",
        "2026-11-24T10:00Z",
        "--as",
        "ciso@example.org",
    )
    assert code == 2
    assert "field 'reason'" in err
    clock.set_now(dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC))
    items = list(meeting.items.all())
    minutes = tmp_path / "minutes.yaml"
    lines = ["minutes: Agreed the January window.", "attended: [cio@example.org]", "outcomes:"]
    for item in items:
        if item.decision_id:
            lines += [
                f"  - item: {item.position}",
                "    decision: Patch in January",
                "    chosen_option: 1",
                "    why_blank: kept short in the room",
            ]
        else:
            lines += [
                f"  - item: {item.position}",
                "    defer_to: 2026-12-15",
                "    reason: the owners report first",
            ]
    lines += ["actions:", "  - {title: Book the window, owner: ciso@example.org, due: 2026-12-01}"]
    minutes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "minutes: x\nattended: [cio@example.org]\noutcomes: [{item: 99}]\n", encoding="utf-8"
    )
    code, _, err = _run(
        capsys,
        "meeting",
        "minutes",
        str(meeting.pk),
        "--file",
        str(broken),
        "--as",
        "cio@example.org",
    )
    assert code == 2
    assert str(broken) in err
    assert "outcomes[0]" in err
    code, out, err = _run(
        capsys,
        "meeting",
        "minutes",
        str(meeting.pk),
        "--file",
        str(minutes),
        "--as",
        "cio@example.org",
    )
    assert (code, err) == (0, "")
    assert "1 decided" in out
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    org.escalated.refresh_from_db()
    assert org.escalated.status == DecisionStatus.DECIDED
    code, out, _ = _run(capsys, "meeting", "show", str(meeting.pk), "--format", "json")
    shown = json.loads(out)
    assert shown["actions"][0]["owner"] == "ciso@example.org"
    assert all(i["outcome"] in ("decided", "deferred") for i in shown["items"])
    code, out, _ = _run(capsys, "radar", "--period", "2026-11", "--format", "json")
    radar = json.loads(out)
    assert radar["action"]["zone"] == "amber"
    state = radar["action_state"]
    assert state["done"] is True
    assert state["meeting"]["held"] is True
    assert (state["meeting"]["decisions_taken"], state["meeting"]["actions_done"]) == (1, 0)
    code, out, _ = _run(capsys, "meeting", "list", "--format", "json")
    assert json.loads(out)[0]["decided"] == f"1/{len(items)}"


def test_a_reset_through_the_command_line(
    org: Org, amber: TensionSnapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys,
        "reset",
        "start",
        "--facilitator",
        "facilitator@example.org",
        "--scope",
        "radar,pulse",
        "--goals",
        "Decision rights",
        "--days",
        "30",
        "--as",
        "cio@example.org",
    )
    assert (code, err) == (0, "")
    reset = ResetEngagement.objects.get()
    code, _, err = _run(capsys, "reset", "grant", str(reset.pk), "--as", "cio@example.org")
    assert code == 1
    assert "separation of duties" in err
    code, out, _ = _run(capsys, "reset", "grant", str(reset.pk), "--as", "ciso@example.org")
    assert code == 0
    assert "facilitator@example.org may read pulse, radar until 2026-12-20 09:00 UTC" in out
    clock.set_now(NOW + dt.timedelta(days=30))
    both_answer_pulse(org)
    code, out, _ = _run(
        capsys, "reset", "checkin", str(reset.pk), "--day", "30", "--as", "ciso@example.org"
    )
    assert code == 0
    assert f"index {amber.index} (amber)" in out
    code, out, _ = _run(capsys, "reset", "show", "--format", "json")
    state = json.loads(out)
    assert state["access_open"] is False  # 30 days passed: closed by itself
    assert state["checkins"][0]["done"] is True
    for leader in ("cio", "ciso"):
        code, out, _ = _run(capsys, "reset", "end", str(reset.pk), "--as", f"{leader}@example.org")
        assert code == 0
    assert "ended" in out


def test_bad_input_exits_2_from_the_installed_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DETENTE_"))}
    env |= {"DETENTE_DATA_DIR": str(tmp_path), "DETENTE_SECRET_KEY": "test-only-not-secret"}
    for args, says in (
        (("meeting", "list", "--status", "bogus"), "a status is proposed, scheduled, held"),
        (("meeting", "show", "99"), "no meeting M-99"),
        (("reset", "show"), "no reset has been started"),
    ):
        done = subprocess.run(
            [str(DETENTE), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert says in done.stderr

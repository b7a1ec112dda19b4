"""``detente incident …`` end to end: declare → brief → ack → clock met → review."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import typer

from detente.cli import commands_incident
from detente.cli import main as cli_main
from detente.core import clock
from detente.incidents.models import Incident
from detente.people.models import Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)  # Wednesday before Thanksgiving


@pytest.fixture(autouse=True)
def _wired(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the incident commands if ``cli/main.py`` does not do it yet."""
    original = cli_main.build_app

    def build() -> typer.Typer:
        app = original()
        names = {group.name for group in app.registered_groups}
        if "incident" not in names:
            commands_incident.register(app)
        return app

    monkeypatch.setattr(cli_main, "build_app", build)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        cli_main.run(list(argv))
    out, err = capsys.readouterr()
    return int(caught.value.code or 0), out, err


def test_declare_brief_ack_file_and_review(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    clock.set_now(NOW)
    for name, email, role in (
        ("Claire", "cio@x.org", Role.CIO),
        ("Sam", "ciso@x.org", Role.CISO),
        ("Priya", "lead@x.org", Role.SECURITY_LEAD),
        ("Ada", "eng@x.org", Role.ENGINEER),
    ):
        person_upsert(name=name, email=email, role=role)  # fmt: skip
    code, out, err = _run(capsys, "incident", "regimes", "--as", "ciso@x.org", "--sec",
                          "--gdpr", "controller")  # fmt: skip
    assert (code, err) == (0, "")
    assert "SEC registrant: yes; GDPR: controller" in out

    code, out, _ = _run(
        capsys, "incident", "declare", "--as", "lead@x.org", "--title", "Card skimmer",
        "--severity", "sev2", "--lead", "lead@x.org", "--type", "data_breach", "--personal-data",
        "--aware-at", "2026-11-25T13:00:00+00:00",
    )  # fmt: skip
    assert code == 0
    incident = Incident.objects.get()
    assert out.strip() == f"INC-{incident.pk} declared: SEV2 Card skimmer"

    clock.advance(dt.timedelta(hours=1))
    pdf = tmp_path / "brief.pdf"
    code, out, _ = _run(
        capsys, "incident", "brief", str(incident.pk), "--as", "lead@x.org",
        "--status", "Skimmer removed", "--known", "Checkout page altered",
        "--unknown", "Cards exposed@medium", "--ask", "Approve customer notice",
        "--out", str(pdf),
    )  # fmt: skip
    assert code == 0
    assert "next update due 2026-11-25 21:00 UTC" in out
    assert pdf.read_bytes().startswith(b"%PDF-")
    briefing = incident.briefings.get()

    code, out, err = _run(capsys, "incident", "ack", str(briefing.pk), "--as", "ciso@x.org")
    assert code == 1
    assert err.startswith("error: only INC-")
    clock.advance(dt.timedelta(minutes=10))
    code, out, _ = _run(capsys, "incident", "ack", str(briefing.pk), "--as", "cio@x.org")
    assert code == 0
    assert "CIO informed 1:10:00 after declaration" in out

    code, out, _ = _run(
        capsys, "incident", "clock", str(incident.pk), "--as", "lead@x.org",
        "--material-at", "2026-11-25T09:30:00-05:00", "--met", "gdpr_33", "--reference", "CNIL-7",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    rows = {row["clock"]: row for row in json.loads(out[out.index("[") :])}
    assert rows["sec_8k"]["due"] == "2026-12-02 22:30 UTC"  # Thanksgiving skipped
    assert rows["gdpr_33"]["state"] == "met"

    code, _, err = _run(capsys, "incident", "review", str(incident.pk), "--as", "lead@x.org",
                        "--what-happened", "Skimmer")  # fmt: skip
    assert (code, err.startswith("error: INC-")) == (1, True)
    for state in ("contained", "eradicated", "recovered"):
        assert _run(capsys, "incident", "status", str(incident.pk), "--to", state,
                    "--as", "lead@x.org")[0] == 0  # fmt: skip
    code, out, _ = _run(
        capsys, "incident", "review", str(incident.pk), "--as", "lead@x.org",
        "--what-happened", "A skimmer in checkout", "--went-well", "Fast containment",
        "--action", "Subresource integrity on checkout|eng@x.org|2026-12-15",
    )  # fmt: skip
    assert code == 0
    assert "action: Subresource integrity on checkout — eng@x.org, due 2026-12-15" in out

    code, out, _ = _run(capsys, "incident", "timeline", str(incident.pk), "--format", "json")
    kinds = [row["kind"] for row in json.loads(out)]
    assert kinds == ["declared", "briefing", "ack", "facts", "clock", "status", "status",
                     "status", "review"]  # fmt: skip
    code, out, _ = _run(capsys, "incident", "list", "--format", "json")
    assert [(r["id"], r["status"], r["briefing"]) for r in json.loads(out)] == [
        (incident.pk, "recovered", "none")
    ]
    code, out, _ = _run(capsys, "incident", "status", str(incident.pk))
    assert code == 0
    assert "time_to_inform_cio  1 h 10 min" in out


def test_unknown_incident_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "incident", "status", "4242")
    assert (code, err.strip()) == (2, "error: incident 4242 does not exist")

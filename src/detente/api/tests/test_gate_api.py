"""/api/gate: a read token decides without recording, a write token records and overrides, bad
input gets the one error model with nothing recorded, and ``detente gate`` in remote mode
(``DETENTE_URL`` + ``DETENTE_TOKEN``) against a live server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from detente.access.services import token_issue
from detente.api.routes.gates import GateOut
from detente.gates.models import GateOverride, GateRun
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

GRYPE = "scans/anchore_grype/check_all_fields.json"
ROOT = Path(__file__).resolve().parents[4]


def _setup() -> tuple[Person, str, str]:
    cio = person_upsert(name="Ivo CIO", email="ivo@example.org", role=Role.CIO)
    service_upsert(slug="shop", name="Shop", owner=None, criticality="high")
    _, read = token_issue(actor=cio, person=cio, name="ci-read", scope="read")
    _, write = token_issue(actor=cio, person=cio, name="ci-write", scope="write")
    return cio, read, write


def _post(
    client: Client, token: str, samples: Path, **fields: str
) -> tuple[int, dict[str, object]]:
    with (samples / GRYPE).open("rb") as handle:
        response = client.post(
            "/api/gate/runs",
            {"files": [handle], "service": "shop", "version": "2.4.0", **fields},
            headers={"Authorization": f"Bearer {token}"},
        )
    return response.status_code, response.json()


@pytest.mark.django_db
def test_read_token_decides_without_recording_write_token_records(
    client: Client, samples: Path
) -> None:
    _, read, write = _setup()

    refused = _post(client, read, samples)
    decided = _post(client, read, samples, record="false", outputs="sarif,junit")
    recorded = _post(client, write, samples, commit="abc123")

    assert refused[0] == 403
    assert refused[1] == {"error": {"code": "forbidden", "message": "this token is read-only"}}
    assert decided[0] == 200
    assert (decided[1]["decision"], decided[1]["run"]) == ("blocked", None)
    outputs = decided[1]["outputs"]
    assert isinstance(outputs, dict)
    assert outputs["sarif"]["version"] == "2.1.0"
    assert outputs["junit"].startswith("<?xml")
    # the body is encoded by the route itself: exactly the schema's fields, valid against it
    assert set(decided[1]) == set(GateOut.model_fields)
    GateOut.model_validate(decided[1])
    assert recorded[0] == 200
    run = GateRun.objects.get()
    assert (recorded[1]["run"], run.commit, run.decision) == (run.pk, "abc123", "blocked")


@pytest.mark.django_db
def test_override_through_the_api_and_a_bad_file_records_nothing(
    client: Client, samples: Path, tmp_path: Path
) -> None:
    _, _, write = _setup()
    bad = tmp_path / "grype.json"
    bad.write_text('{"matches": [')

    with bad.open("rb") as handle:
        broken = client.post(
            "/api/gate/runs", {"files": [handle], "service": "shop", "version": "1"},
            headers={"Authorization": f"Bearer {write}"},
        )  # fmt: skip
    status, body = _post(client, write, samples, override="true", reason="Launch day")

    assert broken.status_code == 422
    assert broken.json()["error"]["message"].startswith("grype.json: format not recognised")
    assert status == 200
    override = GateOverride.objects.get()
    assert body["override"] == {"id": override.pk, "decision": override.decision_id,
                                "status": "pending",
                                "second_due": override.second_due.isoformat()}  # fmt: skip
    assert GateRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_remote_mode_gates_against_a_live_server(
    live_server: object, samples: Path, tmp_path: Path
) -> None:
    _, read, _ = _setup()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DETENTE_TEST_DATABASE")
    }
    env |= {"DETENTE_URL": str(getattr(live_server, "url")), "DETENTE_TOKEN": read,  # noqa: B009
            "DETENTE_DATA_DIR": str(tmp_path / "client"),
            "DETENTE_SECRET_KEY": "test-only-not-secret"}  # fmt: skip

    done = subprocess.run(
        [str(ROOT / ".venv/bin/detente"), "gate", "--service", "shop", "--version", "2.4.0",
         "--no-record", "--format", "json", "--sarif", str(tmp_path / "gate.sarif"),
         str(samples / GRYPE)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert (out["decision"], out["counts"]["blocking"], out["run"]) == ("blocked", 2, None)
    assert json.loads((tmp_path / "gate.sarif").read_text())["version"] == "2.1.0"
    assert not GateRun.objects.exists()


@pytest.mark.django_db
def test_a_server_baseline_is_never_a_server_path_and_nul_is_refused(
    client: Client, samples: Path
) -> None:
    _, read, _ = _setup()

    path = _post(client, read, samples, record="false", baseline=str(samples / GRYPE))
    nul = _post(client, read, samples, record="false", version="1\x00")

    assert path[0] == 404
    assert path[1]["error"]["message"].startswith("no baseline ")  # type: ignore[index]
    assert nul == (422, {"error": {"code": "bad_input", "field": "version", "record": None,
                                   "message": "field 'version': text must not contain NUL "
                                   "characters"}})  # fmt: skip


@pytest.mark.django_db
def test_a_service_owner_sees_only_the_runs_of_their_services(
    client: Client, samples: Path
) -> None:
    _, _, write = _setup()
    _post(client, write, samples)
    owner = person_upsert(name="Olga", email="olga@example.org", role=Role.SERVICE_OWNER)
    service_upsert(slug="billing", name="Billing", owner=owner)
    _, token = token_issue(actor=owner, person=owner, name="mine", scope="read")
    run = GateRun.objects.get()

    listed = client.get("/api/gate/runs", headers={"Authorization": f"Bearer {token}"})
    one = client.get(f"/api/gate/runs/{run.pk}", headers={"Authorization": f"Bearer {token}"})

    assert listed.json() == []
    assert one.status_code == 404

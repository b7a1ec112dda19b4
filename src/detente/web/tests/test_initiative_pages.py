"""Initiative pages through Django's test client: the list, one initiative with its guardrail
charts (threshold and phase bands), sponsors acting through forms, an outsider refused with
nothing changed, and the running initiatives on both leaders' views."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from detente.access.services import account_set_password
from detente.decisions.services import decision_decide
from detente.initiatives.csvfile import Point
from detente.initiatives.models import Initiative, MetricPoint, Phase, PhaseTransition
from detente.initiatives.services import guardrails_evaluate, metrics_record
from detente.initiatives.tests.conftest import MFA, NOW, Org, build_org, create, started
from detente.people.models import Person

PASSWORD = "correct horse battery staple"
H = dt.timedelta(hours=1)


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


def signed_in(person: Person) -> Client:
    account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


def test_a_paused_rollout_on_the_pages_and_resumed_through_the_form(org: Org) -> None:
    initiative = create(org)
    phase = started(org, initiative)
    metrics_record(actor=None, initiative=initiative, source="t", points=[
        Point("drop_off_rate", NOW + i * H, v) for i, v in enumerate([4.0, 4.2, 9.0, 9.6])
    ])  # fmt: skip
    guardrails_evaluate(now=NOW + 3 * H)
    phase.refresh_from_db()
    assert phase.go_no_go is not None

    cio = signed_in(org.cio)
    page = cio.get("/initiatives/").content.decode()
    assert f'<tr id="initiative-{initiative.pk}">' in page
    assert '<span class="status breached">Breached</span>' in page
    assert f"go/no-go DR-{phase.go_no_go.pk}" in page

    page = cio.get(f"/initiatives/{initiative.pk}/").content.decode()
    assert "account-takeover incidents per quarter" in page
    assert '<figure id="chart-drop_off_rate"><svg class="chart guardrail"' in page
    assert 'class="threshold" stroke="#c92a2a"' in page
    # Only drop-off has points: one chart, phase 1's band and its paused stretch.
    assert page.count('class="band phase"') == 1
    assert page.count('class="band paused"') == 1
    assert page.count("no points yet") == 3  # login success, tickets, latency (phase 2)
    assert "4 point(s), latest 9.6 %; threshold 7 %, baseline 4 %" in page
    assert "Running → Paused" in page

    # Both leaders' views list the running initiative with its guardrail status.
    for view in ("/cio", "/ciso"):
        page = cio.get(view).content.decode()
        assert 'id="running-initiatives"' in page, view
        assert f'<tr id="initiative-{initiative.pk}">' in page

    # Resuming before the decision is refused on the page, with nothing changed.
    moves = PhaseTransition.objects.count()
    response = cio.post(f"/initiatives/{initiative.pk}/resume", {"phase": "1"}, follow=True)
    assert "resuming needs the go/no-go decision" in response.content.decode()
    assert PhaseTransition.objects.count() == moves
    decision_decide(
        actor=org.ciso,
        record=phase.go_no_go,
        decision="Go",
        chosen_option=0,
        why_blank="test record",
    )
    response = cio.post(f"/initiatives/{initiative.pk}/resume", {"phase": "1"}, follow=True)
    assert "Phase 1 resumed." in response.content.decode()
    phase.refresh_from_db()
    assert phase.status == "resumed"


def test_an_outsider_cannot_act_and_nothing_changes(org: Org) -> None:
    initiative = create(org)
    engineer = signed_in(org.engineer)
    page = engineer.get(f"/initiatives/{initiative.pk}/").content.decode()
    assert "Sign the guardrails" not in page
    response = engineer.post(f"/initiatives/{initiative.pk}/sign", {"phase": "1"}, follow=True)
    assert "only the initiative&#x27;s two sponsors sign its guardrails" in (
        response.content.decode()
    )
    assert Phase.objects.get(initiative=initiative, number=1).signatures.count() == 0
    assert engineer.get("/initiatives/999/").status_code == 404
    assert engineer.post(f"/initiatives/{initiative.pk}/explode").status_code == 404


def test_create_from_the_form_and_upload_metrics(org: Org) -> None:
    ciso = signed_in(org.ciso)
    bad = MFA.read_text().replace("{share: 3 %,", "{share: 99 %,")
    response = ciso.post("/initiatives/new", {"yaml": bad}, follow=True)
    assert "the form, record phases[0], field &#x27;cohorts&#x27;: the cohorts add up to 101 %" in (
        response.content.decode()
    )
    assert Initiative.objects.count() == 0
    response = ciso.post("/initiatives/new", {"yaml": MFA.read_text()}, follow=True)
    initiative = Initiative.objects.get()
    assert f"IN-{initiative.pk} created." in response.content.decode()

    gap = SimpleUploadedFile(
        "m.csv",
        b"timestamp,drop_off_rate\n2026-10-05T08:00Z,4\n2026-10-05T09:00Z,4\n2026-10-05T12:00Z,4\n",
    )
    response = ciso.post(f"/initiatives/{initiative.pk}/metrics", {"file": gap}, follow=True)
    assert (
        "m.csv, record line 4, field &#x27;timestamp&#x27;: a gap in time: 3 h after line 3"
        in response.content.decode()
    )
    assert MetricPoint.objects.count() == 0
    good = SimpleUploadedFile("m.csv", b"timestamp,drop_off_rate\n2026-10-05T08:00Z,4.1\n")
    response = ciso.post(f"/initiatives/{initiative.pk}/metrics", {"file": good}, follow=True)
    assert "1 point(s) recorded from m.csv." in response.content.decode()
    assert MetricPoint.objects.count() == 1


def test_a_leader_objects_on_the_page_and_the_rollout_shows_cancelled(org: Org) -> None:
    initiative = create(org)
    started(org, initiative)
    engineer = signed_in(org.engineer)
    assert 'id="object-form"' not in engineer.get(f"/initiatives/{initiative.pk}/").content.decode()
    response = engineer.post(
        f"/initiatives/{initiative.pk}/cancel", {"phase": "1", "reason": "no"}, follow=True
    )
    assert "only the initiative&#x27;s sponsors, the CIO or the CISO cancel it" in (
        response.content.decode()
    )
    assert set(Phase.objects.values_list("status", flat=True)) == {"running", "planned"}

    ciso = signed_in(org.ciso)
    page = ciso.get(f"/initiatives/{initiative.pk}/").content.decode()
    assert "Object and cancel the rollout (phase 1 and every later one)" in page
    response = ciso.post(
        f"/initiatives/{initiative.pk}/cancel",
        {"phase": "1", "reason": "Passkeys first, then SMS"},
        follow=True,
    )
    page = response.content.decode()
    assert f"IN-{initiative.pk} cancelled after your objection, from phase 1 on." in page
    assert (
        '<dd id="objection"><span class="status cancelled">Cancelled after objection</span> by '
        "ciso@example.org (CISO side) from phase 1 on, 2026-10-05 08:00: Passkeys first, then SMS"
        "</dd>"
    ) in page
    assert 'id="object-form"' not in page
    assert "Running → Cancelled after objection" in page
    assert "Planned → Cancelled after objection" in page
    assert set(Phase.objects.values_list("status", flat=True)) == {"cancelled"}

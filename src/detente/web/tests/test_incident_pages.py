"""Incident pages through Django's test client (no browser): what the CISO and the CIO see, the
forms, the acknowledge button, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from detente.access.services import account_set_password
from detente.audit.models import AuditEvent
from detente.core import clock
from detente.incidents.models import Briefing, Incident, TimelineEntry
from detente.incidents.services import briefing_issue, incident_transition, regimes_configure
from detente.incidents.tests.conftest import NOW, Org, declare
from detente.inventory.services import service_upsert
from detente.people.models import Person, Role
from detente.people.services import person_upsert

PASSWORD = "correct horse battery staple"
H = dt.timedelta(hours=1)


def signed_in(person: Person) -> Client:
    account_set_password(person=person, password=PASSWORD)
    person.refresh_from_db()
    client = Client()
    client.force_login(person.user)  # type: ignore[arg-type]
    session = client.session
    session["second_factor_ok"] = True
    session.save()
    return client


@pytest.fixture
def org(db: None) -> Org:
    """As in the incidents tests: every role, a service, SEC + GDPR controller regimes."""
    clock.set_now(NOW)
    people = {
        role: person_upsert(name=role.label, email=f"{role.value}@example.org", role=role)
        for role in Role
    }
    service = service_upsert(slug="shop", name="Shop", owner=people[Role.SERVICE_OWNER])
    regimes_configure(actor=people[Role.CISO], sec_registrant=True, gdpr_role="controller")
    return Org(
        cio=people[Role.CIO], ciso=people[Role.CISO], lead=people[Role.SECURITY_LEAD],
        engineer=people[Role.ENGINEER], auditor=people[Role.AUDITOR], service=service,
    )  # fmt: skip


@pytest.fixture
def briefed(org: Org) -> Briefing:
    incident = declare(org)
    clock.set_now(NOW + H)
    return briefing_issue(
        actor=org.lead, incident=incident, status_summary="One host compromised",
        knowns=["Web server 3 runs a web shell"],
        unknowns=[],
        asks=["Approve taking checkout offline"],
    )  # fmt: skip


def test_the_login_form_leads_to_the_incident_list(org: Org) -> None:
    account_set_password(person=org.ciso, password=PASSWORD)
    client = Client()
    response = client.post(
        "/login", {"email": org.ciso.email, "password": PASSWORD, "next": "/incidents"}
    )
    assert (response.status_code, response["Location"]) == (302, "/incidents")
    page = client.get("/incidents")
    assert page.status_code == 200
    assert b'href="/incidents">Incidents</a>' in page.content  # the nav link
    assert b"No CIO briefing is overdue." in page.content


@pytest.mark.parametrize("role", ["ciso", "cio"])
def test_both_leaders_see_overdue_briefings_at_the_top(org: Org, role: str) -> None:
    incident = declare(org, severity="sev1")  # first briefing due within an hour
    clock.set_now(NOW + 2 * H)
    page = signed_in(getattr(org, role)).get("/incidents").content.decode()
    overdue = page.index("CIO briefings overdue")
    assert page.index(f"INC-{incident.pk} {incident.title}") > overdue
    assert "overdue by 1 h;" in page  # a span as people read it, not 1:00:00
    assert page.index("overdue by") < page.index("<table")


def test_declare_form_creates_the_incident(org: Org) -> None:
    client = signed_in(org.ciso)
    form = client.get("/incidents/new").content.decode()
    for label in ('for="title"', 'for="severity"', 'for="lead"', 'for="aware_at"'):
        assert label in form
    response = client.post(
        "/incidents/new",
        {"title": "Ransom note on file server", "severity": "sev1", "type": "ransomware",
         "lead": str(org.lead.pk), "services": ["shop"], "aware_at": "2026-11-02T08:30"},
    )  # fmt: skip
    created = Incident.objects.get()
    assert response["Location"] == f"/incidents/{created.pk}"
    assert (created.severity, created.lead, created.cio, created.declared_by) == (
        "sev1", org.lead, org.cio, org.ciso,
    )  # fmt: skip
    assert created.aware_at == dt.datetime(2026, 11, 2, 8, 30, tzinfo=dt.UTC)
    assert [s.slug for s in created.services.all()] == ["shop"]


def test_declare_refused_shows_the_error_and_creates_nothing(org: Org) -> None:
    client = signed_in(org.auditor)
    response = client.post(
        "/incidents/new",
        {"title": "x", "severity": "sev3", "type": "other", "lead": str(org.lead.pk)},
        follow=True,
    )
    assert b"an auditor does not declare incidents" in response.content
    assert Incident.objects.count() == 0


def test_the_incident_page_for_the_ciso(briefed: Briefing, org: Org) -> None:
    page = signed_in(org.ciso).get(f"/incidents/{briefed.incident_id}").content.decode()
    assert "Allowed next: contained, closed." in page
    assert 'name="to" value="contained"' in page
    assert 'name="to" value="closed"' not in page  # closing goes through a confirmation
    assert 'name="confirm" value="close"' in page
    # GDPR Art. 33: 72 h after awareness (09:00 UTC), shown in the authority's zone (Paris).
    assert "2026-11-05 10:00 CET (Europe/Paris)" in page
    assert "What we know" in page
    assert "Web server 3 runs a web shell" in page
    assert "Decisions needed from you" in page
    assert f"/incidents/{briefed.incident_id}/briefings/1.pdf" in page
    assert "Acknowledge briefing #1" not in page  # only the CIO acknowledges
    for form in ("brief", "timeline", "file", "status"):
        assert f'action="/incidents/{briefed.incident_id}/{form}"' in page
    assert 'for="status_summary"' in page
    assert 'for="unknown-confidence-0"' in page


def test_the_cio_acknowledges_from_the_page(briefed: Briefing, org: Org) -> None:
    client = signed_in(org.cio)
    url = f"/incidents/{briefed.incident_id}"
    assert "Acknowledge briefing #1" in client.get(url).content.decode()
    clock.set_now(NOW + H + dt.timedelta(minutes=20))
    page = client.post(f"{url}/acknowledge", {"briefing": briefed.pk}, follow=True)
    text = page.content.decode()
    assert "Briefing #1 acknowledged." in text
    assert "Acknowledged by CIO" in text
    assert "Acknowledge briefing #1" not in text
    briefed.refresh_from_db()
    assert (briefed.acknowledged_by, briefed.acknowledged_at) == (
        org.cio, NOW + H + dt.timedelta(minutes=20),
    )  # fmt: skip
    incident = Incident.objects.get()
    assert incident.cio_informed_at == NOW + H + dt.timedelta(minutes=20)
    assert "1 h 20 min (acknowledged" in text  # time to inform the CIO, read as people read it


@pytest.mark.parametrize("who", ["ciso", "lead", "auditor"])
def test_acknowledging_is_refused_for_anyone_else(
    briefed: Briefing,
    org: Org,
    who: str,
) -> None:
    client = signed_in(getattr(org, who))
    events = AuditEvent.objects.count()
    url = f"/incidents/{briefed.incident_id}"
    page = client.post(f"{url}/acknowledge", {"briefing": briefed.pk}, follow=True)
    refusal = f"only INC-{briefed.incident_id}&#x27;s CIO acknowledges its briefings"
    assert refusal in page.content.decode()
    briefed.refresh_from_db()
    assert briefed.acknowledged_at is None
    assert AuditEvent.objects.count() == events
    assert Incident.objects.get().cio_informed_at is None


def test_forms_on_the_incident_page(briefed: Briefing, org: Org) -> None:
    client = signed_in(org.lead)
    url = f"/incidents/{briefed.incident_id}"
    client.post(
        f"{url}/brief",
        {"form": "executive", "status_summary": "Contained", "knowns": "a\nb",
         "unknown": ["Exfiltration", ""], "unknown_confidence": ["high", "low"],
         "asks": "Budget for forensics"},
    )  # fmt: skip
    second = Briefing.objects.get(number=2)
    assert (second.knowns, second.unknowns, second.asks) == (
        ["a", "b"], [{"text": "Exfiltration", "confidence": "high"}], ["Budget for forensics"],
    )  # fmt: skip
    client.post(f"{url}/timeline", {"text": "Called the bank", "kind": "action"})
    assert TimelineEntry.objects.filter(kind="action", text="Called the bank").exists()
    client.post(f"{url}/file", {"clock": "gdpr_33", "reference": "CNIL-1"})
    page = client.get(url).content.decode()
    assert '<tr id="clock-gdpr_33"><td>GDPR</td>' in page
    assert "status met" in page
    response = client.get(f"{url}/briefings/2.md")
    assert response["Content-Type"].startswith("text/markdown")
    assert (
        "## What we do not know yet\n- Exfiltration (confidence: high)" in response.content.decode()
    )
    pdf = client.get(f"{url}/briefings/1.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    assert client.get(f"{url}/briefings/9.md").status_code == 404


def test_a_refused_move_shows_the_error_and_changes_nothing(
    briefed: Briefing,
    org: Org,
) -> None:
    client = signed_in(org.lead)
    url = f"/incidents/{briefed.incident_id}"
    events, entries = AuditEvent.objects.count(), TimelineEntry.objects.count()
    page = client.post(f"{url}/status", {"to": "recovered"}, follow=True).content.decode()
    assert f"INC-{briefed.incident_id} is investigating; it cannot become recovered" in page
    assert Incident.objects.get().status == "investigating"
    assert (AuditEvent.objects.count(), TimelineEntry.objects.count()) == (events, entries)
    review = client.post(f"{url}/review", {"what_happened": "x"}, follow=True).content.decode()
    assert "review after recovery" in review


def test_the_review_form_after_recovery(briefed: Briefing, org: Org) -> None:
    for to in ("contained", "eradicated", "recovered"):
        incident_transition(actor=org.lead, incident=briefed.incident_id, to=to)
    client = signed_in(org.ciso)
    url = f"/incidents/{briefed.incident_id}"
    assert 'for="what_happened"' in client.get(url).content.decode()
    page = client.post(
        f"{url}/review",
        {"what_happened": "Phished admin", "went_well": "Quick containment",
         "action_text": ["Hardware keys", ""], "action_owner": [str(org.engineer.pk), ""],
         "action_due": ["2026-12-01", ""]},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "Review saved." in page
    assert "Hardware keys — Engineer, due 2026-12-01" in page


def test_pages_need_a_signed_in_person(briefed: Briefing) -> None:
    response = Client().get(f"/incidents/{briefed.incident_id}")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")
    assert signed_in(briefed.author).get("/incidents/999").status_code == 404


def test_the_declare_form_asks_for_severity_and_type_and_offers_only_eligible_leads(
    org: Org,
) -> None:
    client = signed_in(org.lead)
    html = client.get("/incidents/new").content.decode()
    severity = html.split('id="severity"', 1)[1].split("</select>", 1)[0]
    kind = html.split('id="type"', 1)[1].split("</select>", 1)[0]
    leads = html.split('id="lead"', 1)[1].split("</select>", 1)[0]
    assert '<option value="">Choose…</option>' in severity
    assert " selected" not in severity
    assert '<option value="">Choose…</option>' in kind
    assert f'<option value="{org.lead.pk}" selected>' in leads  # the declarer
    assert f'value="{org.cio.pk}"' not in leads
    assert f'value="{org.auditor.pk}"' not in leads
    refused = client.post("/incidents/new", {"title": "x", "severity": "sev2", "type": "",
                                             "lead": str(org.lead.pk)})  # fmt: skip
    assert refused.status_code == 200
    assert "choose the incident type" in refused.content.decode()
    assert not Incident.objects.exists()


def test_a_late_clock_is_red_first_and_says_by_how_much(org: Org) -> None:
    incident = declare(org)  # personal data: GDPR's 72 h clock runs from awareness
    clock.set_now(NOW + 75 * H)
    html = signed_in(org.ciso).get(f"/incidents/{incident.pk}").content.decode()
    rows = html.split('id="clocks-heading"', 1)[1].split("</table>", 1)[0].split("<tr")
    first = next(r for r in rows if 'id="clock-' in r)
    assert 'class="late"' in first
    assert "late by 3 h" in first


def test_the_list_shows_late_clocks_red_and_first(org: Org) -> None:
    # given: an incident with personal data (GDPR's 72 h clock), then a newer one without
    late = declare(org)
    clock.set_now(NOW + H)
    quiet = declare(org, title="Phishing wave", type="malware", personal_data=False,
                    data_categories=[])  # fmt: skip
    # when: 75 hours after the first one's awareness
    clock.set_now(NOW + 75 * H)
    html = signed_in(org.cio).get("/incidents").content.decode()
    table = html.split('id="incident-list"', 1)[1].split("</table>", 1)[0]
    rows = [r for r in table.split("<tr")[1:] if 'id="incident-' in r]
    # then: the late one comes first although it is older, red, saying by how much
    assert [r.split('"', 2)[1] for r in rows] == [f"incident-{late.pk}", f"incident-{quiet.pk}"]
    assert 'class="late"' in rows[0]
    said = "GDPR Art. 33 notification to the supervisory authority late by 3 h"
    assert f'<strong class="late">{said}</strong>' in rows[0]
    assert 'class="late"' not in rows[1]
    assert "1 incident(s) with a late regulatory filing" in html
    # before it is late the row says when it is due, and the newest incident is first again
    clock.set_now(NOW + 70 * H)
    html = signed_in(org.cio).get("/incidents").content.decode()
    table = html.split('id="incident-list"', 1)[1].split("</table>", 1)[0]
    assert table.index(f"incident-{quiet.pk}") < table.index(f"incident-{late.pk}")
    assert "due in 2 h" in table
    assert "late by" not in table


def _post_forms(html: str, incident_id: int) -> list[str]:
    return [a for a in ("brief", "timeline", "file", "status", "facts", "review", "acknowledge",
                        "answer") if f'action="/incidents/{incident_id}/{a}"' in html]  # fmt: skip


def test_closing_asks_for_confirmation_and_a_closed_incident_is_read_only(
    briefed: Briefing, org: Org
) -> None:
    client = signed_in(org.lead)
    url = f"/incidents/{briefed.incident_id}"
    # a close without its confirmation is refused and changes nothing
    events = AuditEvent.objects.count()
    page = client.post(f"{url}/status", {"to": "closed"}, follow=True).content.decode()
    assert f"closing INC-{briefed.incident_id} is final: confirm it" in page
    assert Incident.objects.get().status == "investigating"
    assert AuditEvent.objects.count() == events
    # the "Close the incident…" button asks first, saying what closing means
    asked = client.get(f"{url}?confirm=close").content.decode()
    confirm = asked.split('id="close-confirm"', 1)[1].split("</form>", 1)[0]
    assert "Closing is final: the incident's page becomes read-only" in confirm
    assert 'name="confirmed" value="yes"' in confirm
    assert 'name="to" value="closed"' in confirm
    done = client.post(f"{url}/status", {"to": "closed", "confirmed": "yes"}, follow=True)
    assert f"INC-{briefed.incident_id} is now closed." in done.content.decode()
    # closed: the page has no form left, for anyone, and every POST is refused
    cio = signed_in(org.cio)
    for reader in (client, cio, signed_in(org.ciso)):
        html = reader.get(url).content.decode()
        assert _post_forms(html, briefed.incident_id) == []
        assert 'id="brief-box"' not in html
        assert "this page is read-only" in html
    events, entries = AuditEvent.objects.count(), TimelineEntry.objects.count()
    for action, data in (("timeline", {"text": "Late note"}), ("acknowledge",
                         {"briefing": briefed.pk}), ("answer", {"briefing": briefed.pk,
                         "ask": "1", "answer": "Yes"})):  # fmt: skip
        who = cio if action != "timeline" else client
        page = who.post(f"{url}/{action}", data, follow=True).content.decode()
        assert f"INC-{briefed.incident_id} is closed: its page is read-only." in page
    assert (AuditEvent.objects.count(), TimelineEntry.objects.count()) == (events, entries)
    briefed.refresh_from_db()
    assert (briefed.acknowledged_at, briefed.answers) == (None, [])


def test_the_cio_acknowledges_and_answers_the_asks_at_the_top(briefed: Briefing, org: Org) -> None:
    client = signed_in(org.cio)
    url = f"/incidents/{briefed.incident_id}"
    html = client.get(url).content.decode()
    # what waits for the CIO comes before the incident's facts and clocks
    top = html.index('id="for-the-cio"')
    assert top < html.index('id="clocks-heading"')
    assert top < html.index("Severity and type")
    assert "Acknowledge briefing #1" in html[top:]
    assert "Your answer to briefing #1's ask: “Approve taking checkout offline”" in html
    # someone else's answer is refused and changes nothing
    ciso = signed_in(org.ciso)
    refused = ciso.post(f"{url}/answer", {"briefing": briefed.pk, "ask": "1", "answer": "No"},
                        follow=True).content.decode()  # fmt: skip
    assert f"only INC-{briefed.incident_id}&#x27;s CIO answers its briefings&#x27; asks" in refused
    assert "Your answer to" not in signed_in(org.ciso).get(url).content.decode()
    # the CIO answers: recorded on the briefing and the timeline; the form for it is gone
    clock.set_now(NOW + 2 * H)
    page = client.post(
        f"{url}/answer",
        {"briefing": briefed.pk, "ask": "1", "answer": "Yes, for two hours tonight"},
        follow=True,
    ).content.decode()
    assert "Your answer to briefing #1&#x27;s ask 1 is recorded on the timeline." in page
    briefed.refresh_from_db()
    assert briefed.answers == [{"ask": 1, "text": "Yes, for two hours tonight", "by": "CIO",
                                "at": (NOW + 2 * H).isoformat()}]  # fmt: skip
    entry = TimelineEntry.objects.filter(kind="decision").get()
    assert entry.text == (
        "CIO answered briefing #1's ask “Approve taking checkout offline”: "
        "Yes, for two hours tonight"
    )
    assert "<strong>Yes, for two hours tonight</strong> (CIO, 2026-11-02 11:00 UTC)" in page
    assert "Your answer to briefing #1's ask:" not in page  # its form is gone
    again = client.post(f"{url}/answer", {"briefing": briefed.pk, "ask": "1", "answer": "No"},
                        follow=True).content.decode()  # fmt: skip
    assert "ask 1 of briefing #1 is already answered" in again
    bad = client.post(f"{url}/answer", {"briefing": briefed.pk, "ask": "7", "answer": "No"},
                      follow=True).content.decode()  # fmt: skip
    assert "briefing #1 has 1 ask(s), not 7" in bad


def test_the_brief_form_is_at_the_top_open_for_the_lead(briefed: Briefing, org: Org) -> None:
    url = f"/incidents/{briefed.incident_id}"
    html = signed_in(org.lead).get(url).content.decode()
    assert '<details class="card" id="brief-box" open>' in html
    assert html.index('id="brief-box"') < html.index('id="clocks-heading"')
    other = signed_in(org.engineer).get(url).content.decode()
    assert '<details class="card" id="brief-box">' in other  # folded for others, still there
    auditor = signed_in(org.auditor).get(url).content.decode()
    assert _post_forms(auditor, briefed.incident_id) == []

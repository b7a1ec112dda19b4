"""A decision is not marked decided while a principle is blank, unless the decider says why."""

from __future__ import annotations

import datetime as dt

import pytest

from detente.audit.models import AuditEvent
from detente.core import clock
from detente.core.errors import RuleViolation
from detente.decisions.models import DecisionRecord, DecisionStatus
from detente.decisions.principles import missing_of
from detente.decisions.services import decision_create, decision_decide
from detente.people.models import Person, Role
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db
FULL_OPTIONS = [
    {"title": "Patch now", "business_benefit": "No exposure", "facts": ["KEV-listed"]},
    {"title": "Defer", "business_benefit": "Stable payroll", "findings": [12]},
]


def _leaders() -> tuple[Person, Person]:
    clock.set_now(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    return (
        person_upsert(name="C", email="cio@x.org", role=Role.CIO),
        person_upsert(name="S", email="ciso@x.org", role=Role.CISO),
    )


def _record(ciso: Person, **fields: object) -> DecisionRecord:
    data: dict[str, object] = {
        "title": "Log4j in the freeze",
        "pressure_point": "patching",
        "question": "Now or later?",
        "options": FULL_OPTIONS,
        "company_first": "Payroll and data both matter",
        "informed": ["ceo@x.org"],
        "win_win": "Patch staging now, switch in the first slot",
    }
    return decision_create(actor=ciso, **{**data, **fields})  # type: ignore[arg-type]


def test_a_complete_record_is_decided_without_a_reason() -> None:
    cio, ciso = _leaders()
    record = _record(ciso)
    assert missing_of(record) == []
    done = decision_decide(actor=cio, record=record, decision="Defer", chosen_option=1)
    assert (done.status, done.principles_waived) == (DecisionStatus.DECIDED, "")


@pytest.mark.parametrize(
    ("blank", "name"),
    [
        ({"company_first": ""}, "Company first"),
        ({"informed": []}, "Transparent"),
        ({"win_win": " "}, "Win-win"),
        ({"options": [{"title": "Defer", "business_benefit": "Stable payroll"}]}, "Fact-driven"),
    ],
)
def test_a_blank_principle_needs_the_decider_to_say_why(
    blank: dict[str, object], name: str
) -> None:
    cio, ciso = _leaders()
    record = _record(ciso, **blank)
    assert [p.name for p in missing_of(record)] == [name]
    with pytest.raises(RuleViolation, match=f"lacks {name}"):
        decision_decide(actor=cio, record=record, decision="Defer", chosen_option=0)
    record.refresh_from_db()
    assert record.status == DecisionStatus.OPEN
    done = decision_decide(
        actor=cio,
        record=record,
        decision="Defer",
        chosen_option=0,
        why_blank="decided in the incident bridge",
    )
    assert done.principles_waived == "decided in the incident bridge"
    event = AuditEvent.objects.filter(verb="decision.decided", subject_id=str(record.pk)).get()
    assert (event.after or {})["why_blank"] == "decided in the incident bridge"


def test_the_decision_page_prompts_for_what_is_missing_and_asks_why(client: object) -> None:
    from django.test import Client

    from detente.access.services import account_set_password

    cio, ciso = _leaders()
    record = _record(ciso, win_win="", company_first="")
    account_set_password(person=cio, password="correct horse battery staple")
    cio.refresh_from_db()
    browser = Client()
    browser.force_login(cio.user)  # type: ignore[arg-type]
    session = browser.session
    session["second_factor_ok"] = True
    session.save()
    page = browser.get(f"/decisions/{record.pk}").content.decode()
    assert "Principles this decision still lacks" in page
    assert "Company first" in page
    assert 'name="why_blank"' in page
    browser.post(f"/decisions/{record.pk}", {"decision": "Defer", "chosen_option": "2"})
    record.refresh_from_db()
    assert record.status == DecisionStatus.OPEN
    browser.post(
        f"/decisions/{record.pk}",
        {"decision": "Defer", "chosen_option": "2", "why_blank": "no time"},
    )
    record.refresh_from_db()
    assert (record.status, record.principles_waived) == (DecisionStatus.DECIDED, "no time")

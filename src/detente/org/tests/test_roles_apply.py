"""The organisation file gives a person several roles (``roles: [..]``; ``role:`` still read);
apply writes them, diffs them, exports them, and refuses impossible sets naming the record."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from detente.audit.models import AuditEvent
from detente.core.errors import InputError
from detente.org.document import dump_document, parse_document
from detente.org.selectors import org_export
from detente.org.services import org_apply
from detente.people.models import Person, PersonRole, Role

pytestmark = pytest.mark.django_db


def _doc(people: list[dict[str, Any]]) -> Any:
    return parse_document({"version": 1, "people": people}, file="org.yaml")


PEOPLE: list[dict[str, Any]] = [
    {"name": "Claire", "email": "claire@x.org", "roles": ["cio", "change_manager"]},
    {"name": "Sam", "email": "sam@x.org", "role": "ciso"},
    {
        "name": "Ola",
        "email": "ola@x.org",
        "role": "engineer",
        "roles": ["service_owner", "engineer"],
    },
]


def test_apply_writes_every_role_and_a_second_apply_changes_nothing() -> None:
    plan = org_apply(document=_doc(PEOPLE), actor=None)

    assert plan.counts()["person"]["added"] == 3
    claire = Person.objects.get(email="claire@x.org")
    assert claire.roles == (Role.CIO, Role.CHANGE_MANAGER)
    assert Person.objects.get(email="sam@x.org").roles == (Role.CISO,)
    ola = Person.objects.get(email="ola@x.org")
    assert ola.roles == (Role.ENGINEER, Role.SERVICE_OWNER)  # ``role:`` names the primary
    added = AuditEvent.objects.get(verb="person.created", subject_id=str(claire.pk))
    assert added.after is not None
    assert added.after["roles"] == ["cio", "change_manager"]

    again = org_apply(document=_doc(PEOPLE), actor=None)
    assert again.changes == []


def test_a_role_change_is_one_diff_line_and_an_audit_event() -> None:
    org_apply(document=_doc(PEOPLE), actor=None)
    changed = [
        dict(PEOPLE[0], roles=["cio"]),
        PEOPLE[1],
        dict(PEOPLE[2], roles=["engineer", "ciso"]),
    ]

    plan = org_apply(document=_doc(changed), actor=None)

    assert sorted(c.line() for c in plan.changes) == [
        "~ person claire@x.org (roles: [cio, change_manager] → [cio])",
        "~ person ola@x.org (roles: [engineer, service_owner] → [engineer, ciso])",
    ]
    assert Person.objects.get(email="claire@x.org").roles == (Role.CIO,)
    assert Person.objects.get(email="ola@x.org").roles == (Role.ENGINEER, Role.CISO)
    claire = Person.objects.get(email="claire@x.org")
    event = AuditEvent.objects.get(verb="person.updated", subject_id=str(claire.pk))
    assert (event.before, event.after) == (
        {"roles": ["cio", "change_manager"]}, {"roles": ["cio"]},
    )  # fmt: skip


def test_export_writes_role_for_one_and_roles_for_several_and_reads_back() -> None:
    org_apply(document=_doc(PEOPLE), actor=None)

    text = dump_document(org_export())
    people = {p["email"]: p for p in yaml.safe_load(text)["people"]}

    assert people["sam@x.org"] == {"name": "Sam", "email": "sam@x.org", "role": "ciso"}
    assert people["claire@x.org"]["roles"] == ["cio", "change_manager"]
    assert "role" not in people["claire@x.org"]
    assert people["ola@x.org"]["roles"] == ["engineer", "service_owner"]
    assert (
        org_apply(document=parse_document(yaml.safe_load(text), file="x"), actor=None).changes == []
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"roles": ["auditor", "engineer"]}, "the auditor role is held alone"),
        ({"roles": ["cio", "pope"]}, "no role 'pope'"),
        ({"roles": ["cio", "cio"]}, "listed twice"),
        ({"role": "ciso", "roles": ["cio"]}, "is not among roles"),
        ({"roles": []}, "roles"),
    ],
)
def test_impossible_roles_are_refused_naming_the_person(
    entry: dict[str, Any], message: str
) -> None:
    people = [PEOPLE[1], {"name": "Bad", "email": "bad@x.org", **entry}]

    with pytest.raises(InputError, match=message) as refused:
        org_apply(document=_doc(people), actor=None)

    assert "org.yaml" in str(refused.value)
    assert "bad@x.org" in str(refused.value) or "people[1]" in str(refused.value)
    assert not Person.objects.exists()
    assert not PersonRole.objects.exists()

"""``org_apply``: diff, idempotence, removals deactivate, audit, refusals write nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from detente.audit.models import AuditEvent
from detente.audit.services import audit_verify
from detente.core.errors import InputError, PermissionDenied
from detente.inventory.models import Asset, BusinessService
from detente.org.document import dump_document, parse_document, read_document
from detente.org.selectors import org_export
from detente.org.services import org_apply
from detente.people.models import Person, Role, Team
from detente.people.services import person_upsert

pytestmark = pytest.mark.django_db


def _org() -> dict[str, Any]:
    return {
        "version": 1,
        "people": [
            {"name": "Claire Dubois", "email": "cio@x.org", "role": "cio"},
            {"name": "Sam Okafor", "email": "CISO@x.org", "role": "ciso"},
            {"name": "Lena Novak", "email": "lena@x.org", "role": "service_owner"},
        ],
        "teams": [
            {"slug": "it", "name": "IT", "members": ["cio@x.org"]},
            {"slug": "banking", "name": "Banking", "parent": "it", "members": ["lena@x.org"]},
        ],
        "services": [
            {
                "slug": "online-banking",
                "name": "Online Banking",
                "owner": "lena@x.org",
                "team": "banking",
                "criticality": "critical",
                "data_classification": "restricted",
                "internet_facing": True,
            }
        ],
        "assets": [
            {"kind": "host", "identifier": "web-01", "service": "online-banking", "exposed": True},
            {"kind": "image", "identifier": "registry/app:1", "service": "online-banking"},
        ],
    }


def _doc(data: dict[str, Any]) -> Any:
    return parse_document(data, file="org.yaml")


def test_dry_run_lists_the_diff_and_writes_nothing() -> None:
    plan = org_apply(document=_doc(_org()), actor=None, dry_run=True)

    assert [c.line() for c in plan.changes] == [
        "+ person cio@x.org",
        "+ person ciso@x.org",
        "+ person lena@x.org",
        "+ team it",
        "+ team banking",
        "+ service online-banking",
        "+ asset host:web-01",
        "+ asset image:registry/app:1",
    ]
    assert plan.applied is False
    assert (Person.objects.count(), Team.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


def test_apply_writes_everything_audited_and_a_second_apply_changes_nothing() -> None:
    plan = org_apply(document=_doc(_org()), actor=None)

    assert plan.applied is True
    lena = Person.objects.get(email="lena@x.org")
    assert (lena.name, lena.role, lena.active) == ("Lena Novak", Role.SERVICE_OWNER, True)
    banking = Team.objects.get(slug="banking")
    assert (banking.parent and banking.parent.slug, [p.email for p in banking.members.all()]) == (
        "it",
        ["lena@x.org"],
    )
    service = BusinessService.objects.get(slug="online-banking")
    assert (service.owner, service.team, service.criticality, service.internet_facing) == (
        lena,
        banking,
        "critical",
        True,
    )
    web = Asset.objects.get(identifier="web-01")
    image = Asset.objects.get(identifier="registry/app:1")
    assert (web.publicly_exposed, web.declared, web.service) == (True, True, service)
    assert (image.publicly_exposed, image.name) == (None, "registry/app:1")
    verbs = list(AuditEvent.objects.values_list("verb", flat=True))
    assert verbs == [
        "person.created", "person.created", "person.created", "team.created", "team.created",
        "service.created", "asset.created", "asset.created", "org.applied",
    ]  # fmt: skip
    assert audit_verify().ok

    again = org_apply(document=_doc(_org()), actor=Person.objects.get(email="cio@x.org"))
    assert (again.changes, again.applied) == ([], False)
    assert AuditEvent.objects.count() == 9


def test_export_round_trips() -> None:
    org_apply(document=_doc(_org()), actor=None)

    text = dump_document(org_export())
    reread = _doc(yaml.safe_load(text))

    assert org_apply(document=reread, actor=None).changes == []
    assert reread == _doc(_org())


def test_changes_and_removals_deactivate_never_delete() -> None:
    org_apply(document=_doc(_org()), actor=None)
    cio = Person.objects.get(email="cio@x.org")
    data = _org()
    data["people"] = [p for p in data["people"] if p["email"] != "CISO@x.org"]
    data["services"][0]["criticality"] = "high"
    data["assets"] = data["assets"][:1]
    data["teams"][1]["members"] = []
    events_before = AuditEvent.objects.count()

    plan = org_apply(document=_doc(data), actor=cio)

    assert [c.line() for c in plan.changes] == [
        "- person ciso@x.org",
        "~ team banking (members: [lena@x.org] → [])",
        "~ service online-banking (criticality: critical → high)",
        "- asset image:registry/app:1",
    ]
    assert Person.objects.get(email="ciso@x.org").active is False
    assert Asset.objects.get(identifier="registry/app:1").active is False
    assert Person.objects.count() == 3
    assert Asset.objects.count() == 2
    assert list(Team.objects.get(slug="banking").members.all()) == []
    assert AuditEvent.objects.count() == events_before + 5
    updated = AuditEvent.objects.get(verb="service.updated")
    assert (updated.before, updated.after, updated.actor) == (
        {"criticality": "critical"},
        {"criticality": "high"},
        cio,
    )

    back = org_apply(document=_doc(_org()), actor=cio)
    assert "~ person ciso@x.org (active: False → True)" in [c.line() for c in back.changes]
    assert Person.objects.get(email="ciso@x.org").active is True


def test_a_section_left_out_is_not_touched() -> None:
    org_apply(document=_doc(_org()), actor=None)

    plan = org_apply(
        document=_doc({"version": 1, "services": _org()["services"]}), actor=None, dry_run=True
    )

    assert plan.changes == []


def test_scan_discovered_assets_are_not_removed_but_can_be_declared() -> None:
    Asset.objects.create(kind="host", identifier="found-by-scan", name="found-by-scan")
    Asset.objects.create(kind="host", identifier="web-01", name="web-01")

    plan = org_apply(document=_doc(_org()), actor=None)

    assert (
        "~ asset host:web-01 (service: none → online-banking, exposed: unknown → yes, "
        "declared: False → True)"
    ) in [c.line() for c in plan.changes]
    assert Asset.objects.get(identifier="found-by-scan").active is True
    assert Asset.objects.count() == 3


def test_only_leaders_and_the_it_lead_may_change_the_organisation() -> None:
    engineer = person_upsert(name="Ada", email="ada@x.org", role=Role.ENGINEER)
    events = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied, match="Engineer may not change the organisation"):
        org_apply(document=_doc(_org()), actor=engineer)

    assert Person.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["people"][2].update(email="cio@x.org"),
            "org.yaml, record people[2] (cio@x.org), field 'email': 'cio@x.org' again "
            "(first at people[0])",
        ),
        (
            lambda d: d["people"][1].update(role="king"),
            "org.yaml, record people[1] (CISO@x.org), field 'role': no role 'king' (roles: cio, "
            "ciso, security_lead, it_lead, service_owner, engineer, change_manager, auditor, "
            "facilitator)",
        ),
        (
            lambda d: d["services"][0].update(owner="ghost@x.org"),
            "org.yaml, record services[0] (online-banking), field 'owner': owner 'ghost@x.org' "
            "is not a person",
        ),
        (
            lambda d: d["teams"][0].update(parent="banking"),
            "org.yaml, record teams[0] (it), field 'parent': teams form a cycle: it → banking → it",
        ),
        (
            lambda d: d["services"].append(dict(d["services"][0])),
            "org.yaml, record services[1] (online-banking), field 'slug': 'online-banking' "
            "again (first at services[0])",
        ),
        (
            lambda d: d["assets"][0].update(service="nowhere"),
            "org.yaml, record assets[0] (host:web-01), field 'service': no service 'nowhere'",
        ),
        (
            lambda d: d["people"][0].update(name="Claire\x00"),
            "org.yaml, record people[0] (cio@x.org), field 'name': text must not contain NUL or "
            "unpaired surrogate characters",
        ),
        (
            lambda d: d["assets"][0].update(colour="red"),
            "org.yaml, record assets[0] (host:web-01), field 'colour': Extra inputs are not "
            "permitted",
        ),
    ],
)
def test_bad_input_names_the_entry_and_field(change: Any, message: str) -> None:
    data = _org()
    change(data)

    with pytest.raises(InputError) as caught:
        org_apply(document=_doc(data), actor=None)

    assert str(caught.value) == message
    assert (Person.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_read_document_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("version: 1\npeople: [{name: A, email: not-mail, role: cio}]\n")

    with pytest.raises(InputError) as caught:
        read_document(path)

    assert str(caught.value) == (
        f"{path}, record people[0] (not-mail), field 'email': 'not-mail' is not an e-mail address"
    )

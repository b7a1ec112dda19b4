"""CMDB CSV exports: ServiceNow's ``cmdb_ci_service`` shape and a mapping of one's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.audit.models import AuditEvent
from detente.core.errors import InputError
from detente.inventory.models import Asset, BusinessService
from detente.org.cmdb import read_cmdb_csv
from detente.org.document import AssetEntry, ServiceEntry
from detente.org.services import org_apply
from detente.people.models import Role
from detente.people.services import person_upsert

HERE = Path(__file__).parent
EXPORT = HERE / "cmdb_ci_service.csv"


def test_servicenow_export_with_the_default_mapping() -> None:
    document = read_cmdb_csv([EXPORT])

    assert (document.people, document.teams, document.assets) == (None, None, None)
    assert document.services == (
        ServiceEntry(
            slug="online-banking", name="Online Banking", owner="lena@x.org", criticality="critical"
        ),
        ServiceEntry(slug="hr-portal", name="HR Portal", owner="lena@x.org", criticality="medium"),
        ServiceEntry(slug="shared-printing", name="Shared Printing", criticality="low"),
    )


@pytest.mark.django_db
def test_applying_services_keeps_people_and_checks_owners_against_them() -> None:
    person_upsert(name="Lena Novak", email="lena@x.org", role=Role.SERVICE_OWNER)

    plan = org_apply(document=read_cmdb_csv([EXPORT]), actor=None)

    assert plan.summary() == (
        "people: 0 added, 0 changed, 0 removed; teams: 0 added, 0 changed, 0 removed; "
        "services: 3 added, 0 changed, 0 removed; assets: 0 added, 0 changed, 0 removed"
    )
    banking = BusinessService.objects.get(slug="online-banking")
    assert (banking.owner and banking.owner.email, banking.criticality) == (
        "lena@x.org",
        "critical",
    )
    assert org_apply(document=read_cmdb_csv([EXPORT]), actor=None).changes == []


@pytest.mark.django_db
def test_an_owner_who_is_not_a_person_is_refused_and_nothing_written() -> None:
    with pytest.raises(InputError) as caught:
        org_apply(document=read_cmdb_csv([EXPORT]), actor=None, file=str(EXPORT))

    assert str(caught.value) == (
        f"{EXPORT}, record services[0] (online-banking), field 'owner': owner 'lena@x.org' is "
        "not a person"
    )
    assert (BusinessService.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    export = tmp_path / "services.csv"
    export.write_text("name,owned_by,operational_status\nShop,Lena,Operational\n")

    with pytest.raises(InputError) as caught:
        read_cmdb_csv([export])

    assert str(caught.value) == (
        f"{export}, record header: missing columns: busines_criticality, owned_by.email "
        "(columns: name, owned_by, operational_status)"
    )


def test_a_value_the_mapping_does_not_know_names_the_line_and_column(tmp_path: Path) -> None:
    export = tmp_path / "services.csv"
    export.write_text(
        "name,owned_by.email,busines_criticality,operational_status\n"
        "Shop,,1 - most critical,Operational\nTill,,5 - whatever,Operational\n"
    )

    with pytest.raises(InputError) as caught:
        read_cmdb_csv([export])

    assert str(caught.value) == (
        f"{export}, record line 3, field 'busines_criticality': no criticality '5 - whatever' "
        "(one of low, medium, high, critical)"
    )


def test_duplicate_services_are_named_by_line(tmp_path: Path) -> None:
    export = tmp_path / "services.csv"
    export.write_text(
        "name,owned_by.email,busines_criticality,operational_status\n"
        "Shop,,1 - most critical,Operational\nSHOP,,1 - most critical,Operational\n"
    )

    with pytest.raises(InputError) as caught:
        read_cmdb_csv([export])

    assert str(caught.value) == (
        f"{export}, record line 3, field 'name': 'shop' again (first at {export}, line 2)"
    )


@pytest.mark.django_db
def test_a_mapping_of_ones_own_reads_assets(tmp_path: Path) -> None:
    BusinessService.objects.create(slug="shop", name="Shop")
    mapping = tmp_path / "servers.yaml"
    mapping.write_text(
        "section: assets\n"
        "columns: {identifier: fqdn, name: name, service: u_service, exposed: u_internet}\n"
        "values: {exposed: {'Internet': 'yes', 'Internal': 'no'}}\n"
        "constants: {kind: host}\n"
    )
    export = tmp_path / "cmdb_ci_server.csv"
    export.write_text(
        "name,fqdn,u_service,u_internet\n"
        "web01,web01.shop.example,shop,Internet\ndb01,db01.shop.example,shop,Internal\n"
    )

    document = read_cmdb_csv([export], mapping=mapping)
    org_apply(document=document, actor=None)

    assert document.assets == (
        AssetEntry(kind="host", identifier="web01.shop.example", name="web01", service="shop",
                   exposed="yes"),
        AssetEntry(kind="host", identifier="db01.shop.example", name="db01", service="shop",
                   exposed="no"),
    )  # fmt: skip
    assert list(Asset.objects.values_list("identifier", "publicly_exposed", "service__slug")) == [
        ("db01.shop.example", False, "shop"),
        ("web01.shop.example", True, "shop"),
    ]


def test_a_mapping_naming_an_unknown_field_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {slug: name, name: name, colour: u_colour}\n")

    with pytest.raises(InputError) as caught:
        read_cmdb_csv([EXPORT], mapping=mapping)

    assert str(caught.value) == (
        f"{mapping}, field 'colour': no service field 'colour' (fields: slug, name, owner, team, "
        "criticality, data_classification, internet_facing, customer_facing)"
    )

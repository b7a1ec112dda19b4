"""The Backstage reader on the real catalog examples (``shared/samples/backstage``) and on
files written in their shape (``tests/catalog``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detente.core.errors import InputError
from detente.inventory.models import Asset, BusinessService
from detente.org.backstage import read_catalog
from detente.org.document import AssetEntry, PersonEntry, ServiceEntry, TeamEntry
from detente.org.services import org_apply
from detente.people.models import Person, Team

HERE = Path(__file__).parent
REAL = ("org.yaml", "team-a-group.yaml", "artist-lookup-component.yaml", "artists-db-resource.yaml")


@pytest.fixture
def catalog(samples: Path, tmp_path: Path) -> Path:
    """The real examples that make a whole catalog, with the two files they point to."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    for name in REAL:
        shutil.copy(samples / "backstage" / name, folder / name)
    for written in (HERE / "catalog").iterdir():
        shutil.copy(written, folder / written.name)
    return folder


def test_a_catalog_becomes_teams_people_services_and_assets(catalog: Path) -> None:
    document = read_catalog([catalog], roles=HERE / "backstage-roles.yaml")

    owner = "service_owner"
    assert document.people == (
        PersonEntry(name="breanna.davison", email="breanna-davison@example.com", role=owner),
        PersonEntry(name="Janelle Dawe", email="janelle-dawe@example.com", role=owner),
        PersonEntry(name="Nigel Manning", email="nigel-manning@example.com", role=owner),
        PersonEntry(name="Guest User", email="guest@example.com", role=owner),
    )
    assert document.teams == (
        TeamEntry(slug="infrastructure", name="Infrastructure", parent="acme-corp"),
        TeamEntry(slug="backstage", name="Backstage", parent="infrastructure"),
        TeamEntry(slug="acme-corp", name="acme-corp"),
        TeamEntry(
            slug="team-a",
            name="team-a",
            parent="backstage",
            members=(
                "breanna-davison@example.com",
                "guest@example.com",
                "janelle-dawe@example.com",
                "nigel-manning@example.com",
            ),
        ),
    )
    assert document.services == (
        ServiceEntry(
            slug="artist-engagement-portal",
            name="Artist Engagement Portal",
            team="team-a",
            criticality="high",
            data_classification="confidential",
            internet_facing=True,
        ),
    )
    assert document.assets == (
        AssetEntry(
            kind="application",
            identifier="component:default/artist-lookup",
            name="artist-lookup",
            service="artist-engagement-portal",
        ),
        AssetEntry(
            kind="cloud",
            identifier="resource:default/artists-db",
            name="artists-db",
            service="artist-engagement-portal",
        ),
    )


@pytest.mark.django_db
def test_applying_a_catalog_twice_changes_nothing_the_second_time(catalog: Path) -> None:
    first = org_apply(document=read_catalog([catalog]), actor=None)
    second = org_apply(document=read_catalog([catalog]), actor=None)

    assert first.summary() == (
        "people: 4 added, 0 changed, 0 removed; teams: 4 added, 0 changed, 0 removed; "
        "services: 1 added, 0 changed, 0 removed; assets: 2 added, 0 changed, 0 removed"
    )
    assert second.changes == []
    assert set(Person.objects.values_list("role", flat=True)) == {"engineer"}
    assert Team.objects.get(slug="team-a").members.count() == 4
    assert BusinessService.objects.get().team == Team.objects.get(slug="team-a")
    assert Asset.objects.filter(declared=True).count() == 2


@pytest.mark.django_db
def test_a_deprecated_component_is_left_out_and_so_deactivated(catalog: Path) -> None:
    org_apply(document=read_catalog([catalog]), actor=None)
    component = catalog / "artist-lookup-component.yaml"
    component.write_text(
        component.read_text().replace("lifecycle: experimental", "lifecycle: deprecated")
    )

    plan = org_apply(document=read_catalog([catalog]), actor=None)

    assert [c.line() for c in plan.changes] == [
        "- asset application:component:default/artist-lookup"
    ]
    assert Asset.objects.get(identifier="component:default/artist-lookup").active is False


def test_the_invalid_example_is_refused_by_name(samples: Path) -> None:
    path = samples / "backstage" / "invalid-component.yaml"

    with pytest.raises(InputError) as caught:
        read_catalog([path])

    assert str(caught.value) == (
        f"{path}, record component:default/invalid component, field 'metadata.name': "
        "'invalid component' is not a valid entity name (letters, digits and single -_. between "
        "them, at most 63)"
    )


def test_the_whole_sample_folder_is_refused_for_its_invalid_entity(samples: Path) -> None:
    with pytest.raises(InputError, match=r"invalid-component\.yaml, record component:default/"):
        read_catalog([samples / "backstage"])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "team-a-group.yaml",
            "record group:default/team-a, field 'spec.parent': 'backstage' names no group in the "
            "catalog (dangling reference)",
        ),
        (
            "audio-playback-system.yaml",
            "record system:default/audio-playback, field 'spec.owner': 'team-c' names no group in "
            "the catalog (dangling reference)",
        ),
        (
            "artist-lookup-component.yaml",
            "record component:default/artist-lookup, field 'spec.owner': 'team-a' names no group "
            "in the catalog (dangling reference)",
        ),
    ],
)
def test_a_dangling_reference_is_refused_by_entity_and_field(
    samples: Path, name: str, message: str
) -> None:
    path = samples / "backstage" / name

    with pytest.raises(InputError) as caught:
        read_catalog([path])

    assert str(caught.value) == f"{path}, {message}"


def test_one_email_on_two_different_users_is_refused(catalog: Path) -> None:
    (catalog / "twin.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: twin}\n"
        "spec: {profile: {email: Guest@example.com, displayName: Someone Else}, memberOf: []}\n"
    )

    with pytest.raises(InputError) as caught:
        read_catalog([catalog])

    assert str(caught.value) == (
        f"{catalog / 'twin.yaml'}, record user:default/twin, field 'spec.profile.email': e-mail "
        f"guest@example.com is also user:default/guest (in {catalog / 'team-a-group.yaml'}) with "
        "another name or role"
    )

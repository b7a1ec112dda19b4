"""Reading the organisation as the database holds it, in the shape of the organisation file."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from detente.inventory.models import Asset, BusinessService
from detente.org.document import (
    AssetEntry,
    OrgDocument,
    PersonEntry,
    ServiceEntry,
    TeamEntry,
    exposure_value,
)
from detente.people.models import Person, Team


@dataclass
class Current:
    """Every row, active or not, keyed as the file keys it, with its id and active flag."""

    people: dict[str, tuple[int, bool, PersonEntry]]
    teams: dict[str, tuple[int, bool, TeamEntry]]
    services: dict[str, tuple[int, bool, ServiceEntry]]
    assets: dict[tuple[str, str], tuple[int, bool, bool, AssetEntry]]  # id, active, declared


def org_current(*, assets: bool = True) -> Current:
    people: dict[str, tuple[int, bool, PersonEntry]] = {}
    email_of: dict[int, str] = {}
    for pk, name, email, role, active in Person.objects.values_list(
        "id", "name", "email", "role", "active"
    ).order_by("id"):
        email_of[pk] = email
        people[email] = (pk, active, PersonEntry.model_construct(name=name, email=email, role=role))
    members: dict[int, list[str]] = defaultdict(list)
    for team_id, person_id in Team.members.through.objects.values_list("team_id", "person_id"):
        members[team_id].append(email_of[person_id])
    slug_of = dict(Team.objects.values_list("id", "slug"))
    teams: dict[str, tuple[int, bool, TeamEntry]] = {}
    for pk, slug, name, parent_id, active in Team.objects.values_list(
        "id", "slug", "name", "parent_id", "active"
    ).order_by("id"):
        teams[slug] = (
            pk,
            active,
            TeamEntry.model_construct(
                slug=slug,
                name=name,
                parent=slug_of.get(parent_id) if parent_id else None,
                members=tuple(sorted(members.get(pk, ()))),
            ),
        )
    services: dict[str, tuple[int, bool, ServiceEntry]] = {}
    service_slug: dict[int, str] = {}
    for row in BusinessService.objects.values_list(
        "id", "slug", "name", "owner_id", "team_id", "criticality", "data_classification",
        "internet_facing", "customer_facing", "active",
    ).order_by("id"):  # fmt: skip
        pk, slug, name, owner_id, team_id, crit, data, internet, customer, active = row
        service_slug[pk] = slug
        services[slug] = (
            pk,
            active,
            ServiceEntry.model_construct(
                slug=slug,
                name=name,
                owner=email_of.get(owner_id) if owner_id else None,
                team=slug_of.get(team_id) if team_id else None,
                criticality=crit,
                data_classification=data,
                internet_facing=internet,
                customer_facing=customer,
            ),
        )
    found: dict[tuple[str, str], tuple[int, bool, bool, AssetEntry]] = {}
    if assets:
        for (
            pk,
            kind,
            identifier,
            name,
            service_id,
            exposed,
            active,
            declared,
        ) in Asset.objects.values_list(
            "id",
            "kind",
            "identifier",
            "name",
            "service_id",
            "publicly_exposed",
            "active",
            "declared",
        ).order_by("id"):
            found[(kind, identifier)] = (
                pk,
                active,
                declared,
                AssetEntry.model_construct(
                    kind=kind,
                    identifier=identifier,
                    name=None if name == identifier else name,
                    service=service_slug.get(service_id) if service_id else None,
                    exposed=exposure_value(exposed),
                ),
            )
    return Current(people, teams, services, found)


def org_export() -> OrgDocument:
    """The active organisation as a document: people, teams, services, declared assets."""
    current = org_current()
    emails = {email for email, (_pk, active, _e) in current.people.items() if active}
    slugs = {slug for slug, (_pk, active, _e) in current.teams.items() if active}
    teams = [
        e.model_copy(
            update={
                "parent": e.parent if e.parent in slugs else None,
                "members": tuple(m for m in e.members if m in emails),
            }
        )
        for _pk, active, e in current.teams.values()
        if active
    ]
    services = [
        e.model_copy(
            update={
                "owner": e.owner if e.owner in emails else None,
                "team": e.team if e.team in slugs else None,
            }
        )
        for _pk, active, e in current.services.values()
        if active
    ]
    active_services = {s.slug for s in services}
    return OrgDocument(
        people=tuple(e for _pk, active, e in current.people.values() if active),
        teams=tuple(teams),
        services=tuple(services),
        assets=tuple(
            e.model_copy(update={"service": e.service if e.service in active_services else None})
            for _pk, active, declared, e in current.assets.values()
            if active and declared
        ),
    )

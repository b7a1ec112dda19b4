"""Reading the organisation as the database holds it, in the shape of the organisation file."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from django.db import connection
from django.db.models import QuerySet

from detente.inventory.models import Asset, BusinessService
from detente.org.document import (
    AssetEntry,
    OrgDocument,
    PersonEntry,
    ServiceEntry,
    TeamEntry,
)
from detente.people.models import Person, PersonRole, Role, Team


# What the database holds, with the entries' field names: plain slotted rows, because building
# 200,000 pydantic models (even with model_construct) took longer than the whole diff.
@dataclass(frozen=True, slots=True)
class PersonRow:
    name: str
    email: str
    role: str
    roles: tuple[str, ...]  # every role, the primary first (as ``PersonEntry.roles``)


@dataclass(frozen=True, slots=True)
class TeamRow:
    slug: str
    name: str
    parent: str | None
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    slug: str
    name: str
    owner: str | None
    team: str | None
    criticality: str
    data_classification: str
    internet_facing: bool
    customer_facing: bool


@dataclass(frozen=True, slots=True)
class AssetRow:
    kind: str
    identifier: str
    name: str | None
    service: str | None
    exposed: str

    @property
    def display_name(self) -> str:
        return self.name or self.identifier


@dataclass
class Current:
    """Every row, active or not, keyed as the file keys it, with its id and active flag."""

    people: dict[str, tuple[int, bool, PersonRow]]
    teams: dict[str, tuple[int, bool, TeamRow]]
    services: dict[str, tuple[int, bool, ServiceRow]]
    assets: dict[tuple[str, str], tuple[int, bool, bool, AssetRow]]  # id, active, declared


def org_current(*, assets: bool = True) -> Current:
    people: dict[str, tuple[int, bool, PersonRow]] = {}
    email_of: dict[int, str] = {}
    extra: dict[int, set[str]] = defaultdict(set)
    for person_id, extra_role in PersonRole.objects.values_list("person_id", "role"):
        extra[person_id].add(extra_role)
    order = {r.value: i for i, r in enumerate(Role)}
    for pk, name, email, role, active in Person.objects.values_list(
        "id", "name", "email", "role", "active"
    ).order_by("id"):
        email_of[pk] = email
        others = sorted(extra.get(pk, set()) - {role}, key=order.__getitem__)
        person = PersonRow(name=name, email=email, role=role, roles=(role, *others))
        people[email] = (pk, active, person)
    members: dict[int, list[str]] = defaultdict(list)
    for team_id, person_id in Team.members.through.objects.values_list("team_id", "person_id"):
        members[team_id].append(email_of[person_id])
    slug_of = dict(Team.objects.values_list("id", "slug"))
    teams: dict[str, tuple[int, bool, TeamRow]] = {}
    for pk, slug, name, parent_id, active in Team.objects.values_list(
        "id", "slug", "name", "parent_id", "active"
    ).order_by("id"):
        teams[slug] = (
            pk,
            active,
            TeamRow(
                slug=slug,
                name=name,
                parent=slug_of.get(parent_id) if parent_id else None,
                members=tuple(sorted(members.get(pk, ()))),
            ),
        )
    services: dict[str, tuple[int, bool, ServiceRow]] = {}
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
            ServiceRow(
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
    found: dict[tuple[str, str], tuple[int, bool, bool, AssetRow]] = {}
    if assets:
        # 200,000 rows: a plain cursor, without the ORM's per-row converters (a third of the read)
        exposure = {None: "unknown", True: "yes", False: "no"}  # 1 and 0 hash as True and False
        service_slug[0] = ""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, kind, identifier, name, COALESCE(service_id, 0), publicly_exposed, "
                "active, declared FROM inventory_asset ORDER BY id"
            )
            for pk, kind, identifier, name, service_id, exposed, active, declared in cursor:
                found[(kind, identifier)] = (
                    pk,
                    bool(active),
                    bool(declared),
                    AssetRow(
                        kind,
                        identifier,
                        None if name == identifier else name,
                        service_slug[service_id] or None,
                        exposure[exposed],
                    ),
                )
    return Current(people, teams, services, found)


def org_export() -> OrgDocument:
    """The active organisation as a document: people, teams, services, declared assets."""
    current = org_current()
    emails = {email for email, (_pk, active, _e) in current.people.items() if active}
    slugs = {slug for slug, (_pk, active, _e) in current.teams.items() if active}
    teams = [
        TeamEntry.model_construct(
            **{
                **asdict(e),
                "parent": e.parent if e.parent in slugs else None,
                "members": tuple(m for m in e.members if m in emails),
            }
        )
        for _pk, active, e in current.teams.values()
        if active
    ]
    services = [
        ServiceEntry.model_construct(
            **{
                **asdict(e),
                "owner": e.owner if e.owner in emails else None,
                "team": e.team if e.team in slugs else None,
            }
        )
        for _pk, active, e in current.services.values()
        if active
    ]
    active_services = {s.slug for s in services}
    return OrgDocument(
        people=tuple(
            PersonEntry.model_construct(**asdict(e))
            for _pk, active, e in current.people.values()
            if active
        ),
        teams=tuple(teams),
        services=tuple(services),
        assets=tuple(
            AssetEntry.model_construct(
                **{**asdict(e), "service": e.service if e.service in active_services else None}
            )
            for _pk, active, declared, e in current.assets.values()
            if active and declared
        ),
    )


# ---------------------------------------------------------------- the organisation pages


def people_listed() -> QuerySet[Person]:
    """Everyone, active first, by name, with teams and roles (the people page)."""
    return Person.objects.order_by("-active", "name").prefetch_related("teams", "extra_roles")


def services_listed() -> QuerySet[BusinessService]:
    return BusinessService.objects.select_related("owner", "team").order_by("-active", "name")


def assets_listed() -> QuerySet[Asset]:
    return Asset.objects.select_related("service").order_by("-active", "kind", "identifier")


def service_for_edit(slug: str) -> BusinessService | None:
    return BusinessService.objects.select_related("owner", "team").filter(slug=slug).first()


def person_or_none(pk: int) -> Person | None:
    return Person.objects.filter(pk=pk).first()

"""Applying an organisation document: a diff against the database, then one audited transaction.

Idempotent: applying the same document twice changes nothing the second time. Removals
deactivate (``active = False``), never delete: findings, signatures and audit events keep their
people, services and assets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from detente.audit.services import PendingEvent, audit_record_many
from detente.core.bulk import insert_rows, is_postgres
from detente.core.errors import NotFound, PermissionDenied, RuleViolation
from detente.inventory.models import Asset, BusinessService
from detente.org.document import (
    AssetEntry,
    OrgDocument,
    PersonEntry,
    ServiceEntry,
    TeamEntry,
    check_document,
    exposure_flag,
)
from detente.org.selectors import Current, org_current
from detente.people.models import Person, PersonRole, Role, Team

# Who may change the organisation. The CIO and CISO own it; the IT lead keeps the inventory.
ORG_WRITERS = frozenset({Role.CIO, Role.CISO, Role.IT_LEAD})

PERSON_FIELDS = ("name", "roles")
TEAM_FIELDS = ("name", "parent", "members")
SERVICE_FIELDS = (
    "name", "owner", "team", "criticality", "data_classification", "internet_facing",
    "customer_facing",
)  # fmt: skip
ASSET_FIELDS = ("name", "service", "exposed")
# Changes that move deadlines: the shell re-evaluates findings after them.
_DEADLINE_FIELDS = frozenset({"criticality", "internet_facing", "exposed", "service", "active"})
_BATCH = 2000


@dataclass(frozen=True)
class Change:
    kind: str  # person | team | service | asset
    key: str
    action: str  # added | changed | removed
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name: (before, after)

    def line(self) -> str:
        sign = {"added": "+", "changed": "~", "removed": "-"}[self.action]
        detail = ", ".join(f"{k}: {_show(b)} → {_show(a)}" for k, (b, a) in self.fields.items())
        return f"{sign} {self.kind} {self.key}" + (f" ({detail})" if detail else "")


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value)


@dataclass
class OrgPlan:
    changes: list[Change]
    applied: bool = False

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for kind in ("person", "team", "service", "asset"):
            out[kind] = {
                action: sum(1 for c in self.changes if c.kind == kind and c.action == action)
                for action in ("added", "changed", "removed")
            }
        return out

    def summary(self) -> str:
        parts = []
        plural = {"person": "people", "team": "teams", "service": "services", "asset": "assets"}
        for kind, counts in self.counts().items():
            parts.append(
                f"{plural[kind]}: {counts['added']} added, {counts['changed']} changed, "
                f"{counts['removed']} removed"
            )
        return "; ".join(parts)

    @property
    def moves_deadlines(self) -> bool:
        return any(
            c.kind in ("service", "asset")
            and (c.action != "changed" or _DEADLINE_FIELDS.intersection(c.fields))
            for c in self.changes
        )


def _differences(before: Any, after: Any, names: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    out: dict[str, tuple[Any, Any]] = {}
    for name in names:
        # an asset's name is its identifier unless it says otherwise
        attribute = "display_name" if name == "name" and hasattr(after, "display_name") else name
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            out[name] = (old, new)
    return out


def _diff_section(
    kind: str,
    wanted: Sequence[Any] | None,
    have: dict[Any, tuple[Any, ...]],
    names: Sequence[str],
    key_of: Any,
    label_of: Any,
    keep_missing: bool,
) -> Iterator[Change]:
    if wanted is None:
        return
    keys = set()
    for entry in wanted:
        key = key_of(entry)
        keys.add(key)
        row = have.get(key)
        if row is None:
            yield Change(kind, label_of(key), "added")
            continue
        active, current = row[1], row[-1]
        fields = _differences(current, entry, names)
        if not active:
            fields["active"] = (False, True)
        if kind == "asset" and not row[2]:
            fields["declared"] = (False, True)
        if fields:
            yield Change(kind, label_of(key), "changed", fields)
    if keep_missing:
        return
    for key, row in have.items():
        if key in keys or not row[1]:
            continue
        if kind == "asset" and not row[2]:
            continue  # discovered by a scan, never declared: not the file's to remove
        yield Change(kind, label_of(key), "removed")


def org_plan(
    document: OrgDocument, *, current: Current | None = None, keep_missing: bool = False
) -> OrgPlan:
    """What applying ``document`` would change, without changing it. ``keep_missing``: leave
    what the document does not list as it is (no removals): for a document that adds to an
    organisation rather than describes all of it (the demo)."""
    current = current or org_current(assets=document.assets is not None)
    changes: list[Change] = []
    changes += _diff_section(
        "person",
        document.people,
        current.people,
        PERSON_FIELDS,
        lambda e: e.email,
        str,
        keep_missing,
    )
    changes += _diff_section(
        "team", document.teams, current.teams, TEAM_FIELDS, lambda e: e.slug, str, keep_missing
    )
    changes += _diff_section(
        "service",
        document.services,
        current.services,
        SERVICE_FIELDS,
        lambda e: e.slug,
        str,
        keep_missing,
    )
    changes += _diff_section(
        "asset", document.assets, current.assets, ASSET_FIELDS, lambda e: e.key,
        lambda k: f"{k[0]}:{k[1]}", keep_missing,
    )  # fmt: skip
    return OrgPlan(changes)


def org_apply(
    *,
    document: OrgDocument,
    actor: Person | None,
    dry_run: bool = False,
    keep_missing: bool = False,
    file: str = "org",
) -> OrgPlan:
    """Bring the database to ``document`` in one transaction, one audit event per change.

    ``actor`` None is the system (the demo, a first install); a person must be allowed to
    change the organisation (``ORG_WRITERS``).
    """
    if actor is not None and not dry_run and not actor.has_any_role(ORG_WRITERS):
        raise PermissionDenied(
            f"{actor.get_role_display()} may not change the organisation "
            f"(who may: {', '.join(sorted(r.label for r in ORG_WRITERS))})"
        )
    with transaction.atomic():
        current = org_current(assets=document.assets is not None)
        check_document(
            document,
            file=file,
            known_people=[k for k, row in current.people.items() if row[1]],
            known_teams=[k for k, row in current.teams.items() if row[1]],
            known_services=[k for k, row in current.services.items() if row[1]],
        )
        plan = org_plan(document, current=current, keep_missing=keep_missing)
        if dry_run or not plan.changes:
            return plan
        if actor is not None and any(
            c.kind == "person" and c.key == actor.email and c.action == "removed"
            for c in plan.changes
        ):
            raise PermissionDenied(f"{actor.email} may not remove themselves from the organisation")
        events = _write(document, current, plan)
        audit_record_many(actor=actor, events=events)
        audit_record_many(
            actor=actor,
            events=[PendingEvent("org.applied", "org", file, after={"counts": plan.counts()})],
        )
        plan.applied = True
        return plan


def _write(document: OrgDocument, current: Current, plan: OrgPlan) -> list[PendingEvent]:
    by_kind: dict[str, dict[str, Change]] = {"person": {}, "team": {}, "service": {}, "asset": {}}
    for change in plan.changes:
        by_kind[change.kind][change.key] = change
    events: list[PendingEvent] = []
    person_ids = _write_people(document.people, current, by_kind["person"], events)
    team_ids = _write_teams(document.teams, current, by_kind["team"], person_ids, events)
    service_ids = _write_services(
        document.services, current, by_kind["service"], person_ids, team_ids, events
    )
    _write_assets(document.assets, current, by_kind["asset"], service_ids, events)
    return events


def _event(change: Change, pk: int, after: dict[str, Any] | None = None) -> PendingEvent:
    verb = {"added": "created", "changed": "updated", "removed": "deactivated"}[change.action]
    subject = {"person": "person", "team": "team", "service": "service", "asset": "asset"}
    before = {k: b for k, (b, _a) in change.fields.items()} if change.fields else None
    if after is None:
        after = {k: a for k, (_b, a) in change.fields.items()} if change.fields else None
    if change.action == "removed":
        before, after = {"active": True}, {"active": False}
    return PendingEvent(f"{subject[change.kind]}.{verb}", subject[change.kind], pk, before, after)


def _flag() -> Any:
    """Flags for ``core.bulk``: 0/1 on SQLite (see ARCHITECTURE.md), booleans on PostgreSQL."""
    return bool if is_postgres() else int


def _maybe(flag: Any, value: bool | None) -> Any:
    return None if value is None else flag(value)


def _deactivate(model: Any, ids: list[int]) -> None:
    for start in range(0, len(ids), _BATCH):
        model.objects.filter(id__in=ids[start : start + _BATCH]).update(active=False)


def _write_people(
    wanted: Sequence[PersonEntry] | None,
    current: Current,
    changes: dict[str, Change],
    events: list[PendingEvent],
) -> dict[str, int]:
    ids = {email: row[0] for email, row in current.people.items()}
    if wanted is None:
        return ids
    new = [e for e in wanted if e.email in changes and changes[e.email].action == "added"]
    flag = _flag()
    insert_rows(
        Person._meta.db_table,
        ("name", "email", "role", "active"),
        ((e.name, e.email, e.role, flag(True)) for e in new),
    )
    if new:
        ids.update(Person.objects.values_list("email", "id"))
    updates = []
    for e in wanted:
        change = changes.get(e.email)
        if change is None:
            continue
        if change.action == "added":
            events.append(_event(change, ids[e.email], e.model_dump()))
        else:
            updates.append(Person(id=ids[e.email], name=e.name, role=e.role, active=True))
            events.append(_event(change, ids[e.email]))
    Person.objects.bulk_update(updates, ["name", "role", "active"], batch_size=500)
    _write_roles([e for e in wanted if e.email in changes], ids)
    removed = [ids[k] for k, c in changes.items() if c.action == "removed"]
    _deactivate(Person, removed)
    events += [_event(c, ids[k]) for k, c in changes.items() if c.action == "removed"]
    return ids


def _write_roles(entries: Sequence[PersonEntry], ids: dict[str, int]) -> None:
    """The added roles (``PersonRole``) of the people added or changed: replaced by the file's."""
    touched = [ids[e.email] for e in entries]
    for start in range(0, len(touched), _BATCH):
        PersonRole.objects.filter(person_id__in=touched[start : start + _BATCH]).delete()
    PersonRole.objects.bulk_create(
        [PersonRole(person_id=ids[e.email], role=r) for e in entries for r in e.roles[1:]],
        batch_size=500,
    )


def _write_teams(
    wanted: Sequence[TeamEntry] | None,
    current: Current,
    changes: dict[str, Change],
    person_ids: dict[str, int],
    events: list[PendingEvent],
) -> dict[str, int]:
    ids = {slug: row[0] for slug, row in current.teams.items()}
    if wanted is None:
        return ids
    added = [e for e in wanted if e.slug in changes and changes[e.slug].action == "added"]
    Team.objects.bulk_create([Team(slug=e.slug, name=e.name) for e in added], batch_size=500)
    ids.update(Team.objects.filter(slug__in=[e.slug for e in added]).values_list("slug", "id"))
    touched = [e for e in wanted if e.slug in changes]
    Team.objects.bulk_update(
        [
            Team(
                id=ids[e.slug],
                name=e.name,
                parent_id=ids[e.parent] if e.parent else None,
                active=True,
            )
            for e in touched
        ],
        ["name", "parent", "active"],
        batch_size=500,
    )
    through = Team.members.through
    renewed = [
        e
        for e in touched
        if changes[e.slug].action == "added" or "members" in changes[e.slug].fields
    ]
    through.objects.filter(team_id__in=[ids[e.slug] for e in renewed]).delete()
    insert_rows(
        through._meta.db_table,
        ("team_id", "person_id"),
        ((ids[e.slug], person_ids[m]) for e in renewed for m in e.members),
    )
    for e in touched:
        change = changes[e.slug]
        events.append(
            _event(change, ids[e.slug], e.model_dump() if change.action == "added" else None)
        )
    removed = [k for k, c in changes.items() if c.action == "removed"]
    _deactivate(Team, [ids[k] for k in removed])
    events += [_event(changes[k], ids[k]) for k in removed]
    return ids


def _write_services(
    wanted: Sequence[ServiceEntry] | None,
    current: Current,
    changes: dict[str, Change],
    person_ids: dict[str, int],
    team_ids: dict[str, int],
    events: list[PendingEvent],
) -> dict[str, int]:
    ids = {slug: row[0] for slug, row in current.services.items()}
    if wanted is None:
        return ids

    def row(e: ServiceEntry, pk: int | None = None) -> BusinessService:
        return BusinessService(
            id=pk,
            slug=e.slug,
            name=e.name,
            owner_id=person_ids[e.owner] if e.owner else None,
            team_id=team_ids[e.team] if e.team else None,
            criticality=e.criticality,
            data_classification=e.data_classification,
            internet_facing=e.internet_facing,
            customer_facing=e.customer_facing,
            active=True,
        )

    added = [e for e in wanted if e.slug in changes and changes[e.slug].action == "added"]
    BusinessService.objects.bulk_create([row(e) for e in added], batch_size=500)
    ids.update(
        BusinessService.objects.filter(slug__in=[e.slug for e in added]).values_list("slug", "id")
    )
    changed = [e for e in wanted if e.slug in changes and changes[e.slug].action == "changed"]
    BusinessService.objects.bulk_update(
        [row(e, ids[e.slug]) for e in changed],
        [
            "name",
            "owner",
            "team",
            "criticality",
            "data_classification",
            "internet_facing",
            "customer_facing",
            "active",
        ],
        batch_size=500,
    )
    for e in wanted:
        if e.slug in changes:
            change = changes[e.slug]
            events.append(
                _event(change, ids[e.slug], e.model_dump() if change.action == "added" else None)
            )
    removed = [k for k, c in changes.items() if c.action == "removed"]
    _deactivate(BusinessService, [ids[k] for k in removed])
    events += [_event(changes[k], ids[k]) for k in removed]
    return ids


def _write_assets(
    wanted: Sequence[AssetEntry] | None,
    current: Current,
    changes: dict[str, Change],
    service_ids: dict[str, int],
    events: list[PendingEvent],
) -> None:
    if wanted is None:
        return

    def label(e: AssetEntry) -> str:
        return f"{e.kind}:{e.identifier}"

    def row(e: AssetEntry, pk: int | None = None) -> Asset:
        return Asset(
            id=pk,
            kind=e.kind,
            identifier=e.identifier,
            name=e.display_name,
            service_id=service_ids[e.service] if e.service else None,
            publicly_exposed=exposure_flag(e.exposed),
            declared=True,
            active=True,
        )

    added = [e for e in wanted if label(e) in changes and changes[label(e)].action == "added"]
    flag = _flag()
    insert_rows(
        Asset._meta.db_table,
        ("kind", "identifier", "name", "service_id", "publicly_exposed", "declared", "active"),
        (
            (e.kind, e.identifier, e.display_name, service_ids[e.service] if e.service else None,
             _maybe(flag, exposure_flag(e.exposed)), flag(True), flag(True))
            for e in added
        ),
    )  # fmt: skip
    ids = {key: r[0] for key, r in current.assets.items()}
    if added:
        rows = Asset.objects.values_list("kind", "identifier", "id")
        ids.update(((k, i), pk) for k, i, pk in rows)
    changed = [e for e in wanted if label(e) in changes and changes[label(e)].action == "changed"]
    Asset.objects.bulk_update(
        [row(e, ids[e.key]) for e in changed],
        ["name", "service", "publicly_exposed", "declared", "active"],
        batch_size=500,
    )
    for e in wanted:
        change = changes.get(label(e))
        if change is not None:
            events.append(
                _event(change, ids[e.key], e.model_dump() if change.action == "added" else None)
            )
    removed = [k for k, r in current.assets.items() if f"{k[0]}:{k[1]}" in changes
               and changes[f"{k[0]}:{k[1]}"].action == "removed"]  # fmt: skip
    _deactivate(Asset, [ids[k] for k in removed])
    events += [_event(changes[f"{k[0]}:{k[1]}"], ids[k]) for k in removed]


_MODELS: dict[str, Any] = {
    "person": Person,
    "team": Team,
    "service": BusinessService,
    "asset": Asset,
}


def org_deactivate(*, actor: Person, kind: str, pk: int) -> None:
    """Deactivate one person, team, service or asset (kept for history; re-activated by
    listing it again in an organisation file). Audited; the same roles as ``org_apply``."""
    if not actor.has_any_role(ORG_WRITERS):
        raise PermissionDenied(f"{actor.get_role_display()} may not change the organisation")
    model = _MODELS[kind]
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            raise NotFound(f"no {kind} {pk}")
        if kind == "person" and row.pk == actor.pk:
            raise PermissionDenied(f"{actor.email} may not remove themselves from the organisation")
        if not row.active:
            raise RuleViolation(f"{kind} {pk} is already inactive")
        row.active = False
        row.save(update_fields=["active"])
        audit_record_many(
            actor=actor,
            events=[
                PendingEvent(f"{kind}.deactivated", kind, pk, {"active": True}, {"active": False})
            ],
        )

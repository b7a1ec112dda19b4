"""A Backstage software catalog (``catalog-info.yaml`` files and folders) as an organisation.

Group → team, User → person, System → business service, Component and Resource → asset. Other
kinds (Location, API, Domain, Template, …) are skipped. Every reference (``spec.owner``,
``spec.system``, ``spec.parent``, ``spec.memberOf``, ``spec.members``) must name an entity of the
catalog read: a dangling one is refused, with the file, the entity and the field. The mapping is
documented in ``docs/organisation.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from detente.core.errors import InputError
from detente.org.document import (
    ASSET_KINDS,
    CLASSIFICATIONS,
    CRITICALITIES,
    ROLES,
    AssetEntry,
    OrgDocument,
    PersonEntry,
    ServiceEntry,
    TeamEntry,
    check_document,
)

API_VERSIONS = frozenset({"backstage.io/v1alpha1", "backstage.io/v1beta1"})
KINDS = ("group", "user", "system", "component", "resource")
# Backstage's own rule for metadata.name (catalog-model, KubernetesValidatorFunctions).
_NAME = re.compile(r"^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$")
_REF = re.compile(r"^(?:(?P<kind>[^:/]+):)?(?:(?P<namespace>[^:/]+)/)?(?P<name>[^:/]+)$")
# Annotations a catalog may carry for Détente (all optional).
ROLE = "detente.io/role"
CRITICALITY = "detente.io/criticality"
CLASSIFICATION = "detente.io/data-classification"
INTERNET_FACING = "detente.io/internet-facing"
CUSTOMER_FACING = "detente.io/customer-facing"
EXPOSED = "detente.io/exposed"
ASSET = "detente.io/asset"  # "<kind>:<identifier>", e.g. "image:registry.example/app"
COMPONENT_KINDS = {"website": "application", "service": "application", "library": "package"}
# spec.lifecycle: deprecated entities are left out, so applying deactivates them.
LIFECYCLE_LEFT_OUT = frozenset({"deprecated"})
DEFAULT_ROLE = "engineer"


@dataclass(frozen=True)
class Entity:
    kind: str  # lower case
    namespace: str
    name: str
    body: dict[str, Any]
    file: str

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) else {}

    def annotation(self, key: str) -> str | None:
        annotations = self.metadata.get("annotations")
        value = annotations.get(key) if isinstance(annotations, dict) else None
        return None if value is None else str(value).strip()

    def error(self, message: str, field: str) -> InputError:
        return InputError(message, file=self.file, record=self.ref, field=field)


@dataclass(frozen=True)
class RoleMapping:
    """Group → role (first of a user's groups that is mapped wins), and the default role."""

    groups: dict[str, str]
    default: str = DEFAULT_ROLE


def read_role_mapping(path: Path | None) -> RoleMapping:
    if path is None:
        return RoleMapping({})
    data = _load_yaml(path)
    if not isinstance(data, dict) or not set(data) <= {"roles", "default_role"}:
        raise InputError(
            "a role mapping has 'roles' (group: role) and 'default_role'", file=str(path)
        )
    groups = data.get("roles") or {}
    default = str(data.get("default_role") or DEFAULT_ROLE)
    for group, role in [*groups.items(), ("default_role", default)]:
        if role not in ROLES:
            raise InputError(
                f"no role {role!r} (roles: {', '.join(ROLES)})", file=str(path), record=str(group)
            )
    return RoleMapping({str(k): str(v) for k, v in groups.items()}, default)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not YAML: {str(exc).splitlines()[0]}", file=str(path)) from None


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        elif path.exists():
            yield path
        else:
            raise InputError("no such file or folder", file=str(path))


def read_entities(paths: Sequence[Path]) -> list[Entity]:
    """Every entity of the files (multi-document YAML), validated as Backstage validates them."""
    entities: list[Entity] = []
    for path in _files(paths):
        try:
            documents = list(
                yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            )
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", file=str(path)) from None
        except yaml.YAMLError as exc:
            raise InputError(f"not YAML: {str(exc).splitlines()[0]}", file=str(path)) from None
        for index, body in enumerate(documents):
            if body is None:
                continue
            entities.append(_entity(body, file=str(path), index=index))
    return entities


def _entity(body: Any, *, file: str, index: int) -> Entity:
    where = f"document {index + 1}"
    if not isinstance(body, dict):
        raise InputError("an entity is a mapping", file=file, record=where)
    if body.get("apiVersion") not in API_VERSIONS:
        raise InputError(
            f"apiVersion {body.get('apiVersion')!r} is not a Backstage catalog entity",
            file=file,
            record=where,
            field="apiVersion",
        )
    kind = body.get("kind")
    meta = body.get("metadata")
    if not isinstance(kind, str) or not kind:
        raise InputError("no kind", file=file, record=where, field="kind")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise InputError("no metadata.name", file=file, record=where, field="metadata.name")
    name = meta["name"]
    namespace = str(meta.get("namespace") or "default")
    if len(name) > 63 or not _NAME.match(name):
        raise InputError(
            f"{name!r} is not a valid entity name (letters, digits and single -_. between them, "
            "at most 63)",
            file=file,
            record=f"{kind.lower()}:{namespace}/{name}",
            field="metadata.name",
        )
    return Entity(kind.lower(), namespace, name, body, file)


def _slug(entity: Entity) -> str:
    base = re.sub(r"[_.]+", "-", entity.name.lower())
    return base if entity.namespace == "default" else f"{entity.namespace.lower()}-{base}"


def _refs(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


class _Catalog:
    def __init__(self, entities: list[Entity]) -> None:
        self.by_ref: dict[str, Entity] = {}
        for entity in entities:
            if entity.kind not in KINDS:
                continue
            first = self.by_ref.get(entity.ref)
            if first is not None:
                raise entity.error(
                    f"the entity is defined again (first in {first.file})", "metadata.name"
                )
            self.by_ref[entity.ref] = entity

    def resolve(self, ref: str, *, source: Entity, default_kind: str, field: str) -> Entity:
        match = _REF.match(ref.strip())
        if match is None:
            raise source.error(f"{ref!r} is not an entity reference", field)
        kind = (match["kind"] or default_kind).lower()
        namespace = match["namespace"] or source.namespace
        found = self.by_ref.get(f"{kind}:{namespace}/{match['name']}")
        if found is None and match["namespace"] is None and namespace != "default":
            found = self.by_ref.get(f"{kind}:default/{match['name']}")
        if found is None:
            raise source.error(
                f"{ref!r} names no {kind} in the catalog (dangling reference)", field
            )
        return found

    def of(self, kind: str) -> list[Entity]:
        return [e for e in self.by_ref.values() if e.kind == kind]


def read_catalog(paths: Sequence[Path], *, roles: Path | None = None) -> OrgDocument:
    """An ``OrgDocument`` from a Backstage catalog; sections only for the kinds it holds."""
    mapping = read_role_mapping(roles)
    catalog = _Catalog(read_entities(paths))
    label = ", ".join(map(str, paths))

    teams_of: dict[str, list[str]] = {}  # user ref → group slugs, in memberOf order
    members: dict[str, set[str]] = {}  # group slug → e-mails
    people: dict[str, PersonEntry] = {}
    person_from: dict[str, Entity] = {}
    email_of: dict[str, str] = {}
    for user in catalog.of("user"):
        profile = user.spec.get("profile")
        profile = profile if isinstance(profile, dict) else {}
        email = profile.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise user.error("a user needs an e-mail address", "spec.profile.email")
        email = email.strip().lower()
        name = str(profile.get("displayName") or user.metadata.get("title") or user.name).strip()
        email_of[user.ref] = email
        groups = [
            _slug(catalog.resolve(r, source=user, default_kind="group", field="spec.memberOf"))
            for r in _refs(user.spec.get("memberOf"))
        ]
        teams_of[user.ref] = groups
        role = user.annotation(ROLE) or next(
            (mapping.groups[g] for g in groups if g in mapping.groups), mapping.default
        )
        if role not in ROLES:
            raise user.error(f"no role {role!r} (roles: {', '.join(ROLES)})", f"annotations.{ROLE}")
        entry = PersonEntry(name=name, email=email, role=role)
        same = people.get(email)
        if same is not None and same != entry:
            first = person_from[email]
            raise user.error(
                f"e-mail {email} is also {first.ref} (in {first.file}) with another name or role",
                "spec.profile.email",
            )
        people[email] = entry
        person_from.setdefault(email, user)
        for slug in groups:
            members.setdefault(slug, set()).add(email)

    teams: list[TeamEntry] = []
    for group in catalog.of("group"):
        slug = _slug(group)
        for ref in _refs(group.spec.get("members")):
            user = catalog.resolve(ref, source=group, default_kind="user", field="spec.members")
            members.setdefault(slug, set()).add(email_of[user.ref])
        parent = group.spec.get("parent")
        profile = group.spec.get("profile")
        display = profile.get("displayName") if isinstance(profile, dict) else None
        teams.append(
            TeamEntry(
                slug=slug,
                name=str(display or group.metadata.get("title") or group.name),
                parent=_slug(
                    catalog.resolve(parent, source=group, default_kind="group", field="spec.parent")
                )
                if isinstance(parent, str)
                else None,
                members=tuple(members.get(slug, ())),
            )
        )

    services = [_service(system, catalog, email_of) for system in catalog.of("system")]
    assets = [
        asset
        for entity in [*catalog.of("component"), *catalog.of("resource")]
        if (asset := _asset(entity, catalog)) is not None
    ]
    document = OrgDocument(
        people=tuple(people.values()) if people else None,
        teams=tuple(teams) if teams else None,
        services=tuple(services) if services else None,
        assets=tuple(assets) if assets else None,
    )
    check_document(document, file=label)
    return document


def _owner(entity: Entity, catalog: _Catalog) -> Entity | None:
    owner = entity.spec.get("owner")
    if owner is None:
        return None
    if not isinstance(owner, str):
        raise entity.error("spec.owner is an entity reference", "spec.owner")
    return catalog.resolve(owner, source=entity, default_kind="group", field="spec.owner")


def _choice(entity: Entity, key: str, allowed: Sequence[str], default: str) -> str:
    value = entity.annotation(key)
    if value is None:
        return default
    if value not in allowed:
        raise entity.error(f"{value!r} is not one of {', '.join(allowed)}", f"annotations.{key}")
    return value


def _flag(entity: Entity, key: str) -> bool | None:
    value = entity.annotation(key)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise entity.error(f"{value!r} is not true or false", f"annotations.{key}")
    return value.lower() == "true"


def _service(system: Entity, catalog: _Catalog, email_of: dict[str, str]) -> ServiceEntry:
    owner = _owner(system, catalog)
    return ServiceEntry(
        slug=_slug(system),
        name=str(system.metadata.get("title") or system.name),
        owner=email_of[owner.ref] if owner is not None and owner.kind == "user" else None,
        team=_slug(owner) if owner is not None and owner.kind == "group" else None,
        criticality=_choice(system, CRITICALITY, CRITICALITIES, "medium"),
        data_classification=_choice(system, CLASSIFICATION, CLASSIFICATIONS, "internal"),
        internet_facing=bool(_flag(system, INTERNET_FACING)),
        customer_facing=bool(_flag(system, CUSTOMER_FACING)),
    )


def _asset(entity: Entity, catalog: _Catalog) -> AssetEntry | None:
    _owner(entity, catalog)  # a dangling owner is refused even though assets carry none
    system = entity.spec.get("system")
    service = (
        _slug(catalog.resolve(system, source=entity, default_kind="system", field="spec.system"))
        if isinstance(system, str)
        else None
    )
    if str(entity.spec.get("lifecycle") or "") in LIFECYCLE_LEFT_OUT:
        return None
    declared = entity.annotation(ASSET)
    if declared is not None:
        kind, _, identifier = declared.partition(":")
        if kind not in ASSET_KINDS or not identifier:
            raise entity.error(
                f"{declared!r} is not <kind>:<identifier> (kinds: {', '.join(ASSET_KINDS)})",
                f"annotations.{ASSET}",
            )
    elif entity.kind == "component":
        kind = COMPONENT_KINDS.get(str(entity.spec.get("type") or ""), "application")
        identifier = entity.ref
    else:
        kind, identifier = "cloud", entity.ref
    exposed = _flag(entity, EXPOSED)
    return AssetEntry(
        kind=kind,
        identifier=identifier,
        name=str(entity.metadata.get("title") or entity.name),
        service=service,
        exposed="unknown" if exposed is None else ("yes" if exposed else "no"),
    )

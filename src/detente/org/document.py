"""The organisation file (``org.yaml``): its typed shape, reading it, and the rules between entries.

Pure: no database. Readers of other sources (``backstage.py``, ``cmdb.py``) produce the same
``OrgDocument``, so one set of rules and one apply serve all of them.

A section the document leaves out (``people:`` absent) is not touched by apply; a section that is
present, even empty, is the whole truth for its kind (what it does not list is deactivated).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from detente.core.errors import InputError
from detente.inventory.models import AssetKind, Criticality, DataClassification
from detente.people.models import Role, roles_checked

VERSION = 1
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLES = tuple(r.value for r in Role)
CRITICALITIES = tuple(c.value for c in Criticality)
CLASSIFICATIONS = tuple(c.value for c in DataClassification)
ASSET_KINDS = tuple(k.value for k in AssetKind)
Exposure = Literal["yes", "no", "unknown"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # NUL (PostgreSQL refuses it) and lone surrogates (no encoding stores them)
        texts = value if isinstance(value, list | tuple) else [value]
        for text in texts:
            if isinstance(text, str) and ("\x00" in text or _SURROGATE.search(text)):
                raise ValueError("text must not contain NUL or unpaired surrogate characters")
        return value


class PersonEntry(_Entry):
    """A person: ``role: x`` for one role or ``roles: [x, y]`` for several (the first listed, or
    ``role`` when both are given, is the primary one). ``roles`` always holds every role, the
    primary first, the others in the product's role order."""

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    role: str = ""  # one of role / roles is given
    roles: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _one_or_several(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("roles") in (None, ()):
            return data
        listed = data["roles"]
        if isinstance(listed, str):
            listed = [listed]
        if not isinstance(listed, list | tuple) or not listed:
            raise ValueError("roles is a list of roles")
        primary = data.get("role", listed[0])
        if primary not in listed:
            raise ValueError(f"role {primary!r} is not among roles {list(listed)}")
        return {**data, "role": primary, "roles": tuple(listed)}

    @model_validator(mode="after")
    def _all_roles(self) -> PersonEntry:
        if not self.role:
            raise ValueError("give the person's role: (or roles: [..])")
        try:
            roles = roles_checked(self.role, self.roles or (self.role,))
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        object.__setattr__(self, "roles", roles)  # frozen: normalised once, here
        return self

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.lower()

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"no role {value!r} (roles: {', '.join(ROLES)})")
        return value


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a slug (lower-case letters, digits and -, ≤ 80)")
    return value


class TeamEntry(_Entry):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None
    members: tuple[str, ...] = ()

    _check_slug = field_validator("slug")(_slug)

    @field_validator("members")
    @classmethod
    def _members(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({m.strip().lower() for m in value}))


class ServiceEntry(_Entry):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    owner: str | None = None
    team: str | None = None
    criticality: str = "medium"
    data_classification: str = "internal"
    internet_facing: bool = False
    customer_facing: bool = False

    _check_slug = field_validator("slug")(_slug)

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("criticality")
    @classmethod
    def _criticality(cls, value: str) -> str:
        if value not in CRITICALITIES:
            raise ValueError(f"no criticality {value!r} (one of {', '.join(CRITICALITIES)})")
        return value

    @field_validator("data_classification")
    @classmethod
    def _classification(cls, value: str) -> str:
        if value not in CLASSIFICATIONS:
            raise ValueError(f"no classification {value!r} (one of {', '.join(CLASSIFICATIONS)})")
        return value


class AssetEntry(_Entry):
    kind: str
    identifier: str = Field(min_length=1, max_length=500)
    name: str | None = Field(default=None, max_length=500)
    service: str | None = None
    exposed: Exposure = "unknown"

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ASSET_KINDS:
            raise ValueError(f"no asset kind {value!r} (one of {', '.join(ASSET_KINDS)})")
        return value

    @field_validator("exposed", mode="before")
    @classmethod
    def _exposed(cls, value: Any) -> Any:
        # YAML reads yes/no/true/false as booleans.
        if value is True:
            return "yes"
        if value is False:
            return "no"
        if value is None:
            return "unknown"
        return value

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.identifier)

    @property
    def display_name(self) -> str:
        return self.name or self.identifier


class OrgDocument(_Entry):
    version: int = VERSION
    people: tuple[PersonEntry, ...] | None = None
    teams: tuple[TeamEntry, ...] | None = None
    services: tuple[ServiceEntry, ...] | None = None
    assets: tuple[AssetEntry, ...] | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != VERSION:
            raise ValueError(f"this Détente reads organisation files of version {VERSION}")
        return value


def exposure_value(exposed: bool | None) -> Exposure:
    return "unknown" if exposed is None else ("yes" if exposed else "no")


def exposure_flag(exposed: Exposure) -> bool | None:
    return None if exposed == "unknown" else exposed == "yes"


def _label(section: str, index: int, raw: Any) -> str:
    """``people[3] (ada@x.org)``: the entry by position and, when it has one, by its key."""
    key = None
    if isinstance(raw, dict) and isinstance(raw.get("identifier"), str) and raw.get("kind"):
        key = f"{raw['kind']}:{raw['identifier']}"
    elif isinstance(raw, dict):
        for name in ("email", "slug", "identifier"):
            if isinstance(raw.get(name), str):
                key = raw[name]
                break
    return f"{section}[{index}]" + (f" ({key})" if key else "")


def parse_document(data: Any, *, file: str) -> OrgDocument:
    """Validate a loaded mapping into an ``OrgDocument``; the first error names entry and field."""
    if not isinstance(data, dict):
        raise InputError("an organisation file is a mapping (version, people, teams, …)", file=file)
    try:
        document = OrgDocument.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if len(loc) >= 2 and isinstance(loc[1], int):
            section = str(loc[0])
            raw = (
                (data.get(section) or [None])[loc[1]]
                if isinstance(data.get(section), list)
                else None
            )
            field = ".".join(str(p) for p in loc[2:]) or None
            raise InputError(
                message, file=file, record=_label(section, loc[1], raw), field=field
            ) from None
        raise InputError(message, file=file, field=".".join(str(p) for p in loc)) from None
    check_document(document, file=file)
    return document


def read_document(path: Path) -> OrgDocument:
    """Read and validate ``org.yaml`` (or ``org.json``: the same document, read ~50x faster,
    for organisations of many thousand entries; see docs/organisation.md)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    if path.suffix.lower() == ".json":
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise InputError(f"not JSON: {exc}", file=str(path)) from None
        return parse_document(data, file=str(path))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not YAML: {str(exc).splitlines()[0]}", file=str(path)) from None
    return parse_document(data, file=str(path))


def _duplicates(section: str, keys: Iterable[str], *, file: str, field: str) -> None:
    seen: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise InputError(
                f"{key!r} again (first at {section}[{seen[key]}])",
                file=file,
                record=f"{section}[{index}] ({key})",
                field=field,
            )
        seen[key] = index


def check_document(
    document: OrgDocument,
    *,
    file: str,
    known_people: Sequence[str] | None = None,
    known_teams: Sequence[str] | None = None,
    known_services: Sequence[str] | None = None,
) -> None:
    """The rules between entries: unique keys, owners and members who are people, teams and
    services that exist, no cycle among teams. ``known_*``: what the database holds for sections
    the document leaves out (apply passes them); None: not known yet, not checked."""
    people = document.people
    teams = document.teams
    services = document.services
    if people is not None:
        _duplicates("people", (p.email for p in people), file=file, field="email")
    if teams is not None:
        _duplicates("teams", (t.slug for t in teams), file=file, field="slug")
    if services is not None:
        _duplicates("services", (s.slug for s in services), file=file, field="slug")
    if document.assets is not None:
        _duplicates(
            "assets",
            (f"{a.kind}:{a.identifier}" for a in document.assets),
            file=file,
            field="identifier",
        )
    emails = _names({p.email for p in people or ()}, people is not None, known_people)
    slugs = _names({t.slug for t in teams or ()}, teams is not None, known_teams)
    for index, team in enumerate(teams or ()):
        where = f"teams[{index}] ({team.slug})"
        if team.parent is not None and slugs is not None and team.parent not in slugs:
            raise InputError(f"no team {team.parent!r}", file=file, record=where, field="parent")
        for member in team.members:
            if emails is not None and member not in emails:
                raise InputError(
                    f"{member!r} is not a person", file=file, record=where, field="members"
                )
    if teams is not None:
        _no_cycle(teams, file=file)
    for index, service in enumerate(services or ()):
        where = f"services[{index}] ({service.slug})"
        if service.owner is not None and emails is not None and service.owner not in emails:
            raise InputError(
                f"owner {service.owner!r} is not a person", file=file, record=where, field="owner"
            )
        if service.team is not None and slugs is not None and service.team not in slugs:
            raise InputError(f"no team {service.team!r}", file=file, record=where, field="team")
    service_slugs = _names({s.slug for s in services or ()}, services is not None, known_services)
    for index, asset in enumerate(document.assets or ()):
        if (
            asset.service is not None
            and service_slugs is not None
            and (asset.service not in service_slugs)
        ):
            raise InputError(
                f"no service {asset.service!r}",
                file=file,
                record=f"assets[{index}] ({asset.kind}:{asset.identifier})",
                field="service",
            )


def _names(listed: set[str], present: bool, known: Sequence[str] | None) -> set[str] | None:
    if present:
        return listed
    return None if known is None else set(known)


def _no_cycle(teams: Sequence[TeamEntry], *, file: str) -> None:
    parent = {t.slug: t.parent for t in teams}
    position = {t.slug: i for i, t in enumerate(teams)}
    settled: set[str] = set()
    for team in teams:
        path: list[str] = []
        current: str | None = team.slug
        while current is not None and current not in settled:
            if current in path:
                cycle = [*path[path.index(current) :], current]
                raise InputError(
                    "teams form a cycle: " + " → ".join(cycle),
                    file=file,
                    record=f"teams[{position[current]}] ({current})",
                    field="parent",
                )
            path.append(current)
            current = parent.get(current)
        settled.update(path)


def dump_document(document: OrgDocument) -> str:
    """The document as YAML, in the order a person reads it; empty defaults left out."""
    data: dict[str, Any] = {"version": document.version}
    for section in ("people", "teams", "services", "assets"):
        entries = getattr(document, section)
        if entries is None:
            continue
        data[section] = [_entry_dict(e) for e in entries]
    return yaml.dump(data, sort_keys=False, allow_unicode=True, width=100)


def dump_json(document: OrgDocument) -> str:
    """The document as JSON (what ``read_document`` reads from a ``.json`` file)."""
    data: dict[str, Any] = {"version": document.version}
    for section in ("people", "teams", "services", "assets"):
        entries = getattr(document, section)
        if entries is not None:
            data[section] = [_entry_dict(e) for e in entries]
    return msgspec.json.format(msgspec.json.encode(data), indent=1).decode() + "\n"


def _entry_dict(entry: _Entry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(entry, AssetEntry) and entry.name == entry.identifier:
        entry = entry.model_copy(update={"name": None})
    dumped = entry.model_dump()
    if isinstance(entry, PersonEntry):  # one role: ``role:``; several: ``roles:`` (primary first)
        dumped.pop("roles" if len(entry.roles) == 1 else "role")
    for name, value in dumped.items():
        if value is None or value == ():
            continue
        out[name] = list(value) if isinstance(value, tuple) else value
    return out

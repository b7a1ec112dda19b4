"""A CMDB's CSV export (services or assets) as an organisation, through a column mapping.

The default mapping reads ServiceNow's ``cmdb_ci_service`` list export (CSV, display values); a
mapping file (YAML) describes any other export. The document it produces holds only the section
read (services or assets): applying it leaves people, teams and the other section alone, and
owners and services must already exist.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from detente.core.errors import InputError
from detente.org.document import AssetEntry, OrgDocument, ServiceEntry

SERVICE_FIELDS = (
    "slug", "name", "owner", "team", "criticality", "data_classification", "internet_facing",
    "customer_facing",
)  # fmt: skip
ASSET_FIELDS = ("kind", "identifier", "name", "service", "exposed")
_REQUIRED = {"services": ("slug", "name"), "assets": ("kind", "identifier")}
_BOOLEANS = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
    "": False,
}


class Mapping(BaseModel):
    """``section``: what the rows are; ``columns``: field → CSV column; ``values``: per field,
    CSV value → Détente value; ``constants``: field → value for every row; ``skip``: column →
    values whose rows are left out (retired services)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: Literal["services", "assets"] = "services"
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = {}
    constants: dict[str, Any] = {}
    skip: dict[str, list[str]] = {}


# ServiceNow ``cmdb_ci_service`` (Business Service) list export, display values.
# ``busines_criticality`` is ServiceNow's own spelling. ``owned_by.email`` is a dot-walked
# column: add it to the list view before exporting (``owned_by`` shows a name, not an address).
SERVICENOW = Mapping(
    section="services",
    columns={
        "slug": "name",
        "name": "name",
        "owner": "owned_by.email",
        "criticality": "busines_criticality",
    },
    values={
        "criticality": {
            "1 - most critical": "critical",
            "2 - somewhat critical": "high",
            "3 - less critical": "medium",
            "4 - not critical": "low",
        }
    },
    skip={"operational_status": ["Retired", "Non-Operational"]},
)


@dataclass
class _Rows:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def read_mapping(path: Path | None) -> Mapping:
    if path is None:
        return SERVICENOW
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the mapping: {exc}", file=str(path)) from None
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(
            str(error["msg"]), file=str(path), field=".".join(map(str, error["loc"]))
        ) from None
    known = SERVICE_FIELDS if mapping.section == "services" else ASSET_FIELDS
    for name in [*mapping.columns, *mapping.values, *mapping.constants]:
        if name not in known:
            raise InputError(
                f"no {mapping.section[:-1]} field {name!r} (fields: {', '.join(known)})",
                file=str(path),
                field=name,
            )
    for name in _REQUIRED[mapping.section]:
        if name not in mapping.columns and name not in mapping.constants:
            raise InputError(f"the mapping needs a column for {name!r}", file=str(path), field=name)
    return mapping


def _read_csv(path: Path) -> _Rows:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("empty file: no header row", file=str(path)) from None
    out = _Rows(header)
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} cells for {len(header)} columns",
                file=str(path),
                record=f"line {reader.line_num}",
            )
        out.rows.append((reader.line_num, dict(zip(header, (c.strip() for c in row), strict=True))))
    return out


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:80].strip("-")


def read_cmdb_csv(paths: Sequence[Path], *, mapping: Path | None = None) -> OrgDocument:
    rules = read_mapping(mapping)
    entries: list[ServiceEntry | AssetEntry] = []
    seen: dict[str, str] = {}
    for path in paths:
        table = _read_csv(path)
        needed = sorted({*rules.columns.values(), *rules.skip} - set(table.header))
        if needed:
            raise InputError(
                f"missing column{'s' if len(needed) > 1 else ''}: {', '.join(needed)} "
                f"(columns: {', '.join(table.header)})",
                file=str(path),
                record="header",
            )
        for line, row in table.rows:
            if any(row[column] in values for column, values in rules.skip.items()):
                continue
            entry = _entry(rules, row, file=str(path), line=line)
            key = (
                entry.slug
                if isinstance(entry, ServiceEntry)
                else f"{entry.kind}:{entry.identifier}"
            )
            where = f"{path}, line {line}"
            if key in seen:
                raise InputError(
                    f"{key!r} again (first at {seen[key]})",
                    file=str(path),
                    record=f"line {line}",
                    field=rules.columns.get(
                        "slug" if rules.section == "services" else "identifier"
                    ),
                )
            seen[key] = where
            entries.append(entry)
    if rules.section == "services":
        return OrgDocument(services=tuple(e for e in entries if isinstance(e, ServiceEntry)))
    return OrgDocument(assets=tuple(e for e in entries if isinstance(e, AssetEntry)))


def _entry(
    rules: Mapping, row: dict[str, str], *, file: str, line: int
) -> ServiceEntry | AssetEntry:
    data: dict[str, Any] = dict(rules.constants)
    for name, column in rules.columns.items():
        value: Any = row[column]
        if name in rules.values:
            value = rules.values[name].get(value, value)
        if name == "slug":
            value = slugify(value)
        if name in ("internet_facing", "customer_facing"):
            flag = _BOOLEANS.get(str(value).lower())
            if flag is None:
                raise InputError(
                    f"{value!r} is not true or false",
                    file=file,
                    record=f"line {line}",
                    field=column,
                )
            value = flag
        if value == "" and name not in _REQUIRED[rules.section]:
            continue
        data[name] = value
    model = ServiceEntry if rules.section == "services" else AssetEntry
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        raise InputError(
            str(error["msg"]).removeprefix("Value error, "),
            file=file,
            record=f"line {line}",
            field=rules.columns.get(name, name) or None,
        ) from None

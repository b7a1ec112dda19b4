"""What changed between two versions of a spec: the drift that matters for a pen test.

Pure: two loaded documents in, a ``SpecDiff`` out. ``material`` is what invalidates an earlier
pen test under the default policy: a new operation, or any change of security (requirements,
schemes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from detente.api_register.spec import LoadedSpec
from detente.api_register.view import SpecView


@dataclass
class SpecDiff:
    operations_added: list[str] = field(default_factory=list)
    operations_removed: list[str] = field(default_factory=list)
    security_changed: list[str] = field(default_factory=list)  # operations whose requirement moved
    parameters_changed: list[str] = field(default_factory=list)
    schemes_added: list[str] = field(default_factory=list)
    schemes_removed: list[str] = field(default_factory=list)
    schemes_changed: list[str] = field(default_factory=list)
    schemas_added: list[str] = field(default_factory=list)
    schemas_removed: list[str] = field(default_factory=list)
    schemas_changed: list[str] = field(default_factory=list)
    servers_added: list[str] = field(default_factory=list)
    servers_removed: list[str] = field(default_factory=list)
    info_version: tuple[str, str] | None = None

    @property
    def material(self) -> bool:
        return bool(
            self.operations_added
            or self.security_changed
            or self.schemes_added
            or self.schemes_removed
            or self.schemes_changed
        )

    @property
    def empty(self) -> bool:
        return not any(v for v in asdict(self).values())

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v}
        out["material"] = self.material
        return out


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _schemas(view: SpecView) -> dict[str, Any]:
    if view.v2:
        found = view.data.get("definitions")
    else:
        components = view.data.get("components")
        found = components.get("schemas") if isinstance(components, dict) else None
    return found if isinstance(found, dict) else {}


def _requirement(security: list[Any] | None) -> str:
    return _text(sorted(_text(r) for r in security) if security is not None else None)


def spec_diff(old: LoadedSpec, new: LoadedSpec) -> SpecDiff:
    a, b = SpecView(old), SpecView(new)
    diff = SpecDiff()
    ops_a = {op.key: op for op in a.operations}
    ops_b = {op.key: op for op in b.operations}
    diff.operations_added = sorted(ops_b.keys() - ops_a.keys())
    diff.operations_removed = sorted(ops_a.keys() - ops_b.keys())
    for key in sorted(ops_a.keys() & ops_b.keys()):
        before, after = ops_a[key], ops_b[key]
        if _requirement(before.security) != _requirement(after.security):
            diff.security_changed.append(key)
        params_a = {(p.location, p.name): _text(p.schema) for p in before.params}
        params_b = {(p.location, p.name): _text(p.schema) for p in after.params}
        if params_a != params_b:
            diff.parameters_changed.append(key)
    for name in a.schemes.keys() | b.schemes.keys():
        if name not in a.schemes:
            diff.schemes_added.append(name)
        elif name not in b.schemes:
            diff.schemes_removed.append(name)
        elif _text(a.schemes[name]) != _text(b.schemes[name]):
            diff.schemes_changed.append(name)
    for target in (diff.schemes_added, diff.schemes_removed, diff.schemes_changed):
        target.sort()
    schemas_a, schemas_b = _schemas(a), _schemas(b)
    diff.schemas_added = sorted(schemas_b.keys() - schemas_a.keys())
    diff.schemas_removed = sorted(schemas_a.keys() - schemas_b.keys())
    diff.schemas_changed = sorted(
        k for k in schemas_a.keys() & schemas_b.keys() if _text(schemas_a[k]) != _text(schemas_b[k])
    )
    servers_a = {s.url for s in a.servers}
    servers_b = {s.url for s in b.servers}
    diff.servers_added = sorted(servers_b - servers_a)
    diff.servers_removed = sorted(servers_a - servers_b)
    info_a, info_b = _info_version(old.data), _info_version(new.data)
    if info_a != info_b:
        diff.info_version = (info_a, info_b)
    return diff


def _info_version(data: dict[str, Any]) -> str:
    info = data.get("info")
    return str(info.get("version", "")) if isinstance(info, dict) else ""

"""Leader profiles as data: questionnaires, scoring, the compatibility matrix and pairing guidance.

The YAML under ``tension/data`` is the default; an organisation overrides any of the three files by
placing its own copy in ``<DETENTE_DATA_DIR>/tension/``. Everything here is pure (no ORM): the
services store what these functions compute.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar, cast

import msgspec
import yaml

from detente.core.errors import InputError

LeaderRole = Literal["cio", "ciso"]
Mark = Literal["fit", "fit_or_productive", "productive", "friction", "clash"]
Style = Literal["collaborate", "compete", "avoid", "accommodate", "compromise"]
PRESSURE_POINTS = ("PP1", "PP2", "PP3", "PP4", "PP5")
T = TypeVar("T")


class Archetype(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: str
    name: str
    dimension: str


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    text: str
    dimension: str | None = None
    reverse: bool = False
    check: int | None = None  # an attention check: the only acceptable answer


class RoleModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    archetypes: list[Archetype]
    items: list[Item]

    def archetype(self, key: str) -> Archetype:
        for a in self.archetypes:
            if a.key == key:
                return a
        raise InputError(f"unknown archetype {key!r}")


class ConflictItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    style: Style
    text: str


class Questionnaire(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    roles: dict[LeaderRole, RoleModel]
    conflict_items: list[ConflictItem]
    scale: tuple[int, int] = (1, 5)
    blend_within_sd: float = 0.5


class Cell(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    mark: Mark
    note: str = ""
    covert: bool = False
    evidence: Literal["thin", "moderate", "strong"] = "thin"


class Band(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    up_to: float
    label: str


class PairNote(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cio: str
    ciso: str
    note: str


class Compatibility(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    marks: dict[Mark, float]
    bands: list[Band]
    pressure_points: dict[str, str]
    matrix: dict[str, dict[str, Cell]]
    ciso_to_cio: dict[str, dict[str, str]]
    cio_to_ciso: dict[str, dict[str, str]]
    pairs: list[PairNote] = []
    covert_at: float = 3.0


class PulseItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    construct: str
    text: str
    by_role: dict[LeaderRole, str] = {}

    def text_for(self, role: str) -> str:
        return next((text for key, text in self.by_role.items() if key == role), self.text)


class PulseModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    items: list[PulseItem]
    meta: list[str]


# ----------------------------------------------------------------------------- loading


def override_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "tension"


def _text(name: str) -> tuple[str, str]:
    custom = override_dir() / name
    if custom.is_file():
        return custom.read_text(), str(custom)
    return resources.files("detente.tension.data").joinpath(name).read_text(), f"default {name}"


@lru_cache(maxsize=16)
def _parse(text: str, source: str, kind: type[T]) -> T:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})".replace("\n", " "), file=source) from None
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise InputError(str(exc), file=source) from None


def questionnaire() -> Questionnaire:
    model = cast(Questionnaire, _parse(*_text("questionnaire.yaml"), Questionnaire))
    _check_questionnaire(model)
    return model


def compatibility() -> Compatibility:
    model = cast(Compatibility, _parse(*_text("compatibility.yaml"), Compatibility))
    _check_compatibility(model, questionnaire())
    return model


def pulse_model() -> PulseModel:
    model = cast(PulseModel, _parse(*_text("pulse.yaml"), PulseModel))
    ids = [i.id for i in model.items]
    if ids != [f"P{n}" for n in range(1, 11)]:
        raise InputError("the pulse has the ten items P1..P10 in order", file="pulse.yaml")
    if set(model.meta) - set(ids):
        raise InputError("meta items must be pulse items", file="pulse.yaml", field="meta")
    return model


def _check_questionnaire(model: Questionnaire) -> None:
    if set(model.roles) != {"cio", "ciso"}:
        raise InputError("needs the roles cio and ciso", file="questionnaire.yaml")
    for role, spec in model.roles.items():
        dims = {a.dimension for a in spec.archetypes}
        if len(dims) != len(spec.archetypes) or len(spec.archetypes) < 2:
            raise InputError("one dimension per archetype, two or more", record=f"roles.{role}")
        ids = [i.id for i in spec.items]
        if len(set(ids)) != len(ids):
            raise InputError("item ids must be unique", record=f"roles.{role}.items")
        for item in spec.items:
            if item.check is None and item.dimension not in dims:
                raise InputError(
                    f"unknown dimension {item.dimension!r}", record=f"roles.{role}.items.{item.id}"
                )
        for dim in dims:
            if not any(i.dimension == dim for i in spec.items):
                raise InputError(f"no item measures {dim}", record=f"roles.{role}")


def _check_compatibility(model: Compatibility, q: Questionnaire) -> None:
    cios = [a.key for a in q.roles["cio"].archetypes]
    cisos = [a.key for a in q.roles["ciso"].archetypes]
    for cio in cios:
        for ciso in cisos:
            if ciso not in model.matrix.get(cio, {}):
                raise InputError(f"no matrix cell for {cio} x {ciso}", file="compatibility.yaml")
    for table, keys in (("ciso_to_cio", cios), ("cio_to_ciso", cisos)):
        for key in keys:
            missing = set(model.pressure_points) - set(getattr(model, table).get(key, {}))
            if missing:
                raise InputError(
                    f"{table}.{key} misses {', '.join(sorted(missing))}", file="compatibility.yaml"
                )


# ----------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ConflictStyle:
    assertiveness: float
    cooperativeness: float
    avoidance: float
    dominant: str  # the style with the highest mean

    def as_dict(self) -> dict[str, float | str]:
        return {
            "assertiveness": self.assertiveness,
            "cooperativeness": self.cooperativeness,
            "avoidance": self.avoidance,
            "dominant": self.dominant,
        }


@dataclass(frozen=True)
class ProfileScore:
    role: str
    dimensions: dict[str, float]  # archetype key -> within-person z
    primary: str
    secondary: str
    weights: dict[str, float]  # the top two, summing to 1
    kind: Literal["single", "blend", "undifferentiated"]
    conflict: ConflictStyle | None


def _answer(answers: dict[str, int], item_id: str, low: int, high: int) -> int:
    value = answers.get(item_id)
    if value is None:
        raise InputError(f"answer every item (missing {item_id})", field=item_id)
    if not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"answers are whole numbers {low}-{high}", field=item_id)
    return value


def score_profile(
    role: str, answers: dict[str, int], conflict: dict[str, int] | None = None
) -> ProfileScore:
    """Reverse-key, check, average by dimension, z within person, pick the top two."""
    q = questionnaire()
    if role not in q.roles:
        raise InputError("a profile is for the cio or the ciso", field="role")
    spec = q.roles[role]  # type: ignore[index]
    low, high = q.scale
    unknown = set(answers) - {i.id for i in spec.items}
    if unknown:
        raise InputError(f"unknown items: {', '.join(sorted(unknown))}", field="answers")
    by_dim: dict[str, list[float]] = {a.dimension: [] for a in spec.archetypes}
    for item in spec.items:
        value = _answer(answers, item.id, low, high)
        if item.check is not None:
            if value != item.check:
                raise InputError(
                    f"the attention check {item.id} was not answered as asked; please retake",
                    field=item.id,
                )
            continue
        assert item.dimension is not None  # checked when loading
        by_dim[item.dimension].append(low + high - value if item.reverse else value)
    means = {a.key: statistics.fmean(by_dim[a.dimension]) for a in spec.archetypes}
    centre = statistics.fmean(means.values())
    spread = statistics.pstdev(means.values())
    z = {k: round((m - centre) / spread, 3) if spread > 0 else 0.0 for k, m in means.items()}
    order = sorted(z, key=lambda k: (-z[k], [a.key for a in spec.archetypes].index(k)))
    first, second = order[0], order[1]
    if spread == 0 or z[first] - z[order[-1]] < q.blend_within_sd:
        kind: Literal["single", "blend", "undifferentiated"] = "undifferentiated"
    elif z[first] - z[second] <= q.blend_within_sd:
        kind = "blend"
    else:
        kind = "single"
    # Weights of the top two: z above the lowest score, normalised (equal if undifferentiated).
    floor = z[order[-1]]
    lifts = (z[first] - floor, z[second] - floor)
    total = sum(lifts)
    w1 = round(lifts[0] / total, 3) if total > 0 else 0.5
    return ProfileScore(
        role=role,
        dimensions=z,
        primary=first,
        secondary=second,
        weights={first: w1, second: round(1 - w1, 3)},
        kind=kind,
        conflict=score_conflict(conflict) if conflict else None,
    )


def score_conflict(answers: dict[str, int]) -> ConflictStyle:
    q = questionnaire()
    low, high = q.scale
    values = {i.id: _answer(answers, i.id, low, high) for i in q.conflict_items}

    def mean(*ids: str) -> float:
        return statistics.fmean(values[i] for i in ids)

    styles: dict[str, list[int]] = {}
    for item in q.conflict_items:
        styles.setdefault(item.style, []).append(values[item.id])
    dominant = max(styles, key=lambda s: statistics.fmean(styles[s]))
    return ConflictStyle(
        assertiveness=round(mean("K1", "K2", "K3", "K4") - mean("K7", "K8"), 3),
        cooperativeness=round(mean("K1", "K2", "K7", "K8") - mean("K3", "K4"), 3),
        avoidance=round(mean("K5", "K6"), 3),
        dominant=dominant,
    )


# ----------------------------------------------------------------------------- pairing


@dataclass(frozen=True)
class CellView:
    cio: str
    ciso: str
    mark: str
    note: str
    covert: bool
    hypothesis: bool  # thin evidence: shown as a hypothesis, never as a finding


@dataclass(frozen=True)
class Guidance:
    pressure_point: str
    title: str
    ciso_to_cio: str
    cio_to_ciso: str
    hypothesis: bool


@dataclass(frozen=True)
class Pairing:
    base: float  # B: the matrix cells, weighted by both blends
    style: float  # K: the conflict-style adjustment (0 without CS-9 answers)
    friction: float  # B + K
    band: str
    covert_score: int
    covert_prone: bool
    cell: CellView  # the primary x primary cell
    cells: list[CellView]
    guidance: list[Guidance]
    notes: list[str]


def _style_k(cio: ConflictStyle | None, ciso: ConflictStyle | None) -> float:
    if cio is None or ciso is None:
        return 0.0
    competes = [s.dominant == "compete" for s in (cio, ciso)]
    avoids = [s.dominant == "avoid" for s in (cio, ciso)]
    k = 0.0
    if all(competes):
        k += 2
    if all(avoids):
        k += 2
    if any(competes) and any(avoids) and not all(competes) and not all(avoids):
        k += 1
    if any(s.dominant == "collaborate" and s.cooperativeness >= 1 for s in (cio, ciso)):
        k -= 1
    return k


def pair_profiles(
    cio: ProfileScore,
    ciso: ProfileScore,
    *,
    ciso_reports_to_cio: bool = False,
    healthy_task_conflict: bool = False,
) -> Pairing:
    """B + K friction, the covert score and the guidance per pressure point for one pair."""
    model = compatibility()
    cells: list[CellView] = []
    base = 0.0
    for cio_key, cio_w in cio.weights.items():
        for ciso_key, ciso_w in ciso.weights.items():
            raw = model.matrix[cio_key][ciso_key]
            cells.append(
                CellView(cio_key, ciso_key, raw.mark, raw.note, raw.covert, raw.evidence == "thin")
            )
            base += cio_w * ciso_w * model.marks[raw.mark]
    k = _style_k(cio.conflict, ciso.conflict) - (1.0 if healthy_task_conflict else 0.0)
    friction = round(base + k, 2)
    band = next((b.label for b in model.bands if friction <= b.up_to), model.bands[-1].label)
    # The primary x primary cell (not the first: JSONB does not keep the weights' key order).
    main = next(c for c in cells if c.cio == cio.primary and c.ciso == ciso.primary)
    both_avoid = bool(
        cio.conflict
        and ciso.conflict
        and cio.conflict.dominant == "avoid"
        and ciso.conflict.dominant == "avoid"
    )
    covert = (
        int(main.covert)
        + int(ciso_reports_to_cio)
        + (2 if both_avoid else 0)
        + int(cio.primary == "partnering" or ciso.primary == "enabler")
    )
    guidance = [
        Guidance(
            pressure_point=pp,
            title=title,
            ciso_to_cio=model.ciso_to_cio[cio.primary][pp],
            cio_to_ciso=model.cio_to_ciso[ciso.primary][pp],
            hypothesis=main.hypothesis,
        )
        for pp, title in model.pressure_points.items()
    ]
    notes = [
        n.note
        for n in model.pairs
        if n.cio in (cio.primary, "any") and n.ciso in (ciso.primary, "any")
    ]
    return Pairing(
        base=round(base, 2),
        style=k,
        friction=friction,
        band=band,
        covert_score=covert,
        covert_prone=covert >= model.covert_at,
        cell=main,
        cells=cells,
        guidance=guidance,
        notes=notes,
    )

"""Tension pages: the radar (history, computing a range, a period's drill-down from each sub-index
to its signals and their evidence), the leader questionnaire and profile, the pair's guidance and
the monthly pulse. Both leaders read the same stored snapshot; each form calls one service and a
refusal comes back as a message, with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from detente.core import clock
from detente.core.errors import DetenteError, InputError, NotFound
from detente.people.models import Role
from detente.reports.charts import bar_chart
from detente.reports.dashboards import SeriesPoint
from detente.tension import profiles, selectors, services
from detente.tension.models import TensionSnapshot
from detente.tension.services import LEADER_ROLES
from detente.tension.signals import SUB_INDICES, Period
from detente.web.auth import signed_in
from detente.web.shortcuts import actor, render_page

# The longest range one form computes (as in the API).
MAX_MONTHS = 24
# Evidence kinds with a page of their own.
PAGES = {
    "findings": ("web:finding", "Finding"),
    "acceptances": ("web:acceptance", "RA"),
    "decisions": ("web:decision", "DR"),
    "incidents": ("web:incident", "INC"),
}
SCALE = ((1, "Strongly disagree"), (2, "Disagree"), (3, "Neutral"), (4, "Agree"),
         (5, "Strongly agree"))  # fmt: skip


@dataclass(frozen=True)
class Link:
    kind: str
    id: int
    label: str
    href: str | None  # None: no page for this kind (a pulse, say)


def links(evidence: dict[str, list[int]]) -> list[Link]:
    out = []
    for kind, ids in evidence.items():
        page = PAGES.get(kind)
        for pk in ids:
            if page is None:
                out.append(Link(kind, pk, f"{kind} {pk}", None))
            else:
                out.append(Link(kind, pk, f"{page[1]}-{pk}", reverse(page[0], args=[pk])))
    return out


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _month(text: str | None) -> Period:
    return Period.parse(text.strip()) if text and text.strip() else Period.of(clock.now())


# ---------------------------------------------------------------- the radar


def _not_a_reader(request: HttpRequest) -> HttpResponse:
    message = "The radar is shown to the roles the policy names (tension.radar_readers)."
    return render_page(request, "error.html", {"message": message}, 403)


@dataclass(frozen=True)
class ZoneChange:
    """One month whose zone differs from the month before, with what moved it."""

    snap: TensionSnapshot
    change: dict[str, Any]
    moved: list[tuple[dict[str, Any], list[Link]]]


def _zone_change(snap: TensionSnapshot) -> ZoneChange | None:
    if not snap.change:
        return None
    moved = [(m, links(m.get("evidence") or {})) for m in snap.change["signals"]]
    return ZoneChange(snap, snap.change, moved)


@signed_in
@require_GET
def radar(request: HttpRequest) -> HttpResponse:
    if not selectors.radar_readable_by(actor(request)):
        return _not_a_reader(request)
    try:
        latest: TensionSnapshot | None = selectors.snapshot_latest()
    except NotFound:
        latest = None
    history: list[TensionSnapshot] = []
    if latest is not None:
        last = Period.parse(latest.period)
        first = last
        for _ in range(MAX_MONTHS - 1):
            first = first.previous()
        history = selectors.snapshots(first, last)
    changes = [c for s in history[::-1] if (c := _zone_change(s)) is not None]
    points = [SeriesPoint(s.period, round(s.index, 1)) for s in history]
    chart = bar_chart(points, title="Tension index by month", maximum=100)
    this = Period.of(clock.now())
    return render_page(
        request,
        "radar.html",
        {
            "latest": latest,
            "top": selectors.top_signals(latest) if latest else [],
            "history": history[::-1],
            "changes": changes,
            "chart": mark_safe(chart),  # noqa: S308 - escaped SVG
            "can_compute": actor(request).has_any_role(selectors.tension_policy().radar_computers),
            "default_last": this.label,
            "default_first": this.previous().previous().label,
        },
    )


@signed_in
@require_POST
def radar_compute(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        first, last = _month(post.get("first")), _month(post.get("last"))
        if len(first.until(last)) > MAX_MONTHS:
            raise InputError(f"compute {MAX_MONTHS} months at most at a time", field="last")
        done = services.radar_compute_range(first=first, last=last, actor=actor(request))
    except DetenteError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("web:radar"))
    messages.success(
        request, f"Radar computed for {len(done)} month(s), {first.label} to {last.label}."
    )
    return HttpResponseRedirect(reverse("web:radar_period", args=[last.label]))


@dataclass(frozen=True)
class SignalRow:
    signal: dict[str, Any]
    links: list[Link]


@dataclass(frozen=True)
class SubIndexRow:
    key: str | None
    name: str
    value: float | None
    signals: list[SignalRow]


@signed_in
@require_GET
def radar_period(request: HttpRequest, period: str) -> HttpResponse:
    if not selectors.radar_readable_by(actor(request)):
        return _not_a_reader(request)
    try:
        snap = selectors.snapshot_get(Period.parse(period))
    except DetenteError as exc:
        return render_page(request, "error.html", {"message": str(exc)}, 404)
    rows = [SignalRow(s, links(s.get("evidence") or {})) for s in snap.signals]
    subs = [
        SubIndexRow(key, _label(key), snap.sub_indices.get(key),
                    [r for r in rows if r.signal.get("sub_index") == key])
        for key in SUB_INDICES
    ]  # fmt: skip
    unweighted = [r for r in rows if r.signal.get("sub_index") is None]
    if unweighted:
        subs.append(SubIndexRow(None, "Shown, not weighted", None, unweighted))
    actions = snap.actions
    return render_page(
        request,
        "radar_period.html",
        {
            "snap": snap,
            "c": _zone_change(snap),
            "subs": subs,
            "triggers": [(t, links(t.get("evidence") or {})) for t in snap.triggers],
            "actions": actions,
            "top": [
                SignalRow(s, links(s.get("evidence") or {})) for s in selectors.top_signals(snap)
            ],
            "pack": actions.get("briefing_pack") or {},
            "open_decisions": actions.get("open_decisions")
            or actions.get("prompts")
            or (actions.get("briefing_pack") or {}).get("open_decisions")
            or [],
        },
    )


# ---------------------------------------------------------------- profiles


def _answers(post: Any, ids: list[str]) -> dict[str, int]:
    """The radio answers given (a missing one is left out: the service names it)."""
    out = {}
    for item_id in ids:
        value = (post.get(item_id) or "").strip()
        if value.isdigit() and len(value) <= 2:
            out[item_id] = int(value)
    return out


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    chosen: int | None


def _questions(items: list[Any], chosen: dict[str, int], role: str | None = None) -> list[Question]:
    return [Question(i.id, i.text_for(role) if role else i.text, chosen.get(i.id)) for i in items]


def _blend(profile: Any) -> dict[str, Any]:
    spec = next((s for k, s in profiles.questionnaire().roles.items() if k == profile.role), None)
    names = {a.key: a.name for a in spec.archetypes} if spec else {}
    return {
        "profile": profile,
        "weights": [(names.get(k, k), round(float(w) * 100)) for k, w in profile.weights.items()],
        "dimensions": [(names.get(k, k), v) for k, v in profile.dimensions.items()],
    }


@signed_in
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    model = profiles.questionnaire()
    spec = next((s for k, s in model.roles.items() if k == person.leader_role), None)
    given: dict[str, int] = {}
    if request.method == "POST" and spec is not None:
        main = _answers(request.POST, [i.id for i in spec.items])
        style = _answers(request.POST, [i.id for i in model.conflict_items])
        given = main | style
        try:
            services.profile_take(actor=person, answers=main, conflict_answers=style or None)
        except DetenteError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Profile saved. A profile is a posture, not an identity.")
            return HttpResponseRedirect(reverse("web:profile"))
    elif request.method == "POST":
        messages.error(request, "the questionnaire is for the CIO and the CISO")
    try:
        current: dict[str, Any] | None = _blend(selectors.profile_current(person))
    except NotFound:
        current = None
    return render_page(
        request,
        "profile.html",
        {
            "leader": spec is not None,
            "items": _questions(spec.items, given) if spec else [],
            "conflict_items": _questions(model.conflict_items, given) if spec else [],
            "scale": SCALE,
            "current": current,
        },
    )


@signed_in
@require_GET
def pairing(request: HttpRequest) -> HttpResponse:
    reports = request.GET.get("ciso_reports_to_cio") == "1"
    try:
        pair: profiles.Pairing | None = selectors.pair_guidance(ciso_reports_to_cio=reports)
        missing = ""
    except NotFound as exc:
        pair, missing = None, str(exc)
    return render_page(
        request, "pairing.html", {"pair": pair, "missing": missing, "reports": reports}
    )


# ---------------------------------------------------------------- the pulse


@signed_in
@require_http_methods(["GET", "POST"])
def pulse(request: HttpRequest) -> HttpResponse:
    person = actor(request)
    model = profiles.pulse_model()
    source = request.POST if request.method == "POST" else request.GET
    try:
        period = _month(source.get("period"))
    except InputError as exc:
        messages.error(request, str(exc))
        period = Period.of(clock.now())
    leader = person.has_any_role(LEADER_ROLES)
    given: dict[str, int] = {}
    meta: dict[str, int] = {}
    if request.method == "POST":
        given = _answers(request.POST, [i.id for i in model.items])
        guessed = _answers(request.POST, [f"meta_{m}" for m in model.meta])
        meta = {k.removeprefix("meta_"): v for k, v in guessed.items()}
        try:
            services.pulse_answer(actor=person, answers=given, meta=meta, period=period)
        except DetenteError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Pulse for {period.label} recorded.")
            return HttpResponseRedirect(f"{reverse('web:pulse')}?period={period.label}")
    shown = selectors.pulse_show(viewer=person, period=period)
    role = person.leader_role if leader else Role.CIO
    texts = {i.id: i.text_for(role) for i in model.items}
    results = []
    if shown["counterpart"] is not None:
        for item in model.items:
            results.append(
                {"id": item.id, "text": texts[item.id], "mine": shown["mine"][item.id],
                 "counterpart": shown["counterpart"][item.id], "gap": shown["gaps"][item.id]}
            )  # fmt: skip
    guesses = [
        {"id": m, "guess": shown["my_guess"][m], "off_by": shown["my_guess_off_by"][m]}
        for m in model.meta
    ] if shown["counterpart"] is not None else []  # fmt: skip
    return render_page(
        request,
        "pulse.html",
        {
            "period": period,
            "leader": leader,
            "shown": shown,
            "items": _questions(model.items, given, role),
            "meta": [
                Question(
                    f"meta_{m}", f"How do you think your counterpart answered {m}?", meta.get(m)
                )
                for m in model.meta
            ],
            "scale": SCALE,
            "results": results,
            "guesses": guesses,
        },
    )

"""Reads: profiles, the pair's guidance, the pulse (blind until both answered), the radar."""

from __future__ import annotations

from typing import Any, Literal, cast

from detente.core.errors import NotFound, PermissionDenied
from detente.people.models import Person, Role
from detente.policy.document import Tension
from detente.policy.models import PolicyVersion
from detente.policy.services import active_policy
from detente.tension import profiles
from detente.tension.models import LeaderProfile, PulseResponse, TensionSnapshot
from detente.tension.signals import Period


def profile_current(person: Person) -> LeaderProfile:
    found = LeaderProfile.objects.filter(person=person).order_by("-taken_at", "-id").first()
    if found is None:
        raise NotFound(f"{person.email} has not taken the questionnaire yet")
    return found


def _score(profile: LeaderProfile) -> profiles.ProfileScore:
    conflict = (
        profiles.score_conflict(profile.conflict_answers) if profile.conflict_answers else None
    )
    return profiles.ProfileScore(
        role=profile.role,
        dimensions=dict(profile.dimensions),
        primary=profile.primary,
        secondary=profile.secondary,
        weights={k: float(v) for k, v in profile.weights.items()},
        kind=cast(Literal["single", "blend", "undifferentiated"], profile.kind),
        conflict=conflict,
    )


def leader(role: str) -> Person:
    found = Person.objects.holding(role).filter(active=True).order_by("id").first()
    if found is None:
        raise NotFound(f"no active {role.upper()} in the organisation")
    return found


def pair_guidance(*, ciso_reports_to_cio: bool = False) -> profiles.Pairing:
    """The CIO x CISO pairing: friction, covert risk and guidance per pressure point."""
    cio = _score(profile_current(leader(Role.CIO)))
    ciso = _score(profile_current(leader(Role.CISO)))
    return profiles.pair_profiles(cio, ciso, ciso_reports_to_cio=ciso_reports_to_cio)


def pulse_show(*, viewer: Person, period: Period) -> dict[str, Any]:
    """The viewer's answers; the counterpart's only after both have answered (blind reveal)."""
    rows = {p.role: p for p in PulseResponse.objects.filter(period=period.label)}
    mine = rows.get(viewer.leader_role)
    other_role = Role.CISO if viewer.leader_role == Role.CIO else Role.CIO
    other = rows.get(other_role)
    both = mine is not None and other is not None
    out: dict[str, Any] = {
        "period": period.label,
        "mine": mine.answers if mine else None,
        "my_guess": mine.meta if mine else None,
        "counterpart_answered": other is not None,
        "counterpart": other.answers if both and other else None,
        "gaps": None,
    }
    if both and mine and other:
        out["gaps"] = {
            item: abs(int(mine.answers[item]) - int(other.answers[item])) for item in mine.answers
        }
        out["my_guess_off_by"] = {
            item: abs(int(guess) - int(other.answers[item])) for item, guess in mine.meta.items()
        }
    return out


def snapshot_get(period: Period) -> TensionSnapshot:
    found = TensionSnapshot.objects.filter(period=period.label).first()
    if found is None:
        raise NotFound(f"the radar for {period.label} has not been computed")
    return found


def snapshot_latest() -> TensionSnapshot:
    found = TensionSnapshot.objects.order_by("-period").first()
    if found is None:
        raise NotFound("the radar has not been computed yet (detente radar compute)")
    return found


def snapshots(first: Period, last: Period) -> list[TensionSnapshot]:
    return list(
        TensionSnapshot.objects.filter(period__gte=first.label, period__lte=last.label).order_by(
            "period"
        )
    )


def top_signals(snapshot: TensionSnapshot, limit: int = 5) -> list[dict[str, Any]]:
    rows = [s for s in snapshot.signals if s.get("contribution", 0) > 0]
    return sorted(rows, key=lambda s: -float(s["contribution"]))[:limit]


def tension_policy() -> Tension:
    """The active policy's tension section (its defaults before any policy is stored: reading
    it must not store the default policy)."""
    if not PolicyVersion.objects.filter(active=True).exists():
        return Tension()
    return active_policy()[0].tension


def radar_readable_by(person: Person) -> bool:
    """Who sees the radar is policy: ``tension.radar_readers``."""
    return person.has_any_role(tension_policy().radar_readers)


def radar_check_reader(person: Person) -> None:
    if not radar_readable_by(person):
        raise PermissionDenied(
            f"the radar is for {', '.join(tension_policy().radar_readers)} (policy: "
            "tension.radar_readers)"
        )

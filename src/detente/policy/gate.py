"""The policy's ``gate:`` section: what blocks a release, what only warns, who may override.

Typed like the rest of the document (msgspec, unknown keys refused); the checks that span fields
run in ``__post_init__`` and name the rule. See docs/gate.md.
"""

from __future__ import annotations

from typing import Literal

import msgspec

GateSeverity = Literal["critical", "high", "medium", "low", "info"]
GateCriticality = Literal["low", "medium", "high", "critical"]
GateLevel = Literal["block", "warn"]
FindingKind = Literal["vulnerability", "secret", "misconfiguration", "code", "dast"]
# Kept in step with policy.document.RoleName (this module cannot import it: document imports this).
OverrideRole = Literal[
    "cio", "ciso", "security_lead", "it_lead", "service_owner", "engineer", "change_manager"
]
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


class GateRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One rule: every condition given must hold (AND); an empty rule matches nothing."""

    id: str
    level: GateLevel = "block"
    kev: bool | None = None  # listed in CISA KEV
    min_severity: GateSeverity | None = None
    fix_available: bool | None = None  # the scanner names a fixed version
    # EPSS threshold keyed by EPSS model version ("*": any model). A score of another model
    # version than those named does not match (EPSS scores of different models do not compare).
    min_epss: dict[str, float] = msgspec.field(default_factory=dict)
    kind: list[FindingKind] = msgspec.field(default_factory=list)  # e.g. [secret]
    past_deadline: bool | None = None  # a stored finding open past its deadline
    # Scope (not conditions: a rule still needs one of the above). Each given must hold.
    criticality: list[GateCriticality] = msgspec.field(default_factory=list)  # services; []: all
    internet_facing: bool | None = None  # the service faces the internet (inventory); None: either
    # The finding's asset is exposed (inventory's publicly_exposed; unknown, or an asset not
    # stored yet, counts as exposed, as for deadlines); None: either.
    exposed: bool | None = None
    description: str = ""

    @property
    def conditions(self) -> int:
        return sum(
            (
                self.kev is not None,
                self.min_severity is not None,
                self.fix_available is not None,
                bool(self.min_epss),
                bool(self.kind),
                self.past_deadline is not None,
            )
        )


class GateOverride(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who may pass a blocked build, and the second signature it needs."""

    roles: list[OverrideRole] = msgspec.field(default_factory=lambda: ["cio", "ciso"])
    second_signers: list[Literal["cio", "ciso"]] = msgspec.field(
        default_factory=lambda: ["cio", "ciso"]
    )
    second_signature_hours: float = 24.0  # unsigned after this: an escalation
    other_role: bool = True  # the second signer holds another role than the overrider


def _default_rules() -> list[GateRule]:
    return [
        GateRule(id="kev", kev=True, description="known exploited (CISA KEV)"),
        GateRule(id="secrets", kind=["secret"], description="a secret in the build (rotate it)"),
        GateRule(
            id="high-with-fix",
            min_severity="high",
            fix_available=True,
            description="high or critical with a fix available",
        ),
        GateRule(id="past-deadline", past_deadline=True, description="open past its deadline"),
        GateRule(id="medium", level="warn", min_severity="medium", description="medium or above"),
    ]


class Gate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rules: list[GateRule] = msgspec.field(default_factory=_default_rules)
    override: GateOverride = msgspec.field(default_factory=GateOverride)
    # A scan report older than this at release time is flagged stale on the coverage page.
    fresh_hours: float = 24.0
    # Who reviews an incoming VEX "not_affected" statement before it marks findings.
    vex_reviewers: list[OverrideRole] = msgspec.field(
        default_factory=lambda: ["ciso", "security_lead"]
    )

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            where = f"gate.rules[{index}]"
            if not rule.id.strip():
                raise ValueError(f"{where}: a rule needs an id")
            if rule.id in seen:
                raise ValueError(f"{where}: rule id {rule.id!r} is used twice")
            seen.add(rule.id)
            if rule.conditions == 0:
                raise ValueError(f"{where} ({rule.id}): a rule needs at least one condition")
            for model, threshold in rule.min_epss.items():
                if not 0.0 <= threshold <= 1.0:
                    raise ValueError(
                        f"{where} ({rule.id}): min_epss[{model!r}] must lie between 0 and 1"
                    )
        o = self.override
        if not o.roles or not o.second_signers:
            raise ValueError("gate.override: needs roles and second_signers")
        if o.second_signature_hours <= 0:
            raise ValueError("gate.override: second_signature_hours must be positive")
        if self.fresh_hours <= 0:
            raise ValueError("gate: fresh_hours must be positive")

"""The API register's policy section (``api_register:``): exposure stages and the promotion gate.

Referenced by one field of ``PolicyDocument``; checked by ``check_api_register``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from detente.core.errors import InputError

SeverityName = Literal["critical", "high", "medium", "low", "info"]
RoleName = Literal[
    "cio", "ciso", "security_lead", "it_lead", "service_owner", "engineer", "change_manager"
]


class StageGate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What must hold before an API enters a stage."""

    pentest_required: bool = True
    pentest_max_age_days: int = 365  # the test's end date, counted back from the promotion
    # a test of an earlier version counts when the diff since adds no operation, removes or
    # changes no security requirement or scheme
    accept_unchanged_versions: bool = True
    # open audit or pen-test findings of these severities block unless accepted
    blocking_severities: list[SeverityName] = msgspec.field(
        default_factory=lambda: ["critical", "high"]
    )


def _default_gates() -> dict[str, StageGate]:
    return {
        "partner": StageGate(pentest_max_age_days=365),
        "public": StageGate(pentest_max_age_days=180),
    }


class ApiRegisterPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    stages: list[str] = msgspec.field(default_factory=lambda: ["internal", "partner", "public"])
    # stages whose APIs count as publicly exposed (deadlines use it through the API's asset)
    exposed_stages: list[str] = msgspec.field(default_factory=lambda: ["partner", "public"])
    gates: dict[str, StageGate] = msgspec.field(default_factory=_default_gates)
    # refused promotion: "refuse" (exit 1), or open an acceptance request with the facts filled in
    on_refusal: Literal["refuse", "request_acceptance"] = "refuse"
    force_roles: list[RoleName] = msgspec.field(default_factory=lambda: ["ciso"])
    severity: dict[str, SeverityName] = msgspec.field(default_factory=dict)  # rule id -> severity
    disabled_rules: list[str] = msgspec.field(default_factory=list)


def check_api_register(policy: ApiRegisterPolicy) -> None:
    if len(policy.stages) < 2 or len(set(policy.stages)) != len(policy.stages):
        raise InputError("needs at least two distinct stages", record="api_register.stages")
    for key in (*policy.exposed_stages, *policy.gates):
        if key not in policy.stages:
            raise InputError(f"unknown stage {key!r}", record="api_register")
    for stage, gate in policy.gates.items():
        if gate.pentest_max_age_days <= 0:
            raise InputError(
                "must be positive",
                record=f"api_register.gates.{stage}",
                field="pentest_max_age_days",
            )

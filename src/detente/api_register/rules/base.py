"""What a static rule is, and what it reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from detente.api_register.view import SpecView

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule fires: a JSON pointer into the spec and what is wrong there.

    ``severity`` overrides the rule's default for this hit (e.g. a declared-public operation).
    """

    pointer: str
    message: str
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str  # OWASP API Security Top 10 2023: "API1" … "API10"
    cwe: int | None
    severity: str  # default; policy may override
    precision: str  # very-high, high, medium, low (SARIF properties.precision)
    title: str
    rationale: str
    fix: str
    check: Callable[[SpecView], Iterable[Hit]]
    aggregate: bool = False  # one finding per API with a count, not one per place
    versions: tuple[str, ...] = ("2.0", "3.0", "3.1")


OWASP_2023 = {
    "API1": "Broken Object Level Authorization",
    "API2": "Broken Authentication",
    "API3": "Broken Object Property Level Authorization",
    "API4": "Unrestricted Resource Consumption",
    "API5": "Broken Function Level Authorization",
    "API6": "Unrestricted Access to Sensitive Business Flows",
    "API7": "Server Side Request Forgery",
    "API8": "Security Misconfiguration",
    "API9": "Improper Inventory Management",
    "API10": "Unsafe Consumption of APIs",
}

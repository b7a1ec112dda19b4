"""Deadlines keyed on the business service: its criticality and whether it faces the internet.

A rule caps the deadline class the main rule (BOD 26-04 table or severity) decided: when a
finding's service matches, its class becomes the rule's ``at_most`` if that is shorter. E.g.
"critical and internet-facing: KEV-listed in 3 days"::

    deadlines:
      by_service:
        - {criticality: [critical], internet_facing: true, in_kev: true, at_most: 3d}

Empty or absent conditions match anything; the first matching rule applies. A finding whose
asset belongs to no service matches no rule.
"""

from __future__ import annotations

from typing import Literal

import msgspec

CriticalityName = Literal["low", "medium", "high", "critical"]


class ServiceDeadlineRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    at_most: str  # a deadline class of the policy
    criticality: list[CriticalityName] = []  # empty: any
    internet_facing: bool | None = None  # None: either
    in_kev: bool | None = None  # None: either
    exposed: bool | None = None  # the asset's exposure (unknown counts as exposed); None: either

    def matches(
        self, *, criticality: str | None, internet_facing: bool | None, in_kev: bool, exposed: bool
    ) -> bool:
        if criticality is None:
            return False
        return (
            (not self.criticality or criticality in self.criticality)
            and (self.internet_facing is None or self.internet_facing == internet_facing)
            and (self.in_kev is None or self.in_kev == in_kev)
            and (self.exposed is None or self.exposed == exposed)
        )

"""NIS2 Directive (EU) 2022/2555 Art. 23(4).

Early warning 24 h and notification 72 h after awareness of a significant incident; final report
one month after the notification, or a progress report then if the incident is still being
handled, and the final report one month after handling.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from detente.incidents.clocks.base import (
    Clock,
    ClockSpec,
    Regime,
    Regimes,
    Run,
    add_month,
    not_applicable,
)

EARLY_WARNING = ClockSpec(
    "nis2_early_warning",
    "NIS2",
    "Art. 23(4)(a) early warning",
    "Whether the significant incident is suspected of being caused by unlawful or "
    "malicious acts, and whether it could have a cross-border impact.",
)
NOTIFICATION = ClockSpec(
    "nis2_notification",
    "NIS2",
    "Art. 23(4)(b) incident notification",
    "Update of the early warning; initial assessment of severity and impact; indicators "
    "of compromise where available.",
)
FINAL = ClockSpec(
    "nis2_final",
    "NIS2",
    "Art. 23(4)(d) final report (progress report if ongoing)",
    "Detailed description (severity, impact); type of threat or root cause; mitigation "
    "applied and ongoing; cross-border impact. If the incident is still being handled, a "
    "progress report now and the final report one month after handling.",
)
FINAL_AFTER_HANDLING = ClockSpec(
    "nis2_final_after_handling",
    "NIS2",
    "Art. 23(4)(e) final report after handling",
    "The final report, one month after the incident has been handled.",
)
SPECS = (EARLY_WARNING, NOTIFICATION, FINAL, FINAL_AFTER_HANDLING)
PROGRESS_LABEL = "Art. 23(4)(e) progress report (incident still being handled)"


def compute(run: Run) -> list[Clock]:
    entity = run.regimes.nis2_entity
    if entity == "none" or not run.facts.nis2_significant:
        reason = "not a NIS2 entity" if entity == "none" else "not significant"
        return [not_applicable(s, reason) for s in SPECS]
    eu = ZoneInfo(run.regimes.eu_timezone)
    aware = run.aware
    notification_due = aware + dt.timedelta(hours=72)
    notified = run.first(NOTIFICATION)
    final_due = add_month(notified or notification_due, eu)
    handled = run.facts.handled_at
    ongoing = handled is None or handled > final_due
    out = [
        run.clock(
            EARLY_WARNING, due=aware + dt.timedelta(hours=24), basis="24 hours after awareness"
        ),
        run.clock(NOTIFICATION, due=notification_due, basis="72 hours after awareness"),
        run.clock(
            FINAL,
            due=final_due,
            label=PROGRESS_LABEL if ongoing else None,
            basis="one month after the incident notification"
            + ("" if notified else " (its due time: not filed yet)"),
        ),
    ]
    if not ongoing:
        out.append(not_applicable(FINAL_AFTER_HANDLING, "handled within the month"))
    elif handled is None:
        out.append(run.waiting(FINAL_AFTER_HANDLING, "starts when the incident has been handled"))
    else:
        out.append(
            run.clock(
                FINAL_AFTER_HANDLING,
                due=add_month(handled, eu),
                basis="one month after the incident was handled",
            )
        )
    return out


def _zone(regimes: Regimes) -> str:
    return regimes.eu_timezone


REGIME = Regime(
    name="NIS2",
    specs=SPECS,
    compute=compute,
    zone=_zone,
    sources="NIS2 Directive (EU) 2022/2555 Art. 23(4)",
)

"""GDPR Art. 33 and 34.

Art. 33(1): the supervisory authority within 72 hours of awareness (controller); Art. 33(2): a
processor tells the controller without undue delay; Art. 34(1): data subjects without undue delay
when the breach is likely to result in a high risk.
"""

from __future__ import annotations

import datetime as dt

from detente.incidents.clocks.base import (
    Clock,
    ClockSpec,
    Regime,
    Regimes,
    Run,
    not_applicable,
)

ART_33 = ClockSpec(
    "gdpr_33",
    "GDPR",
    "Art. 33 notification to the supervisory authority",
    "Nature of the breach, categories and approximate numbers of data subjects and "
    "records; DPO contact; likely consequences; measures taken or proposed. Information "
    "may be provided in phases; give the reasons for any delay beyond 72 hours.",
)
ART_33_PROCESSOR = ClockSpec(
    "gdpr_33_processor",
    "GDPR",
    "Art. 33(2) processor → controller",
    "Tell the controller of the personal-data breach without undue delay.",
)
ART_34 = ClockSpec(
    "gdpr_34",
    "GDPR",
    "Art. 34 communication to data subjects",
    "In clear and plain language: nature of the breach, DPO contact, likely consequences, "
    "measures taken or proposed (including what subjects can do).",
)
SPECS = (ART_33, ART_33_PROCESSOR, ART_34)


def compute(run: Run) -> list[Clock]:
    role = run.regimes.gdpr_role
    if role == "none" or not run.facts.personal_data:
        reason = "GDPR not configured" if role == "none" else "no personal data"
        return [not_applicable(s, reason) for s in SPECS]
    aware = run.aware
    if role == "processor":
        return [
            not_applicable(ART_33, "a processor: the controller notifies"),
            run.clock(
                ART_33_PROCESSOR,
                due=aware,
                basis="without undue delay after awareness",
                asap=True,
            ),
            not_applicable(ART_34, "a processor: the controller informs subjects"),
        ]
    if run.facts.high_risk_to_subjects:
        subjects = run.clock(
            ART_34,
            due=aware,
            basis="without undue delay (high risk to data subjects)",
            asap=True,
        )
    else:
        subjects = not_applicable(ART_34, "no high risk to data subjects assessed")
    return [
        run.clock(ART_33, due=aware + dt.timedelta(hours=72), basis="72 hours after awareness"),
        not_applicable(ART_33_PROCESSOR, "a controller"),
        subjects,
    ]


def _zone(regimes: Regimes) -> str:
    return regimes.eu_timezone


REGIME = Regime(
    name="GDPR",
    specs=SPECS,
    compute=compute,
    zone=_zone,
    sources="GDPR (Reg. (EU) 2016/679) Art. 33 and 34",
)

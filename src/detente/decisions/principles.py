"""The five principles a decision record is built on, and which of them a record still lacks.

Pure (reads the record's fields only), shared by the decide rule, the pages that prompt people
and the radar's green-zone prompts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Principle:
    key: str
    name: str
    prompt: str


PRINCIPLES: tuple[Principle, ...] = (
    Principle("company_first", "Company first",
              "Say why the choice serves the company before either organisation."),
    Principle("business_benefit", "Business benefit",
              "State the business benefit of every option."),
    Principle("facts", "Fact-driven", "Put the facts (findings, figures) behind every option."),
    Principle("informed", "Transparent", "Record who is informed of the outcome."),
    Principle("win_win", "Win-win", "Record the win-win option considered."),
)  # fmt: skip


def missing(
    *,
    company_first: str,
    options: list[dict[str, Any]],
    informed: list[Any],
    win_win: str,
) -> list[Principle]:
    """The principles left blank, in their order."""
    blank = {
        "company_first": not company_first.strip(),
        "business_benefit": any(not str(o.get("business_benefit") or "").strip() for o in options),
        "facts": not options or any(not (o.get("facts") or o.get("findings")) for o in options),
        "informed": not informed,
        "win_win": not win_win.strip(),
    }
    return [p for p in PRINCIPLES if blank[p.key]]


def missing_of(record: Any) -> list[Principle]:
    """The principles a decision record (or anything with its fields) still lacks."""
    return missing(
        company_first=str(record.company_first or ""),
        options=list(record.options or []),
        informed=list(record.informed or []),
        win_win=str(record.win_win or ""),
    )


def missing_of_request(
    decision: Any | None, *, business_benefit: str, has_facts: bool
) -> list[Principle]:
    """What a request that rests on a decision record (a risk acceptance) still lacks: its
    record's blank principles, where the request's own justification stands for the business
    benefit and the findings it covers for the facts. Without a record, company first,
    transparency and win-win have nowhere to be written: they are lacking."""
    blank = {p.key for p in (missing_of(decision) if decision is not None else PRINCIPLES)}
    if business_benefit.strip():
        blank.discard("business_benefit")
    if has_facts:
        blank.discard("facts")
    return [p for p in PRINCIPLES if p.key in blank]

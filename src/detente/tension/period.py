"""The radar's period: a calendar month in UTC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from detente.core.errors import InputError


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (UTC): ``start`` inclusive, ``end`` exclusive."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError:
            raise InputError(f"a period is YYYY-MM, not {text!r}", field="period") from None
        if not 1 <= month <= 12 or not 1970 <= year <= 9999:
            raise InputError(f"a period is YYYY-MM, not {text!r}", field="period")
        return cls(year, month)

    @classmethod
    def of(cls, moment: dt.datetime) -> Period:
        return cls(moment.year, moment.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def until(self, last: Period) -> list[Period]:
        out, current = [], self
        while current <= last:
            out.append(current)
            current = current.next()
        return out

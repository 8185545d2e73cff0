"""Quarters of the calendar year, written ``2026-Q3``: when actions start, are due, report.

CCPM reports on its action plan every quarter (reference/instruments.md section 1.6,
step 4); plans, stock-takes and the quarterly report all count in these quarters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter; ordered, so ``due < current`` reads as it should."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``2026-Q3`` (spaces and case ignored) -> Quarter(2026, 3).

        :raises ValueError: with a message naming the expected form.
        """
        found = _PATTERN.match(text.strip().upper())
        if found is None:
            raise ValueError(f"`{text}` is not a quarter: write it like 2026-Q3")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year,
                                                                          self.number - 1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year,
                                                                          self.number + 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next.first_day - dt.timedelta(days=1)


def quarter(value: str) -> str:
    """``2026-09-30`` -> ``2026-Q3``; text that is not an ISO date is kept as written."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return str(Quarter.of(day))

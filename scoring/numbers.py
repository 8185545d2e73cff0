"""Exact arithmetic for scores: the single place where rounding and banding are decided.

Scores are computed as exact fractions and rounded once, half away from zero
(``ROUND_HALF_UP`` in :mod:`decimal` terms), to the number of decimals the
scoring rule declares. Bands are applied to the *rounded* value, so the
rating a reader sees always agrees with the number printed beside it:
50.5 is satisfactory (above 50), 25.01 unsatisfactory, 75.01 good
(DESIGN.md "Scoring rules"; reference/instruments.md section 1.5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from instruments.schema import Band, BandSet


def exact(value: float | int | Fraction) -> Fraction:
    """A number from an instrument file or an answer as the decimal its author wrote.

    ``Fraction(0.1)`` would be the binary float; going through ``repr`` keeps
    ``0.1`` as one tenth, so a factor such as ``33.3`` multiplies exactly.
    """
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if value.is_integer():  # the common case, and much faster than parsing text
        return Fraction(int(value))
    return Fraction(repr(value))


def exact_ratio(value: float) -> tuple[int, int]:
    """:func:`exact` as (numerator, denominator), without building a Fraction for whole numbers."""
    if value.is_integer():
        return int(value), 1
    return exact(value).as_integer_ratio()


def round_half_up(value: Fraction, decimals: int) -> Decimal:
    """Round an exact value half away from zero to ``decimals`` places."""
    return round_ratio_half_up(value.numerator, value.denominator, decimals)


def round_ratio_half_up(numerator: int, denominator: int, decimals: int) -> Decimal:
    """Round ``numerator / denominator`` half away from zero, in integers only.

    The same rule as :func:`round_half_up`, for callers that already hold the
    ratio and round thousands of values (every node of every cluster).
    """
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    scale = 10**decimals
    magnitude = (2 * abs(numerator) * scale + denominator) // (2 * denominator)
    rounded = Decimal(magnitude).scaleb(-decimals)
    return -rounded if numerator < 0 else rounded


def as_float(value: Decimal | None) -> float | None:
    """A rounded Decimal as the float that prints the same digits (``68.75`` -> 68.75)."""
    return None if value is None else float(value)


def median(values: Sequence[Fraction]) -> Fraction:
    """The median of exact values; for an even count, the mean of the two middle values."""
    if not values:
        raise ValueError("the median of no values is undefined")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Bands:
    """A band set with its bounds as exact decimals, ready to rate many values."""

    band_set: BandSet
    bounds: tuple[tuple[Band, Decimal, Decimal], ...]

    @classmethod
    def of(cls, band_set: BandSet) -> Bands:
        return cls(band_set, tuple((band, Decimal(repr(band.lower)), Decimal(repr(band.upper)))
                                   for band in band_set.bands))

    def band_for(self, value: Decimal | int) -> Band:
        """The band holding ``value``: bands cover (lower, upper], the first also its lower bound.

        :raises ValueError: when no band holds the value, which means the band set
            does not cover the rule's scale (the instrument loader reports that as I032).
        """
        for position, (band, lower, upper) in enumerate(self.bounds):
            above_lower = value >= lower if position == 0 else value > lower
            if above_lower and value <= upper:
                return band
        raise ValueError(
            f"{value} lies outside every band of band set `{self.band_set.id}`: "
            "make the bands cover the whole scale of the scoring rule"
        )


def band_for(band_set: BandSet, value: Decimal | int) -> Band:
    """The band of ``band_set`` holding ``value`` (see :meth:`Bands.band_for`)."""
    return Bands.of(band_set).band_for(value)


_DIGITS = re.compile(r"(\d+)")


def natural_key(identifier: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``OUT2`` before ``OUT10`` and ``1.2`` before ``1.10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in _DIGITS.split(identifier)
        if part
    )

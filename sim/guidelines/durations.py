"""Exact lengths of time: every duration the law compares is a whole number of ticks.

The guidelines draw lines in days, months and years ("sixty days", "exceeding one year and one
month", "two years or more", "within fifteen years"), and a prior's term is often the sum of
consecutive terms. Floating-point months land on the wrong side of such lines (0.46 + 8.97 + 3.57
is not 13.0 in binary), so the engine measures time in integer **ticks**:

* a day is ``TICKS_PER_DAY`` = 160,000 ticks;
* a month is 365.25 / 12 = 30.4375 = 487 / 16 days = 4,870,000 ticks;
* a year is 12 months = 365.25 days = 58,440,000 ticks.

The tick is chosen so that a whole day, month or year, and any amount of days, months or years
written with at most four decimal places, is a whole number of ticks: sums are exact and
independent of order, and a threshold comparison is an integer comparison. Twenty centuries fit in
an int64 with room to spare.

**Assumption** (docs/engine.md §3, Units): a month is 365.25 / 12 days. The Guidelines do not say
how a term imposed in months compares with "sixty days"; the average Gregorian month is the
convention this project has used since its first release. A term given in whole days never
depends on it except where days are compared with months.

>>> months("13") == months("0.46") + months("8.97") + months("3.57")
True
>>> days(60) <= months(2), days(60) > months("1.9712")
(True, True)
>>> format_duration(months(1)), format_duration(days(45)), format_duration(years("2.5"))
('1 month', '45 days', '30 months')
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction

__all__ = [
    "DAY",
    "DECIMAL_PLACES",
    "MONTH",
    "NEVER",
    "TICKS_PER_DAY",
    "YEAR",
    "calendar_ticks",
    "days",
    "format_duration",
    "format_years",
    "from_ticks",
    "months",
    "plural",
    "to_days",
    "to_months",
    "to_years",
    "years",
]

#: Ticks in one day.
TICKS_PER_DAY = 160_000
DAY = TICKS_PER_DAY
#: 365.25 / 12 days (assumption above); exactly 487 / 16 days.
MONTH = DAY * 487 // 16
YEAR = 12 * MONTH
#: Decimal places a duration may be written with in days, months or years (exact in ticks).
DECIMAL_PLACES = 4
#: Sentinel for "no such time" (e.g. never released from imprisonment): later than any real time,
#: so that "within N years" is false and the most recent of several is the real one.
NEVER = 2**63 - 1

_UNITS = {"days": DAY, "months": MONTH, "years": YEAR}
assert all(unit % 10**DECIMAL_PLACES == 0 for unit in _UNITS.values())


def _ticks(value: object, unit: str) -> int:
    """``value`` (an int, a float written with at most four decimals, a str or a Decimal) of
    ``unit`` as ticks; ValueError when not finite, negative or finer than four decimals."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number of {unit}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} {unit}: allowed: a finite number")
        # The shortest repr is the decimal the user wrote (YAML and JSON parse 0.46 as the double
        # nearest 0.46, whose repr is '0.46').
        value = repr(value)
    try:
        exact = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number of {unit}") from None
    if not exact.is_finite():
        raise ValueError(f"{value!r} {unit}: allowed: a finite number")
    if exact < 0:
        raise ValueError(f"{value} {unit} is negative; allowed: 0 or more")
    ticks = exact * _UNITS[unit]
    if ticks != ticks.to_integral_value():
        raise ValueError(
            f"{value} {unit} has more than {DECIMAL_PLACES} decimal places; allowed: at most "
            f"{DECIMAL_PLACES}"
        )
    if ticks >= NEVER:
        raise ValueError(f"{value} {unit} is too long; allowed: less than {NEVER // YEAR} years")
    return int(ticks)


def days(value: object) -> int:
    """Ticks in ``value`` days (at most four decimal places).

    >>> days(60) == 60 * TICKS_PER_DAY
    True
    """
    return _ticks(value, "days")


def months(value: object) -> int:
    """Ticks in ``value`` months of 365.25 / 12 days (at most four decimal places).

    >>> months(13) == 13 * MONTH
    True
    """
    return _ticks(value, "months")


def years(value: object) -> int:
    """Ticks in ``value`` years of 365.25 days (at most four decimal places).

    >>> years(15) == 15 * YEAR
    True
    """
    return _ticks(value, "years")


def from_ticks(ticks: int, unit: str) -> Fraction:
    """``ticks`` in ``unit`` ("days", "months" or "years"), exactly."""
    return Fraction(int(ticks), _UNITS[unit])


def to_days(ticks):
    """Days as a float (for display and plotting; comparisons use ticks)."""
    return ticks / DAY


def to_months(ticks):
    """Months as a float (for display and plotting; comparisons use ticks)."""
    return ticks / MONTH


def to_years(ticks):
    """Years as a float (for display and plotting; comparisons use ticks)."""
    return ticks / YEAR


def plural(amount: object, unit: str) -> str:
    """``amount`` ``unit``, the unit in the plural unless the amount is 1 ("1 month", "2.5 years").

    >>> plural(1, "month"), plural(Fraction(5, 2), "year"), plural(0.46, "month")
    ('1 month', '2.5 years', '0.46 months')
    """
    if isinstance(amount, Fraction):
        return _plural(amount, unit)
    return _plural(Fraction(repr(amount)) if isinstance(amount, float) else Fraction(amount), unit)


def _plural(amount: Fraction, unit: str) -> str:
    if amount.denominator == 1:
        text = str(amount.numerator)
    else:
        text = f"{float(amount):.4f}".rstrip("0").rstrip(".")
        if Fraction(text) != amount:
            text = "about " + text
    return f"{text} {unit if amount == 1 else unit + 's'}"


def format_duration(ticks: int, units: tuple[str, ...] = ("year", "month", "day")) -> str:
    """A duration as a person would write it: in the first of ``units`` that states it in a
    whole number, else months (or days) with up to four decimals, else "about" months to four
    decimals; "no imprisonment" for zero.

    >>> format_duration(0), format_duration(days(396)), format_duration(years(1))
    ('no imprisonment', '396 days', '1 year')
    >>> format_duration(months(18)), format_duration(months("8.97")), format_duration(days(60))
    ('18 months', '8.97 months', '60 days')
    >>> format_duration(months(36)), format_duration(months(36), units=("month", "day"))
    ('3 years', '36 months')
    """
    ticks = int(ticks)
    if ticks == 0:
        return "no imprisonment"
    for unit in units:
        amount = from_ticks(ticks, unit + "s")
        if amount.denominator == 1:
            return _plural(amount, unit)
    for unit in ("month", "day"):
        amount = from_ticks(ticks, unit + "s")
        if (amount * 10**DECIMAL_PLACES).denominator == 1:
            return _plural(amount, unit)
    return _plural(from_ticks(ticks, "months"), "month")


def format_years(ticks: int) -> str:
    """A time in years, as in "imposed 2.5 years ago" (up to four decimals, else "about").

    >>> format_years(years(1)), format_years(years("2.5")), format_years(days(100))
    ('1 year', '2.5 years', 'about 0.2738 years')
    """
    return _plural(from_ticks(ticks, "years"), "year")


def _add_months(day: dt.date, count: int) -> dt.date:
    """``day`` plus ``count`` calendar months, the day of the month clamped to the month's end."""
    month = day.month - 1 + count
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def calendar_ticks(earlier: dt.date, later: dt.date) -> int:
    """The time from ``earlier`` to ``later`` counted as the calendar counts it: whole calendar
    months (so that the same date 15 years before is exactly 15 years), then the remaining days.

    >>> calendar_ticks(dt.date(1980, 8, 1), dt.date(1995, 8, 1)) == years(15)
    True
    >>> calendar_ticks(dt.date(1980, 7, 31), dt.date(1995, 8, 1)) == years(15) + days(1)
    True
    >>> calendar_ticks(dt.date(1995, 1, 31), dt.date(1995, 2, 28)) == months(1)
    True
    """
    if earlier > later:
        raise ValueError(f"{earlier} is after {later}")
    count = (later.year - earlier.year) * 12 + later.month - earlier.month
    if _add_months(earlier, count) > later:
        count -= 1
    return count * MONTH + (later - _add_months(earlier, count)).days * DAY

"""Statutory maxima of 8 U.S.C. §§ 1325(a) and 1326 by offense date, and USSG § 5G1.1.

The statutes change with the offense date, not with the Guidelines edition, so they live here
rather than in the edition rulebook. Sources: ``../shared/domain/guidelines.md`` §6;
docs/engine.md §5.

>>> [statutory_maximum("1326(b)(2)", dt.date(y, 8, 1)) for y in (1993, 1995)]
[180, 240]
>>> statutory_maximum("1326(b)(1)", dt.date(1988, 11, 17)) is None
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.records import CONVICTIONS

__all__ = [
    "ADAA_1988",
    "STATUTES",
    "STATUTE_TABLES",
    "VCCLEA_1994",
    "Statute",
    "StatuteTables",
    "apply_5g1_1",
    "statute",
    "statutory_maximum",
]

#: Anti-Drug Abuse Act of 1988, Pub. L. 100-690, § 7345(a), 102 Stat. 4471: created § 1326(b).
ADAA_1988 = dt.date(1988, 11, 18)
#: Violent Crime Control and Law Enforcement Act, Pub. L. 103-322, § 130001(b), 108 Stat. 2023.
VCCLEA_1994 = dt.date(1994, 9, 13)
_PERIOD_STARTS = (ADAA_1988, VCCLEA_1994)


@dataclass(frozen=True)
class Statute:
    """Maximum months by period: before ``ADAA_1988``, to Sept 12, 1994, from Sept 13, 1994.

    ``None`` marks a period in which the provision did not exist.
    """

    conviction: str
    citation: str
    maxima: tuple[int | None, int | None, int | None]
    guideline_applies: bool = True


#: In the order of :data:`sim.guidelines.records.CONVICTIONS`.
STATUTES = (
    Statute("1326(a)", "8 U.S.C. § 1326(a)", (24, 24, 24)),
    Statute("1326(b)(1)", "8 U.S.C. § 1326(b)(1)", (None, 60, 120)),
    Statute("1326(b)(2)", "8 U.S.C. § 1326(b)(2)", (None, 180, 240)),
    # A first § 1325(a) offense is a Class B misdemeanor: no guideline applies (USSG § 1B1.9).
    Statute("1325(a)-first", "8 U.S.C. § 1325(a), first offense", (6, 6, 6), False),
    Statute("1325(a)-subsequent", "8 U.S.C. § 1325(a), subsequent offense", (24, 24, 24)),
    # Two § 1325(a) counts run consecutively, 6 + 24 (USSG § 5G1.2(d); seed opinion fn. 2;
    # Bonnet-Grullon, 53 F. Supp. 2d 430 (S.D.N.Y. 1999)).
    Statute(
        "1325-flip-flop",
        "8 U.S.C. § 1325(a), two counts consecutive: 6 + 24 months (USSG § 5G1.2(d))",
        (30, 30, 30),
    ),
)
assert tuple(s.conviction for s in STATUTES) == CONVICTIONS

#: Final range of an offense to which no guideline applies (a first § 1325(a) offense, § 1B1.9):
#: any sentence the statute authorizes, from 0 months.
_NO_GUIDELINE_MIN_MONTHS = 0
_MISSING = -1


class StatuteTables(NamedTuple):
    """The statutes as arrays for the compiled kernels."""

    #: Days since 1970-01-01 on which periods 1 and 2 begin.
    period_start_days: np.ndarray
    #: Maximum months ``[conviction code, period]``; -1 where the provision did not exist.
    maxima_months: np.ndarray
    guideline_applies: np.ndarray
    no_guideline_min_months: int


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


STATUTE_TABLES = StatuteTables(
    period_start_days=_frozen(np.array(_PERIOD_STARTS, dtype="datetime64[D]").astype(np.int64)),
    maxima_months=_frozen(
        np.array([[_MISSING if m is None else m for m in s.maxima] for s in STATUTES])
    ),
    guideline_applies=_frozen(np.array([s.guideline_applies for s in STATUTES])),
    no_guideline_min_months=_NO_GUIDELINE_MIN_MONTHS,
)


def statute(conviction: str) -> Statute:
    """The statute of a conviction name (one of :data:`CONVICTIONS`)."""
    return STATUTES[CONVICTIONS.index(conviction)]


def statutory_maximum(conviction: str, offense_date: dt.date) -> int | None:
    """Maximum months for ``conviction`` on ``offense_date``; None where it did not exist."""
    period = sum(offense_date >= start for start in _PERIOD_STARTS)
    return statute(conviction).maxima[period]


@njit(cache=True)
def apply_5g1_1(low, high, maximum):
    """USSG § 5G1.1(a), (c): the final range of a guideline range ``[low, high]`` under a
    statutory ``maximum`` (months): a maximum below the range becomes the guideline sentence, one
    inside it truncates it.

    >>> apply_5g1_1(51, 63, 60), apply_5g1_1(51, 63, 48), apply_5g1_1(70, 87, 240)
    ((51, 60), (48, 48), (70, 87))
    """
    return min(low, maximum), min(high, maximum)

"""Statutory maxima of 8 U.S.C. §§ 1325(a) and 1326 by offense date, and USSG § 5G1.1.

Sources: ``../shared/domain/guidelines.md`` §6; docs/engine.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAXIMA_MONTHS",
    "STATUTES",
    "Statute",
    "apply_5g1_1",
    "period_index",
    "statutory_maximum_months",
]

#: Anti-Drug Abuse Act of 1988, Pub. L. 100-690, § 7345(a), 102 Stat. 4471: created § 1326(b).
ADAA_1988 = np.datetime64("1988-11-18")
#: Violent Crime Control and Law Enforcement Act, Pub. L. 103-322, § 130001(b), 108 Stat. 2023.
VCCLEA_1994 = np.datetime64("1994-09-13")


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

_MISSING = -1


def _maxima_table() -> np.ndarray:
    table = np.array([[_MISSING if m is None else m for m in s.maxima] for s in STATUTES])
    table.setflags(write=False)
    return table


#: Maximum months indexed ``[conviction code, period_index]``; -1 where the provision did not
#: exist.
MAXIMA_MONTHS = _maxima_table()


def period_index(offense_date: np.ndarray) -> np.ndarray:
    """0 before Nov 18, 1988; 1 until Sept 12, 1994; 2 from Sept 13, 1994."""
    return (offense_date >= ADAA_1988).astype(np.int8) + (offense_date >= VCCLEA_1994)


def statutory_maximum_months(conviction: np.ndarray, offense_date: np.ndarray) -> np.ndarray:
    """Statutory maximum (months) per defendant; -1 where the provision did not yet exist.

    >>> statutory_maximum_months(np.array([2, 2, 5]),
    ...     np.array(["1995-08-01", "1993-01-01", "1995-08-01"], dtype="datetime64[D]"))
    array([240, 180,  30])
    """
    return MAXIMA_MONTHS[conviction, period_index(offense_date)]


def apply_5g1_1(
    min_months: np.ndarray, max_months: np.ndarray, statutory_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """USSG § 5G1.1(a), (c): restrict a guideline range by the statutory maximum.

    A maximum below the range's minimum becomes the guideline sentence; a maximum inside the range
    truncates it.

    >>> apply_5g1_1(np.array([51, 51, 70]), np.array([63, 63, 87]), np.array([60, 48, 240]))
    (array([51, 48, 70]), array([60, 48, 87]))
    """
    return np.minimum(min_months, statutory_max), np.minimum(max_months, statutory_max)

"""Chapter Three to Five adjustments after § 2L1.2: acceptance, zero-point offenders, fast track.

Sources: ``../shared/domain/guidelines.md`` §3.3, §4, §5.1; docs/engine.md §2.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EARLY_DISPOSITION_FIRST_MANUAL",
    "MAX_EARLY_DISPOSITION_LEVELS",
    "THIRD_LEVEL_MIN_OFFENSE_LEVEL",
    "ZERO_POINT_FIRST_MANUAL",
    "ZERO_POINT_LEVELS",
    "acceptance_reduction",
    "early_disposition_label",
    "zero_point_reduction",
]

#: § 3E1.1(b): the third level needs an offense level of 16 or more before (a) applies
#: (App. C Amend. 459, Nov 1, 1992; unchanged by the PROTECT Act, which added the motion).
THIRD_LEVEL_MIN_OFFENSE_LEVEL = 16

#: § 5K3.1 took effect Oct 27, 2003 (App. C Amend. 651), so the Nov 1, 2003 Manual is the first.
EARLY_DISPOSITION_FIRST_MANUAL = 2003
#: § 5K3.1: "not more than 4 levels" (PROTECT Act § 401(m)(2)(B)).
MAX_EARLY_DISPOSITION_LEVELS = 4
#: § 4C1.1, App. C Amend. 821 Part B, eff. Nov 1, 2023.
ZERO_POINT_FIRST_MANUAL = 2023
#: § 4C1.1(a): "decrease the offense level ... by 2 levels".
ZERO_POINT_LEVELS = 2


def acceptance_reduction(acceptance_levels: np.ndarray, offense_level: np.ndarray) -> np.ndarray:
    """§ 3E1.1 reduction (a non-negative number of levels).

    Two levels for acceptance; a third only when it was sought (from Apr 30, 2003: the government
    moved for it) and the offense level before (a) is 16 or more.

    >>> acceptance_reduction(np.array([3, 3, 2, 0]), np.array([24, 12, 24, 24]))
    array([3, 2, 2, 0])
    """
    third = (acceptance_levels >= 3) & (offense_level >= THIRD_LEVEL_MIN_OFFENSE_LEVEL)
    return np.where(acceptance_levels >= 2, 2, 0) + np.where(third, 1, 0)


def zero_point_reduction(
    manual: int, criminal_history_points: np.ndarray, criteria_met: np.ndarray
) -> np.ndarray:
    """§ 4C1.1 reduction: 2 levels for zero-point offenders from the 2023 Manual.

    The ten other criteria of Amend. 821 Part B are not modelled: ``criteria_met`` carries them
    (assumption, docs/engine.md §2).
    """
    if manual < ZERO_POINT_FIRST_MANUAL:
        return np.zeros_like(criminal_history_points)
    return np.where((criminal_history_points == 0) & criteria_met, ZERO_POINT_LEVELS, 0)


def early_disposition_label(manual: int) -> str:
    """Where the early-disposition reduction sits in the ``manual`` edition.

    § 5K3.1 policy statement (2003-2024); relocated to § 3F1.1 on Nov 1, 2025 according to a
    secondary source (assumption: same 0-4 levels; guidelines.md §5.1).
    """
    return "§ 3F1.1" if manual >= 2025 else "§ 5K3.1"

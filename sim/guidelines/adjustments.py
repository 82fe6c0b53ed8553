"""Chapter Three to Five adjustments after § 2L1.2: acceptance, zero-point offenders, fast track.

The rules' constants; the compiled kernel of :mod:`sim.guidelines.engine` applies them.
Sources: ``../shared/domain/guidelines.md`` §3.3, §4, §5.1; docs/engine.md §2.
"""

from __future__ import annotations

__all__ = [
    "EARLY_DISPOSITION_FIRST_MANUAL",
    "MAX_EARLY_DISPOSITION_LEVELS",
    "THIRD_LEVEL_MIN_OFFENSE_LEVEL",
    "ZERO_POINT_FIRST_MANUAL",
    "ZERO_POINT_LEVELS",
    "early_disposition_label",
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


def early_disposition_label(manual: int) -> str:
    """Where the early-disposition reduction sits in the ``manual`` edition.

    § 5K3.1 policy statement (2003-2024); relocated to § 3F1.1 on Nov 1, 2025 according to a
    secondary source (assumption: same 0-4 levels; guidelines.md §5.1).
    """
    return "§ 3F1.1" if manual >= 2025 else "§ 5K3.1"

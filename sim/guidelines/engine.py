"""The guidelines engine: a whole batch of § 1326 / § 1325 defendants in one call.

Order of computation (docs/engine.md §2): § 2L1.2 → § 3E1.1 → § 4C1.1 → § 5K3.1 (§ 3F1.1 in
2025) → total offense level (clamped to 1-43) → criminal history category → Sentencing Table →
statutory maximum → § 5G1.1 → zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.guidelines.adjustments import (
    EARLY_DISPOSITION_FIRST_MANUAL,
    MAX_EARLY_DISPOSITION_LEVELS,
    acceptance_reduction,
    zero_point_reduction,
)
from sim.guidelines.criminal_history import CriminalHistory, compute_criminal_history
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import CONVICTIONS, NO_OVERRIDE, Defendants
from sim.guidelines.reentry import ReentryOffenseLevel, compute_reentry_offense_level
from sim.guidelines.statutes import STATUTES, apply_5g1_1, statutory_maximum_months
from sim.guidelines.table import category_from_points, guideline_range, zone_from_minimum

__all__ = ["FIRST_MANUAL", "LAST_MANUAL", "GuidelineResult", "compute_guidelines"]

#: Editions the engine encodes (Nov 1 of each year).
FIRST_MANUAL, LAST_MANUAL = 1995, 2025

#: Final range of a first § 1325(a) offense, to which no guideline applies (§ 1B1.9): any sentence
#: the statute authorizes, 0 to 6 months.
_CLASS_B_MISDEMEANOR_RANGE = (0, 6)


@dataclass(frozen=True)
class GuidelineResult:
    """Everything the engine computed for a batch of ``n`` defendants (arrays of shape (n,)).

    Offense levels, range and zone are 0 where ``guideline_applies`` is false (a first § 1325(a)
    offense). Months use :data:`sim.guidelines.table.LIFE_MONTHS` for life.
    """

    manual: int
    guideline_applies: np.ndarray
    reentry: ReentryOffenseLevel
    acceptance_reduction: np.ndarray
    zero_point_reduction: np.ndarray
    early_disposition_reduction: np.ndarray
    total_offense_level: np.ndarray
    history: CriminalHistory
    criminal_history_points: np.ndarray
    criminal_history_category: np.ndarray
    guideline_min_months: np.ndarray
    guideline_max_months: np.ndarray
    statutory_maximum_months: np.ndarray
    final_min_months: np.ndarray
    final_max_months: np.ndarray
    zone: np.ndarray

    def __len__(self) -> int:
        return len(self.total_offense_level)


def _check_inputs(defendants: Defendants, manual: int) -> None:
    if not FIRST_MANUAL <= manual <= LAST_MANUAL:
        raise ValueError(f"manual {manual} is not encoded; allowed: {FIRST_MANUAL}-{LAST_MANUAL}")
    levels = defendants.early_disposition_levels
    allowed = MAX_EARLY_DISPOSITION_LEVELS if manual >= EARLY_DISPOSITION_FIRST_MANUAL else 0
    bad = np.flatnonzero((levels < 0) | (levels > allowed))
    if len(bad):
        raise ValueError(
            f"early_disposition_levels {int(levels[bad[0]])} (defendant {int(bad[0])}) is not "
            f"allowed under the {manual} Manual; allowed: 0-{allowed} (USSG § 5K3.1 took effect "
            f"Oct 27, 2003)"
        )


def compute_guidelines(defendants: Defendants, manual: int) -> GuidelineResult:
    """Apply the Guidelines Manual in force on Nov 1 of ``manual`` to a batch of defendants.

    Parameters
    ----------
    defendants : Defendants
        ``n`` defendants and their priors (struct-of-arrays, see :mod:`sim.guidelines.records`).
    manual : int
        Edition year, 1995-2025.

    Returns
    -------
    GuidelineResult
        Per-defendant arrays of shape (n,).

    Raises
    ------
    ValueError
        An edition outside 1995-2025, early-disposition levels the edition does not allow, or a
        conviction under a provision that did not exist on the offense date.
    """
    _check_inputs(defendants, manual)
    owner = defendants.prior_owner
    groups = SentenceGroups.build(owner, defendants.priors.single_sentence_group)
    history = compute_criminal_history(defendants, manual, groups)
    reentry = compute_reentry_offense_level(defendants, manual, groups, history)

    points = np.where(
        defendants.criminal_history_points_override != NO_OVERRIDE,
        defendants.criminal_history_points_override,
        history.points,
    ).astype(np.int64)
    category = np.where(
        defendants.criminal_history_category_override != NO_OVERRIDE,
        defendants.criminal_history_category_override,
        category_from_points(points),
    ).astype(np.int8)

    acceptance = acceptance_reduction(defendants.acceptance_levels, reentry.offense_level)
    zero_point = zero_point_reduction(manual, points, defendants.zero_point_criteria_met)
    early = defendants.early_disposition_levels.astype(np.int64)
    total = np.clip(reentry.offense_level - acceptance - zero_point - early, 1, 43)
    range_min, range_max = guideline_range(total, category)

    offense_date = np.where(
        np.isnat(defendants.offense_date),
        np.datetime64(f"{manual}-11-01"),
        defendants.offense_date,
    )
    statutory_max = statutory_maximum_months(defendants.conviction, offense_date)
    missing = np.flatnonzero(statutory_max < 0)
    if len(missing):
        first = int(missing[0])
        raise ValueError(
            f"conviction {CONVICTIONS[defendants.conviction[first]]} (defendant {first}) did not "
            f"exist on the offense date {offense_date[first]}: 8 U.S.C. § 1326(b) took effect "
            f"Nov 18, 1988"
        )
    final_min, final_max = apply_5g1_1(range_min, range_max, statutory_max)

    applies = np.array([s.guideline_applies for s in STATUTES])[defendants.conviction]
    low, high = _CLASS_B_MISDEMEANOR_RANGE
    return GuidelineResult(
        manual=manual,
        guideline_applies=applies,
        reentry=reentry,
        acceptance_reduction=np.where(applies, acceptance, 0),
        zero_point_reduction=np.where(applies, zero_point, 0),
        early_disposition_reduction=np.where(applies, early, 0),
        total_offense_level=np.where(applies, total, 0),
        history=history,
        criminal_history_points=points,
        criminal_history_category=category,
        guideline_min_months=np.where(applies, range_min, 0),
        guideline_max_months=np.where(applies, range_max, 0),
        statutory_maximum_months=statutory_max,
        final_min_months=np.where(applies, final_min, low),
        final_max_months=np.where(applies, final_max, high),
        zone=np.where(applies, zone_from_minimum(final_min, manual), 0).astype(np.int8),
    )

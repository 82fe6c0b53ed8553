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

__all__ = [
    "FIRST_MANUAL",
    "LAST_MANUAL",
    "GuidelineResult",
    "RecordAssessment",
    "apply_dispositions",
    "assess_records",
    "compute_guidelines",
]

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


_GUIDELINE_APPLIES = np.array([statute.guideline_applies for statute in STATUTES])


def _check_early_disposition(levels: np.ndarray, manual: int) -> None:
    allowed = MAX_EARLY_DISPOSITION_LEVELS if manual >= EARLY_DISPOSITION_FIRST_MANUAL else 0
    bad = np.flatnonzero((levels < 0) | (levels > allowed))
    if len(bad):
        raise ValueError(
            f"early_disposition_levels {int(levels[bad[0]])} (defendant {int(bad[0])}) is not "
            f"allowed under the {manual} Manual; allowed: 0-{allowed} (USSG § 5K3.1 took effect "
            f"Oct 27, 2003)"
        )


@dataclass(frozen=True)
class RecordAssessment:
    """What the guidelines make of the defendants' records, whatever the disposition.

    Computed once per batch and reused for every district: criminal history, § 2L1.2, and the
    § 4C1.1 reduction depend on the record alone (arrays of shape (n,)).
    """

    manual: int
    history: CriminalHistory
    reentry: ReentryOffenseLevel
    criminal_history_points: np.ndarray
    criminal_history_category: np.ndarray
    zero_point_reduction: np.ndarray

    def __len__(self) -> int:
        return len(self.criminal_history_points)


def assess_records(defendants: Defendants, manual: int) -> RecordAssessment:
    """Criminal history and § 2L1.2 offense level of a batch under the ``manual`` edition.

    Raises
    ------
    ValueError
        An edition outside 1995-2025.
    """
    if not FIRST_MANUAL <= manual <= LAST_MANUAL:
        raise ValueError(f"manual {manual} is not encoded; allowed: {FIRST_MANUAL}-{LAST_MANUAL}")
    groups = SentenceGroups.build(defendants.prior_owner, defendants.priors.single_sentence_group)
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
    zero_point = zero_point_reduction(manual, points, defendants.zero_point_criteria_met)
    return RecordAssessment(manual, history, reentry, points, category, zero_point)


def apply_dispositions(
    assessment: RecordAssessment,
    conviction: np.ndarray,
    acceptance_levels: np.ndarray,
    early_disposition_levels: np.ndarray,
    offense_date: np.ndarray,
) -> GuidelineResult:
    """Guideline and final ranges for assessed records under one set of dispositions.

    Parameters
    ----------
    assessment : RecordAssessment
        From :func:`assess_records` for ``n`` defendants.
    conviction : ndarray of int8, shape (n,)
        Index into :data:`sim.guidelines.records.CONVICTIONS`.
    acceptance_levels : ndarray of int8, shape (n,)
        § 3E1.1 levels sought (0, 2 or 3).
    early_disposition_levels : ndarray of int8, shape (n,)
        § 5K3.1 levels (0-4; 0 before the 2003 Manual).
    offense_date : ndarray of datetime64[D], shape (n,)
        NaT reads as Nov 1 of the manual year.

    Returns
    -------
    GuidelineResult

    Raises
    ------
    ValueError
        Early-disposition levels the edition does not allow, or a § 1326(b) conviction before the
        provision existed.
    """
    manual = assessment.manual
    _check_early_disposition(early_disposition_levels, manual)
    reentry = assessment.reentry
    acceptance = acceptance_reduction(acceptance_levels, reentry.offense_level)
    early = early_disposition_levels.astype(np.int64)
    total = np.clip(
        reentry.offense_level - acceptance - assessment.zero_point_reduction - early, 1, 43
    )
    range_min, range_max = guideline_range(total, assessment.criminal_history_category)

    offense_date = np.where(np.isnat(offense_date), np.datetime64(f"{manual}-11-01"), offense_date)
    statutory_max = statutory_maximum_months(conviction, offense_date)
    missing = np.flatnonzero(statutory_max < 0)
    if len(missing):
        first = int(missing[0])
        raise ValueError(
            f"conviction {CONVICTIONS[conviction[first]]} (defendant {first}) did not "
            f"exist on the offense date {offense_date[first]}: 8 U.S.C. § 1326(b) took effect "
            f"Nov 18, 1988"
        )
    final_min, final_max = apply_5g1_1(range_min, range_max, statutory_max)

    applies = _GUIDELINE_APPLIES[conviction]
    low, high = _CLASS_B_MISDEMEANOR_RANGE
    return GuidelineResult(
        manual=manual,
        guideline_applies=applies,
        reentry=reentry,
        acceptance_reduction=np.where(applies, acceptance, 0),
        zero_point_reduction=np.where(applies, assessment.zero_point_reduction, 0),
        early_disposition_reduction=np.where(applies, early, 0),
        total_offense_level=np.where(applies, total, 0),
        history=assessment.history,
        criminal_history_points=assessment.criminal_history_points,
        criminal_history_category=assessment.criminal_history_category,
        guideline_min_months=np.where(applies, range_min, 0),
        guideline_max_months=np.where(applies, range_max, 0),
        statutory_maximum_months=statutory_max,
        final_min_months=np.where(applies, final_min, low),
        final_max_months=np.where(applies, final_max, high),
        zone=np.where(applies, zone_from_minimum(final_min, manual), 0).astype(np.int8),
    )


def compute_guidelines(defendants: Defendants, manual: int) -> GuidelineResult:
    """Apply the Guidelines Manual in force on Nov 1 of ``manual`` to a batch of defendants.

    The same as :func:`assess_records` followed by :func:`apply_dispositions` with the batch's
    own conviction, acceptance, early-disposition levels and offense dates.

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
    return apply_dispositions(
        assess_records(defendants, manual),
        defendants.conviction,
        defendants.acceptance_levels,
        defendants.early_disposition_levels,
        defendants.offense_date,
    )

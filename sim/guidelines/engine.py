"""The guidelines engine: a whole batch of § 1326 / § 1325 defendants in one call.

Order of computation (docs/engine.md §2): § 2L1.2 → § 3E1.1 → § 4C1.1 → § 5K3.1 (§ 3F1.1 in
2025) → total offense level (clamped to 1-43) → criminal history category → Sentencing Table →
statutory maximum → § 5G1.1 → zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.guidelines.adjustments import (
    EARLY_DISPOSITION_FIRST_MANUAL,
    MAX_EARLY_DISPOSITION_LEVELS,
    THIRD_LEVEL_MIN_OFFENSE_LEVEL,
    ZERO_POINT_FIRST_MANUAL,
    ZERO_POINT_LEVELS,
)
from sim.guidelines.criminal_history import CriminalHistory, compute_criminal_history
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import CONVICTIONS, NO_OVERRIDE, Defendants
from sim.guidelines.reentry import ReentryOffenseLevel, compute_reentry_offense_level
from sim.guidelines.statutes import ADAA_1988, MAXIMA_MONTHS, STATUTES, VCCLEA_1994
from sim.guidelines.table import (
    CATEGORY_FLOOR_POINTS,
    GUIDELINE_MAX_MONTHS,
    GUIDELINE_MIN_MONTHS,
    zone_ceilings,
)

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
#: Days since 1970 on which periods 1 and 2 of the statutory maxima begin.
_PERIOD_STARTS = np.array([ADAA_1988, VCCLEA_1994], dtype="datetime64[D]").astype(np.int64)
_NAT = np.iinfo(np.int64).min  # NaT as int64 days


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


@njit(cache=True)
def _assessment_kernel(
    history_points,
    points_override,
    category_override,
    zero_point_criteria_met,
    no_override,
    category_floors,
    zero_point_levels,
    points,
    category,
    zero_point,
):
    for i in range(len(points)):
        p = history_points[i] if points_override[i] == no_override else points_override[i]
        points[i] = p
        if category_override[i] == no_override:
            # Sentencing Table column headings: one more than the number of category floors
            # (II-VI) the points reach.
            category[i] = 1 + (
                (p >= category_floors[0])
                + (p >= category_floors[1])
                + (p >= category_floors[2])
                + (p >= category_floors[3])
                + (p >= category_floors[4])
            )
        else:
            category[i] = category_override[i]
        # § 4C1.1 (Amend. 821 Part B, Nov 1, 2023): zero-point offenders who meet the criteria.
        zero_point[i] = zero_point_levels if p == 0 and zero_point_criteria_met[i] else 0


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
    n = len(defendants)
    points = np.empty(n, dtype=np.int64)
    category = np.empty(n, dtype=np.int8)
    zero_point = np.empty(n, dtype=np.int64)
    _assessment_kernel(
        history.points,
        defendants.criminal_history_points_override,
        defendants.criminal_history_category_override,
        defendants.zero_point_criteria_met,
        NO_OVERRIDE,
        CATEGORY_FLOOR_POINTS,
        ZERO_POINT_LEVELS if manual >= ZERO_POINT_FIRST_MANUAL else 0,
        points,
        category,
        zero_point,
    )
    return RecordAssessment(manual, history, reentry, points, category, zero_point)


@njit(cache=True)
def _dispositions_kernel(
    offense_level,
    zero_point_reduction,
    category,
    conviction,
    acceptance_levels,
    early_disposition_levels,
    offense_day,
    default_day,
    allowed_early,
    third_level_min,
    period_starts,
    maxima,
    guideline_applies,
    range_min_table,
    range_max_table,
    zone_ceilings,
    no_guideline_min,
    no_guideline_max,
    applies,
    acceptance,
    zero_point,
    early,
    total,
    range_min,
    range_max,
    statutory_max,
    final_min,
    final_max,
    zone,
):
    """Fill the outputs; return the first defendant with early-disposition levels the edition
    does not allow and the first convicted under a provision missing on the offense date (-1:
    none)."""
    bad_early, missing = -1, -1
    for i in range(len(offense_level)):
        chapter_two = offense_level[i]
        sought = acceptance_levels[i]
        # § 3E1.1(a): 2 levels; (b): a third when sought and the level before (a) is 16 or more.
        # (Arithmetic on the conditions: branches here would be mispredicted.)
        reduction = 2 * (sought >= 2) + ((sought >= 3) & (chapter_two >= third_level_min))
        fast_track = early_disposition_levels[i]  # § 5K3.1 (§ 3F1.1 from 2025): 0-4 levels
        if bad_early < 0 and (fast_track < 0 or fast_track > allowed_early):
            bad_early = i
        # Total offense level: Sentencing Table commentary n.2 reads below 1 as 1, above 43 as 43.
        level = min(max(chapter_two - reduction - zero_point_reduction[i] - fast_track, 1), 43)
        c = category[i]
        low, high = range_min_table[level, c], range_max_table[level, c]

        # Statutory maximum by the offense date (NaT: Nov 1 of the manual year): 8 U.S.C.
        # § 1326(b) from Nov 18, 1988 (ADAA), raised Sept 13, 1994 (VCCLEA).
        day = offense_day[i]
        if day == _NAT:
            day = default_day
        period = (day >= period_starts[0]) + (day >= period_starts[1])
        code = conviction[i]
        maximum = maxima[code, period]
        if missing < 0 and maximum < 0:
            missing = i
        statutory_max[i] = maximum
        # § 5G1.1(a), (c): a maximum below the range becomes the sentence, inside it truncates it.
        restricted_min, restricted_max = min(low, maximum), min(high, maximum)

        # A first § 1325(a) offense: no guideline applies (§ 1B1.9); any sentence up to 6 months.
        guideline = guideline_applies[code]
        applies[i] = guideline
        acceptance[i] = reduction if guideline else 0
        zero_point[i] = zero_point_reduction[i] if guideline else 0
        early[i] = fast_track if guideline else 0
        total[i] = level if guideline else 0
        range_min[i] = low if guideline else 0
        range_max[i] = high if guideline else 0
        final_min[i] = restricted_min if guideline else no_guideline_min
        final_max[i] = restricted_max if guideline else no_guideline_max
        # Zone A, B, C or D: one more than the number of zone ceilings below the final minimum.
        z = 1 + (
            (zone_ceilings[0] < restricted_min)
            + (zone_ceilings[1] < restricted_min)
            + (zone_ceilings[2] < restricted_min)
        )
        zone[i] = z if guideline else 0
    return bad_early, missing


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
    n = len(assessment)
    applies = np.empty(n, dtype=bool)
    acceptance, early = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    zero_point, total = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    range_min, range_max = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32)
    statutory_max = np.empty(n, dtype=np.int64)
    final_min, final_max = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    zone = np.empty(n, dtype=np.int8)
    allowed = MAX_EARLY_DISPOSITION_LEVELS if manual >= EARLY_DISPOSITION_FIRST_MANUAL else 0
    bad_early, missing = _dispositions_kernel(
        assessment.reentry.offense_level,
        assessment.zero_point_reduction,
        assessment.criminal_history_category,
        conviction,
        acceptance_levels,
        early_disposition_levels,
        np.asarray(offense_date, dtype="datetime64[D]").view(np.int64),
        np.datetime64(f"{manual}-11-01", "D").astype(np.int64),
        allowed,
        THIRD_LEVEL_MIN_OFFENSE_LEVEL,
        _PERIOD_STARTS,
        MAXIMA_MONTHS,
        _GUIDELINE_APPLIES,
        GUIDELINE_MIN_MONTHS,
        GUIDELINE_MAX_MONTHS,
        zone_ceilings(manual),
        *_CLASS_B_MISDEMEANOR_RANGE,
        applies,
        acceptance,
        zero_point,
        early,
        total,
        range_min,
        range_max,
        statutory_max,
        final_min,
        final_max,
        zone,
    )
    if bad_early >= 0:
        raise ValueError(
            f"early_disposition_levels {int(early_disposition_levels[bad_early])} (defendant "
            f"{bad_early}) is not allowed under the {manual} Manual; allowed: 0-{allowed} (USSG "
            f"§ 5K3.1 took effect Oct 27, 2003)"
        )
    if missing >= 0:
        raise ValueError(
            f"conviction {CONVICTIONS[conviction[missing]]} (defendant {missing}) did not "
            f"exist on the offense date {offense_date[missing]}: 8 U.S.C. § 1326(b) took effect "
            f"Nov 18, 1988"
        )
    return GuidelineResult(
        manual=manual,
        guideline_applies=applies,
        reentry=assessment.reentry,
        acceptance_reduction=acceptance,
        zero_point_reduction=zero_point,
        early_disposition_reduction=early,
        total_offense_level=total,
        history=assessment.history,
        criminal_history_points=assessment.criminal_history_points,
        criminal_history_category=assessment.criminal_history_category,
        guideline_min_months=range_min,
        guideline_max_months=range_max,
        statutory_maximum_months=statutory_max,
        final_min_months=final_min,
        final_max_months=final_max,
        zone=zone,
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

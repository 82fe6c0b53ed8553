"""The guidelines engine: a whole batch of § 1326 / § 1325 defendants in two calls.

:func:`assess` reads the records once (criminal history, § 2L1.2, § 4C1.1): what the guidelines
make of a record whatever the disposition. :func:`dispose` then applies one set of dispositions
(conviction, acceptance, early disposition) to the assessment, as often as there are districts.

Order of computation (docs/engine.md §2): § 2L1.2 → § 3E1.1 → § 4C1.1 → early disposition →
total offense level (clamped to 1-43) → criminal history category → Sentencing Table →
statutory maximum → § 5G1.1 → zone. Every edition-dependent number comes from the
:class:`~sim.guidelines.editions.Edition`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.criminal_history import CriminalHistory, compute_criminal_history
from sim.guidelines.editions import Edition
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import CONVICTIONS, NO_OVERRIDE, Dispositions, Records
from sim.guidelines.reentry import ReentryOffenseLevel, compute_reentry_offense_level
from sim.guidelines.statutes import STATUTE_TABLES, apply_5g1_1
from sim.guidelines.table import TABLE, category_from_points, guideline_range, zone

__all__ = ["GuidelineResult", "RecordAssessment", "assess", "compute_guidelines", "dispose"]


class RecordAssessment(NamedTuple):
    """What the guidelines make of the records, whatever the disposition.

    Computed once per batch and reused for every district: criminal history, § 2L1.2 and the
    § 4C1.1 reduction depend on the record alone (arrays of shape (n,) unless noted).
    """

    edition: Edition
    records: Records
    groups: SentenceGroups
    history: CriminalHistory
    reentry: ReentryOffenseLevel
    criminal_history_points: np.ndarray
    criminal_history_category: np.ndarray
    zero_point_reduction: np.ndarray

    @property
    def size(self) -> int:
        return len(self.criminal_history_points)


class GuidelineResult(NamedTuple):
    """The guidelines applied to assessed records under one set of dispositions, shape (n,).

    Offense levels, range and zone are 0 where ``guideline_applies`` is false (a first § 1325(a)
    offense). Months use :data:`sim.guidelines.table.LIFE_MONTHS` for life.
    """

    guideline_applies: np.ndarray
    acceptance_reduction: np.ndarray
    zero_point_reduction: np.ndarray
    early_disposition_reduction: np.ndarray
    total_offense_level: np.ndarray
    guideline_min_months: np.ndarray
    guideline_max_months: np.ndarray
    statutory_maximum_months: np.ndarray
    final_min_months: np.ndarray
    final_max_months: np.ndarray
    zone: np.ndarray


class _Assessed(NamedTuple):
    points_computed: np.ndarray
    points_override: np.ndarray
    category_override: np.ndarray
    zero_point_criteria_met: np.ndarray


class _AssessmentOut(NamedTuple):
    points: np.ndarray
    category: np.ndarray
    zero_point: np.ndarray


@njit(cache=True)
def _assessment_kernel(x, zero_point_levels, floors, out):
    for i in range(len(out.points)):
        overridden = x.points_override[i] != NO_OVERRIDE
        points = x.points_override[i] if overridden else x.points_computed[i]
        out.points[i] = points
        category = x.category_override[i]
        out.category[i] = (
            category_from_points(points, floors) if category == NO_OVERRIDE else category
        )
        # § 4C1.1 (Amend. 821 Part B): zero-point offenders who meet the criteria.
        out.zero_point[i] = zero_point_levels if points == 0 and x.zero_point_criteria_met[i] else 0


def assess(records: Records, edition: Edition) -> RecordAssessment:
    """Criminal history, § 2L1.2 offense level and § 4C1.1 of a batch under an edition.

    Parameters
    ----------
    records : Records
        ``n`` defendants and their priors.
    edition : Edition
        ``sim.guidelines.editions.edition(year)``.

    Returns
    -------
    RecordAssessment
    """
    groups = SentenceGroups.build(records.prior_offsets, records.priors.single_sentence_group)
    history = compute_criminal_history(records, edition.criminal_history, groups)
    reentry = compute_reentry_offense_level(records, edition.reentry, groups, history)
    n = records.size
    out = _AssessmentOut(
        np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int8), np.empty(n, dtype=np.int64)
    )
    _assessment_kernel(
        _Assessed(
            history.points,
            records.criminal_history_points_override,
            records.criminal_history_category_override,
            records.zero_point_criteria_met,
        ),
        edition.numbers.zero_point_levels,
        TABLE.category_floor_points,
        out,
    )
    return RecordAssessment(
        edition, records, groups, history, reentry, out.points, out.category, out.zero_point
    )


class _Case(NamedTuple):
    """Per defendant: the assessment's and the dispositions' arrays the kernel reads."""

    offense_level: np.ndarray
    zero_point_reduction: np.ndarray
    category: np.ndarray
    offense_day: np.ndarray
    conviction: np.ndarray
    acceptance_levels: np.ndarray
    early_disposition_levels: np.ndarray


_NAT = np.iinfo(np.int64).min  # NaT as int64 days


@njit(cache=True)
def _dispositions_kernel(x, numbers, statutes, table, out):
    """Fill ``out``; return the first defendant with early-disposition levels the edition does
    not allow, the first convicted under a provision missing on the offense date, and the first
    without an offense date (-1: none)."""
    # Tuples unpacked into locals once: an array read through a tuple in the loop is reloaded
    # after every store.
    offense_level, zero_points, category, offense_day, conviction, sought_levels, early_levels = x
    first_period, second_period = statutes.period_start_days[0], statutes.period_start_days[1]
    maxima, guideline_applies = statutes.maxima_months, statutes.guideline_applies
    no_guideline_min = statutes.no_guideline_min_months
    ceilings = numbers.zone_ceilings
    third_level = numbers.third_level_min_offense_level
    most_early = numbers.max_early_disposition_levels
    (applies, acceptance, zero_point, early, total, range_min, range_max, statutory_max,
     final_min, final_max, zones) = out  # fmt: skip
    bad_early, missing, undated = -1, -1, -1
    for i in range(len(offense_level)):
        chapter_two = offense_level[i]
        sought = sought_levels[i]
        # § 3E1.1(a): 2 levels; (b): a third when sought and the level before (a) is high enough.
        # (Arithmetic on the conditions: branches here would be mispredicted.)
        reduction = 2 * (sought >= 2) + ((sought >= 3) & (chapter_two >= third_level))
        fast_track = early_levels[i]
        if bad_early < 0 and (fast_track < 0 or fast_track > most_early):
            bad_early = i
        # Total offense level: Sentencing Table commentary n.2 reads below 1 as 1, above 43 as 43.
        level = min(max(chapter_two - reduction - zero_points[i] - fast_track, 1), 43)
        low, high = guideline_range(level, category[i], table)

        # Statutory maximum by the offense date: 8 U.S.C. § 1326(b) from Nov 18, 1988 (ADAA),
        # raised Sept 13, 1994 (VCCLEA).
        day = offense_day[i]
        if undated < 0 and day == _NAT:
            undated = i
        period = (day >= first_period) + (day >= second_period)
        code = conviction[i]
        maximum = maxima[code, period]
        if missing < 0 and maximum < 0:
            missing = i
        statutory_max[i] = maximum
        restricted_min, restricted_max = apply_5g1_1(low, high, maximum)

        # A first § 1325(a) offense: no guideline applies (§ 1B1.9); any sentence the statute
        # authorizes.
        guideline = guideline_applies[code]
        applies[i] = guideline
        acceptance[i] = reduction if guideline else 0
        zero_point[i] = zero_points[i] if guideline else 0
        early[i] = fast_track if guideline else 0
        total[i] = level if guideline else 0
        range_min[i] = low if guideline else 0
        range_max[i] = high if guideline else 0
        final_min[i] = restricted_min if guideline else no_guideline_min
        final_max[i] = restricted_max if guideline else maximum
        zones[i] = zone(restricted_min, ceilings) if guideline else 0
    return bad_early, missing, undated


def dispose(assessment: RecordAssessment, dispositions: Dispositions) -> GuidelineResult:
    """Guideline and final ranges for assessed records under one set of dispositions.

    Parameters
    ----------
    assessment : RecordAssessment
        From :func:`assess` for ``n`` defendants.
    dispositions : Dispositions
        Conviction, acceptance and early-disposition levels, shape (n,).

    Returns
    -------
    GuidelineResult

    Raises
    ------
    ValueError
        Early-disposition levels the edition does not allow, or a § 1326(b) conviction before the
        provision existed.
    """
    n = assessment.size
    if any(len(column) != n for column in dispositions):
        raise ValueError(f"every disposition array must have the assessment's length ({n})")
    offense_date = assessment.records.offense_date
    edition = assessment.edition
    out = GuidelineResult(
        guideline_applies=np.empty(n, dtype=bool),
        acceptance_reduction=np.empty(n, dtype=np.int8),
        zero_point_reduction=np.empty(n, dtype=np.int8),
        early_disposition_reduction=np.empty(n, dtype=np.int8),
        total_offense_level=np.empty(n, dtype=np.int8),
        guideline_min_months=np.empty(n, dtype=np.int32),
        guideline_max_months=np.empty(n, dtype=np.int32),
        statutory_maximum_months=np.empty(n, dtype=np.int32),
        final_min_months=np.empty(n, dtype=np.int32),
        final_max_months=np.empty(n, dtype=np.int32),
        zone=np.empty(n, dtype=np.int8),
    )
    bad_early, missing, undated = _dispositions_kernel(
        _Case(
            assessment.reentry.offense_level,
            assessment.zero_point_reduction,
            assessment.criminal_history_category,
            offense_date.astype("datetime64[D]", copy=False).view(np.int64),
            dispositions.conviction,
            dispositions.acceptance_levels,
            dispositions.early_disposition_levels,
        ),
        edition.numbers,
        STATUTE_TABLES,
        TABLE,
        out,
    )
    if undated >= 0:
        raise ValueError(f"defendant {undated} has no offense date (NaT)")
    if bad_early >= 0:
        allowed = edition.early_disposition.max_levels
        raise ValueError(
            f"early_disposition_levels {int(dispositions.early_disposition_levels[bad_early])} "
            f"(defendant {bad_early}) is not allowed under the {edition.year} Manual; allowed: "
            f"0-{allowed} ({edition.early_disposition.source})"
        )
    if missing >= 0:
        raise ValueError(
            f"conviction {CONVICTIONS[dispositions.conviction[missing]]} (defendant {missing}) "
            f"did not exist on the offense date {offense_date[missing]}: 8 U.S.C. § 1326(b) took "
            f"effect Nov 18, 1988"
        )
    return out


def compute_guidelines(
    records: Records, dispositions: Dispositions, edition: Edition
) -> tuple[RecordAssessment, GuidelineResult]:
    """:func:`assess` then :func:`dispose`: the guidelines for a batch of cases.

    Parameters
    ----------
    records : Records
    dispositions : Dispositions
    edition : Edition

    Returns
    -------
    (RecordAssessment, GuidelineResult)
    """
    assessment = assess(records, edition)
    return assessment, dispose(assessment, dispositions)

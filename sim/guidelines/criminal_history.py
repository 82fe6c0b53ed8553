"""USSG Chapter 4, Part A: criminal history points, by Manual edition, over whole batches.

Rules (``../shared/domain/guidelines.md`` §3; docs/engine.md §3):

* § 4A1.1(a) +3 per prior sentence of imprisonment exceeding one year and one month; (b) +2 per
  sentence of at least sixty days not counted in (a); (c) +1 per other sentence, 4 points at most.
* § 4A1.2(e) applicable time periods: a sentence over 13 months counts if imposed within 15 years
  of the instant offense's commencement or if it kept the defendant incarcerated during any part of
  those 15 years; any other sentence counts if imposed within 10 years.
* § 4A1.2(h): foreign sentences are not counted.
* § 4A1.1(d) status: +2 when the offense was committed under any criminal justice sentence; from
  Nov 1, 2023 (Amend. 821) +1 and only with 7 or more points from the other items.
* § 4A1.1(e) recency (Nov 1, 1989 - Oct 31, 2010; deleted by Amend. 742): +2 when the offense
  began less than two years after release on an (a) or (b) sentence, +1 when (d) already added 2.
* § 4A1.1(f) (1991, Amend. 382; (e) from 2010, (d) from 2023): +1 per crime-of-violence sentence
  that received no points because it was folded into a single sentence, 3 points at most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.guidelines.groups import SentenceGroups, segment_count
from sim.guidelines.records import Defendants, kind_code

__all__ = ["SIXTY_DAYS_IN_MONTHS", "CriminalHistory", "compute_criminal_history"]

#: § 4A1.1(b)'s "sixty days" in calendar months of 365.25 / 12 days.
SIXTY_DAYS_IN_MONTHS = 60.0 / (365.25 / 12.0)
_THIRTEEN_MONTHS = 13.0  # § 4A1.1(a): "exceeding one year and one month"
_LONG_WINDOW_YEARS = 15.0  # § 4A1.2(e)(1)
_SHORT_WINDOW_YEARS = 10.0  # § 4A1.2(e)(2)
_RECENCY_YEARS = 2.0  # § 4A1.1(e) (1995 text)
_ITEM_C_CAP = 4  # § 4A1.1(c)
_VIOLENT_SINGLE_SENTENCE_CAP = 3  # § 4A1.1(f) (1995), (e) (2010), (d) (2023)
_STATUS_THRESHOLD_2023 = 7  # Amend. 821 Part A

#: Points item of a sentence: 0 none, 1 (a), 2 (b), 3 (c).
ITEM_NONE, ITEM_A, ITEM_B, ITEM_C = 0, 1, 2, 3


@dataclass(frozen=True)
class CriminalHistory:
    """Criminal history computed from priors (overrides are applied by the engine).

    Per sentence (shape (g,)): ``sentence_item`` (0 none, 1 (a), 2 (b), 3 (c)),
    ``sentence_months``. Per prior (shape (p,)): ``receives_points``. Per defendant (shape (n,)):
    ``points_a``, ``points_b``, ``points_c`` (capped), ``status_points``, ``recency_points``,
    ``violent_single_sentence_points`` and ``points`` (their sum).
    """

    groups: SentenceGroups
    sentence_item: np.ndarray
    sentence_months: np.ndarray
    receives_points: np.ndarray
    points_a: np.ndarray
    points_b: np.ndarray
    points_c: np.ndarray
    status_points: np.ndarray
    recency_points: np.ndarray
    violent_single_sentence_points: np.ndarray
    points: np.ndarray


def compute_criminal_history(
    defendants: Defendants, manual: int, groups: SentenceGroups
) -> CriminalHistory:
    """Criminal history points for a batch under the Manual in force on Nov 1 of ``manual``.

    Parameters
    ----------
    defendants : Defendants
        Batch of ``n`` defendants with ``p`` priors.
    manual : int
        Edition year, 1995-2025.
    groups : SentenceGroups
        The priors' single sentences (``SentenceGroups.build``).

    Returns
    -------
    CriminalHistory
    """
    n = len(defendants)
    pr = defendants.priors
    months = groups.aggregate_months(pr.sentence_imposed_months, pr.consecutive)
    imposed = groups.min(pr.imposed_years_ago)
    released = groups.min(pr.released_years_ago)  # NaN when no member was released
    foreign = groups.all(pr.foreign)
    with np.errstate(invalid="ignore"):
        released_within_15 = released <= _LONG_WINDOW_YEARS
        recent_release = released < _RECENCY_YEARS
    domestic = ~foreign
    is_a = (
        domestic
        & (months > _THIRTEEN_MONTHS)
        & ((imposed <= _LONG_WINDOW_YEARS) | released_within_15)
    )
    within_10 = domestic & (imposed <= _SHORT_WINDOW_YEARS)
    is_b = ~is_a & within_10 & (months >= SIXTY_DAYS_IN_MONTHS)
    is_c = ~is_a & ~is_b & within_10
    item = np.select([is_a, is_b, is_c], [ITEM_A, ITEM_B, ITEM_C], ITEM_NONE).astype(np.int8)
    counted = item != ITEM_NONE

    owner = groups.group_owner
    points_a = 3 * segment_count(is_a, owner, n)
    points_b = 2 * segment_count(is_b, owner, n)
    points_c = np.minimum(segment_count(is_c, owner, n), _ITEM_C_CAP)

    violent = ((pr.kind == kind_code("crime_of_violence")) & pr.felony & ~pr.foreign).astype(
        np.int64
    )
    violent_members = groups.sum(violent)
    # Assumption (docs/engine.md §3): the group's points go to a violent member, so every further
    # violent member earns the single-sentence point.
    extra = np.where(counted, np.maximum(violent_members - 1, 0), 0)
    violent_points = np.minimum(
        np.bincount(owner, weights=extra, minlength=n).astype(np.int64),
        _VIOLENT_SINGLE_SENTENCE_CAP,
    )

    other_points = points_a + points_b + points_c + violent_points
    under_sentence = defendants.under_sentence
    if manual >= 2023:
        status = np.where(under_sentence & (other_points >= _STATUS_THRESHOLD_2023), 1, 0)
    else:
        status = np.where(under_sentence, 2, 0)
    if manual <= 2009:
        recent = segment_count((is_a | is_b) & recent_release, owner, n) > 0
        recency = np.where(recent, np.where(status == 2, 1, 2), 0)
    else:
        recency = np.zeros(n, dtype=np.int64)

    return CriminalHistory(
        groups=groups,
        sentence_item=item,
        sentence_months=months,
        # A foreign conviction never receives points, even when folded into a domestic sentence.
        receives_points=counted[groups.prior_group] & ~pr.foreign,
        points_a=points_a,
        points_b=points_b,
        points_c=points_c,
        status_points=status,
        recency_points=recency,
        violent_single_sentence_points=violent_points,
        points=other_points + status + recency,
    )

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
from numba import njit

from sim.guidelines.groups import SentenceGroups, pairwise_sum
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


@njit(cache=True)
def _fmin(a, b):
    # np.fmin: NaN only when both are NaN.
    if a != a:
        return b
    if b != b:
        return a
    return a if a <= b else b


# A sentence's facts as bits of a code, so that its item is a table look-up: the items are
# unpredictable, and branches on them would cost more than the arithmetic.
_FOREIGN, _OVER_13, _WITHIN_15, _WITHIN_10, _SIXTY_DAYS, _RELEASED_2 = (
    1 << bit for bit in range(6)
)
#: Per-defendant counts packed two to an int64, each below 2**31 (at most one per prior).
_HIGH = 1 << 32


def _code_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code: the item; the (a) + (b) << 32 count; the (c) + recent (a)/(b) << 32 count."""
    item = np.zeros(64, dtype=np.int8)
    for code in range(64):
        if code & _FOREIGN:  # § 4A1.2(h): foreign sentences are not counted
            item[code] = ITEM_NONE
        elif code & _OVER_13 and code & _WITHIN_15:  # § 4A1.1(a), § 4A1.2(e)(1)
            item[code] = ITEM_A
        elif code & _WITHIN_10:  # § 4A1.2(e)(2); § 4A1.1(b) at least sixty days, else (c)
            item[code] = ITEM_B if code & _SIXTY_DAYS else ITEM_C
    a_b = np.select([item == ITEM_A, item == ITEM_B], [1, _HIGH], 0)
    # § 4A1.1(e) (to 2009): released from an (a) or (b) sentence less than two years before.
    recent = (a_b != 0) & ((np.arange(64) & _RELEASED_2) != 0)
    c_recent = np.where(item == ITEM_C, 1, 0) + np.where(recent, _HIGH, 0)
    return item, a_b.astype(np.int64), c_recent.astype(np.int64)


_ITEM, _A_B, _C_RECENT = _code_tables()


@njit(cache=True)
def _code(months, imposed, released, foreign):
    """Code of a single sentence's facts (see :func:`_code_tables`)."""
    # § 4A1.2(e)(1): imposed within 15 years, or served into them; (e)(2): within 10 years.
    within_15 = (imposed <= _LONG_WINDOW_YEARS) | (released <= _LONG_WINDOW_YEARS)
    return (
        np.int64(foreign) * _FOREIGN
        | np.int64(months > _THIRTEEN_MONTHS) * _OVER_13
        | np.int64(within_15) * _WITHIN_15
        | np.int64(imposed <= _SHORT_WINDOW_YEARS) * _WITHIN_10
        | np.int64(months >= SIXTY_DAYS_IN_MONTHS) * _SIXTY_DAYS
        | np.int64(released < _RECENCY_YEARS) * _RELEASED_2
    )


@njit(cache=True)
def _history_kernel(
    months,
    consecutive,
    imposed_years_ago,
    released_years_ago,
    foreign,
    kind,
    felony,
    under_sentence,
    prior_group,
    group_owner,
    single_count,
    grouped_rows,
    grouped_starts,
    violent_kind,
    status_2023,
    recency_rule,
    sentence_item,
    sentence_months,
    receives_points,
    points_a,
    points_b,
    points_c,
    status_points,
    recency_points,
    violent_points,
    points,
):
    """Three flat passes: one-prior sentences in row order, grouped sentences, defendants.

    ``points_a``, ``points_c`` and ``violent_points`` come zeroed. Until the last pass
    ``points_a`` holds the (a) + (b) << 32 counts and ``points_c`` the (c) + recent << 32 counts.
    The first pass keeps a defendant's counts in registers and stores them on each of his rows
    (the last store stands), so that no branch turns on where his priors end.
    """
    # § 4A1.2(a)(2) (1995: n.3) single sentences of one prior, in row order.
    previous = -1
    a_b = c_recent = 0
    for row in range(len(prior_group)):
        sentence = prior_group[row]
        if sentence >= single_count:
            continue
        owner = group_owner[sentence]
        if owner < previous or owner >= len(points):  # (previous starts at -1)
            raise ValueError("groups were not built from these defendants' priors")
        same = owner == previous
        previous = owner
        # Consecutive and concurrent parts, added as the numpy code it replaced added them
        # (aggregate_months, kept in tests/engine_oracle.py).
        term = months[row]
        length = (term if consecutive[row] else 0.0) + (0.0 if consecutive[row] else term)
        code = _code(length, imposed_years_ago[row], released_years_ago[row], foreign[row])
        item = _ITEM[code]
        sentence_item[sentence] = item
        sentence_months[sentence] = length
        receives_points[row] = item != ITEM_NONE
        a_b = a_b * same + _A_B[code]
        c_recent = c_recent * same + _C_RECENT[code]
        points_a[owner] = a_b
        points_c[owner] = c_recent

    # Sentences of several priors, their members in row order.
    terms = np.empty(len(grouped_rows))
    for k in range(len(grouped_starts) - 1):
        first, stop = grouped_starts[k], grouped_starts[k + 1]
        row = grouped_rows[first]
        concurrent = 0.0 if consecutive[row] else months[row]
        imposed, released = imposed_years_ago[row], released_years_ago[row]
        all_foreign = foreign[row]
        violent = 0
        for j in range(first, stop):
            row = grouped_rows[j]
            # Consecutive terms add, in numpy's summation order; concurrent ones overlap.
            terms[j] = months[row] if consecutive[row] else 0.0
            if j > first:
                term = 0.0 if consecutive[row] else months[row]
                if not (concurrent >= term or concurrent != concurrent):  # NaN propagates
                    concurrent = term
                imposed = _fmin(imposed, imposed_years_ago[row])
                released = _fmin(released, released_years_ago[row])
                all_foreign &= foreign[row]
            # § 4A1.1(f) (1995; (e) 2010, (d) 2023): a crime of violence (felony, not foreign).
            violent += (kind[row] == violent_kind) & felony[row] & (not foreign[row])
        summed = terms[first]
        if stop - first > 1:
            summed += pairwise_sum(terms, first + 1, stop - first - 1)
        length = summed + concurrent
        code = _code(length, imposed, released, all_foreign)
        item = _ITEM[code]
        sentence = single_count + k
        sentence_item[sentence] = item
        sentence_months[sentence] = length
        for j in range(first, stop):
            row = grouped_rows[j]
            # A foreign conviction never receives points, even when folded into a domestic
            # sentence.
            receives_points[row] = (item != ITEM_NONE) & (not foreign[row])
        owner = group_owner[sentence]
        if owner < 0 or owner >= len(points):
            raise ValueError("groups were not built from these defendants' priors")
        points_a[owner] += _A_B[code]
        points_c[owner] += _C_RECENT[code]
        # Assumption (docs/engine.md §3): the group's points go to a violent member, so every
        # further violent member earns the single-sentence point.
        if item != ITEM_NONE:
            violent_points[owner] += max(violent - 1, 0)

    for i in range(len(points)):
        a_b, c_recent = points_a[i], points_c[i]
        # § 4A1.1(a) 3 points, (b) 2, (c) 1 up to 4; single-sentence crimes of violence up to 3.
        points_a[i] = 3 * (a_b & (_HIGH - 1))
        points_b[i] = 2 * (a_b >> 32)
        points_c[i] = min(c_recent & (_HIGH - 1), _ITEM_C_CAP)
        violent_points[i] = min(violent_points[i], _VIOLENT_SINGLE_SENTENCE_CAP)
        other = points_a[i] + points_b[i] + points_c[i] + violent_points[i]
        if status_2023:  # Amend. 821 (Nov 1, 2023): +1, and only with 7 or more other points
            status = 1 if under_sentence[i] and other >= _STATUS_THRESHOLD_2023 else 0
        else:  # § 4A1.1(d): +2 under any criminal justice sentence
            status = 2 if under_sentence[i] else 0
        # § 4A1.1(e) (to 2009): +2 after a recent release, +1 when (d) already added 2.
        recency = (1 if status == 2 else 2) if recency_rule and c_recent >> 32 else 0
        status_points[i] = status
        recency_points[i] = recency
        points[i] = other + status + recency


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
    n, pr = len(defendants), defendants.priors
    if len(groups.prior_group) != len(pr):
        raise ValueError(
            f"groups cover {len(groups.prior_group)} priors; the defendants have {len(pr)}"
        )
    if len(pr) >= 1 << 31:  # the kernel packs per-defendant counts in 32-bit halves
        raise ValueError(f"{len(pr)} priors in one batch; allowed: fewer than 2**31 (split it)")
    sentence_item = np.empty(len(groups), dtype=np.int8)
    sentence_months = np.empty(len(groups))
    receives_points = np.empty(len(pr), dtype=bool)
    points_a, points_c, violent = (np.zeros(n, dtype=np.int64) for _ in range(3))
    points_b, status, recency, points = (np.empty(n, dtype=np.int64) for _ in range(4))
    _history_kernel(
        pr.sentence_imposed_months,
        pr.consecutive,
        pr.imposed_years_ago,
        pr.released_years_ago,
        pr.foreign,
        pr.kind,
        pr.felony,
        defendants.under_sentence,
        groups.prior_group,
        groups.group_owner,
        groups.single_count,
        groups.grouped_rows,
        groups.grouped_starts,
        kind_code("crime_of_violence"),
        manual >= 2023,
        manual <= 2009,
        sentence_item,
        sentence_months,
        receives_points,
        points_a,
        points_b,
        points_c,
        status,
        recency,
        violent,
        points,
    )
    return CriminalHistory(
        groups=groups,
        sentence_item=sentence_item,
        sentence_months=sentence_months,
        receives_points=receives_points,
        points_a=points_a,
        points_b=points_b,
        points_c=points_c,
        status_points=status,
        recency_points=recency,
        violent_single_sentence_points=violent,
        points=points,
    )

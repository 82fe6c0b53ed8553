"""USSG Chapter 4, Part A: criminal history points over whole batches, by the edition's numbers.

Rules (``../shared/domain/guidelines.md`` §3; docs/engine.md §3); every number and switch comes
from the edition's :class:`~sim.guidelines.editions.CriminalHistoryRules`:

* § 4A1.1(a) +3 per prior sentence of imprisonment exceeding one year and one month; (b) +2 per
  sentence of at least sixty days not counted in (a); (c) +1 per other sentence, 4 points at most.
* § 4A1.2(e) applicable time periods: a sentence over 13 months counts if imposed within 15 years
  of the instant offense's commencement or if it kept the defendant incarcerated during any part of
  those 15 years; any other sentence counts if imposed within 10 years.
* § 4A1.2(h): foreign sentences are not counted.
* § 4A1.1(d) status: +2 when the offense was committed under any criminal justice sentence; from
  Nov 1, 2023 (Amend. 821, item (e)) +1 and only with 7 or more points from the other items.
* § 4A1.1(e) recency (Nov 1, 1989 - Oct 31, 2010): +2 when the offense began less than two years
  after release on an (a) or (b) sentence, +1 when (d) already added 2.
* § 4A1.1(f) (1991, Amend. 382; (e) from 2010, (d) from 2023): +1 per crime-of-violence sentence
  that received no points because it was folded into a single sentence, 3 points at most.

Terms and times are integer ticks, so a single sentence's aggregate term is exact whatever the
order of its consecutive terms, and every comparison with a threshold is exact.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.editions import CriminalHistoryRules
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import Records, kind_code

__all__ = ["ITEM_A", "ITEM_B", "ITEM_C", "ITEM_NONE", "CriminalHistory", "compute_criminal_history"]

#: Points item of a sentence: 0 none, 1 (a), 2 (b), 3 (c).
ITEM_NONE, ITEM_A, ITEM_B, ITEM_C = 0, 1, 2, 3


class CriminalHistory(NamedTuple):
    """Criminal history computed from priors (overrides are applied by the engine).

    Per sentence (shape (g,)): ``sentence_item`` (0 none, 1 (a), 2 (b), 3 (c)),
    ``sentence_ticks`` (its aggregate term). Per prior (shape (p,)): ``receives_points``. Per
    defendant (shape (n,)): ``points_a``, ``points_b``, ``points_c`` (capped),
    ``status_points``, ``recency_points``, ``violent_single_sentence_points`` and ``points``
    (their sum).
    """

    sentence_item: np.ndarray
    sentence_ticks: np.ndarray
    receives_points: np.ndarray
    points_a: np.ndarray
    points_b: np.ndarray
    points_c: np.ndarray
    status_points: np.ndarray
    recency_points: np.ndarray
    violent_single_sentence_points: np.ndarray
    points: np.ndarray


# A sentence's facts as bits of a code, so that its item is a table look-up: the items are
# unpredictable, and branches on them would cost more than the arithmetic.
_FOREIGN, _OVER_13, _WITHIN_15, _WITHIN_10, _SIXTY_DAYS, _RECENT = (1 << bit for bit in range(6))
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
    recent = (a_b != 0) & ((np.arange(64) & _RECENT) != 0)
    c_recent = np.where(item == ITEM_C, 1, 0) + np.where(recent, _HIGH, 0)
    return item, a_b.astype(np.int64), c_recent.astype(np.int64)


_ITEM, _A_B, _C_RECENT = _code_tables()


@njit(cache=True)
def _code(term, imposed, released, foreign, rules):
    """Code of a single sentence's facts (see :func:`_code_tables`); times in ticks."""
    # § 4A1.2(e)(1): imposed within 15 years, or served into them; (e)(2): within 10 years. An
    # unreleased sentence has released = NEVER, later than every window.
    within_long = (imposed <= rules.long_window_ticks) | (released <= rules.long_window_ticks)
    return (
        np.int64(foreign) * _FOREIGN
        | np.int64(term > rules.item_a_exceeds_ticks) * _OVER_13
        | np.int64(within_long) * _WITHIN_15
        | np.int64(imposed <= rules.short_window_ticks) * _WITHIN_10
        | np.int64(term >= rules.item_b_at_least_ticks) * _SIXTY_DAYS
        # No recency item: the window is -1, which no release time is below.
        | np.int64(released < rules.recency_window_ticks) * _RECENT
    )


@njit(cache=True)
def _history_kernel(priors, under_sentence, groups, violent_kind, rules, out):
    """Three flat passes: one-prior sentences in row order, grouped sentences, defendants.

    ``out.points_a``, ``out.points_c`` and ``out.violent_single_sentence_points`` come zeroed.
    Until the last pass ``points_a`` holds the (a) + (b) << 32 counts and ``points_c`` the (c) +
    recent << 32 counts. The first pass keeps a defendant's counts in registers and stores them on
    each of his rows (the last store stands), so that no branch turns on where his priors end.
    """
    term_of = priors.sentence_imposed_ticks
    prior_group, group_owner, single_count = (
        groups.prior_group,
        groups.group_owner,
        groups.single_count,
    )
    points_a, points_c, violent_points = (
        out.points_a,
        out.points_c,
        out.violent_single_sentence_points,
    )
    n = len(out.points)
    # § 4A1.2(a)(2) (1995: n.3) single sentences of one prior, in row order.
    previous = -1
    a_b = c_recent = 0
    for row in range(len(prior_group)):
        sentence = prior_group[row]
        if sentence >= single_count:
            continue
        owner = group_owner[sentence]
        if owner < previous or owner >= n:  # (previous starts at -1)
            raise ValueError("groups were not built from these defendants' priors")
        same = owner == previous
        previous = owner
        term = term_of[row]
        code = _code(term, priors.imposed_ago_ticks[row], priors.released_ago_ticks[row],
                     priors.foreign[row], rules)  # fmt: skip
        item = _ITEM[code]
        out.sentence_item[sentence] = item
        out.sentence_ticks[sentence] = term
        out.receives_points[row] = item != ITEM_NONE
        a_b = a_b * same + _A_B[code]
        c_recent = c_recent * same + _C_RECENT[code]
        points_a[owner] = a_b
        points_c[owner] = c_recent

    # Sentences of several priors, their members in row order: consecutive terms add, concurrent
    # ones overlap (the longest counts); the most recent imposition and release; foreign only
    # when every member is.
    grouped_rows, grouped_starts = groups.grouped_rows, groups.grouped_starts
    for k in range(len(grouped_starts) - 1):
        first, stop = grouped_starts[k], grouped_starts[k + 1]
        added = longest = 0
        row = grouped_rows[first]
        imposed, released = priors.imposed_ago_ticks[row], priors.released_ago_ticks[row]
        all_foreign = True
        violent = 0
        for j in range(first, stop):
            row = grouped_rows[j]
            term = term_of[row]
            if priors.consecutive[row]:
                added += term
            else:
                longest = max(longest, term)
            imposed = min(imposed, priors.imposed_ago_ticks[row])
            released = min(released, priors.released_ago_ticks[row])
            all_foreign &= priors.foreign[row]
            # § 4A1.1(f) (1995; (e) 2010, (d) 2023): a crime of violence (felony, not foreign).
            violent += (
                (priors.kind[row] == violent_kind) & priors.felony[row] & (not priors.foreign[row])
            )
        length = added + longest
        code = _code(length, imposed, released, all_foreign, rules)
        item = _ITEM[code]
        sentence = single_count + k
        out.sentence_item[sentence] = item
        out.sentence_ticks[sentence] = length
        for j in range(first, stop):
            row = grouped_rows[j]
            # A foreign conviction never receives points, even when folded into a domestic
            # sentence.
            out.receives_points[row] = (item != ITEM_NONE) & (not priors.foreign[row])
        owner = group_owner[sentence]
        if owner < 0 or owner >= n:
            raise ValueError("groups were not built from these defendants' priors")
        points_a[owner] += _A_B[code]
        points_c[owner] += _C_RECENT[code]
        # Assumption (docs/engine.md §3): the group's points go to a violent member, so every
        # further violent member earns the single-sentence point.
        if item != ITEM_NONE:
            violent_points[owner] += max(violent - 1, 0)

    for i in range(n):
        a_b, c_recent = points_a[i], points_c[i]
        # § 4A1.1(a), (b), (c) (capped); single-sentence crimes of violence (capped).
        points_a[i] = rules.item_a_points * (a_b & (_HIGH - 1))
        out.points_b[i] = rules.item_b_points * (a_b >> 32)
        points_c[i] = min(rules.item_c_points * (c_recent & (_HIGH - 1)), rules.item_c_cap)
        violent_points[i] = min(violent_points[i], rules.violent_cap)
        other = points_a[i] + out.points_b[i] + points_c[i] + violent_points[i]
        # § 4A1.1(d) status; from 2023 (Amend. 821, item (e)) only with enough other points.
        status = 0
        if under_sentence[i] and other >= rules.status_min_other_points:
            status = rules.status_points
        # § 4A1.1(e) (to 2009): a recent release from an (a) or (b) sentence; fewer points when
        # (d) already added its points.
        recency = 0
        if c_recent >> 32:
            recency = rules.recency_points_with_status if status else rules.recency_points
        out.status_points[i] = status
        out.recency_points[i] = recency
        out.points[i] = other + status + recency


def compute_criminal_history(
    records: Records, rules: CriminalHistoryRules, groups: SentenceGroups
) -> CriminalHistory:
    """Criminal history points of a batch under one edition's rules.

    Parameters
    ----------
    records : Records
        Batch of ``n`` defendants with ``p`` priors.
    rules : CriminalHistoryRules
        The edition's Chapter Four rules (``edition(year).criminal_history``).
    groups : SentenceGroups
        The priors' single sentences (``SentenceGroups.build``).

    Returns
    -------
    CriminalHistory
    """
    n, p = records.size, len(records.priors.kind)
    if len(groups.prior_group) != p:
        raise ValueError(f"groups cover {len(groups.prior_group)} priors; the records have {p}")
    if p >= 1 << 31:  # the kernel packs per-defendant counts in 32-bit halves
        raise ValueError(f"{p} priors in one batch; allowed: fewer than 2**31 (split it)")
    g = groups.size
    out = CriminalHistory(
        sentence_item=np.empty(g, dtype=np.int8),
        sentence_ticks=np.empty(g, dtype=np.int64),
        receives_points=np.empty(p, dtype=bool),
        points_a=np.zeros(n, dtype=np.int64),
        points_b=np.empty(n, dtype=np.int64),
        points_c=np.zeros(n, dtype=np.int64),
        status_points=np.empty(n, dtype=np.int64),
        recency_points=np.empty(n, dtype=np.int64),
        violent_single_sentence_points=np.zeros(n, dtype=np.int64),
        points=np.empty(n, dtype=np.int64),
    )
    _history_kernel(
        records.priors,
        records.under_sentence,
        groups,
        kind_code("crime_of_violence"),
        rules.numbers,
        out,
    )
    return out

"""Plain-numpy guidelines code that the compiled kernels replaced (test-only).

The segment reductions and single-sentence reductions of ``sim.guidelines.groups`` and the
§ 3E1.1 / § 4C1.1 reductions of ``sim.guidelines.adjustments``, kept unchanged in behaviour as the
oracle that ``tests/test_engine_kernels.py`` and ``tests/test_criminal_history.py`` compare the
kernels against. The former ``SentenceGroups`` methods are functions taking the
:class:`~sim.guidelines.groups.SentenceGroups` first and reading only its public fields. Never used
by the simulator.
"""

from __future__ import annotations

import numpy as np

from sim.guidelines.adjustments import (
    THIRD_LEVEL_MIN_OFFENSE_LEVEL,
    ZERO_POINT_FIRST_MANUAL,
    ZERO_POINT_LEVELS,
)
from sim.guidelines.groups import SentenceGroups

# ---- Segment reductions over the CSR prior layout ---------------------------------------------


def segment_count(mask: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Number of true rows per owner, shape (n,) int64."""
    return np.bincount(owner[mask], minlength=n)


def segment_reduce(
    ufunc: np.ufunc, values: np.ndarray, offsets: np.ndarray, empty: int | float = 0
) -> np.ndarray:
    """``ufunc`` reduced over contiguous segments ``offsets[i]:offsets[i+1]``; ``empty`` for an
    empty segment.

    >>> segment_reduce(np.bitwise_or, np.array([1, 4, 2]), np.array([0, 2, 2, 3]))
    array([5, 0, 2])
    """
    n = len(offsets) - 1
    if len(values) == 0:
        return np.full(n, empty, dtype=values.dtype)
    padded = np.append(values, np.asarray(empty, dtype=values.dtype))
    starts = offsets[:-1]
    result = ufunc.reduceat(padded, starts)
    result[offsets[1:] == starts] = empty
    return result


def segment_max(values: np.ndarray, offsets: np.ndarray, empty: int | float = 0) -> np.ndarray:
    """Maximum over contiguous segments, floored at ``empty`` (also an empty segment's value).

    >>> segment_max(np.array([3, 1, 7, 2]), np.array([0, 2, 2, 4]))
    array([3, 0, 7])
    """
    return np.maximum(segment_reduce(np.maximum, values, offsets, empty), empty)


def segment_first(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Index of the first true row in each segment, or -1, shape (n,) int64.

    >>> segment_first(np.array([False, True, False, True]), np.array([0, 2, 3, 4]))
    array([ 1, -1,  3])
    """
    big = np.iinfo(np.int64).max
    candidates = np.where(mask, np.arange(len(mask), dtype=np.int64), big)
    first = segment_max(-candidates, offsets, empty=-big)
    return np.where(first == -big, -1, -first)


# ---- Reductions per single sentence (the former SentenceGroups methods) -----------------------


def _group_reduce(groups: SentenceGroups, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
    """``ufunc`` reduced over each sentence's members, ungrouped priors first."""
    if groups.single_count == len(groups.prior_group):
        return values
    singles = np.flatnonzero(groups.prior_group < groups.single_count)
    merged = ufunc.reduceat(values[groups.grouped_rows], groups.grouped_starts[:-1])
    return np.concatenate([values[singles], merged])


def group_sum(groups: SentenceGroups, values: np.ndarray) -> np.ndarray:
    """Sum per sentence."""
    return _group_reduce(groups, np.add, values)


def group_max(groups: SentenceGroups, values: np.ndarray) -> np.ndarray:
    """Maximum per sentence."""
    return _group_reduce(groups, np.maximum, values)


def group_min(groups: SentenceGroups, values: np.ndarray) -> np.ndarray:
    """Minimum per sentence, ignoring NaN unless every member is NaN."""
    return _group_reduce(groups, np.fmin, values)


def group_any(groups: SentenceGroups, mask: np.ndarray) -> np.ndarray:
    """Whether any member is true."""
    return _group_reduce(groups, np.logical_or, mask)


def group_all(groups: SentenceGroups, mask: np.ndarray) -> np.ndarray:
    """Whether every member is true."""
    return _group_reduce(groups, np.logical_and, mask)


def aggregate_months(
    groups: SentenceGroups,
    months: np.ndarray,
    consecutive: np.ndarray,
    include: np.ndarray | None = None,
) -> np.ndarray:
    """Length of each single sentence: consecutive terms add, concurrent terms overlap.

    ``sum(months where consecutive) + max(months where concurrent)`` over the members selected
    by ``include`` (USSG § 4A1.2(a)(2) and its 1995 n.3: "use the longest sentence of
    imprisonment if concurrent sentences were imposed", the aggregate if consecutive).
    """
    if include is not None:
        months = np.where(include, months, 0.0)
    return group_sum(groups, np.where(consecutive, months, 0.0)) + group_max(
        groups, np.where(consecutive, 0.0, months)
    )


# ---- Chapter Three and Four reductions --------------------------------------------------------


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

"""Segment reductions over the CSR prior layout: per defendant and per single sentence.

Priors are stored defendant by defendant, so per-defendant reductions are reductions over
contiguous segments. Priors that form one sentence (USSG § 4A1.2(a)(2); 1995: "related cases",
§ 4A1.2 n.3) may sit anywhere inside their defendant's segment: :class:`SentenceGroups` numbers
the sentences in one compiled pass, sorting only the grouped priors, and lists each grouped
sentence's members contiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numba import njit

__all__ = [
    "SentenceGroups",
    "pairwise_sum",
    "segment_any",
    "segment_count",
    "segment_first",
    "segment_max",
    "segment_reduce",
]


def segment_count(mask: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Number of true rows per owner, shape (n,) int64."""
    return np.bincount(owner[mask], minlength=n)


def segment_any(mask: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Whether any row of each owner is true, shape (n,) bool."""
    return segment_count(mask, owner, n) > 0


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


@njit(cache=True)
def _build_kernel(owner, group_id, prior_group, group_owner, grouped_rows, grouped_starts):
    """Fill ``prior_group``, ``group_owner``, ``grouped_rows`` and ``grouped_starts`` (each with
    room for one entry per prior, and one more in ``grouped_starts``); return the number of
    sentences, of ungrouped priors and of grouped priors.

    One branch-free pass numbers the ungrouped priors and gathers the grouped ones with their sort
    keys; then only the grouped priors are sorted, by ``(owner, group_id)``, stably.
    """
    p = len(owner)
    keys = np.empty(p, dtype=np.int64)
    singles = grouped = 0
    ordered = True
    for row in range(p):
        # Written for every row, kept only for ungrouped ones: later rows overwrite the rest.
        prior_group[row] = singles
        group_owner[singles] = owner[row]
        grouped_rows[grouped] = row
        keys[grouped] = (np.int64(owner[row]) << 16) | np.int64(group_id[row])
        in_group = group_id[row] >= 0
        singles += not in_group
        grouped += in_group
        ordered &= row == 0 or owner[row] >= owner[row - 1]
    if ordered:
        # Owners never decrease (CSR layout), so keys are out of order only within a defendant's
        # few priors: a stable insertion sort does little work, unless a defendant has very many
        # grouped priors out of order.
        moves = 0
        for j in range(1, grouped):
            key, row = keys[j], grouped_rows[j]
            k = j
            while k > 0 and keys[k - 1] > key:
                keys[k] = keys[k - 1]
                grouped_rows[k] = grouped_rows[k - 1]
                k -= 1
            keys[k] = key
            grouped_rows[k] = row
            moves += j - k
            if moves > 16 * grouped:
                ordered = False
                break
    if not ordered:  # a stable sort keeps equal keys in row order, also after a partial sort
        order = np.argsort(keys[:grouped], kind="mergesort")
        grouped_rows[:grouped] = grouped_rows[:grouped][order]
        keys[:grouped] = keys[:grouped][order]
    sentence = singles - 1
    for j in range(grouped):
        row = grouped_rows[j]
        if j == 0 or keys[j] != keys[j - 1]:
            sentence += 1
            group_owner[sentence] = owner[row]
            grouped_starts[sentence - singles] = j
        prior_group[row] = sentence
    grouped_starts[sentence + 1 - singles] = grouped
    return sentence + 1, singles, grouped


@dataclass(frozen=True)
class SentenceGroups:
    """Partition of priors into single sentences.

    Ungrouped priors come first, one sentence each, in row order; grouped priors follow, their
    sentences ordered by ``(owner, group_id)``.

    Attributes
    ----------
    prior_group : ndarray of int64, shape (p,)
        Sentence index of each prior.
    group_owner : ndarray of int64, shape (g,)
        Defendant index of each sentence.
    single_count : int
        Number of ungrouped priors ``s``: sentence ``k < s`` is one prior, and a prior is ungrouped
        exactly when its ``prior_group`` is below ``s``.
    grouped_rows : ndarray of int64, shape (p - s,)
        Rows of the grouped priors, sentence by sentence, each sentence's in row order.
    grouped_starts : ndarray of int64, shape (g - s + 1,)
        Sentence ``s + k`` is ``grouped_rows[grouped_starts[k]:grouped_starts[k + 1]]``.
    """

    prior_group: np.ndarray
    group_owner: np.ndarray
    single_count: int
    grouped_rows: np.ndarray
    grouped_starts: np.ndarray

    @classmethod
    def build(cls, owner: np.ndarray, group_id: np.ndarray) -> SentenceGroups:
        """Group priors by ``(owner, group_id)``; a negative ``group_id`` is its own sentence."""
        p = len(owner)
        prior_group = np.empty(p, dtype=np.int64)
        group_owner = np.empty(p, dtype=np.int64)
        grouped_rows = np.empty(p, dtype=np.int64)
        grouped_starts = np.empty(p + 1, dtype=np.int64)
        count, singles, grouped = _build_kernel(
            owner, group_id, prior_group, group_owner, grouped_rows, grouped_starts
        )
        return cls(
            prior_group,
            group_owner[:count],
            int(singles),
            grouped_rows[:grouped],
            grouped_starts[: count - singles + 1],
        )

    def __len__(self) -> int:
        return len(self.group_owner)

    @cached_property
    def _singles(self) -> np.ndarray:
        return np.flatnonzero(self.prior_group < self.single_count)

    def _reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        if self.single_count == len(self.prior_group):
            return values
        merged = ufunc.reduceat(values[self.grouped_rows], self.grouped_starts[:-1])
        return np.concatenate([values[self._singles], merged])

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum per sentence."""
        return self._reduce(np.add, values)

    def max(self, values: np.ndarray) -> np.ndarray:
        """Maximum per sentence."""
        return self._reduce(np.maximum, values)

    def min(self, values: np.ndarray) -> np.ndarray:
        """Minimum per sentence, ignoring NaN unless every member is NaN."""
        return self._reduce(np.fmin, values)

    def any(self, mask: np.ndarray) -> np.ndarray:
        """Whether any member is true."""
        return self._reduce(np.logical_or, mask)

    def all(self, mask: np.ndarray) -> np.ndarray:
        """Whether every member is true."""
        return self._reduce(np.logical_and, mask)

    def aggregate_months(
        self, months: np.ndarray, consecutive: np.ndarray, include: np.ndarray | None = None
    ) -> np.ndarray:
        """Length of each single sentence: consecutive terms add, concurrent terms overlap.

        ``sum(months where consecutive) + max(months where concurrent)`` over the members selected
        by ``include`` (USSG § 4A1.2(a)(2) and its 1995 n.3: "use the longest sentence of
        imprisonment if concurrent sentences were imposed", the aggregate if consecutive).
        """
        if include is not None:
            months = np.where(include, months, 0.0)
        return self.sum(np.where(consecutive, months, 0.0)) + self.max(
            np.where(consecutive, 0.0, months)
        )


@njit(cache=True)
def _block_sum(values, start, count):
    """numpy's pairwise summation of at most 128 values: sequential below 8, else 8 accumulators."""
    if count < 8:
        total = -0.0
        for k in range(start, start + count):
            total += values[k]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    k = 8
    while k < count - count % 8:
        r0 += values[start + k]
        r1 += values[start + k + 1]
        r2 += values[start + k + 2]
        r3 += values[start + k + 3]
        r4 += values[start + k + 4]
        r5 += values[start + k + 5]
        r6 += values[start + k + 6]
        r7 += values[start + k + 7]
        k += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < count:
        total += values[start + k]
        k += 1
    return total


@njit(cache=True)
def pairwise_sum(values, start, count):
    """numpy's pairwise summation of ``values[start:start + count]``, so that sums match
    ``np.add.reduce`` to the last bit: above 128 values numpy adds the sums of two halves (the
    first a multiple of 8). The halving is walked with an explicit stack, since numba cannot
    cache a recursive function (numba issue #6061)."""
    if count <= 128:
        return _block_sum(values, start, count)
    first = np.empty(64, dtype=np.int64)
    size = np.empty(64, dtype=np.int64)
    right_pending = np.empty(64, dtype=np.bool_)
    left_sum = np.empty(64)
    depth = 0
    first[0], size[0] = start, count
    while True:
        if size[depth] > 128:  # descend into the left half
            half = size[depth] // 2
            half -= half % 8
            right_pending[depth] = True
            first[depth + 1], size[depth + 1] = first[depth], half
            depth += 1
            continue
        total = _block_sum(values, first[depth], size[depth])
        depth -= 1
        while depth >= 0 and not right_pending[depth]:  # both halves done: add them
            total = left_sum[depth] + total
            depth -= 1
        if depth < 0:
            return total
        left_sum[depth] = total  # left half done: now the right half
        right_pending[depth] = False
        half = size[depth] // 2
        half -= half % 8
        first[depth + 1], size[depth + 1] = first[depth] + half, size[depth] - half
        depth += 1

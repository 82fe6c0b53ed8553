"""Single sentences over the CSR prior layout, and numpy's pairwise summation for the kernels.

Priors are stored defendant by defendant, so each defendant's priors form one contiguous segment.
Priors that form one sentence (USSG § 4A1.2(a)(2); 1995: "related cases", § 4A1.2 n.3) may sit
anywhere inside their defendant's segment: :class:`SentenceGroups` numbers the sentences in one
compiled pass, sorting only the grouped priors, and lists each grouped sentence's members
contiguously. :func:`pairwise_sum` adds a sentence's terms in numpy's order, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["SentenceGroups", "pairwise_sum"]


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

"""Segment reductions over the CSR prior layout: per defendant and per single sentence.

Priors are stored defendant by defendant, so per-defendant reductions are reductions over
contiguous segments. Priors that form one sentence (USSG § 4A1.2(a)(2); 1995: "related cases",
§ 4A1.2 n.3) may sit anywhere inside their defendant's segment, so :class:`SentenceGroups` sorts
them once and then reduces over contiguous runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SentenceGroups", "segment_any", "segment_count", "segment_first", "segment_max"]


def segment_count(mask: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Number of true rows per owner, shape (n,) int64."""
    return np.bincount(owner[mask], minlength=n)


def segment_any(mask: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Whether any row of each owner is true, shape (n,) bool."""
    return segment_count(mask, owner, n) > 0


def segment_max(values: np.ndarray, offsets: np.ndarray, empty: int = 0) -> np.ndarray:
    """Maximum of ``values`` over contiguous segments ``offsets[i]:offsets[i+1]``.

    Empty segments (and every segment's maximum below ``empty``) give ``empty``.

    >>> segment_max(np.array([3, 1, 7, 2]), np.array([0, 2, 2, 4]))
    array([3, 0, 7])
    """
    n = len(offsets) - 1
    if len(values) == 0:
        return np.full(n, empty, dtype=values.dtype)
    padded = np.append(values, np.asarray(empty, dtype=values.dtype))
    starts = offsets[:-1]
    result = np.maximum.reduceat(padded, starts)
    result[offsets[1:] == starts] = empty
    return np.maximum(result, empty)


def segment_first(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Index of the first true row in each segment, or -1, shape (n,) int64.

    >>> segment_first(np.array([False, True, False, True]), np.array([0, 2, 3, 4]))
    array([ 1, -1,  3])
    """
    big = np.iinfo(np.int64).max
    candidates = np.where(mask, np.arange(len(mask), dtype=np.int64), big)
    first = segment_max(-candidates, offsets, empty=-big)
    return np.where(first == -big, -1, -first)


@dataclass(frozen=True)
class SentenceGroups:
    """Partition of priors into single sentences.

    Attributes
    ----------
    prior_group : ndarray of int64, shape (p,)
        Sentence index of each prior.
    group_owner : ndarray of int64, shape (g,)
        Defendant index of each sentence.
    """

    prior_group: np.ndarray
    group_owner: np.ndarray
    _order: np.ndarray
    _starts: np.ndarray

    @classmethod
    def build(cls, owner: np.ndarray, group_id: np.ndarray) -> SentenceGroups:
        """Group priors by ``(owner, group_id)``; a negative ``group_id`` is a sentence of its own."""
        p = len(owner)
        rows = np.arange(p, dtype=np.int64)
        if p == 0 or (group_id < 0).all():
            return cls(rows, owner.astype(np.int64), rows, rows)
        # Negative ids become unique negative keys so ungrouped priors never merge.
        key = np.where(group_id < 0, -1 - rows, group_id.astype(np.int64))
        order = np.lexsort((key, owner))
        sorted_owner, sorted_key = owner[order], key[order]
        new = np.ones(p, dtype=bool)
        new[1:] = (sorted_owner[1:] != sorted_owner[:-1]) | (sorted_key[1:] != sorted_key[:-1])
        starts = np.flatnonzero(new)
        prior_group = np.empty(p, dtype=np.int64)
        prior_group[order] = np.cumsum(new) - 1
        return cls(prior_group, sorted_owner[starts].astype(np.int64), order, starts)

    def __len__(self) -> int:
        return len(self.group_owner)

    def _reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        if len(values) == 0:
            return values[:0]
        return ufunc.reduceat(values[self._order], self._starts)

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

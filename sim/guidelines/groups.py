"""Segment reductions over the CSR prior layout: per defendant and per single sentence.

Priors are stored defendant by defendant, so per-defendant reductions are reductions over
contiguous segments. Priors that form one sentence (USSG § 4A1.2(a)(2); 1995: "related cases",
§ 4A1.2 n.3) may sit anywhere inside their defendant's segment, so :class:`SentenceGroups` sorts
them once and then reduces over contiguous runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "SentenceGroups",
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


@dataclass(frozen=True)
class SentenceGroups:
    """Partition of priors into single sentences.

    Ungrouped priors come first, one sentence each, in row order; grouped priors follow, sorted by
    ``(owner, group_id)``, so that only they are ever sorted or gathered.

    Attributes
    ----------
    prior_group : ndarray of int64, shape (p,)
        Sentence index of each prior.
    group_owner : ndarray of int64, shape (g,)
        Defendant index of each sentence.
    """

    prior_group: np.ndarray
    group_owner: np.ndarray
    _singles: np.ndarray | None  # rows of ungrouped priors; None = every prior is ungrouped
    _grouped: np.ndarray | None  # rows of grouped priors, sorted by (owner, group_id)
    _starts: np.ndarray | None  # first position of each grouped sentence within _grouped

    @classmethod
    def build(cls, owner: np.ndarray, group_id: np.ndarray) -> SentenceGroups:
        """Group priors by ``(owner, group_id)``; a negative ``group_id`` is its own sentence."""
        p = len(owner)
        in_group = group_id >= 0
        if not in_group.any():
            return cls(np.arange(p, dtype=np.int64), owner.astype(np.int64), None, None, None)
        singles = np.flatnonzero(~in_group)
        rows = np.flatnonzero(in_group)
        key = (owner[rows].astype(np.int64) << 16) | group_id[rows].astype(np.int64)
        order = np.argsort(key, kind="stable")
        grouped, sorted_key = rows[order], key[order]
        new = np.ones(len(grouped), dtype=bool)
        new[1:] = sorted_key[1:] != sorted_key[:-1]
        starts = np.flatnonzero(new)
        prior_group = np.empty(p, dtype=np.int64)
        prior_group[singles] = np.arange(len(singles))
        prior_group[grouped] = len(singles) + np.cumsum(new) - 1
        group_owner = np.concatenate([owner[singles], owner[grouped[starts]]]).astype(np.int64)
        return cls(prior_group, group_owner, singles, grouped, starts)

    def __len__(self) -> int:
        return len(self.group_owner)

    def _reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        if self._grouped is None:
            return values
        merged = (
            ufunc.reduceat(values[self._grouped], self._starts)
            if len(self._grouped)
            else values[:0]
        )
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

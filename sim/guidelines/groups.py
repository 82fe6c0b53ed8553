"""Single sentences over the CSR prior layout.

Priors are stored defendant by defendant, so each defendant's priors form one contiguous segment.
Priors that form one sentence (USSG § 4A1.2(a)(2); 1995: "related cases", § 4A1.2 n.3) may sit
anywhere inside their defendant's segment: :class:`SentenceGroups` numbers the sentences in one
compiled pass, sorting only the grouped priors, and lists each grouped sentence's members
contiguously.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["SentenceGroups"]


@njit(cache=True)
def _build_kernel(offsets, group_id, out):
    """Fill ``out``'s arrays (each with room for one entry per prior, and one more in
    ``grouped_starts``); return the number of sentences, of ungrouped priors and of grouped priors.

    One branch-free pass numbers the ungrouped priors and gathers the grouped ones with their sort
    keys (the owner in the high bits); then only the grouped priors are sorted, by ``(owner,
    group_id)``, stably. The owner of each row comes from the CSR offsets: ``starts[j]`` counts the
    defendants whose priors start at row ``j`` (empty ones included), and the running count less
    one is the owner, with no branch on where a defendant's priors end.
    """
    prior_group, group_owner = out.prior_group, out.group_owner
    grouped_rows, grouped_starts = out.grouped_rows, out.grouped_starts
    p = len(group_id)
    starts = np.zeros(p + 1, dtype=np.int64)
    for i in range(len(offsets) - 1):
        starts[offsets[i]] += 1
    keys = np.empty(p, dtype=np.int64)
    singles = grouped = 0
    owner = -1
    for row in range(p):
        owner += starts[row]
        # Written for every row, kept only for ungrouped ones: later rows overwrite the rest.
        prior_group[row] = singles
        group_owner[singles] = owner
        grouped_rows[grouped] = row
        keys[grouped] = (owner << 16) | np.int64(group_id[row])
        in_group = group_id[row] >= 0
        singles += not in_group
        grouped += in_group
    # Owners never decrease (CSR layout), so keys are out of order only within a defendant's few
    # priors: a stable insertion sort does little work, unless a defendant has very many grouped
    # priors out of order.
    ordered = True
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
            group_owner[sentence] = keys[j] >> 16
            grouped_starts[sentence - singles] = j
        prior_group[row] = sentence
    grouped_starts[sentence + 1 - singles] = grouped
    return sentence + 1, singles, grouped


class SentenceGroups(NamedTuple):
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
    def build(cls, offsets: np.ndarray, group_id: np.ndarray) -> SentenceGroups:
        """Group the priors of CSR ``offsets`` by ``(owner, group_id)``; a negative ``group_id``
        is its own sentence."""
        p = len(group_id)
        if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != p:
            raise ValueError(f"offsets must run from 0 to the {p} priors")
        space = cls(
            prior_group=np.empty(p, dtype=np.int64),
            group_owner=np.empty(p, dtype=np.int64),
            single_count=0,
            grouped_rows=np.empty(p, dtype=np.int64),
            grouped_starts=np.empty(p + 1, dtype=np.int64),
        )
        count, singles, grouped = _build_kernel(offsets, group_id, space)
        return cls(
            space.prior_group,
            space.group_owner[:count],
            int(singles),
            space.grouped_rows[:grouped],
            space.grouped_starts[: count - singles + 1],
        )

    @property
    def size(self) -> int:
        """Number of sentences ``g``."""
        return len(self.group_owner)

"""Defendant records as struct-of-arrays: what the guidelines engine reads about each defendant.

A batch of ``n`` records is a :class:`Records` of length-``n`` arrays plus a :class:`Priors` of
length-``p`` arrays holding every prior conviction of every defendant, stored defendant by
defendant (CSR layout): the priors of defendant ``i`` are rows ``prior_offsets[i]:prior_offsets[i +
1]``. Ragged histories cost nothing for defendants without priors and need no padding or mask.

How each defendant's case is disposed of (the conviction, acceptance, early-disposition levels)
is not part of the record: it is a :class:`Dispositions`, decided by a district's policy (or given
in a case file), so that one record is assessed once and sentenced under many dispositions.

Both are ``NamedTuple``\\ s of arrays, so the compiled kernels take them whole, by field name.
Lengths of time are integer ticks (:mod:`sim.guidelines.durations`), so that sums of consecutive
terms and comparisons with 60 days, 13 months or 15 years are exact.

Memory: 21 bytes per defendant (13 of fields, 8 of offset) and 33 bytes per prior, as laid out by
the dtypes below; :func:`bytes_per_defendant` measures a batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "CONVICTIONS",
    "IMMIGRATION_LAW_KINDS",
    "NO_GROUP",
    "NO_OVERRIDE",
    "PRIOR_KINDS",
    "Dispositions",
    "Priors",
    "Records",
    "bytes_per_defendant",
    "conviction_code",
    "kind_code",
]

#: Prior conviction kinds, in code order (a prior's ``kind`` is its index here). Append new kinds;
#: never renumber (codes are stored in archives' defendant samples).
PRIOR_KINDS = (
    "drug_trafficking",
    "crime_of_violence",
    "firearms",
    "child_pornography",
    "national_security",
    "human_trafficking",
    "alien_smuggling",
    "other_felony",
    "illegal_reentry",
    "illegal_entry",
    "misdemeanor_violent",
    "misdemeanor_drug",
    "misdemeanor",
    "theft_or_burglary",
)

#: Offenses of conviction, in code order.
CONVICTIONS = (
    "1326(a)",
    "1326(b)(1)",
    "1326(b)(2)",
    "1325(a)-first",
    "1325(a)-subsequent",
    "1325-flip-flop",
)

#: Kinds treated as "a felony involving violation of the immigration laws" under the 1991 text of
#: § 2L1.2(b)(1) (1995-1996 Manuals). Assumption for alien smuggling (8 U.S.C. § 1324 is in the
#: immigration laws; no source read says how courts classed it): docs/engine.md §4.
IMMIGRATION_LAW_KINDS = ("illegal_reentry", "illegal_entry", "alien_smuggling")

#: ``single_sentence_group`` of a prior that is a sentence of its own.
NO_GROUP = -1
#: ``criminal_history_points_override`` / ``_category_override`` when not overridden.
NO_OVERRIDE = -1


def kind_code(name: str) -> int:
    """Code of a prior kind name."""
    return PRIOR_KINDS.index(name)


def conviction_code(name: str) -> int:
    """Code of a conviction name."""
    return CONVICTIONS.index(name)


class Priors(NamedTuple):
    """Prior convictions of a batch, one row per prior (length ``p``), grouped by defendant.

    Attributes
    ----------
    kind : int8, index into :data:`PRIOR_KINDS`
    felony : bool, punishable by more than one year
    aggravated_felony : bool, 8 U.S.C. § 1101(a)(43) as in force on the instant offense date
        (given, or derived by :mod:`sim.guidelines.aggravated_felony`)
    sentence_imposed_ticks : int64, imprisonment imposed, suspended part excluded; 0 = none
    imposed_ago_ticks : int64, time between imposition and the instant offense's commencement
    released_ago_ticks : int64, time since release from imprisonment on it;
        :data:`~sim.guidelines.durations.NEVER` = not released (no imprisonment)
    before_first_removal : bool, conviction (2018+: conduct) before the first removal order
    removed_after_conviction : bool, deported/removed or remained after it (pre-2016 texts)
    foreign : bool, a foreign sentence (no criminal history points, § 4A1.2(h))
    single_sentence_group : int16, id shared by priors that are one sentence; -1 = none
    consecutive : bool, within its group, the term runs consecutively
    """

    kind: np.ndarray
    felony: np.ndarray
    aggravated_felony: np.ndarray
    sentence_imposed_ticks: np.ndarray
    imposed_ago_ticks: np.ndarray
    released_ago_ticks: np.ndarray
    before_first_removal: np.ndarray
    removed_after_conviction: np.ndarray
    foreign: np.ndarray
    single_sentence_group: np.ndarray
    consecutive: np.ndarray

    def take(self, rows: np.ndarray) -> Priors:
        """The priors at ``rows``."""
        return Priors(*(column[rows] for column in self))


class Records(NamedTuple):
    """The records of ``n`` defendants.

    Attributes
    ----------
    offense_date : datetime64[D], the instant offense's commencement
    under_sentence : bool, § 4A1.1(d) status
    zero_point_criteria_met : bool, § 4C1.1's criteria other than zero points
    criminal_history_points_override : int16, -1 = compute from priors
    criminal_history_category_override : int8, 1-6, -1 = compute from points
    prior_offsets : int64, shape (n + 1,), CSR offsets into ``priors``
    priors : Priors
    """

    offense_date: np.ndarray
    under_sentence: np.ndarray
    zero_point_criteria_met: np.ndarray
    criminal_history_points_override: np.ndarray
    criminal_history_category_override: np.ndarray
    prior_offsets: np.ndarray
    priors: Priors

    @property
    def size(self) -> int:
        """Number of defendants ``n``."""
        return len(self.offense_date)

    def _per_defendant(self) -> tuple[str, ...]:
        return self._fields[:-2]

    def block(self, start: int, stop: int) -> Records:
        """Defendants ``start:stop`` as a batch of their own (views, offsets rebased)."""
        first, last = int(self.prior_offsets[start]), int(self.prior_offsets[stop])
        return Records(
            *(getattr(self, name)[start:stop] for name in self._per_defendant()),
            prior_offsets=self.prior_offsets[start : stop + 1] - first,
            priors=Priors(*(column[first:last] for column in self.priors)),
        )

    def take(self, indices: np.ndarray) -> Records:
        """Defendants at ``indices`` (repeats allowed), priors carried along."""
        indices = np.asarray(indices, dtype=np.int64)
        counts = np.diff(self.prior_offsets)[indices]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        # Prior rows: for each taken defendant, its own range of rows.
        rows = np.repeat(self.prior_offsets[indices] - offsets[:-1], counts) + np.arange(
            offsets[-1], dtype=np.int64
        )
        return Records(
            *(getattr(self, name)[indices] for name in self._per_defendant()),
            prior_offsets=offsets,
            priors=self.priors.take(rows),
        )

    @staticmethod
    def concatenate(batches: list[Records]) -> Records:
        """One batch of the given batches, in order."""
        if len(batches) == 1:
            return batches[0]
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for batch in batches:
            offsets.append(batch.prior_offsets[1:] + base)
            base += int(batch.prior_offsets[-1])
        fields = Records._fields[:-2]
        return Records(
            *(np.concatenate([getattr(b, name) for b in batches]) for name in fields),
            prior_offsets=np.concatenate(offsets),
            priors=Priors(
                *(
                    np.concatenate(columns)
                    for columns in zip(*(b.priors for b in batches), strict=True)
                )
            ),
        )

    def prior_owner(self) -> np.ndarray:
        """Index of the defendant each prior belongs to, shape (p,)."""
        counts = np.diff(self.prior_offsets)
        return np.repeat(np.arange(self.size, dtype=np.int64), counts)


class Dispositions(NamedTuple):
    """How each of ``n`` cases is disposed of (arrays of shape (n,)).

    Attributes
    ----------
    conviction : int8, index into :data:`CONVICTIONS`
    acceptance_levels : int8, § 3E1.1 levels sought (0, 2 or 3)
    early_disposition_levels : int8, early-disposition levels moved for (0-4)
    """

    conviction: np.ndarray
    acceptance_levels: np.ndarray
    early_disposition_levels: np.ndarray


def bytes_per_defendant(records: Records) -> float:
    """Mean bytes of input arrays per defendant in a batch (priors and offsets included)."""
    total = sum(column.nbytes for column in records[:-1])
    total += sum(column.nbytes for column in records.priors)
    return total / max(records.size, 1)

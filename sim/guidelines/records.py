"""Defendant records as struct-of-arrays: the engine's input.

A batch of ``n`` defendants is a :class:`Defendants` of length-``n`` arrays plus a
:class:`Priors` of length-``p`` arrays holding every prior conviction of every defendant, stored
defendant by defendant (CSR layout): the priors of defendant ``i`` are rows
``prior_offsets[i]:prior_offsets[i + 1]``. Ragged histories cost nothing for defendants without
priors and need no padding or mask.

Memory: 24 bytes per defendant (16 of fields, 8 of offset) and 33 bytes per prior, as laid out by
the dtypes below; :func:`bytes_per_defendant` measures a batch. Months and years are float64 so
that window boundaries (10 and 15 years, 13 months, 60 days) compare exactly as the user wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

__all__ = [
    "CONVICTIONS",
    "IMMIGRATION_LAW_KINDS",
    "PRIOR_KINDS",
    "Defendants",
    "Priors",
    "bytes_per_defendant",
    "conviction_code",
    "kind_code",
]

#: Prior conviction kinds, in code order (a prior's ``kind`` is its index here).
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


def kind_code(name: str) -> int:
    """Code of a prior kind name."""
    return PRIOR_KINDS.index(name)


def conviction_code(name: str) -> int:
    """Code of a conviction name."""
    return CONVICTIONS.index(name)


NO_GROUP = -1  # single_sentence_group absent: the prior is its own sentence
NO_OVERRIDE = -1  # criminal_history_points / category not overridden


@dataclass(frozen=True)
class Priors:
    """Prior convictions of a batch, one row per prior (length ``p``), grouped by defendant.

    Attributes
    ----------
    kind : int8, index into :data:`PRIOR_KINDS`
    felony : bool, punishable by more than one year
    aggravated_felony : bool, 8 U.S.C. § 1101(a)(43) classification (an input)
    sentence_imposed_months : float64, imprisonment imposed, suspended part excluded; 0 = none
    imposed_years_ago : float64, years before the instant offense began
    released_years_ago : float64, years since release from imprisonment on it; NaN = not released
    before_first_removal : bool, conviction (2018+: conduct) before the first removal order
    removed_after_conviction : bool, deported/removed or remained after it (pre-2016 texts)
    foreign : bool, a foreign sentence (no criminal history points, § 4A1.2(h))
    single_sentence_group : int16, id shared by priors that are one sentence; -1 = none
    consecutive : bool, within its group, the term runs consecutively
    """

    kind: np.ndarray
    felony: np.ndarray
    aggravated_felony: np.ndarray
    sentence_imposed_months: np.ndarray
    imposed_years_ago: np.ndarray
    released_years_ago: np.ndarray
    before_first_removal: np.ndarray
    removed_after_conviction: np.ndarray
    foreign: np.ndarray
    single_sentence_group: np.ndarray
    consecutive: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True)
class Defendants:
    """A batch of ``n`` defendants sentenced under one Manual.

    Attributes
    ----------
    conviction : int8, index into :data:`CONVICTIONS`
    offense_date : datetime64[D], instant offense date; NaT = Nov 1 of the manual year
    acceptance_levels : int8, § 3E1.1 levels sought (0, 2 or 3)
    early_disposition_levels : int8, § 5K3.1 levels moved for (0-4)
    under_sentence : bool, § 4A1.1(d) status
    zero_point_criteria_met : bool, § 4C1.1's criteria other than zero points
    criminal_history_points_override : int16, -1 = compute from priors
    criminal_history_category_override : int8, 1-6, -1 = compute from points
    prior_offsets : int64, shape (n + 1,), CSR offsets into ``priors``
    priors : Priors
    """

    conviction: np.ndarray
    offense_date: np.ndarray
    acceptance_levels: np.ndarray
    early_disposition_levels: np.ndarray
    under_sentence: np.ndarray
    zero_point_criteria_met: np.ndarray
    criminal_history_points_override: np.ndarray
    criminal_history_category_override: np.ndarray
    prior_offsets: np.ndarray
    priors: Priors

    def __len__(self) -> int:
        return len(self.conviction)

    def block(self, start: int, stop: int) -> Defendants:
        """Defendants ``start:stop`` as a batch of their own (views, offsets rebased)."""
        first, last = int(self.prior_offsets[start]), int(self.prior_offsets[stop])
        priors = Priors(
            **{f.name: getattr(self.priors, f.name)[first:last] for f in fields(self.priors)}
        )
        values = {
            f.name: getattr(self, f.name)[start:stop]
            for f in fields(self)
            if f.name not in ("priors", "prior_offsets")
        }
        return Defendants(
            **values, prior_offsets=self.prior_offsets[start : stop + 1] - first, priors=priors
        )

    def take(self, indices: np.ndarray) -> Defendants:
        """Defendants at ``indices`` (repeats allowed), priors carried along."""
        indices = np.asarray(indices, dtype=np.int64)
        counts = np.diff(self.prior_offsets)[indices]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        # Prior rows: for each taken defendant, its own range of rows.
        rows = np.repeat(self.prior_offsets[indices] - offsets[:-1], counts) + np.arange(
            offsets[-1], dtype=np.int64
        )
        priors = Priors(**{f.name: getattr(self.priors, f.name)[rows] for f in fields(self.priors)})
        values = {
            f.name: getattr(self, f.name)[indices]
            for f in fields(self)
            if f.name not in ("priors", "prior_offsets")
        }
        return Defendants(**values, prior_offsets=offsets, priors=priors)

    @staticmethod
    def concatenate(batches: list[Defendants]) -> Defendants:
        """One batch of the given batches, in order."""
        if len(batches) == 1:
            return batches[0]
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for batch in batches:
            offsets.append(batch.prior_offsets[1:] + base)
            base += int(batch.prior_offsets[-1])
        priors = Priors(
            **{
                f.name: np.concatenate([getattr(b.priors, f.name) for b in batches])
                for f in fields(Priors)
            }
        )
        values = {
            f.name: np.concatenate([getattr(b, f.name) for b in batches])
            for f in fields(Defendants)
            if f.name not in ("priors", "prior_offsets")
        }
        return Defendants(**values, prior_offsets=np.concatenate(offsets), priors=priors)

    @cached_property
    def prior_owner(self) -> np.ndarray:
        """Index of the defendant each prior belongs to, shape (p,) (computed once)."""
        counts = np.diff(self.prior_offsets)
        return np.repeat(np.arange(len(self), dtype=np.int64), counts)


def bytes_per_defendant(defendants: Defendants) -> float:
    """Mean bytes of input arrays per defendant in a batch (priors and offsets included)."""
    total = sum(
        getattr(defendants, f.name).nbytes for f in fields(defendants) if f.name != "priors"
    )
    total += sum(getattr(defendants.priors, f.name).nbytes for f in fields(defendants.priors))
    return total / max(len(defendants), 1)

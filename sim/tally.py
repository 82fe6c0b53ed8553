"""Reducing sentenced blocks to integer sufficient statistics, replication by replication.

Every metric the study reports is a function of these tallies, and every tally is a sum of
integers over defendants, so a replication's tally is the same whatever the block size, the worker
count or the order in which blocks finish, and memory does not grow with the number of
defendants.

Outcome conventions (docs in :mod:`sim.metrics`):

* *counterfactual*: every defendant sentenced in every district; months among those the district
  prosecutes, or ``Y`` = months with 0 for a declined defendant (the balanced design used for
  paired gaps, variance shares and inequality);
* *as-arrested*: each defendant in the one district the caseload mix assigns him.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from itertools import combinations

import numpy as np

from sim.sentencing import POSITION_CATEGORIES

__all__ = [
    "ENHANCEMENT_LEVELS",
    "MAX_MONTHS",
    "PERCENT_SCALE",
    "BlockOutcome",
    "StudyTally",
    "district_pairs",
    "tally_block",
]

#: Longest sentence tallied (months). § 1326(b)(2)'s 20-year maximum is the longest in any
#: scenario (8 U.S.C. § 1326(b)(2) since Sept 13, 1994); a longer one is an error, not clipped.
MAX_MONTHS = 480

#: § 2L1.2 specific-offense-characteristic totals tallied (0-48 levels; the 2016 text's cumulative
#: maximum is 4 + 10 + 10 = 24, the 1991-2015 texts' 16).
ENHANCEMENT_LEVELS = 49

#: Percent differences from the guideline minimum are summed in units of 10⁻⁹ percent (integers),
#: so their sums are exact and order-independent.
PERCENT_SCALE = 10**9

_CATEGORIES = len(POSITION_CATEGORIES)


def district_pairs(districts: int) -> list[tuple[int, int]]:
    """District index pairs (a, b), a < b, in the order tallies and reports use."""
    return list(combinations(range(districts), 2))


@dataclass(frozen=True)
class BlockOutcome:
    """Per-defendant results of one block, every district (arrays (n,) or (n, D))."""

    prosecuted: np.ndarray  # (n, D) bool
    months: np.ndarray  # (n, D) int32, 0 where not prosecuted
    position_category: np.ndarray  # (n, D) int8
    offer: np.ndarray  # (n, D) int8, -1 without a deal
    final_min_months: np.ndarray  # (n, D) int32, applicable guideline minimum after § 5G1.1
    criminal_history_category: np.ndarray  # (n,) 1-6
    enhancement_levels: np.ndarray  # (n,) § 2L1.2 specific offense characteristics, total
    arrest_district: np.ndarray  # (n,) index into the scenario's districts


@dataclass
class StudyTally:
    """Integer tallies per replication (axis 0). D districts, P pairs, M = MAX_MONTHS.

    Counterfactual, among prosecuted: ``counterfactual_prosecuted`` (R, D),
    ``counterfactual_histogram`` (R, D, M+1), ``counterfactual_positions`` (R, D, 5),
    ``counterfactual_percent`` / ``counterfactual_percent_count`` (R, D): Σ of 10⁹ x percent
    difference from the guideline minimum, over sentences with a minimum above 0.

    As-arrested: the same with ``as_arrested_`` for defendants arrested in the district, plus
    ``as_arrested_defendants`` (R, D) and ``selected_sums`` (R, D, D): Σ over defendants arrested
    and sentenced in a of their counterfactual Y in b.

    Balanced design (Y, declined = 0): ``pair_difference`` (R, P, 2M+1) histogram of Y_a − Y_b + M;
    ``pair_both_difference`` the same among defendants prosecuted in both, with
    ``pair_both_sums`` (R, P, 2) = (Σ Y_a, Σ Y_b) over them; ``range_histogram`` /
    ``range_both_histogram`` (R, M+1) of max_d Y − min_d Y (all / prosecuted everywhere);
    ``defendant_total_squares`` (R,) Σ_i (Σ_d Y_id)²; ``cell_counts`` / ``cell_totals``
    (R, 6, ENHANCEMENT_LEVELS) defendants and Σ_i Σ_d Y_id by category and enhancement;
    ``pair_cell_differences`` (R, P, 6, ENHANCEMENT_LEVELS) Σ (Y_a − Y_b) by the same cells (the
    Chapter Two offense level is 8 + the enhancement).
    """

    defendants: np.ndarray
    counterfactual_prosecuted: np.ndarray
    counterfactual_histogram: np.ndarray
    counterfactual_positions: np.ndarray
    counterfactual_percent: np.ndarray
    counterfactual_percent_count: np.ndarray
    as_arrested_defendants: np.ndarray
    as_arrested_prosecuted: np.ndarray
    as_arrested_histogram: np.ndarray
    as_arrested_positions: np.ndarray
    as_arrested_percent: np.ndarray
    as_arrested_percent_count: np.ndarray
    selected_sums: np.ndarray
    pair_difference: np.ndarray
    pair_both_difference: np.ndarray
    pair_both_sums: np.ndarray
    range_histogram: np.ndarray
    range_both_histogram: np.ndarray
    defendant_total_squares: np.ndarray
    cell_counts: np.ndarray
    cell_totals: np.ndarray
    pair_cell_differences: np.ndarray

    @classmethod
    def empty(cls, replications: int, districts: int) -> StudyTally:
        r, d, p = replications, districts, len(district_pairs(districts))
        bins, diff_bins = MAX_MONTHS + 1, 2 * MAX_MONTHS + 1
        shapes = {
            "defendants": (r,),
            "counterfactual_prosecuted": (r, d),
            "counterfactual_histogram": (r, d, bins),
            "counterfactual_positions": (r, d, _CATEGORIES),
            "counterfactual_percent": (r, d),
            "counterfactual_percent_count": (r, d),
            "as_arrested_defendants": (r, d),
            "as_arrested_prosecuted": (r, d),
            "as_arrested_histogram": (r, d, bins),
            "as_arrested_positions": (r, d, _CATEGORIES),
            "as_arrested_percent": (r, d),
            "as_arrested_percent_count": (r, d),
            "selected_sums": (r, d, d),
            "pair_difference": (r, p, diff_bins),
            "pair_both_difference": (r, p, diff_bins),
            "pair_both_sums": (r, p, 2),
            "range_histogram": (r, bins),
            "range_both_histogram": (r, bins),
            "defendant_total_squares": (r,),
            "cell_counts": (r, 6, ENHANCEMENT_LEVELS),
            "cell_totals": (r, 6, ENHANCEMENT_LEVELS),
            "pair_cell_differences": (r, p, 6, ENHANCEMENT_LEVELS),
        }
        return cls(**{name: np.zeros(shape, dtype=np.int64) for name, shape in shapes.items()})

    @property
    def replications(self) -> int:
        return len(self.defendants)

    def add(self, replication: int, part: StudyTally) -> None:
        """Add a one-replication tally (from :func:`tally_block`) into ``replication``."""
        for field in fields(self):
            getattr(self, field.name)[replication] += getattr(part, field.name)[0]

    def extended(self, replications: int) -> StudyTally:
        """A copy with room for ``replications`` (the existing ones kept first)."""
        grown = StudyTally.empty(replications, self.counterfactual_prosecuted.shape[1])
        for field in fields(self):
            getattr(grown, field.name)[: self.replications] = getattr(self, field.name)
        return grown


def _percent_sum(months: np.ndarray, minimum: np.ndarray) -> tuple[int, int]:
    """Σ round(10⁹ x 100 (m − min) / min) over sentences with min > 0, and their count."""
    positive = minimum > 0
    if not positive.any():
        return 0, 0
    m, low = months[positive].astype(np.float64), minimum[positive].astype(np.float64)
    scaled = np.rint((m - low) / low * 100.0 * PERCENT_SCALE).astype(np.int64)
    return int(scaled.sum()), int(positive.sum())


def tally_block(outcome: BlockOutcome) -> StudyTally:
    """Reduce a block's per-defendant outcomes to a one-replication :class:`StudyTally`."""
    n, districts = outcome.months.shape
    if outcome.months.max(initial=0) > MAX_MONTHS:
        raise ValueError(f"a sentence exceeds {MAX_MONTHS} months; raise MAX_MONTHS")
    t = StudyTally.empty(1, districts)
    t.defendants[0] = n
    bins, diff_bins = MAX_MONTHS + 1, 2 * MAX_MONTHS + 1
    prosecuted = outcome.prosecuted
    y = np.where(prosecuted, outcome.months, 0).astype(np.int64)  # declined = 0 months

    for d in range(districts):
        sentenced = prosecuted[:, d]
        months = outcome.months[sentenced, d]
        t.counterfactual_prosecuted[0, d] = sentenced.sum()
        t.counterfactual_histogram[0, d] = np.bincount(months, minlength=bins)
        t.counterfactual_positions[0, d] = np.bincount(
            outcome.position_category[sentenced, d], minlength=_CATEGORIES
        )
        t.counterfactual_percent[0, d], t.counterfactual_percent_count[0, d] = _percent_sum(
            months, outcome.final_min_months[sentenced, d]
        )
        arrested = outcome.arrest_district == d
        observed = arrested & sentenced
        t.as_arrested_defendants[0, d] = arrested.sum()
        t.as_arrested_prosecuted[0, d] = observed.sum()
        t.as_arrested_histogram[0, d] = np.bincount(outcome.months[observed, d], minlength=bins)
        t.as_arrested_positions[0, d] = np.bincount(
            outcome.position_category[observed, d], minlength=_CATEGORIES
        )
        t.as_arrested_percent[0, d], t.as_arrested_percent_count[0, d] = _percent_sum(
            outcome.months[observed, d], outcome.final_min_months[observed, d]
        )
        t.selected_sums[0, d] = y[observed].sum(axis=0)

    for p, (a, b) in enumerate(district_pairs(districts)):
        difference = y[:, a] - y[:, b] + MAX_MONTHS
        t.pair_difference[0, p] = np.bincount(difference, minlength=diff_bins)
        both = prosecuted[:, a] & prosecuted[:, b]
        t.pair_both_difference[0, p] = np.bincount(difference[both], minlength=diff_bins)
        t.pair_both_sums[0, p] = (y[both, a].sum(), y[both, b].sum())

    spread = y.max(axis=1) - y.min(axis=1)
    t.range_histogram[0] = np.bincount(spread, minlength=bins)
    t.range_both_histogram[0] = np.bincount(spread[prosecuted.all(axis=1)], minlength=bins)

    totals = y.sum(axis=1)
    t.defendant_total_squares[0] = int((totals * totals).sum())
    enhancement = np.clip(outcome.enhancement_levels, 0, ENHANCEMENT_LEVELS - 1)
    cell = (
        outcome.criminal_history_category.astype(np.int64) - 1
    ) * ENHANCEMENT_LEVELS + enhancement
    size = 6 * ENHANCEMENT_LEVELS
    t.cell_counts[0] = np.bincount(cell, minlength=size).reshape(6, ENHANCEMENT_LEVELS)
    # Integer weights below 2**53 sum exactly in float64.
    t.cell_totals[0] = (
        np.rint(np.bincount(cell, weights=totals, minlength=size)).astype(np.int64)
    ).reshape(6, ENHANCEMENT_LEVELS)
    for p, (a, b) in enumerate(district_pairs(districts)):
        gap = np.bincount(cell, weights=y[:, a] - y[:, b], minlength=size)
        t.pair_cell_differences[0, p] = np.rint(gap).astype(np.int64).reshape(6, ENHANCEMENT_LEVELS)
    return t

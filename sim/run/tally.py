"""Reducing sentenced blocks to integer sufficient statistics, replication by replication.

Every metric the study reports is a function of these tallies, and every tally is a sum of
integers over defendants, so a replication's tally is the same whatever the block size, the worker
count or the order in which blocks finish, and memory does not grow with the number of
defendants.

Outcome conventions (docs in :mod:`sim.analysis.metrics`):

* *counterfactual*: every defendant sentenced in every district; months among those the district
  prosecutes, or ``Y`` = months with 0 for a declined defendant (the balanced design used for
  paired gaps, variance shares and inequality);
* *as-arrested*: each defendant in the one district the caseload mix assigns him, as sentenced
  there (from that district's own population where it has one: ``BlockOutcome.arrested_*``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.model.judge import POSITION_CATEGORIES
from sim.model.policy import DECLINED_OUTCOMES

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
_DECLINED = len(DECLINED_OUTCOMES)
#: The USSC's "within range" position category (overall validation view, issue 12).
_WITHIN_RANGE = POSITION_CATEGORIES.index("within_range")


def district_pairs(districts: int) -> list[tuple[int, int]]:
    """Every district index pair (a, b), a < b, in the order tallies and reports use (a
    scenario may tally fewer: :attr:`sim.model.scenario.Scenario.district_pairs`)."""
    return list(combinations(range(districts), 2))


class BlockOutcome(NamedTuple):
    """Per-defendant results of one block, every district (arrays (n,) or (n, D))."""

    prosecuted: np.ndarray  # (n, D) bool
    months: np.ndarray  # (n, D) int32, 0 where not prosecuted
    position_category: np.ndarray  # (n, D) int8
    offer: np.ndarray  # (n, D) int8, -1 without a deal
    final_min_months: np.ndarray  # (n, D) int32, applicable guideline minimum after § 5G1.1
    criminal_history_category: np.ndarray  # (n,) 1-6
    enhancement_levels: np.ndarray  # (n,) § 2L1.2 specific offense characteristics, total
    arrest_district: np.ndarray  # (n,) index into the scenario's districts
    #: (n, D) int8: -1 prosecuted, else the index into DECLINED_OUTCOMES; None: every declined
    #: defendant removed administratively.
    declined_outcome: np.ndarray | None = None
    #: (n, D) int16: the § 1325 misdemeanor months of a declined defendant; None: 0.
    declined_months: np.ndarray | None = None
    # The as-arrested view (n,): defendant i as sentenced in his arrest district. Where no
    # district has a population of its own these are column ``[i, arrest_district[i]]`` of the
    # arrays above (None: taken from there); where his district has one, its own defendant i
    # (the same keyed uniforms, that district's population parameters: sim.run.pipeline).
    arrested_prosecuted: np.ndarray | None = None  # bool
    arrested_months: np.ndarray | None = None  # int32, 0 where not prosecuted
    arrested_position: np.ndarray | None = None  # int8
    arrested_minimum: np.ndarray | None = None  # int32, the guideline minimum after § 5G1.1
    arrested_declined_outcome: np.ndarray | None = None  # int8, -1 prosecuted
    arrested_declined_months: np.ndarray | None = None  # int16
    arrested_enhancement: np.ndarray | None = None  # § 2L1.2 levels applied to him

    def with_as_arrested(self) -> BlockOutcome:
        """This outcome with the declination and as-arrested arrays filled where None: a
        declined defendant removed administratively (0 months), and the as-arrested view read
        from column ``[i, arrest_district[i]]`` (a defendant arrested outside the districts
        reads column 0; the tally ignores him)."""
        outcome = self
        if outcome.declined_outcome is None or outcome.declined_months is None:
            outcome = outcome._replace(
                declined_outcome=np.where(outcome.prosecuted, -1, 0).astype(np.int8),
                declined_months=np.zeros(outcome.months.shape, np.int16),
            )
        n, districts = outcome.months.shape
        rows = np.arange(n)
        column = np.where(
            (outcome.arrest_district >= 0) & (outcome.arrest_district < districts),
            outcome.arrest_district,
            0,
        )
        own = {
            "arrested_prosecuted": outcome.prosecuted,
            "arrested_months": outcome.months,
            "arrested_position": outcome.position_category,
            "arrested_minimum": outcome.final_min_months,
            "arrested_declined_outcome": outcome.declined_outcome,
            "arrested_declined_months": outcome.declined_months,
        }
        missing = {
            name: full[rows, column] for name, full in own.items() if getattr(outcome, name) is None
        }
        if outcome.arrested_enhancement is None:
            missing["arrested_enhancement"] = outcome.enhancement_levels
        return outcome._replace(**missing) if missing else outcome


class StudyTally(NamedTuple):
    """Integer tallies per replication (axis 0). D districts, P pairs, M = MAX_MONTHS.

    Counterfactual, among prosecuted: ``counterfactual_prosecuted`` (R, D),
    ``counterfactual_histogram`` (R, D, M+1), ``counterfactual_positions`` (R, D, 5),
    ``counterfactual_percent`` / ``counterfactual_percent_count`` (R, D): Σ of 10⁹ x percent
    difference from the guideline minimum, over sentences with a minimum above 0.

    As-arrested: the same with ``as_arrested_`` for defendants arrested in the district (read
    from ``BlockOutcome.arrested_*``: a district's own population where it has one), plus
    ``as_arrested_defendants`` (R, D) and ``selected_sums`` (R, D, D): Σ over defendants of the
    common population arrested and sentenced in a of their counterfactual Y in b (meaningless
    for a district with a population of its own: selection vs policy is undefined there).

    Balanced design (Y, declined = 0): ``pair_difference`` (R, P, 2M+1) histogram of Y_a − Y_b + M;
    ``pair_both_difference`` the same among defendants prosecuted in both, with
    ``pair_both_sums`` (R, P, 2) = (Σ Y_a, Σ Y_b) over them; ``range_histogram`` /
    ``range_both_histogram`` (R, M+1) of max_d Y − min_d Y (all / prosecuted everywhere);
    ``defendant_total_squares`` (R,) Σ_i (Σ_d Y_id)²; ``cell_counts`` / ``cell_totals``
    (R, 6, ENHANCEMENT_LEVELS) defendants and Σ_i Σ_d Y_id by category and enhancement;
    ``pair_cell_differences`` (R, P, 6, ENHANCEMENT_LEVELS) Σ (Y_a − Y_b) by the same cells (the
    Chapter Two offense level is 8 + the enhancement).

    Declination outcomes (issue 12), among declined defendants: ``counterfactual_declined``
    (R, D, 3) counts by :data:`sim.model.policy.DECLINED_OUTCOMES`,
    ``counterfactual_declined_months`` (R, D) Σ § 1325 months; ``as_arrested_declined`` and
    ``as_arrested_declined_months`` the same for defendants arrested in the district.
    Overall validation view (as-arrested, every district pooled), by § 2L1.2(b) levels applied
    (R, ENHANCEMENT_LEVELS): ``as_arrested_enhancement_counts`` sentenced defendants,
    ``as_arrested_enhancement_months`` Σ of their months, ``as_arrested_enhancement_within``
    those sentenced within the range (position category ``within_range``).
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
    # declination outcomes (issue 12)
    counterfactual_declined: np.ndarray
    counterfactual_declined_months: np.ndarray
    as_arrested_declined: np.ndarray
    as_arrested_declined_months: np.ndarray
    # overall validation view (issue 12)
    as_arrested_enhancement_counts: np.ndarray
    as_arrested_enhancement_months: np.ndarray
    as_arrested_enhancement_within: np.ndarray

    @classmethod
    def empty(cls, replications: int, districts: int, pairs: int | None = None) -> StudyTally:
        """Zeroed tallies for ``replications`` of ``districts`` and ``pairs`` district pairs
        (every pair when None)."""
        shapes = cls._shapes(replications, districts, pairs)
        return cls(**{name: np.zeros(shape, dtype=np.int64) for name, shape in shapes.items()})

    @classmethod
    def nbytes_for(cls, replications: int, districts: int, pairs: int | None = None) -> int:
        """Bytes :meth:`empty` would allocate, computed without allocating."""
        shapes = cls._shapes(replications, districts, pairs)
        return 8 * sum(math.prod(shape) for shape in shapes.values())

    @staticmethod
    def _shapes(replications: int, districts: int, pairs: int | None) -> dict[str, tuple]:
        p = len(district_pairs(districts)) if pairs is None else pairs
        r, d = replications, districts
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
            # declination outcomes (issue 12)
            "counterfactual_declined": (r, d, _DECLINED),
            "counterfactual_declined_months": (r, d),
            "as_arrested_declined": (r, d, _DECLINED),
            "as_arrested_declined_months": (r, d),
            # overall validation view (issue 12)
            "as_arrested_enhancement_counts": (r, ENHANCEMENT_LEVELS),
            "as_arrested_enhancement_months": (r, ENHANCEMENT_LEVELS),
            "as_arrested_enhancement_within": (r, ENHANCEMENT_LEVELS),
        }
        return shapes

    @property
    def replications(self) -> int:
        return len(self.defendants)

    def add(self, replication: int, part: StudyTally, row: int = 0) -> None:
        """Add row ``row`` of ``part`` (a one-replication tally from :func:`tally_block`, or a
        task's tally of several) into ``replication``."""
        for mine, theirs in zip(self, part, strict=True):
            mine[replication] += theirs[row]

    def extended(self, replications: int) -> StudyTally:
        """A copy with room for ``replications`` (the existing ones kept first)."""
        grown = StudyTally.empty(
            replications, self.counterfactual_prosecuted.shape[1], self.pair_difference.shape[1]
        )
        for mine, theirs in zip(grown, self, strict=True):
            mine[: self.replications] = theirs
        return grown


#: Up to this many districts the tally kernel is compiled for the exact count (loops unrolled);
#: above it one kernel serves every count, so a 94-district scenario compiles once.
_UNROLLED_DISTRICTS = 8

# Kernel status codes: the first problem found in a block (0 = none).
_OK, _TOO_LONG, _NEGATIVE_MONTHS, _BAD_POSITION, _BAD_CATEGORY, _BAD_DECLINED = range(6)


@njit(cache=True)
def _percent_scaled(months: int, minimum: int) -> int:
    """round(10⁹ x 100 (m − min) / min), min > 0, in the float64 operation order numpy used."""
    m, low = np.float64(months), np.float64(minimum)
    return np.int64(np.rint((m - low) / low * 100.0 * PERCENT_SCALE))


@njit(cache=True)
def _tally_kernel(district_token, pairs, block, t):
    """Reduce a block into zeroed one-replication tallies (index 0) in one pass; a status code.

    ``district_token`` has length D and ``pairs`` holds the (a, b) district pairs tallied. A
    tuple's length is a compile-time constant, so for a few districts each count gets its own
    compiled kernel with the district and pair loops unrolled (twice as fast); arrays give one
    kernel for any count.
    Stops at the first value that would fall outside a tally (status != _OK); the caller then
    discards the tallies.
    """
    districts = len(district_token)
    n = block.months.shape[0]
    y = np.empty(districts, np.int64)  # one defendant's months, declined = 0
    scaled = np.empty(districts, np.int64)  # his percent differences, where the minimum > 0
    # Scratch tallies folded into the outputs after the loop, split so that each defendant
    # adds 1 to one bin: [prosecuted in both?, pair, Y_a − Y_b + M], [everywhere?, range].
    differences = np.zeros((2, t.pair_difference.shape[1], 2 * MAX_MONTHS + 1), np.int64)
    ranges = np.zeros((2, MAX_MONTHS + 1), np.int64)
    # Σ Y_d by (category, enhancement) cell.
    cell_sums = np.zeros((6, ENHANCEMENT_LEVELS, districts), np.int64)
    squares = 0
    for i in range(n):
        category = np.int64(block.criminal_history_category[i]) - 1
        if category < 0 or category >= 6:
            return _BAD_CATEGORY
        everywhere = True
        total = 0
        for d in range(districts):
            m = np.int64(block.months[i, d])
            if m > MAX_MONTHS:
                return _TOO_LONG
            if not block.prosecuted[i, d]:
                y[d] = 0
                everywhere = False
                # declination outcomes (issue 12)
                fate = np.int64(block.declined_outcome[i, d])
                if fate < 0 or fate >= _DECLINED:
                    return _BAD_DECLINED
                t.counterfactual_declined[0, d, fate] += 1
                t.counterfactual_declined_months[0, d] += block.declined_months[i, d]
                continue
            if m < 0:
                return _NEGATIVE_MONTHS
            position = np.int64(block.position_category[i, d])
            if position < 0 or position >= t.counterfactual_positions.shape[2]:
                return _BAD_POSITION
            y[d] = m
            total += m
            t.counterfactual_histogram[0, d, m] += 1
            t.counterfactual_positions[0, d, position] += 1
            minimum = np.int64(block.final_min_months[i, d])
            if minimum > 0:  # the percent difference needs a guideline minimum above 0
                scaled[d] = _percent_scaled(m, minimum)
                t.counterfactual_percent[0, d] += scaled[d]
                t.counterfactual_percent_count[0, d] += 1

        # The as-arrested view: the defendant as sentenced in his arrest district (his own
        # record there when the district has a population of its own: BlockOutcome).
        arrest = np.int64(block.arrest_district[i])
        arrested = 0 <= arrest < districts and block.arrested_prosecuted[i]
        arrested_months = np.int64(block.arrested_months[i])
        if 0 <= arrest < districts:
            t.as_arrested_defendants[0, arrest] += 1
            if arrested:
                if arrested_months > MAX_MONTHS:
                    return _TOO_LONG
                if arrested_months < 0:
                    return _NEGATIVE_MONTHS
                position = np.int64(block.arrested_position[i])
                if position < 0 or position >= t.as_arrested_positions.shape[2]:
                    return _BAD_POSITION
                t.as_arrested_histogram[0, arrest, arrested_months] += 1
                t.as_arrested_positions[0, arrest, position] += 1
                minimum = np.int64(block.arrested_minimum[i])
                if minimum > 0:
                    t.as_arrested_percent[0, arrest] += _percent_scaled(arrested_months, minimum)
                    t.as_arrested_percent_count[0, arrest] += 1
            else:  # declination outcomes (issue 12)
                fate = np.int64(block.arrested_declined_outcome[i])
                if fate < 0 or fate >= _DECLINED:
                    return _BAD_DECLINED
                t.as_arrested_declined[0, arrest, fate] += 1
                t.as_arrested_declined_months[0, arrest] += block.arrested_declined_months[i]
            # Selection vs policy: the counterfactual months, in every district, of those the
            # arrest district sentenced (undefined where it has a population of its own).
            if block.prosecuted[i, arrest]:
                for b in range(districts):
                    t.selected_sums[0, arrest, b] += y[b]

        for p in range(len(pairs)):
            a, b = pairs[p][0], pairs[p][1]
            both = np.int64(block.prosecuted[i, a] & block.prosecuted[i, b])
            differences[both, p, y[a] - y[b] + MAX_MONTHS] += 1
            if both:  # Σ Y_a and Σ Y_b over those prosecuted in both
                t.pair_both_sums[0, p, 0] += y[a]
                t.pair_both_sums[0, p, 1] += y[b]

        low, high = y[0], y[0]
        for d in range(1, districts):
            low, high = min(low, y[d]), max(high, y[d])
        ranges[np.int64(everywhere), high - low] += 1

        squares += total * total
        # § 2L1.2(b) levels, clipped to the tallied 0-48.
        enhancement = min(max(np.int64(block.enhancement_levels[i]), 0), ENHANCEMENT_LEVELS - 1)
        t.cell_counts[0, category, enhancement] += 1
        for d in range(districts):
            cell_sums[category, enhancement, d] += y[d]

        # overall validation view (issue 12): the as-arrested sentence by § 2L1.2(b) levels.
        if arrested:
            levels = np.int64(block.arrested_enhancement[i])
            levels = min(max(levels, 0), ENHANCEMENT_LEVELS - 1)
            t.as_arrested_enhancement_counts[0, levels] += 1
            t.as_arrested_enhancement_months[0, levels] += arrested_months
            if block.arrested_position[i] == _WITHIN_RANGE:
                t.as_arrested_enhancement_within[0, levels] += 1

    t.defendant_total_squares[0] = squares
    t.range_both_histogram[0] = ranges[1]
    t.range_histogram[0] = ranges[0] + ranges[1]
    t.pair_both_difference[0] = differences[1]
    t.pair_difference[0] = differences[0] + differences[1]
    # The histograms count exactly the prosecuted defendants.
    for d in range(districts):
        for m in range(MAX_MONTHS + 1):
            t.counterfactual_prosecuted[0, d] += t.counterfactual_histogram[0, d, m]
            t.as_arrested_prosecuted[0, d] += t.as_arrested_histogram[0, d, m]
    for p in range(len(pairs)):
        a, b = pairs[p][0], pairs[p][1]
        t.pair_cell_differences[0, p] = cell_sums[:, :, a] - cell_sums[:, :, b]
    for d in range(districts):
        t.cell_totals[0] += cell_sums[:, :, d]
    return _OK


_PROBLEMS = {
    _NEGATIVE_MONTHS: "a prosecuted defendant has negative months",
    _BAD_POSITION: f"a position category is outside 0-{_CATEGORIES - 1}",
    _BAD_CATEGORY: "a criminal history category is outside 1-6",
    _BAD_DECLINED: f"a declined defendant's outcome is outside 0-{_DECLINED - 1}",
}


def tally_block(
    outcome: BlockOutcome, pairs: Sequence[tuple[int, int]] | None = None
) -> StudyTally:
    """Reduce a block's per-defendant outcomes to a one-replication :class:`StudyTally`.

    Parameters
    ----------
    outcome : BlockOutcome
    pairs : sequence of (int, int), optional
        The district index pairs whose paired gaps are tallied; every pair a < b by default.
    """
    n, districts = outcome.months.shape
    if districts == 0:
        raise ValueError("a block needs at least one district")
    pairs = district_pairs(districts) if pairs is None else pairs
    outcome = outcome.with_as_arrested()
    t = StudyTally.empty(1, districts, len(pairs))
    t.defendants[0] = n
    small = districts <= _UNROLLED_DISTRICTS
    # Every pair of a few districts: a tuple, unrolled like the districts; any other choice of
    # pairs an array, so that the kernels compiled stay few (one per count, not per subset).
    unrolled = small and len(pairs) > 0 and list(pairs) == district_pairs(districts)
    status = _tally_kernel(
        (0,) * districts if small else np.zeros(districts, np.int8),
        tuple(pairs) if unrolled else np.array(pairs, dtype=np.int64).reshape(-1, 2),
        outcome,
        t,
    )
    if status != _OK:
        # A sentence too long is reported first, wherever the kernel stopped.
        longest = max(outcome.months.max(initial=0), outcome.arrested_months.max(initial=0))
        if longest > MAX_MONTHS:
            raise ValueError(f"a sentence exceeds {MAX_MONTHS} months; raise MAX_MONTHS")
        raise ValueError(_PROBLEMS[status])
    return t

"""Plain-numpy oracle for :func:`sim.tally.tally_block` (test-only).

The vectorised numpy reduction that ``sim.tally`` used before its numba kernel, kept verbatim so
the tests can compare the kernel with an independent implementation field by field. It is slow
(one pass per district and pair, many temporaries) and is never used by the simulator.
"""

from __future__ import annotations

import numpy as np

from sim.tally import (
    ENHANCEMENT_LEVELS,
    MAX_MONTHS,
    PERCENT_SCALE,
    BlockOutcome,
    StudyTally,
    district_pairs,
)

_CATEGORIES = 5  # len(sim.sentencing.POSITION_CATEGORIES)


def _percent_sum(months: np.ndarray, minimum: np.ndarray) -> tuple[int, int]:
    """Σ round(10⁹ x 100 (m − min) / min) over sentences with min > 0, and their count."""
    positive = minimum > 0
    if not positive.any():
        return 0, 0
    m, low = months[positive].astype(np.float64), minimum[positive].astype(np.float64)
    scaled = np.rint((m - low) / low * 100.0 * PERCENT_SCALE).astype(np.int64)
    return int(scaled.sum()), int(positive.sum())


def oracle_tally_block(outcome: BlockOutcome) -> StudyTally:
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

"""The overall validation view's tallies (issue 12): as-arrested sentences by § 2L1.2(b) levels,
every district pooled; a hand-computed block and the definitions on random blocks."""

import numpy as np
from hypothesis import given, settings
from test_tally import block_outcomes

from sim.model.judge import POSITION_CATEGORIES
from sim.run.tally import ENHANCEMENT_LEVELS, BlockOutcome, tally_block

WITHIN = POSITION_CATEGORIES.index("within_range")


def test_a_hand_computed_block():
    # Three defendants, two districts (A, B).
    # 0: arrested in A, 16 levels, 30 months in A within the range (12 in B: not his district).
    # 1: arrested in B, 16 levels, 5 months in B, below the range (§ 5K3.1).
    # 2: arrested in A, 4 levels, declined in A (7 months on file must be ignored).
    outcome = BlockOutcome(
        prosecuted=np.array([[True, True], [True, True], [False, True]]),
        months=np.array([[30, 12], [40, 5], [7, 9]], np.int32),
        position_category=np.array([[WITHIN, WITHIN], [WITHIN, 1], [WITHIN, WITHIN]], np.int8),
        offer=np.full((3, 2), -1, np.int8),
        final_min_months=np.array([[30, 10], [40, 8], [6, 9]], np.int32),
        criminal_history_category=np.array([3, 1, 2], np.int8),
        enhancement_levels=np.array([16, 16, 4]),
        arrest_district=np.array([0, 1, 0]),
    )
    t = tally_block(outcome)
    counts = np.zeros(ENHANCEMENT_LEVELS, np.int64)
    counts[16] = 2
    months = np.zeros(ENHANCEMENT_LEVELS, np.int64)
    months[16] = 35
    within = np.zeros(ENHANCEMENT_LEVELS, np.int64)
    within[16] = 1
    assert t.as_arrested_enhancement_counts[0].tolist() == counts.tolist()
    assert t.as_arrested_enhancement_months[0].tolist() == months.tolist()
    assert t.as_arrested_enhancement_within[0].tolist() == within.tolist()


@settings(deadline=None)
@given(block_outcomes())
def test_the_overall_tallies_follow_their_definitions(outcome):
    t = tally_block(outcome)
    districts = outcome.months.shape[1]
    arrest = outcome.arrest_district
    here = (arrest >= 0) & (arrest < districts)
    rows = np.flatnonzero(here)
    sentenced = rows[outcome.prosecuted[rows, arrest[rows]]]
    d = arrest[sentenced]
    level = np.clip(outcome.enhancement_levels[sentenced], 0, ENHANCEMENT_LEVELS - 1)
    months = outcome.months[sentenced, d].astype(np.int64)
    within = outcome.position_category[sentenced, d] == WITHIN
    counts = np.bincount(level, minlength=ENHANCEMENT_LEVELS)
    assert t.as_arrested_enhancement_counts[0].tolist() == counts.tolist()
    sums = np.bincount(level, weights=months, minlength=ENHANCEMENT_LEVELS)
    assert t.as_arrested_enhancement_months[0].tolist() == sums.astype(np.int64).tolist()
    inside = np.bincount(level[within], minlength=ENHANCEMENT_LEVELS)
    assert t.as_arrested_enhancement_within[0].tolist() == inside.tolist()
    # The pooled as-arrested histograms hold the same sentences.
    assert t.as_arrested_enhancement_counts[0].sum() == t.as_arrested_prosecuted[0].sum()
    histogram = t.as_arrested_histogram[0].sum(axis=0)
    total = (histogram * np.arange(len(histogram))).sum()
    assert t.as_arrested_enhancement_months[0].sum() == total

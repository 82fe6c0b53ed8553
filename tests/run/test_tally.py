"""The tally kernel: a hand-computed block, the definitions of its sums, and additivity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from profiles import examples

from sim.run.tally import MAX_MONTHS, BlockOutcome, StudyTally, district_pairs, tally_block


@st.composite
def block_outcomes(draw, max_defendants=300):
    """Blocks in the runner's dtypes; months are drawn apart from ``prosecuted`` (so declined
    defendants may carry months, which every tally must ignore), enhancements reach past the
    tallied 0-48 and arrest districts past the scenario's."""
    # 11 districts take the kernel compiled for any count; 1-5 the unrolled ones.
    districts = draw(st.one_of(st.integers(1, 5), st.just(11)))
    n = draw(st.integers(0, max_defendants))

    def grid(dtype, low, high, shape=(n, districts)):
        return draw(arrays(dtype, shape, elements=st.integers(low, high)))

    prosecuted = draw(arrays(np.bool_, (n, districts)))
    return BlockOutcome(
        prosecuted=prosecuted,
        months=grid(np.int32, 0, MAX_MONTHS),
        position_category=grid(np.int8, 0, 4),
        offer=grid(np.int8, -1, 3),
        final_min_months=grid(np.int32, 0, 2 * MAX_MONTHS),
        criminal_history_category=grid(np.int8, 1, 6, (n,)),
        enhancement_levels=grid(np.int64, -4, 60, (n,)),
        arrest_district=grid(np.int64, -1, districts, (n,)),
        declined_outcome=np.where(prosecuted, -1, grid(np.int8, 0, 2)).astype(np.int8),
        declined_months=grid(np.int16, 0, 6),
    )


def assert_same_tally(got: StudyTally, expected: StudyTally) -> None:
    for name, a, b in zip(StudyTally._fields, got, expected, strict=True):
        assert a.dtype == b.dtype, name
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@settings(deadline=None)
@given(block_outcomes())
def test_tallies_follow_their_definitions(outcome):
    t = tally_block(outcome)
    y = np.where(outcome.prosecuted, outcome.months, 0).astype(np.int64)  # declined = 0
    n, districts = y.shape
    assert t.defendants[0] == n
    assert t.counterfactual_prosecuted[0].tolist() == outcome.prosecuted.sum(axis=0).tolist()
    for d in range(districts):
        months = outcome.months[outcome.prosecuted[:, d], d]
        assert (
            t.counterfactual_histogram[0, d].tolist()
            == np.bincount(months, minlength=MAX_MONTHS + 1).tolist()
        )
    assert t.defendant_total_squares[0] == int((y.sum(axis=1) ** 2).sum())
    spread = y.max(axis=1) - y.min(axis=1)
    assert t.range_histogram[0].tolist() == np.bincount(spread, minlength=MAX_MONTHS + 1).tolist()
    assert (t.pair_difference[0].sum(axis=1) == n).all()
    arrested = (outcome.arrest_district[:, None] == np.arange(districts)).sum(axis=0)
    assert t.as_arrested_defendants[0].tolist() == arrested.tolist()
    assert t.cell_counts[0].sum() == n
    assert t.cell_totals[0].sum() == y.sum()
    # Declination outcomes: every declined defendant counted once, by his outcome.
    declined = ~outcome.prosecuted
    for d in range(districts):
        fates = outcome.declined_outcome[declined[:, d], d]
        assert t.counterfactual_declined[0, d].tolist() == np.bincount(fates, minlength=3).tolist()
        assert (
            t.counterfactual_declined_months[0, d]
            == outcome.declined_months[declined[:, d], d].sum()
        )
        mine = (outcome.arrest_district == d) & declined[:, d]
        fates = outcome.declined_outcome[mine, d]
        assert t.as_arrested_declined[0, d].tolist() == np.bincount(fates, minlength=3).tolist()
        assert t.as_arrested_declined_months[0, d] == outcome.declined_months[mine, d].sum()
    assert (t.counterfactual_declined[0].sum(axis=-1) + t.counterfactual_prosecuted[0] == n).all()


def test_a_hand_computed_block():
    # Two defendants, two districts. Defendant 0: 30 months in A, 12 in B, arrested in A, category
    # III, 8 levels. Defendant 1: declined in A, 5 months in B, arrested in B, category I, 0 levels.
    outcome = BlockOutcome(
        prosecuted=np.array([[True, True], [False, True]]),
        months=np.array([[30, 12], [7, 5]], np.int32),
        position_category=np.zeros((2, 2), np.int8),
        offer=np.full((2, 2), -1, np.int8),
        final_min_months=np.array([[30, 10], [0, 4]], np.int32),
        criminal_history_category=np.array([3, 1], np.int8),
        enhancement_levels=np.array([8, 0]),
        arrest_district=np.array([0, 1]),
    )
    t = tally_block(outcome)
    assert t.counterfactual_prosecuted[0].tolist() == [1, 2]
    # Y (declined = 0): [30, 12] and [0, 5]; pair differences A - B: 18 and -5.
    assert np.flatnonzero(t.pair_difference[0, 0]).tolist() == [MAX_MONTHS - 5, MAX_MONTHS + 18]
    assert np.flatnonzero(t.pair_both_difference[0, 0]).tolist() == [MAX_MONTHS + 18]
    assert t.pair_both_sums[0, 0].tolist() == [30, 12]
    assert t.defendant_total_squares[0] == 42**2 + 5**2
    assert t.selected_sums[0].tolist() == [[30, 12], [0, 5]]
    # Percent from the guideline minimum: A 0%, B (12 - 10) / 10 = 20% and (5 - 4) / 4 = 25%.
    assert t.counterfactual_percent[0].tolist() == [0, 45 * 10**9]
    assert t.counterfactual_percent_count[0].tolist() == [1, 2]
    assert t.cell_counts[0, 2, 8] == 1
    assert t.cell_counts[0, 0, 0] == 1
    assert t.pair_cell_differences[0, 0, 2, 8] == 18
    assert t.pair_cell_differences[0, 0, 0, 0] == -5
    # Without declination outcomes every declined defendant is removed administratively.
    assert t.counterfactual_declined[0].tolist() == [[1, 0, 0], [0, 0, 0]]
    assert t.as_arrested_declined[0].tolist() == [[0, 0, 0], [0, 0, 0]]


def test_declination_outcomes_by_hand():
    # Three defendants, two districts: A declines all three (removal, § 1325 with 2 months,
    # referral), B prosecutes the first and declines the others (§ 1325 2 months twice). Arrested
    # in A, A and B.
    outcome = BlockOutcome(
        prosecuted=np.array([[False, True], [False, False], [False, False]]),
        months=np.zeros((3, 2), np.int32),
        position_category=np.zeros((3, 2), np.int8),
        offer=np.full((3, 2), -1, np.int8),
        final_min_months=np.zeros((3, 2), np.int32),
        criminal_history_category=np.array([1, 1, 1], np.int8),
        enhancement_levels=np.array([0, 0, 0]),
        arrest_district=np.array([0, 0, 1]),
        declined_outcome=np.array([[0, -1], [2, 2], [1, 2]], np.int8),
        declined_months=np.array([[0, 0], [2, 2], [0, 2]], np.int16),
    )
    t = tally_block(outcome)
    assert t.counterfactual_declined[0].tolist() == [[1, 1, 1], [0, 0, 2]]
    assert t.counterfactual_declined_months[0].tolist() == [2, 4]
    assert t.as_arrested_declined[0].tolist() == [[1, 0, 1], [0, 0, 1]]
    assert t.as_arrested_declined_months[0].tolist() == [2, 2]


def test_a_declined_defendant_without_an_outcome_is_an_error():
    outcome = _one_defendant(
        prosecuted=np.array([[False, True]]),
        declined_outcome=np.array([[-1, -1]], np.int8),
        declined_months=np.zeros((1, 2), np.int16),
    )
    with pytest.raises(ValueError, match="declined defendant's outcome"):
        tally_block(outcome)


@examples(50)
@given(block_outcomes(), st.data())
def test_tallies_of_two_parts_add_up_to_the_whole(outcome, data):
    n = len(outcome.criminal_history_category)
    cut = data.draw(st.integers(0, n))
    districts = outcome.months.shape[1]
    total = StudyTally.empty(2, districts)
    for part in (slice(0, cut), slice(cut, n)):
        piece = BlockOutcome(*(None if column is None else column[part] for column in outcome))
        total.add(1, tally_block(piece))
    whole = StudyTally.empty(2, districts)
    whole.add(1, tally_block(outcome))
    assert_same_tally(total, whole)


def _one_defendant(**changes):
    values = {
        "prosecuted": np.ones((1, 2), bool),
        "months": np.array([[30, 12]], np.int32),
        "position_category": np.zeros((1, 2), np.int8),
        "offer": np.full((1, 2), -1, np.int8),
        "final_min_months": np.array([[30, 10]], np.int32),
        "criminal_history_category": np.array([3], np.int8),
        "enhancement_levels": np.array([8]),
        "arrest_district": np.array([0]),
    }
    return BlockOutcome(**{**values, **changes})


@pytest.mark.parametrize(
    "prosecuted", [[[True, True]], [[True, False]]], ids=["prosecuted", "declined"]
)
def test_a_sentence_above_max_months_raises(prosecuted):
    outcome = _one_defendant(
        prosecuted=np.array(prosecuted), months=np.array([[40, MAX_MONTHS + 1]], np.int32)
    )
    with pytest.raises(ValueError, match="MAX_MONTHS"):
        tally_block(outcome)


@pytest.mark.parametrize(
    "changes",
    [
        {"months": np.array([[-1, 12]], np.int32)},
        {"position_category": np.array([[0, 5]], np.int8)},
        {"position_category": np.array([[-1, 0]], np.int8)},
        {"criminal_history_category": np.array([0], np.int8)},
        {"criminal_history_category": np.array([7], np.int8)},
    ],
    ids=["negative-months", "position-5", "position-minus-1", "category-0", "category-7"],
)
def test_values_outside_the_tallies_raise(changes):
    with pytest.raises(ValueError, match=r"outside|negative"):
        tally_block(_one_defendant(**changes))


@examples(50)
@given(block_outcomes(), st.data())
def test_a_subset_of_pairs_tallies_exactly_those_pairs(outcome, data):
    # A scenario may tally fewer pairs (study.pairs: reference); each tallied pair's figures
    # must equal that pair's figures in the every-pair tally.
    districts = outcome.months.shape[1]
    every = district_pairs(districts)
    chosen = data.draw(st.lists(st.sampled_from(every), unique=True)) if every else []
    whole, subset = tally_block(outcome), tally_block(outcome, chosen)
    for p, pair in enumerate(chosen):
        q = every.index(pair)
        for name in (
            "pair_difference",
            "pair_both_difference",
            "pair_both_sums",
            "pair_cell_differences",
        ):
            np.testing.assert_array_equal(
                getattr(subset, name)[:, p], getattr(whole, name)[:, q], err_msg=name
            )
    for name in StudyTally._fields:
        if not name.startswith("pair_"):
            np.testing.assert_array_equal(getattr(subset, name), getattr(whole, name), name)

"""The tally kernel against the plain-numpy oracle (tests/tally_oracle.py), field by field."""

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tally_oracle import oracle_tally_block

from sim.config import load_scenario
from sim.runner import simulate_block
from sim.tally import MAX_MONTHS, BlockOutcome, StudyTally, tally_block


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

    return BlockOutcome(
        prosecuted=draw(arrays(np.bool_, (n, districts))),
        months=grid(np.int32, 0, MAX_MONTHS),
        position_category=grid(np.int8, 0, 4),
        offer=grid(np.int8, -1, 3),
        final_min_months=grid(np.int32, 0, 2 * MAX_MONTHS),
        criminal_history_category=grid(np.int8, 1, 6, (n,)),
        enhancement_levels=grid(np.int64, -4, 60, (n,)),
        arrest_district=grid(np.int64, -1, districts, (n,)),
    )


def assert_same_tally(got: StudyTally, expected: StudyTally) -> None:
    for field in fields(StudyTally):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a.dtype == b.dtype, field.name
        assert a.shape == b.shape, field.name
        np.testing.assert_array_equal(a, b, err_msg=field.name)


@settings(deadline=None)
@given(block_outcomes())
def test_kernel_matches_the_numpy_oracle(outcome):
    assert_same_tally(tally_block(outcome), oracle_tally_block(outcome))


@settings(deadline=None, max_examples=50)
@given(block_outcomes(), st.data())
def test_tallies_of_two_parts_add_up_to_the_whole(outcome, data):
    n = len(outcome.criminal_history_category)
    cut = data.draw(st.integers(0, n))
    districts = outcome.months.shape[1]
    total = StudyTally.empty(2, districts)
    for part in (slice(0, cut), slice(cut, n)):
        piece = BlockOutcome(**{f.name: getattr(outcome, f.name)[part] for f in fields(outcome)})
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
    for tally in (tally_block, oracle_tally_block):
        with pytest.raises(ValueError, match="MAX_MONTHS"):
            tally(outcome)


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
def test_values_outside_the_tallies_raise_like_the_oracle(changes):
    outcome = _one_defendant(**changes)
    for tally in (tally_block, oracle_tally_block):
        with pytest.raises(ValueError):  # noqa: PT011 - the oracle's messages come from numpy
            tally(outcome)


def test_the_default_scenario_blocks_tally_like_the_oracle():
    scenario, _ = load_scenario(None, {"defendants": 6_000})
    for replication, (start, stop) in enumerate([(0, 6_000), (1_000, 4_000)]):
        outcome = simulate_block(scenario, replication, start, stop)
        assert_same_tally(tally_block(outcome), oracle_tally_block(outcome))

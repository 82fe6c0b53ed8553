"""Scenario-level settings: which district pairs are tallied."""

import copy
import itertools

import pytest

from sim.model.districts import DISTRICTS
from sim.model.scenario import (
    ALL_PAIRS_UP_TO,
    DEFAULT_SCENARIO,
    Scenario,
    resolve_scenario_mapping,
)

BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)


def with_districts(count, pairs="auto"):
    data = copy.deepcopy(BASE)
    template = data["districts"]["CAS"]
    data["districts"] = {
        code: {**copy.deepcopy(template), "name": name}
        for code, name in itertools.islice(DISTRICTS.items(), count)
    }
    data["study"]["pairs"] = pairs
    return Scenario.model_validate(data)


@pytest.mark.parametrize("count", [1, 2, 4, ALL_PAIRS_UP_TO])
def test_auto_tallies_every_pair_up_to_the_limit(count):
    pairs = with_districts(count).district_pairs
    assert pairs == tuple(itertools.combinations(range(count), 2))
    assert len(pairs) == count * (count - 1) // 2


@pytest.mark.parametrize("count", [ALL_PAIRS_UP_TO + 1, 94])
def test_auto_tallies_each_district_against_the_first_beyond_it(count):
    assert with_districts(count).district_pairs == tuple((0, b) for b in range(1, count))


def test_all_and_reference_are_what_they_say_whatever_the_count():
    assert len(with_districts(12, "all").district_pairs) == 66
    assert with_districts(3, "reference").district_pairs == ((0, 1), (0, 2))

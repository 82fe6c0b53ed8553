"""Per-district populations (issue 12): a district's own as-arrested defendants, drawn from the
same keyed uniforms under its own population parameters, change that district's as-arrested
figures and nothing else."""

import copy
import json

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from typer.testing import CliRunner

from sim.analysis.results import analyse
from sim.cli import app
from sim.model.scenario import DEFAULT_SCENARIO, Scenario, resolve_scenario_mapping
from sim.run import pipeline
from sim.run.pipeline import Draws, run_steps
from sim.run.runner import run_study, simulate_block
from sim.run.streams import RandomBlock
from sim.run.tally import ENHANCEMENT_LEVELS, MAX_MONTHS, BlockOutcome, StudyTally, tally_block

BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)
CAC = 0  # the default scenario's first district
SHARE = {
    "unit": "share of defendants",
    "source": "test: every defendant an aggravated felon",
    "assumption": True,
}
#: A population of aggravated felons only: every defendant was removed after an aggravated
#: felony (the generator's construction, step 2), so every one is "deported after a felony".
FELONS = {
    "prior_aggravated_felony_share": {"value": 1.0, **SHARE},
    "clean_record_share": {"value": 0.0, **SHARE},
}
ARRESTED = [name for name in BlockOutcome._fields if name.startswith("arrested_")]


def data_with(population=None, code="CAC", **study):
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": 2, "defendants": 6_000, "profile_draws": 50, **study})
    if population is not None:
        data["districts"][code]["population"] = copy.deepcopy(population)
    return data


def build(data):
    return Scenario.model_validate(data)


def as_arrested_fields(tally, d):
    """District ``d``'s as-arrested tallies (every replication)."""
    return {
        name: getattr(tally, name)[:, d]
        for name in StudyTally._fields
        if name.startswith("as_arrested_") and "enhancement" not in name
    }


# --- the tally reads the as-arrested view from its own arrays ---------------------------------


def test_the_tally_reads_the_as_arrested_view_from_the_per_defendant_arrays():
    # Two defendants, two districts. Counterfactually both get 10 months in district 0; as
    # arrested in district 0, the first has his own record there (24 months, minimum 20, +16
    # levels) and the second is declined (referred to the state).
    outcome = BlockOutcome(
        prosecuted=np.ones((2, 2), bool),
        months=np.array([[10, 5], [10, 5]], np.int32),
        position_category=np.zeros((2, 2), np.int8),
        offer=np.full((2, 2), -1, np.int8),
        final_min_months=np.array([[10, 5], [10, 5]], np.int32),
        criminal_history_category=np.array([2, 2], np.int8),
        enhancement_levels=np.array([4, 4]),
        arrest_district=np.array([0, 0]),
        arrested_prosecuted=np.array([True, False]),
        arrested_months=np.array([24, 0], np.int32),
        arrested_position=np.array([0, 0], np.int8),
        arrested_minimum=np.array([20, 0], np.int32),
        arrested_declined_outcome=np.array([-1, 1], np.int8),
        arrested_declined_months=np.array([0, 0], np.int16),
        arrested_enhancement=np.array([16, 4]),
    )
    t = tally_block(outcome)
    assert t.counterfactual_histogram[0, 0, 10] == 2  # the counterfactual view is untouched
    assert t.as_arrested_defendants[0].tolist() == [2, 0]
    assert t.as_arrested_prosecuted[0].tolist() == [1, 0]
    assert t.as_arrested_histogram[0, 0, 24] == 1
    assert t.as_arrested_percent[0, 0] == 20 * 10**9  # (24 − 20) / 20 = 20%
    assert t.as_arrested_declined[0, 0].tolist() == [0, 1, 0]
    assert t.as_arrested_enhancement_counts[0, 16] == 1
    assert t.as_arrested_enhancement_months[0, 16] == 24
    assert t.as_arrested_enhancement_counts[0].sum() == 1


def test_without_as_arrested_arrays_the_tally_reads_the_arrest_column():
    outcome = BlockOutcome(
        prosecuted=np.array([[True, False], [True, True]]),
        months=np.array([[10, 0], [7, 30]], np.int32),
        position_category=np.zeros((2, 2), np.int8),
        offer=np.full((2, 2), -1, np.int8),
        final_min_months=np.array([[10, 5], [6, 30]], np.int32),
        criminal_history_category=np.array([2, 3], np.int8),
        enhancement_levels=np.array([4, 8]),
        arrest_district=np.array([1, 1]),
    )
    filled = outcome.with_as_arrested()
    assert filled.arrested_prosecuted.tolist() == [False, True]
    assert filled.arrested_months.tolist() == [0, 30]
    assert filled.arrested_declined_outcome.tolist() == [0, -1]
    assert filled.arrested_enhancement.tolist() == [4, 8]
    same = tally_block(filled)
    for name, a, b in zip(StudyTally._fields, tally_block(outcome), same, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@st.composite
def own_arrested(draw):
    """Blocks whose as-arrested arrays are drawn apart from the counterfactual ones (a district
    with its own population), declined defendants carrying months the tally must ignore."""
    districts, n = draw(st.integers(1, 4)), draw(st.integers(0, 40))

    def grid(dtype, low, high, shape=(n, districts)):
        return draw(arrays(dtype, shape, elements=st.integers(low, high)))

    prosecuted, arrested = draw(arrays(np.bool_, (n, districts))), draw(arrays(np.bool_, (n,)))
    return BlockOutcome(
        prosecuted=prosecuted,
        months=grid(np.int32, 0, MAX_MONTHS),
        position_category=grid(np.int8, 0, 4),
        offer=grid(np.int8, -1, 3),
        final_min_months=grid(np.int32, 0, 60),
        criminal_history_category=grid(np.int8, 1, 6, (n,)),
        enhancement_levels=grid(np.int64, 0, 24, (n,)),
        arrest_district=grid(np.int64, -1, districts, (n,)),
        declined_outcome=np.where(prosecuted, -1, grid(np.int8, 0, 2)).astype(np.int8),
        declined_months=grid(np.int16, 0, 6),
        arrested_prosecuted=arrested,
        arrested_months=grid(np.int32, 0, MAX_MONTHS, (n,)),
        arrested_position=grid(np.int8, 0, 4, (n,)),
        arrested_minimum=grid(np.int32, 0, 60, (n,)),
        arrested_declined_outcome=np.where(arrested, -1, grid(np.int8, 0, 2, (n,))).astype(np.int8),
        arrested_declined_months=grid(np.int16, 0, 6, (n,)),
        arrested_enhancement=grid(np.int64, -4, 60, (n,)),
    )


@given(own_arrested())
def test_as_arrested_tallies_follow_the_arrested_arrays_and_nothing_else_does(outcome):
    t = tally_block(outcome)
    districts = outcome.months.shape[1]
    arrest = outcome.arrest_district
    sentenced = outcome.arrested_prosecuted
    for d in range(districts):
        here = arrest == d
        assert t.as_arrested_defendants[0, d] == here.sum()
        months = outcome.arrested_months[here & sentenced]
        assert (
            t.as_arrested_histogram[0, d].tolist()
            == np.bincount(months, minlength=MAX_MONTHS + 1).tolist()
        )
        positions = outcome.arrested_position[here & sentenced]
        expected = np.bincount(positions, minlength=5).tolist()
        assert t.as_arrested_positions[0, d].tolist() == expected
        fates = outcome.arrested_declined_outcome[here & ~sentenced]
        assert t.as_arrested_declined[0, d].tolist() == np.bincount(fates, minlength=3).tolist()
        assert t.as_arrested_declined_months[0, d] == (
            outcome.arrested_declined_months[here & ~sentenced].sum()
        )
    pooled = (arrest >= 0) & (arrest < districts) & sentenced
    levels = np.clip(outcome.arrested_enhancement[pooled], 0, ENHANCEMENT_LEVELS - 1)
    assert (
        t.as_arrested_enhancement_counts[0].tolist()
        == np.bincount(levels, minlength=ENHANCEMENT_LEVELS).tolist()
    )
    # Every other tally is the common population's: as without the as-arrested arrays.
    common = tally_block(outcome._replace(**dict.fromkeys(ARRESTED)))
    for name, mine, theirs in zip(StudyTally._fields, t, common, strict=True):
        if not name.startswith("as_arrested_"):
            np.testing.assert_array_equal(mine, theirs, err_msg=name)


# --- the pipeline ----------------------------------------------------------------------------


def test_a_district_population_with_the_scenarios_numbers_reproduces_the_common_column():
    """Common random numbers: generated under the same numbers from the same keyed uniforms,
    a district's own defendants are the common population's, so its own-population path (run
    on the defendants arrested there only) gives exactly column [i, arrest] for them."""
    s = build(data_with())
    draws = Draws(RandomBlock(s.study.seed, 0, 0), 0, 6_000)
    piece = run_steps(s, draws)
    policy_u, judge_u = pipeline._decisions(s, draws)
    for d in range(len(s.districts)):
        forced = pipeline._own_population(
            s, draws, (d,), s.population, piece.outcome, policy_u, judge_u
        )
        assert (piece.outcome.arrest_district == d).any()
        for name in ARRESTED:
            np.testing.assert_array_equal(getattr(forced, name), getattr(piece.outcome, name))
    # ... and so does every district sharing one population, drawn and assessed once.
    forced = pipeline._own_population(
        s, draws, (0, 1, 2, 3), s.population, piece.outcome, policy_u, judge_u
    )
    for name in ARRESTED:
        np.testing.assert_array_equal(getattr(forced, name), getattr(piece.outcome, name))


@pytest.mark.parametrize(
    "restated",
    [
        "whole",  # the top-level population written out again
        "part",  # one parameter restated with its own value and source
        "empty",  # population: {}
    ],
)
def test_a_population_equal_to_the_top_level_one_gives_identical_results(restated):
    base = data_with()
    own = {
        "whole": base["population"],
        "part": {"mean_prior_removals": base["population"]["mean_prior_removals"]},
        "empty": {},
    }[restated]
    same = build(data_with(own, code="CAS"))
    assert same.own_populations == {}
    first, second = run_study(build(base)), run_study(same)
    for name, a, b in zip(StudyTally._fields, first.tally, second.tally, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert analyse(first).summary == analyse(second).summary  # assumptions included


def test_an_own_population_changes_only_that_districts_as_arrested_defendants():
    """Defendant i arrested in C.D. is the i-th of its own population; everyone else, and every
    counterfactual sentence, is as without it: per defendant, the as-arrested arrays are the
    base run's outside C.D. and, inside, those of a run whose whole population is C.D.'s."""
    base = build(data_with())
    own = build(data_with(FELONS))
    everywhere = data_with()
    everywhere["population"].update(copy.deepcopy(FELONS))
    felons = build(everywhere)
    assert list(own.own_populations) == [CAC]
    a, b, c = (simulate_block(s, 0, 0, 6_000) for s in (base, own, felons))
    here = b.arrest_district == CAC
    assert here.any()
    assert not here.all()
    for name in BlockOutcome._fields:
        if name not in ARRESTED:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ARRESTED:
        expected = np.where(here, getattr(c, name), getattr(a, name))
        np.testing.assert_array_equal(getattr(b, name), expected, err_msg=name)
    # ... and the own population does differ from the common one there.
    assert not np.array_equal(a.arrested_prosecuted[here], b.arrested_prosecuted[here])


def test_a_population_every_district_shares_through_the_defaults_is_the_as_arrested_one():
    """``district_defaults.population`` gives every district the same own population (drawn
    once per block): every as-arrested array is that of a run whose top-level population it is,
    every counterfactual array that of the base run."""
    shared = data_with()
    shared["district_defaults"] = {"population": copy.deepcopy(FELONS)}
    everywhere = data_with()
    everywhere["population"].update(copy.deepcopy(FELONS))
    s = build(shared)
    assert sorted(s.own_populations) == [0, 1, 2, 3]
    a, b, c = (simulate_block(x, 1, 0, 6_000) for x in (build(data_with()), s, build(everywhere)))
    for name in BlockOutcome._fields:
        expected = c if name in ARRESTED else a
        np.testing.assert_array_equal(getattr(b, name), getattr(expected, name), err_msg=name)


def test_an_all_felon_district_prosecutes_everyone_it_arrests_and_nothing_else_moves():
    """C.D. prosecutes every defendant deported after a felony (probability 1, the dissent's
    reading): with a population of aggravated felons only, its as-arrested prosecuted share is
    exactly 1 and its declined share 0, against about 0.72 with the common population; every
    counterfactual figure, the headline gap and every other district's as-arrested figures
    are unchanged."""
    base_run, own_run = run_study(build(data_with())), run_study(build(data_with(FELONS)))
    base, own = analyse(base_run).summary, analyse(own_run).summary
    arrested = own["districts"]["CAC"]["as_arrested"]
    assert arrested["prosecuted_share"] == 1.0
    assert arrested["declined"]["share"] == 0.0
    assert base["districts"]["CAC"]["as_arrested"]["prosecuted_share"] < 0.8
    assert own["headline"] == base["headline"]
    assert own["pairwise"] == base["pairwise"]
    assert own["variance_shares"] == base["variance_shares"]
    for code in ("CAC", "CAS", "CAE", "CAN"):
        mine, theirs = own["districts"][code], base["districts"][code]
        counterfactual = {k: v for k, v in mine.items() if k != "as_arrested"}
        assert counterfactual == {k: v for k, v in theirs.items() if k != "as_arrested"}
        if code != "CAC":
            assert mine["as_arrested"] == theirs["as_arrested"]
    for d in range(1, 4):
        for name, values in as_arrested_fields(own_run.tally, d).items():
            np.testing.assert_array_equal(values, as_arrested_fields(base_run.tally, d)[name])
    # Selection vs policy: undefined for C.D.'s pairs (saying why), as before for the others.
    for mine, theirs in zip(own["selection_vs_policy"], base["selection_vs_policy"], strict=True):
        if "CAC" in (mine["district_a"], mine["district_b"]):
            assert mine["treatment_months"] is None
            assert mine["composition_months"] is None
            assert "districts.CAC.population" in mine["undefined_because"]
            assert mine["observed_gap_months"] is not None
        else:
            assert mine == theirs


@pytest.mark.slow
def test_sim_run_with_a_district_population_end_to_end(tmp_path):
    data = data_with(FELONS, defendants=4_000)
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--json", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["districts"]["CAC"]["as_arrested"]["prosecuted_share"] == 1.0
    # The district's own numbers are listed as assumptions; those it takes from the top-level
    # population are listed once, at population.*.
    fields = [entry["field"] for entry in summary["assumptions"]]
    assert sorted(f for f in fields if f.startswith("districts.CAC.population.")) == [
        "districts.CAC.population.clean_record_share",
        "districts.CAC.population.prior_aggravated_felony_share",
    ]
    assert not any(f.startswith("districts.CAS.population") for f in fields)
    assert (tmp_path / "o" / "report.md").exists()

"""Synthetic population: calibration by construction, determinism, consistent records, engine."""

from __future__ import annotations

import datetime as dt
import math
import typing
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from sim.guidelines.aggravated_felony import law_in_force
from sim.guidelines.casefile import case_to_records
from sim.guidelines.durations import DAY, NEVER, months
from sim.guidelines.editions import edition
from sim.guidelines.engine import assess
from sim.guidelines.records import PRIOR_KINDS, Records, kind_code
from sim.model.parameters import Parameter
from sim.model.population import (
    CALIBRATION_TARGETS,
    DEFAULT_POPULATION_CONFIG,
    Population,
    PopulationParameters,
    calibration_marginals,
    calibration_targets,
    derive_rates,
    load_population_parameters,
)
from sim.model.population import generate_population as _generate
from sim.run.streams import RANDOM_BLOCK_DEFENDANTS, RandomBlock

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "population-fy2013.yaml"
SEED = 20130930  # last day of FY2013
BLOCKS = 4  # 200,000 defendants for the calibration test
#: The targets were measured on FY2013 offenses, under the definition of IIRIRA (1996).
FY2013 = dt.date(2013, 6, 1)


def generate_population(parameters, key, n, date=FY2013, reading="statute") -> Population:
    return _generate(parameters, key, n, date, law_in_force(date, reading))


def concatenate(populations: list[Population]) -> Population:
    return Population(
        Records.concatenate([p.records for p in populations]),
        np.concatenate([p.prior_removals for p in populations]),
    )


@pytest.fixture(scope="module")
def parameters() -> PopulationParameters:
    return load_population_parameters(CONFIG)


@pytest.fixture(scope="module")
def population(parameters: PopulationParameters) -> Population:
    blocks = [
        generate_population(parameters, RandomBlock(SEED, 0, b), RANDOM_BLOCK_DEFENDANTS)
        for b in range(BLOCKS)
    ]
    return concatenate(blocks)


def with_values(parameters: PopulationParameters, **values: float) -> PopulationParameters:
    mapping = parameters.model_dump()
    for name, value in values.items():
        mapping[name]["value"] = value
    return PopulationParameters.model_validate(mapping)


# ---- Configuration --------------------------------------------------------------------------


def test_config_file_validates_and_documents_every_number():
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert list(data) == ["population"]
    parameters = PopulationParameters.model_validate(data["population"])
    assert CONFIG.resolve() == DEFAULT_POPULATION_CONFIG
    assert set(data["population"]) == set(PopulationParameters.model_fields)
    for name in PopulationParameters.model_fields:
        parameter = getattr(parameters, name)
        assert isinstance(parameter, Parameter), name
        if name in CALIBRATION_TARGETS:
            assert not parameter.assumption, name
            assert "USSC" in parameter.source, name
            assert "calibration.md" in parameter.source, name
        else:
            assert parameter.assumption, f"{name} has no source: it must be labelled"
            assert parameter.source.startswith("assumption:"), name


def test_every_field_is_a_documented_parameter():
    hints = typing.get_type_hints(PopulationParameters)
    for name in PopulationParameters.model_fields:
        assert issubclass(hints[name], Parameter), name


def test_strings_for_numbers_are_refused(parameters: PopulationParameters):
    mapping = parameters.model_dump()
    mapping["clean_record_share"]["value"] = "0.047"
    with pytest.raises(ValueError, match="clean_record_share"):
        PopulationParameters.model_validate(mapping)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"clean_record_share": 0.7}, "prior_aggravated_felony_share .* exceeds"),
        ({"mean_prior_removals": 1.2}, "mean_prior_removals 1.2 is below"),
        ({"aggravated_drug_trafficking_mix": 0.9}, "aggravated kind mix"),
        ({"misdemeanor_sigma": 0.0}, "misdemeanor_sigma is 0; allowed: 0.05-5"),
        (
            {"post_reentry_conviction_share": 0.05, "aggravated_felony_after_reentry_share": 0.9},
            "post_reentry_conviction_share is below",
        ),
    ],
)
def test_infeasible_parameters_are_refused(
    parameters: PopulationParameters, values: dict[str, float], message: str
):
    with pytest.raises(ValueError, match=message):
        with_values(parameters, **values)


# ---- Calibration ----------------------------------------------------------------------------


def test_expected_marginals_equal_the_targets_analytically(parameters: PopulationParameters):
    # The construction of the module docstring, evaluated exactly (no simulation).
    p = parameters
    rates = derive_rates(p)
    c = p.clean_record_share.value
    s = p.aggravated_felony_after_reentry_share.value
    x = p.earlier_illegal_entry_share.value
    assert (1 - c) * rates.aggravated == pytest.approx(p.prior_aggravated_felony_share.value)
    assert (1 - c) * rates.entry == pytest.approx(p.reentry_conviction_share.value)
    post = rates.aggravated * s + (1 - rates.aggravated * s) * rates.post_other
    assert (1 - c) * post == pytest.approx(p.post_reentry_conviction_share.value)
    removals = c + (1 - c) * (1 + rates.entry * (1 + x) + rates.aggravated * s)
    removals += (1 - c) * rates.free_removals_mean
    assert removals == pytest.approx(p.mean_prior_removals.value)
    assert rates.free_removals_mean > 0


def test_marginals_within_four_standard_errors(
    population: Population, parameters: PopulationParameters
):
    n = len(population)
    assert n == BLOCKS * RANDOM_BLOCK_DEFENDANTS
    measured = calibration_marginals(population)
    targets = calibration_targets(parameters)
    assert set(measured) == set(targets) == set(CALIBRATION_TARGETS)
    for name, target in targets.items():
        if name == "mean_prior_removals":  # sample standard deviation of i.i.d. counts
            se = population.prior_removals.std(ddof=1) / math.sqrt(n)
        else:  # binomial, under the target share
            se = math.sqrt(target * (1 - target) / n)
        z = (measured[name] - target) / se
        assert abs(z) <= 4, f"{name}: measured {measured[name]:.4f}, target {target}, z = {z:.1f}"


def test_clean_record_means_no_priors_and_one_removal(population: Population):
    counts = np.diff(population.records.prior_offsets)
    clean = (counts == 0) & (population.prior_removals <= 1)
    assert (population.prior_removals[counts == 0] == 1).all()
    assert clean.sum() == (counts == 0).sum()


# ---- Determinism ----------------------------------------------------------------------------


def arrays(population: Population) -> dict[str, np.ndarray]:
    r = population.records
    out = {f"records.{name}": getattr(r, name) for name in r._fields if name != "priors"}
    out |= {
        f"priors.{name}": column for name, column in zip(r.priors._fields, r.priors, strict=True)
    }
    out["prior_removals"] = population.prior_removals
    return out


def assert_same(a: Population, b: Population) -> None:
    left, right = arrays(a), arrays(b)
    for name in left:
        np.testing.assert_array_equal(left[name], right[name], err_msg=name)
        assert left[name].dtype == right[name].dtype, name


def test_same_key_gives_identical_arrays(parameters: PopulationParameters):
    first = generate_population(parameters, RandomBlock(7, 3, 11), 5_000)
    again = generate_population(parameters, RandomBlock(7, 3, 11), 5_000)
    assert_same(first, again)


@pytest.mark.parametrize(
    "other", [RandomBlock(8, 3, 11), RandomBlock(7, 4, 11), RandomBlock(7, 3, 12)]
)
def test_another_key_gives_other_defendants(parameters: PopulationParameters, other: RandomBlock):
    base = generate_population(parameters, RandomBlock(7, 3, 11), 2_000)
    changed = generate_population(parameters, other, 2_000)
    assert not np.array_equal(base.prior_removals, changed.prior_removals)
    assert not np.array_equal(base.records.prior_offsets, changed.records.prior_offsets)
    common = min(len(base.records.priors.kind), len(changed.records.priors.kind))
    assert not np.array_equal(
        base.records.priors.imposed_ago_ticks[:common],
        changed.records.priors.imposed_ago_ticks[:common],
    )


def test_first_n_defendants_do_not_depend_on_n(parameters: PopulationParameters):
    key = RandomBlock(SEED, 1, 2)
    whole = generate_population(parameters, key, RANDOM_BLOCK_DEFENDANTS)
    for n in (0, 1, 257, 4_096):
        part = generate_population(parameters, key, n)
        assert_same(part, Population(whole.records.block(0, n), whole.prior_removals[:n]))


def test_a_block_without_priors(parameters: PopulationParameters):
    # A single clean defendant: no priors at all (p = 0).
    for block in range(500):
        population = generate_population(parameters, RandomBlock(SEED, 0, block), 1)
        if len(population.records.priors.kind) == 0:
            break
    else:
        pytest.fail("no clean first defendant in 500 blocks")
    assert_consistent(population, parameters)
    assert population.prior_removals.tolist() == [1]


def test_more_than_one_random_block_is_refused(parameters: PopulationParameters):
    with pytest.raises(ValueError, match=f"allowed: 0-{RANDOM_BLOCK_DEFENDANTS}"):
        generate_population(parameters, RandomBlock(1, 0, 0), RANDOM_BLOCK_DEFENDANTS + 1)


# ---- Consistent records ---------------------------------------------------------------------

ENTRY = (kind_code("illegal_reentry"), kind_code("illegal_entry"))


def assert_consistent(population: Population, parameters: PopulationParameters) -> None:
    d = population.records
    pr = d.priors
    n, p = d.size, len(pr.kind)
    # dtypes exactly as the case-file loader builds them (records.py).
    reference = case_to_records([])
    for name in d._fields[:-1]:
        assert getattr(d, name).dtype == getattr(reference, name).dtype, name
    for name, column, expected in zip(pr._fields, pr, reference.priors, strict=True):
        assert column.dtype == expected.dtype, name
        assert column.shape == (p,), name
    # CSR offsets.
    offsets = d.prior_offsets
    assert offsets.shape == (n + 1,)
    assert offsets[0] == 0
    assert offsets[-1] == p
    counts = np.diff(offsets)
    assert (counts >= 0).all()
    # Defendant fields.
    assert (d.offense_date == np.datetime64(FY2013)).all()
    assert d.zero_point_criteria_met.all()
    assert (d.criminal_history_points_override == -1).all()
    assert (d.criminal_history_category_override == -1).all()
    assert not d.under_sentence[counts == 0].any()
    assert population.prior_removals.dtype == np.int16
    assert population.prior_removals.shape == (n,)
    assert (population.prior_removals >= 1).all()  # a § 1326 defendant was removed
    # docs/case-file.md consistency rules; only an entry conviction (subparagraph (O)) is an
    # aggravated felony without being a felony.
    assert (pr.kind >= 0).all()
    assert (pr.kind < len(PRIOR_KINDS)).all()
    assert (~pr.aggravated_felony | pr.felony | (pr.kind == kind_code("illegal_entry"))).all()
    terms = pr.sentence_imposed_ticks
    assert (terms >= 0).all()
    assert (terms % DAY == 0).all()  # whole days
    assert (pr.imposed_ago_ticks >= 0).all()
    assert (pr.imposed_ago_ticks % DAY == 0).all()
    released = pr.released_ago_ticks
    imprisoned = terms > 0
    assert ((released == NEVER) == ~imprisoned).all()
    assert (released[imprisoned] >= 0).all()
    assert (released[imprisoned] <= pr.imposed_ago_ticks[imprisoned]).all()
    assert (~pr.before_first_removal | pr.removed_after_conviction).all()
    # Legal bounds of the imposed term.
    misdemeanor = ~pr.felony
    assert (terms[misdemeanor] < months(12) + DAY).all()
    assert (terms[pr.kind == kind_code("illegal_entry")] <= months(6)).all()
    assert (terms <= months(parameters.max_sentence_months.value)).all()
    violent = pr.kind == kind_code("crime_of_violence")
    assert (terms[violent & pr.felony & ~pr.aggravated_felony] < months(12)).all()
    one_year = pr.aggravated_felony & np.isin(
        pr.kind, [kind_code("crime_of_violence"), kind_code("theft_or_burglary")]
    )
    assert (terms[one_year] >= months(12)).all()
    # A reentry needs an earlier removal; entry convictions are never joined or foreign.
    entry = np.isin(pr.kind, ENTRY)
    assert not pr.before_first_removal[pr.kind == kind_code("illegal_reentry")].any()
    assert (pr.single_sentence_group[entry] == -1).all()
    assert not pr.foreign[entry].any()
    # Chronology within a defendant: oldest first; before the first removal, then after; the
    # priors after the last removal come last.
    owner = d.prior_owner()
    same = owner[1:] == owner[:-1]
    assert (pr.imposed_ago_ticks[1:][same] <= pr.imposed_ago_ticks[:-1][same]).all()
    assert not (pr.before_first_removal[1:] & ~pr.before_first_removal[:-1])[same].any()
    assert not (pr.removed_after_conviction[1:] & ~pr.removed_after_conviction[:-1])[same].any()
    # Removals: one after each entry conviction and the first; a removal after any later prior.
    entries = np.bincount(owner[entry], minlength=n)
    assert (population.prior_removals >= 1 + entries).all()
    removed_later = np.zeros(n, dtype=bool)
    removed_later[owner[pr.removed_after_conviction & ~pr.before_first_removal]] = True
    assert (population.prior_removals[removed_later] >= 2).all()
    # Single sentences: small ids, contiguous members of one defendant sharing their dates.
    group = pr.single_sentence_group
    local = np.arange(p) - offsets[owner]
    grouped = group >= 0
    assert (group[grouped] <= local[grouped]).all()
    assert not (pr.consecutive & ~grouped).any()
    assert not (pr.foreign & grouped).any()
    member = np.flatnonzero(grouped)
    lead = member[group[member] == local[member]]
    assert not pr.consecutive[lead].any()  # the first term of a group is the concurrent base
    follower = member[group[member] != local[member]]
    assert (owner[follower - 1] == owner[follower]).all()
    assert (group[follower - 1] == group[follower]).all()
    assert (pr.imposed_ago_ticks[follower] == pr.imposed_ago_ticks[follower - 1]).all()
    assert (pr.before_first_removal[follower] == pr.before_first_removal[follower - 1]).all()
    assert (
        pr.removed_after_conviction[follower] == pr.removed_after_conviction[follower - 1]
    ).all()


def test_generated_records_are_consistent(population: Population, parameters: PopulationParameters):
    assert_consistent(population, parameters)
    pr = population.records.priors
    # Varied histories: every kind occurs, some groups, consecutive terms and foreign sentences.
    assert set(np.unique(pr.kind)) == set(range(len(PRIOR_KINDS)))
    assert (pr.single_sentence_group >= 0).any()
    assert pr.consecutive.any()
    assert pr.foreign.any()
    assert population.records.under_sentence.any()
    assert (pr.sentence_imposed_ticks == 0).any()


@examples(25)
@given(
    seed=st.integers(0, 2**63 - 1),
    replication=st.integers(0, 10_000),
    block=st.integers(0, 10**6),
    n=st.integers(0, 600),
)
def test_any_key_gives_consistent_records(seed: int, replication: int, block: int, n: int):
    parameters = load_population_parameters(CONFIG)
    population = generate_population(parameters, RandomBlock(seed, replication, block), n)
    assert len(population) == population.records.size == n
    assert_consistent(population, parameters)


def test_extreme_parameters_still_give_consistent_records(parameters: PopulationParameters):
    extreme = with_values(
        parameters,
        single_sentence_share=1.0,
        consecutive_share=1.0,
        foreign_share=1.0,
        misdemeanor_no_imprisonment_share=1.0,
        liberty_years_mean=0.0,
        instant_liberty_years_mean=0.0,
        persistent_share=1.0,
        max_sentence_months=13,
    )
    population = generate_population(extreme, RandomBlock(1, 2, 3), 3_000)
    assert_consistent(population, extreme)
    measured = calibration_marginals(population)
    assert measured["clean_record_share"] == pytest.approx(0.047, abs=0.02)


@pytest.mark.parametrize("sigma", [0.05, 5.0])
def test_extreme_sentence_spreads_stay_within_legal_bounds(
    parameters: PopulationParameters, sigma: float
):
    names = [n for n in PopulationParameters.model_fields if n.endswith("_sigma")]
    spread = with_values(parameters, **dict.fromkeys(names, sigma))
    population = generate_population(spread, RandomBlock(4, 5, 6), RANDOM_BLOCK_DEFENDANTS)
    assert_consistent(population, spread)


# ---- The guidelines engine reads the population ---------------------------------------------


@pytest.mark.parametrize("manual", [1995, 2001, 2011, 2018, 2023])
def test_engine_runs_with_a_plausible_spread(population: Population, manual: int):
    records = population.records.block(0, 50_000)
    result = assess(records, edition(manual))
    categories = np.bincount(result.criminal_history_category, minlength=7)[1:] / records.size
    assert (categories >= 0.01).all(), f"categories I-VI: {np.round(categories, 3)}"
    assert categories.max() < 0.5
    levels = result.reentry.offense_level
    distinct = set(np.unique(levels).tolist())
    if manual == 1995:  # 1991 text: +16 aggravated felony, +4 other felony, or none
        assert distinct == {8, 12, 24}
    else:
        assert len(distinct) >= 5
    assert (levels == 8).mean() > 0.05  # some defendants have no enhancing prior


def test_fewer_aggravated_felonies_under_the_law_of_1995(parameters: PopulationParameters):
    # The same defendants: under IIRIRA (1996) 40% have an aggravated felony followed by a
    # removal (the FY2013 target); under the 1995 Manual's definition (crimes of violence only
    # with five years, no theft or burglary) far fewer, and never more (the law only grew).
    key = RandomBlock(SEED, 0, 0)
    today = generate_population(parameters, key, 20_000)
    then = generate_population(parameters, key, 20_000, dt.date(1995, 8, 1), "guideline-1991")
    share_today = calibration_marginals(today)["prior_aggravated_felony_share"]
    share_then = calibration_marginals(then)["prior_aggravated_felony_share"]
    assert share_today == pytest.approx(0.40, abs=0.02)
    assert share_then < share_today - 0.1
    np.testing.assert_array_equal(today.records.priors.kind, then.records.priors.kind)
    assert not (
        then.records.priors.aggravated_felony & ~today.records.priors.aggravated_felony
    ).any()

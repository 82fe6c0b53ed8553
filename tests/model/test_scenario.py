"""Scenario-level settings: which district pairs are tallied; district_defaults, district judges
and the assumptions a scenario lists."""

import copy
import itertools

import pytest

from sim.inputs import InputError, validate_model
from sim.model.districts import DISTRICTS
from sim.model.scenario import (
    ALL_PAIRS_UP_TO,
    DEFAULT_SCENARIO,
    Scenario,
    assumptions,
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


# --- district_defaults, per-district judges, assumptions (issue 12) ---------------------------


def _with_defaults(defaults, **district_changes):
    """The default scenario with ``defaults`` as district_defaults and CAS's keys replaced."""
    data = copy.deepcopy(BASE)
    data["district_defaults"] = defaults
    for key, value in district_changes.items():
        if value is None:
            data["districts"]["CAS"].pop(key, None)
        else:
            data["districts"]["CAS"][key] = value
    return data


SHARE = {"unit": "share", "source": "t"}


def test_district_defaults_are_merged_under_every_district():
    plea = {"value": 0.5, "unit": "probability", "source": "defaults"}
    data = copy.deepcopy(BASE)
    for district in data["districts"].values():
        del district["plea_probability"]
    data["districts"]["CAS"]["plea_probability"] = {
        "value": 0.7,
        "unit": "probability",
        "source": "CAS",
    }
    # A mapping merges key by key: the defaults' prosecution.declined reaches CAC, whose own
    # prosecution keys stay.
    declined = {
        "administrative_removal": {"value": 0.6, **SHARE},
        "state_referral": {"value": 0.4, **SHARE},
        "section_1325": {"value": 0.0, **SHARE},
        "section_1325_months": {"value": 0, "unit": "months", "source": "t"},
    }
    data["districts"]["CAC"]["prosecution"] = copy.deepcopy(data["districts"]["CAC"]["prosecution"])
    data["districts"]["CAC"]["prosecution"].pop("declined", None)  # the defaults reach it
    data["district_defaults"] = {"plea_probability": plea, "prosecution": {"declined": declined}}
    scenario = Scenario.model_validate(data)
    assert scenario.districts["CAC"].plea_probability.value == 0.5
    assert scenario.districts["CAS"].plea_probability.value == 0.7  # the district's key wins
    own_rule = data["districts"]["CAC"]["prosecution"]["eligible"]
    assert scenario.districts["CAC"].prosecution.eligible == own_rule
    assert scenario.districts["CAC"].prosecution.declined.state_referral.value == 0.4
    # A list is replaced whole: the defaults' offers do not reach a district with its own.
    data["district_defaults"]["offers"] = []
    scenario = Scenario.model_validate(data)
    assert len(scenario.districts["CAS"].offers) == 2


def test_a_bad_default_is_reported_at_each_district_path_and_blamed_on_the_defaults(tmp_path):
    data = copy.deepcopy(BASE)
    data["district_defaults"] = {"plea_probability": {"value": 1.5, **SHARE}}
    for district in data["districts"].values():
        del district["plea_probability"]
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    lines = str(error.value).splitlines()
    for code in ("CAC", "CAS", "CAE", "CAN"):
        assert any(
            f"districts.{code}.plea_probability" in line and "from district_defaults" in line
            for line in lines
        ), lines
    # ...but not in a district's own value.
    data = copy.deepcopy(BASE)
    data["district_defaults"] = {"name": "x"}
    data["districts"]["CAS"]["plea_probability"]["value"] = 2.0
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    assert "districts.CAS.plea_probability.value" in str(error.value)
    assert "district_defaults" not in str(error.value)


def test_an_unknown_key_in_the_defaults_names_the_district_path(tmp_path):
    data = copy.deepcopy(BASE)
    data["district_defaults"] = {"offers": [{"name": "x", "bogus": 1}]}
    for district in data["districts"].values():
        district.pop("offers")
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    message = str(error.value)
    assert "districts.CAC.offers[0].bogus: 1: unknown key (value from district_defaults)" in message


def test_a_district_judge_and_the_assumptions_it_brings():
    data = copy.deepcopy(BASE)
    data["judge"]["time_served_months"] = {
        "value": 3,
        "unit": "months",
        "source": "t",
        "assumption": True,
    }
    data["districts"]["CAS"]["judge"] = {
        "range_position": {"distribution": "top", "source": "t", "assumption": True}
    }
    # The districts share their offers through a YAML anchor: CAS gets its own copy.
    data["districts"]["CAS"]["offers"] = copy.deepcopy(data["districts"]["CAS"]["offers"])
    data["districts"]["CAS"]["offers"][0]["eligibility"]["source"] = "t"
    data["districts"]["CAS"]["offers"][0]["eligibility"]["assumption"] = True
    data["districts"]["CAE"]["offers"] = copy.deepcopy(data["districts"]["CAE"]["offers"])
    for key in ("source", "assumption"):  # E.D. Cal.'s rule left undocumented
        data["districts"]["CAE"]["offers"][0]["eligibility"].pop(key, None)
    scenario = Scenario.model_validate(data)
    assert scenario.districts["CAS"].judge.range_position.distribution == "top"
    assert scenario.districts["CAC"].judge is None
    listed = {a["field"]: a for a in assumptions(scenario)}
    assert "judge.time_served_months" in listed
    assert "districts.CAS.judge.range_position" in listed
    rule = listed["districts.CAS.offers[0].eligibility"]
    assert rule["value"]["max_prior_sentence_months"] == 120
    assert rule["source"] == "t"
    # An undocumented rule (E.D. Cal.'s, its source taken away) is listed too, as undocumented.
    assert "undocumented" in listed["districts.CAE.offers[0].eligibility"]["source"]
    # The default declination split is an assumption of every district.
    default = listed["districts.CAS.prosecution.declined.administrative_removal"]
    assert default["value"] == 1.0


def test_a_mapping_merged_from_both_is_partly_blamed_on_the_defaults(tmp_path):
    data = copy.deepcopy(BASE)
    data["district_defaults"] = {
        "judge": {"range_position": {"distribution": "beta", "source": "x"}}
    }
    data["districts"]["CAS"]["judge"] = {"range_position": {"a": 2}}
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    lines = str(error.value).splitlines()
    beta = "a and b are required for distribution beta"
    assert any(
        "districts.CAS.judge.range_position" in line
        and beta in line
        and line.endswith("(partly from district_defaults)")
        for line in lines
    ), lines
    assert any(
        "districts.CAC.judge.range_position" in line
        and line.endswith("(value from district_defaults)")
        for line in lines
    ), lines
    # A missing key of an inherited block is blamed on the defaults too.
    data = copy.deepcopy(BASE)
    offers = copy.deepcopy(data["districts"]["CAS"]["offers"])
    del offers[0]["acceptance_probability"]
    data["district_defaults"] = {"offers": offers}
    for district in data["districts"].values():
        district.pop("offers")
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    assert (
        "districts.CAN.offers[0].acceptance_probability: required key is missing "
        "(value from district_defaults)"
    ) in str(error.value)


def test_modelling_choices_and_profile_records_are_listed_with_the_assumptions():
    data = copy.deepcopy(BASE)
    data["choices"] = [
        {
            "name": "one-offense-date",
            "statement": "all on one day",
            "source": "t",
            "assumption": True,
        },
        {"name": "sourced", "statement": "a fact", "source": "the seed"},
    ]
    profile = next(iter(data["profiles"]))
    data["profiles"][profile] = {
        **data["profiles"][profile],
        "assumed": "the prior's dates",
        "assumption": True,
    }
    listed = {a["field"]: a for a in assumptions(Scenario.model_validate(data))}
    assert listed["choices[0]"]["value"] == "all on one day"
    assert "choices[1]" not in listed  # sourced, not an assumption
    assert listed[f"profiles.{profile}"]["value"] == "the prior's dates"
    del data["profiles"][profile]["assumed"]
    with pytest.raises(ValueError, match="needs `assumed`"):
        Scenario.model_validate(data)


# --- per-district populations (issue 12) -------------------------------------------------------

_OWN = {"unit": "share of defendants", "source": "t", "assumption": True}


def _with_population(code="CAC", **parameters):
    data = copy.deepcopy(BASE)
    data["districts"][code]["population"] = {
        name: {"value": value, **_OWN} for name, value in parameters.items()
    }
    return data


def test_a_district_population_is_merged_over_the_top_level_one():
    scenario = Scenario.model_validate(_with_population(prior_aggravated_felony_share=0.9))
    own = scenario.districts["CAC"].population
    assert own.prior_aggravated_felony_share.value == 0.9
    assert own.mean_prior_removals == scenario.population.mean_prior_removals  # merged
    assert scenario.districts["CAS"].population is None
    assert list(scenario.own_populations) == [0]
    # Only what differs from the top-level population is listed among the assumptions.
    listed = [a["field"] for a in assumptions(scenario) if a["field"].startswith("districts.")]
    assert [f for f in listed if ".population." in f] == [
        "districts.CAC.population.prior_aggravated_felony_share"
    ]


def test_district_defaults_population_reaches_every_district_and_the_districts_keys_win():
    data = _with_population(prior_aggravated_felony_share=0.9)
    data["district_defaults"] = {
        "population": {
            "prior_aggravated_felony_share": {"value": 0.5, **_OWN},
            "clean_record_share": {"value": 0.0, **_OWN},
        }
    }
    scenario = Scenario.model_validate(data)
    cac, cas = scenario.districts["CAC"].population, scenario.districts["CAS"].population
    assert cac.prior_aggravated_felony_share.value == 0.9  # the district's own key wins
    assert cac.clean_record_share.value == 0.0  # the defaults' key
    assert cas.prior_aggravated_felony_share.value == 0.5
    assert cas.reentry_conviction_share == scenario.population.reentry_conviction_share
    assert sorted(scenario.own_populations) == [0, 1, 2, 3]


def test_a_district_population_problem_names_its_path(tmp_path):
    data = _with_population(prior_aggravated_felony_share=1.5)
    data["districts"]["CAC"]["population"]["bogus"] = 1
    data["districts"]["CAS"]["population"] = 3
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    message = str(error.value)
    assert "districts.CAC.population.prior_aggravated_felony_share.value: 1.5" in message
    assert "districts.CAC.population.bogus: unknown key" in message
    assert "districts.CAS.population: 3: not a mapping" in message


def test_an_inconsistent_merged_population_is_reported_at_the_district(tmp_path):
    # 0.45 aggravated felons (the top-level share) cannot fit in a population 70% clean.
    data = _with_population(clean_record_share=0.7)
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    lines = str(error.value).splitlines()
    assert any(
        "districts.CAC.population:" in line
        and "prior_aggravated_felony_share 0.45 exceeds the share without a clean record" in line
        and line.endswith("(the district's population merged over the top-level population)")
        for line in lines
    ), lines


def test_a_top_level_population_problem_is_reported_once_at_population(tmp_path):
    data = _with_population(prior_aggravated_felony_share=0.9)
    data["population"]["mean_prior_removals"]["value"] = -1
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    message = str(error.value)
    assert "population.mean_prior_removals.value: -1" in message
    assert "districts.CAC.population.mean_prior_removals" not in message


def test_a_bad_population_default_is_blamed_on_the_defaults(tmp_path):
    data = copy.deepcopy(BASE)
    data["district_defaults"] = {
        "population": {"clean_record_share": {"value": 2, **_OWN}},
    }
    with pytest.raises(InputError) as error:
        validate_model(Scenario, data, tmp_path / "s.yaml")
    for code in ("CAC", "CAS", "CAE", "CAN"):
        assert (
            f"districts.{code}.population.clean_record_share.value: 2: "
            "Input should be less than or equal to 1 (value from district_defaults)"
        ) in str(error.value)

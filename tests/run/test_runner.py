"""The study runner: determinism, common random numbers, policy isolation, the seed's profiles,
and ``sim run`` / ``sim validate`` end to end."""

import copy
import json
import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.results import analyse
from sim.cli import app
from sim.model.scenario import DEFAULT_SCENARIO, Scenario, resolve_scenario_mapping
from sim.run.runner import run_study, simulate_block
from sim.run.streams import RANDOM_BLOCK_DEFENDANTS

runner = CliRunner()
BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)


def scenario(**study):
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": 2, "defendants": 12_000, "profile_draws": 300, **study})
    return data


def build(data):
    return Scenario.model_validate(data)


def summary_of(data, workers=1):
    return analyse(run_study(build(data), workers=workers)).summary


def test_same_seed_same_numbers_and_different_seed_different_numbers():
    first = summary_of(scenario())
    assert summary_of(scenario()) == first
    other = summary_of(scenario(seed=7))
    assert other["districts"]["CAC"]["mean_months"] != first["districts"]["CAC"]["mean_months"]


#: Enough defendants to straddle a random-block boundary.
STRADDLING = RANDOM_BLOCK_DEFENDANTS + 2_000


def test_block_size_does_not_change_results():
    # Processing blocks of 7,000 (cutting random blocks) or of all defendants at once.
    one = scenario(defendants=STRADDLING, block_size=7_000)
    assert summary_of(one) == summary_of({**one, "study": {**one["study"], "block_size": 10**6}})


def test_worker_count_does_not_change_results():
    data = scenario(defendants=STRADDLING, block_size=13_000)
    assert summary_of(data, workers=2) == summary_of(data, workers=1)


def test_per_defendant_outcomes_do_not_depend_on_block_boundaries():
    s = build(scenario(defendants=STRADDLING))
    r = RANDOM_BLOCK_DEFENDANTS
    whole = simulate_block(s, 0, 0, STRADDLING)
    pieces = [
        simulate_block(s, 0, a, b) for a, b in ((0, 7_500), (7_500, r + 1), (r + 1, STRADDLING))
    ]
    np.testing.assert_array_equal(whole.months, np.concatenate([p.months for p in pieces]))
    np.testing.assert_array_equal(
        whole.arrest_district, np.concatenate([p.arrest_district for p in pieces])
    )


def test_changing_one_district_leaves_every_other_district_identical():
    before = build(scenario())
    changed = scenario()
    offers = copy.deepcopy(changed["districts"]["CAS"]["offers"])
    offers[0]["offer_probability"]["value"] = 0.2
    offers[1]["sentence_cap_months"]["value"] = 48
    changed["districts"]["CAS"]["offers"] = offers
    after = build(changed)
    a, b = simulate_block(before, 0, 0, 12_000), simulate_block(after, 0, 0, 12_000)
    for d, code in enumerate(before.district_codes):
        if code == "CAS":
            assert (a.months[:, d] != b.months[:, d]).any()
        else:
            np.testing.assert_array_equal(a.months[:, d], b.months[:, d])
            np.testing.assert_array_equal(a.prosecuted[:, d], b.prosecuted[:, d])


def test_adding_an_offer_changes_no_other_draw():
    """Each offer position has its own stream: a third offer in one district (one more stream
    drawn) leaves every other district, and that district's takers of its first two offers,
    exactly as they were."""
    data = scenario()
    offers = copy.deepcopy(data["districts"]["CAS"]["offers"])
    offers[1]["offer_probability"]["value"] = 0.5  # leaves some to a third offer
    data["districts"]["CAS"]["offers"] = offers
    before = build(data)
    changed = copy.deepcopy(data)
    third = {**copy.deepcopy(offers[1]), "name": "third"}
    changed["districts"]["CAS"]["offers"] = [*offers, third]
    after = build(changed)
    a, b = simulate_block(before, 0, 0, 12_000), simulate_block(after, 0, 0, 12_000)
    for d, code in enumerate(before.district_codes):
        if code == "CAS":
            took_first_two = a.offer[:, d] >= 0
            np.testing.assert_array_equal(a.offer[took_first_two, d], b.offer[took_first_two, d])
            assert (b.offer[:, d] == 2).any()  # the new offer is taken by some
        else:
            np.testing.assert_array_equal(a.months[:, d], b.months[:, d])
            np.testing.assert_array_equal(a.offer[:, d], b.offer[:, d])


def test_identical_policies_give_identical_counterfactual_sentences():
    # Common random numbers: E.D. and N.D. Cal. share S.D. Cal.'s program in the default scenario.
    outcome = simulate_block(build(scenario()), 1, 0, 12_000)
    np.testing.assert_array_equal(outcome.months[:, 1], outcome.months[:, 2])
    np.testing.assert_array_equal(outcome.months[:, 1], outcome.months[:, 3])


@pytest.mark.parametrize("p", [0.3, 0.75])
def test_offer_probability_is_realised_within_four_standard_errors(p):
    data = scenario()
    offer = copy.deepcopy(data["districts"]["CAS"]["offers"][0])
    offer["eligibility"] = {}
    offer["offer_probability"]["value"] = p
    offer["acceptance_probability"]["value"] = 1.0
    data["districts"]["CAS"]["offers"] = [offer]
    outcome = simulate_block(build(data), 0, 0, 12_000)
    d = 1  # CAS
    took = outcome.offer[outcome.prosecuted[:, d], d] == 0
    n = took.size
    se = math.sqrt(p * (1 - p) / n)
    assert abs(took.mean() - p) < 4 * se


def test_banuelos_rodriguez_gets_70_to_87_in_cac_and_at_most_the_cap_elsewhere():
    profiles = summary_of(scenario())["profiles"]
    banuelos = profiles["banuelos-rodriguez"]
    assert banuelos["CAC"]["final_range_months"] == [70, 87]
    assert banuelos["CAC"]["min_months"] == banuelos["CAC"]["max_months"] == 70
    for code in ("CAS", "CAE", "CAN"):
        assert banuelos[code]["max_months"] <= 60
        assert banuelos[code]["min_months"] == 24
    worst = profiles["worst-offender"]
    assert worst["CAC"]["final_range_months"] == [100, 125]
    for code in ("CAS", "CAE", "CAN"):
        assert worst[code]["max_months"] <= 60


def test_prosecuted_share_in_cac_is_the_section_1326b_share():
    # C.D. Cal. prosecutes only defendants deported after a felony (§ 1326(b)); the fast-track
    # districts prosecute all. So CAC's share is below 1 and the others' are exactly 1.
    districts = summary_of(scenario())["districts"]
    assert 0 < districts["CAC"]["prosecuted_share"] < 1
    for code in ("CAS", "CAE", "CAN"):
        assert districts[code]["prosecuted_share"] == 1.0


def test_every_assumption_is_listed():
    labels = {a["field"] for a in summary_of(scenario(replications=1))["assumptions"]}
    assert "judge.range_position" in labels
    assert "districts.CAS.offers[0].offer_probability" in labels


# --- CLI ---------------------------------------------------------------------------------


def write(tmp_path, data, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_extends_overrides_one_value(tmp_path):
    child = {"extends": str(DEFAULT_SCENARIO), "study": {"defendants": 1234}}
    path = write(tmp_path, child)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "1,234 defendants" in result.output


def test_default_scenario_validates():
    result = runner.invoke(app, ["validate", str(DEFAULT_SCENARIO)])
    assert result.exit_code == 0, result.output


def _mutate(path_keys, value):
    data = scenario()
    target = data
    for key in path_keys[:-1]:
        target = target[key]
    target[path_keys[-1]] = value
    return data


BAD_CONFIGS = {
    "unknown key": (
        _mutate(["study", "replicatons"], 3),
        ["study.replicatons", "unknown key", "replications"],
    ),
    "wrong type": (_mutate(["study", "defendants"], "many"), ["study.defendants", "'many'"]),
    "probability above 1": (
        _mutate(["districts", "CAC", "plea_probability", "value"], 1.5),
        ["districts.CAC.plea_probability.value", "1.5", "less than or equal to 1"],
    ),
    "unknown district": (
        {
            **scenario(),
            "districts": {**scenario()["districts"], "XXX": scenario()["districts"]["CAC"]},
        },
        ["districts.XXX", "unknown district code", "allowed: the 94 USSC codes"],
    ),
    "unknown manual": (_mutate(["manual"], 1980), ["manual", "1980", "1995"]),
    "negative cap": (
        _mutate(
            ["districts", "CAS", "offers"],
            [
                {
                    **scenario()["districts"]["CAS"]["offers"][1],
                    "sentence_cap_months": {"value": -5, "unit": "months", "source": "x"},
                }
            ],
        ),
        ["sentence_cap_months.value: -5", "greater than or equal to 0"],
    ),
    "early disposition in 1995": (
        _mutate(
            ["districts", "CAS", "offers"],
            [{**scenario()["districts"]["CAS"]["offers"][0], "early_disposition_levels": 4}],
        ),
        ["districts.CAS.offers[0].early_disposition_levels", "5K3.1"],
    ),
    "parameter without source": (
        _mutate(["districts", "CAC", "plea_probability"], {"value": 0.5, "unit": "probability"}),
        ["districts.CAC.plea_probability.source", "required key is missing"],
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_exit_2_names_field_and_writes_nothing(tmp_path, name):
    data, fragments = BAD_CONFIGS[name]
    path = write(tmp_path, data)
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_malformed_yaml_config(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scenario: [unclosed\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "malformed YAML" in result.output


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "a.yaml")])
    assert result.exit_code == 2
    assert "cycle" in result.output


def test_overriding_a_parameter_value_requires_its_source(tmp_path):
    child = {
        "extends": str(DEFAULT_SCENARIO),
        "districts": {"CAC": {"plea_probability": {"value": 0.5}}},
    }
    result = runner.invoke(app, ["validate", str(write(tmp_path, child))])
    assert result.exit_code == 2
    assert "districts.CAC.plea_probability.source" in result.output


# --- issue 12: declination outcomes, district judges, district_defaults end to end ----------


def _share(value, unit="share"):
    return {"value": value, "unit": unit, "source": "test", "assumption": True}


SPLIT = {
    "administrative_removal": _share(0.5),
    "state_referral": _share(0.25),
    "section_1325": _share(0.25),
    "section_1325_months": _share(2, "months"),
}


def _declining(data, code, eligible):
    prosecution = copy.deepcopy(data["districts"][code]["prosecution"])
    prosecution.update({"eligible": eligible, "declined": copy.deepcopy(SPLIT)})
    data["districts"][code]["prosecution"] = prosecution
    return data


def test_declination_outcomes_are_common_random_numbers_and_shift_no_sentence():
    base = scenario()
    data = _declining(_declining(scenario(), "CAC", "felony"), "CAN", "aggravated_felony")
    a, b = simulate_block(build(base), 0, 0, 12_000), simulate_block(build(data), 0, 0, 12_000)
    # The new stream shifts no other draw: every sentence of the districts whose prosecution
    # rule is unchanged is as it was (CAC's rule and numbers are unchanged too).
    for d, code in enumerate(build(base).district_codes):
        if code != "CAN":
            np.testing.assert_array_equal(a.months[:, d], b.months[:, d])
            np.testing.assert_array_equal(a.prosecuted[:, d], b.prosecuted[:, d])
    cac, can = 0, 3
    both = ~b.prosecuted[:, cac] & ~b.prosecuted[:, can]
    assert both.sum() > 1_000
    # Declined in both with the same split: the same outcome (one uniform, every district).
    np.testing.assert_array_equal(b.declined_outcome[both, cac], b.declined_outcome[both, can])
    # The realised split is the parameter's, within four standard errors.
    fates = b.declined_outcome[~b.prosecuted[:, cac], cac]
    n = len(fates)
    for k, p in enumerate((0.5, 0.25, 0.25)):
        assert abs((fates == k).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    months = b.declined_months[~b.prosecuted[:, cac], cac]
    assert set(months[fates == 2].tolist()) == {2}
    assert set(months[fates != 2].tolist()) == {0}
    assert (b.declined_outcome[b.prosecuted] == -1).all()


def test_a_district_judge_sentences_only_its_district():
    data = scenario()
    data["districts"]["CAE"]["judge"] = {
        "range_position": {"distribution": "top", "source": "test", "assumption": True}
    }
    a = simulate_block(build(scenario()), 0, 0, 12_000)
    b = simulate_block(build(data), 0, 0, 12_000)
    for d in (0, 1, 3):
        np.testing.assert_array_equal(a.months[:, d], b.months[:, d])
    assert (b.months[:, 2] >= a.months[:, 2]).all()
    assert (b.months[:, 2] > a.months[:, 2]).any()


def _era_scenario():
    """Fast track for every district through district_defaults; C.D. prosecutes felons only
    (the dissent's reading), declines with a split, its own judge gives time served."""
    data = scenario()
    cas = data["districts"]["CAS"]
    data["district_defaults"] = {
        "prosecution": copy.deepcopy(cas["prosecution"]),
        "offers": copy.deepcopy(cas["offers"]),
        "plea_probability": copy.deepcopy(cas["plea_probability"]),
    }
    data["district_defaults"]["offers"][0]["eligibility"].update(
        {"source": "Seed, quoting Mrozek", "assumption": True}
    )
    data["district_defaults"]["offers"][1]["stipulated_sentence_months"] = _share(60, "months")
    del data["district_defaults"]["offers"][1]["sentence_cap_months"]
    for code, district in data["districts"].items():
        data["districts"][code] = {k: district[k] for k in ("name", "caseload_weight")}
    data["districts"]["CAC"].update(
        {
            "prosecution": {"eligible": "felony", "declined": copy.deepcopy(SPLIT)},
            "offers": [],
            "judge": {
                "range_position": copy.deepcopy(data["judge"]["range_position"]),
                "time_served_months": _share(3, "months"),
            },
        }
    )
    return data


@pytest.mark.slow
def test_an_era_scenario_runs_end_to_end_with_declination_figures(tmp_path):
    path = write(tmp_path, _era_scenario())
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "results"
    result = runner.invoke(
        app, ["run", str(path), "--replications", "2", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    cac = summary["districts"]["CAC"]
    declined = cac["declined"]
    assert declined["share"] == pytest.approx(1 - cac["prosecuted_share"])
    assert declined["section_1325_mean_months"] == 2
    for name, p in (("administrative_removal", 0.5), ("state_referral", 0.25)):
        assert abs(declined[name] - p) < 0.03
    arrested = cac["as_arrested"]["declined"]
    assert arrested["share"] == pytest.approx(1 - cac["as_arrested"]["prosecuted_share"])
    # The fast-track districts prosecute everyone: nobody declined, outcome shares undefined.
    assert summary["districts"]["CAS"]["declined"]["share"] == 0
    assert summary["districts"]["CAS"]["declined"]["administrative_removal"] is None
    # C.D.'s time served: no prosecuted defendant gets 0 months there.
    assert cac["imprisonment_share"] == 1.0
    listed = {a["field"] for a in summary["assumptions"]}
    assert {
        "districts.CAS.offers[0].eligibility",
        "districts.CAC.prosecution.declined.section_1325",
        "districts.CAC.judge.time_served_months",
        "districts.CAS.offers[1].stipulated_sentence_months",
        "districts.CAS.prosecution.declined.administrative_removal",  # the default, labelled
    } <= listed


def test_a_bad_default_is_blamed_on_district_defaults_by_the_cli(tmp_path):
    data = _era_scenario()
    data["district_defaults"]["offers"][0]["offer_probability"]["value"] = 1.5
    path = write(tmp_path, data)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    # CAC has its own (empty) offers: only the three districts that inherit them are named.
    for code in ("CAS", "CAE", "CAN"):
        line = f"districts.{code}.offers[0].offer_probability.value: 1.5"
        assert line in result.output, result.output
    assert "districts.CAC.offers" not in result.output
    assert result.output.count("(value from district_defaults)") == 3

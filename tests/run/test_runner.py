"""The study runner: determinism, common random numbers, policy isolation, the seed's profiles,
and ``sim run`` / ``sim validate`` end to end."""

import copy
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

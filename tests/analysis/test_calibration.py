"""``sim calibrate``: the fitting core on objectives whose answer is known by hand, parameter
recovery and a hand-checkable share on the real simulation, determinism, the written scenario
(valid, reproducing the fit), and bad input (exit 2, one line per problem, nothing written)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.calibration import (
    Calibration,
    _target,
    calibrate,
    fit,
    fitted_mcse,
    override_mapping,
    parse_path,
    prepare,
)
from sim.cli import app
from sim.inputs import InputError
from sim.model.scenario import DEFAULT_SCENARIO, load_scenario
from sim.output.calibration import write_calibration

CONFIGS = DEFAULT_SCENARIO.parent
#: Small enough to take well under a second per evaluation once the kernels are compiled.
STUDY = ["--defendants", "4000", "--replications", "2"]
OVERRIDES = {"defendants": 4000, "replications": 2}
OFFER = "districts.CAS.offers[0].offer_probability"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def configs(tmp_path):
    """The shipped scenario files, copied so that outputs land in a scratch folder."""
    for path in CONFIGS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


# -- paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("overall.mean_months", ("overall", "mean_months")),
        (
            "districts.CAS.offers[0].offer_probability",
            ("districts", "CAS", "offers", 0, "offer_probability"),
        ),
        ("pairwise[1].mcse_months", ("pairwise", 1, "mcse_months")),
        ("a..b", None),
        ("[0].a", None),
        ("a.[0]", None),
        ("a b", None),
        ("", None),
    ],
)
def test_paths_parse_into_keys_and_indices(text, tokens):
    assert parse_path(text) == tokens


# -- the fitting core on objectives known by hand ------------------------------------------------


def linear(values):
    (x,) = values
    return [3 * x + 2], [None]


def test_one_target_one_parameter_brackets_the_root():
    # 3x + 2 = 11 at x = 3.
    values, method, converged, _, _memo = fit(linear, [11.0], [(0.0, 10.0)], [5.0])
    assert "brentq" in method
    assert converged
    assert abs(3 * values[0] + 2 - 11) <= 0.01
    assert abs(values[0] - 3) <= 0.01 / 3


def test_a_target_outside_the_values_at_the_bounds_is_not_bracketed():
    _values, _, converged, message, memo = fit(linear, [40.0], [(0.0, 10.0)], [5.0])
    assert not converged
    assert "not bracketed" in message
    assert "2 at 0" in message
    assert "32 at 10" in message
    assert len(memo.seen) == 2  # only the two bounds were simulated


def test_a_target_inside_one_step_of_a_piecewise_constant_figure_is_reported():
    # floor(10x)/10 jumps from 0.3 to 0.4 at x = 0.4: 0.35 is never within 0.01.
    def steps(values):
        return [math.floor(10 * values[0]) / 10], [None]

    values, _, converged, message, _ = fit(steps, [0.35], [(0.0, 1.0)], [0.5])
    assert not converged
    assert "inside a step" in message
    # The bracket closed on the jump: the message names both sides of it.
    assert "from 0.3 at 0.3999" in message
    assert "to 0.4 at 0.4" in message
    assert math.floor(10 * values[0]) / 10 in (0.3, 0.4)


def test_a_piecewise_constant_figure_with_small_steps_is_fitted_to_the_tolerance():
    # Steps of 0.001 (finer than the tolerance), as a large study's mean is.
    def steps(values):
        return [math.floor(1000 * values[0]) / 1000 * 7], [None]

    values, _, converged, _, _ = fit(steps, [2.5], [(0.0, 1.0)], [0.9])
    assert converged
    assert abs(math.floor(1000 * values[0]) / 1000 * 7 - 2.5) <= 0.01


def test_two_targets_two_parameters_solve_a_linear_system():
    # x + y = 3 and x - 2y = 0: x = 2, y = 1.
    def system(values):
        x, y = values
        return [x + y, x - 2 * y], [None, None]

    values, method, converged, _, _ = fit(system, [3.0, 0.0], [(0, 5), (0, 5)], [4.0, 4.0])
    assert "least_squares" in method
    assert converged
    assert np.allclose(values, [2.0, 1.0], atol=0.01)


def test_least_squares_is_not_stalled_by_a_piecewise_constant_figure():
    # Steps of 0.001 in each parameter: a default finite-difference step (1e-8) would see zero
    # derivatives; the step of 1% of the bounds does not.
    def system(values):
        x, y = (math.floor(1000 * v) / 1000 for v in values)
        return [x + y, x - 2 * y], [None, None]

    values, _, converged, _, _ = fit(system, [3.0, 0.0], [(0, 5), (0, 5)], [4.0, 4.0])
    assert converged
    assert np.allclose(values, [2.0, 1.0], atol=0.02)


def test_the_evaluation_budget_is_kept():
    calls = []

    def slow(values):
        calls.append(values)
        x, y = values
        return [x * x + y, x - y * y], [None, None]

    _, _, converged, message, _ = fit(
        slow, [7.0, 1.0], [(0, 5), (0, 5)], [0.1, 0.1], max_evaluations=3
    )
    assert not converged
    assert "3 evaluations" in message
    assert len(calls) == 3


# -- the documented target ------------------------------------------------------------------------


def test_only_the_fy2013_mean_of_18_months_is_a_documented_target(configs):
    scenario = load_scenario(configs / "california-1995.yaml")[0]
    fy2013 = scenario.model_copy(update={"manual": 2012})
    target, problems = _target("overall.mean_months=18", fy2013, acknowledged=False)
    assert target.documented
    assert problems == []
    assert "Illegal Reentry Offenses" in target.source
    for text, scenario_, reason in (
        ("overall.mean_months=17", fy2013, "the published value is 18, not 17"),
        ("overall.mean_months=18", scenario, "not for a 1995 Manual scenario"),
        ("overall.median_months=18", fy2013, "not a published outcome documented"),
    ):
        target, problems = _target(text, scenario_, acknowledged=False)
        assert not target.documented
        assert len(problems) == 1
        assert reason in problems[0][1]
        assert "--allow-undocumented-target" in problems[0][1]
        target, problems = _target(text, scenario_, acknowledged=True)
        assert problems == []
        assert not target.documented
        assert reason in target.source


# -- the calibrated file's mapping ----------------------------------------------------------------


def test_an_override_changes_only_the_named_district_of_a_shared_anchor(configs):
    prepared = prepare(
        configs / "california-1995.yaml",
        ["districts.CAS.mean_months=15"],
        [OFFER],
        OVERRIDES,
        acknowledge_undocumented=True,
    )
    parameter = {"value": 0.5, "unit": "probability", "source": "x", "assumption": True}
    override = override_mapping(prepared.resolved, {prepared.parameters[0].path: parameter})
    assert list(override) == ["districts"]
    assert list(override["districts"]) == ["CAS"]
    offers = override["districts"]["CAS"]["offers"]
    assert offers[0]["offer_probability"] == parameter
    assert offers[1] == prepared.resolved["districts"]["CAS"]["offers"][1]  # written whole
    scenario = prepared.scenario_at([0.5])
    assert scenario.districts["CAS"].offers[0].offer_probability.value == 0.5
    assert scenario.districts["CAE"].offers[0].offer_probability.value == 0.9
    # The scenario's mapping is not changed by a trial.
    assert prepared.resolved["districts"]["CAS"]["offers"][0]["offer_probability"]["value"] == 0.9


# -- the real simulation --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_prosecution_probability_is_fitted_to_the_share_it_prosecutes(configs):
    # Oracle: CAS prosecutes every defendant (eligible: all) with probability p on one uniform
    # each, so its prosecuted share is the share of 8,000 uniforms below p: p ≈ 0.5 within
    # sampling error (sd sqrt(0.25 / 8000) = 0.0056) for a share of 0.5.
    prepared = prepare(
        configs / "california-1995.yaml",
        ["districts.CAS.prosecuted_share=0.5"],
        ["districts.CAS.prosecution.probability"],
        OVERRIDES,
        acknowledge_undocumented=True,
        tolerance=0.001,
    )
    calibration = calibrate(prepared, tolerance=0.001)
    assert abs(calibration.simulated[0] - 0.5) <= 0.001
    assert abs(calibration.fitted[0] - 0.5) <= 4 * math.sqrt(0.25 / 8000)


@pytest.mark.slow
def test_a_known_offer_probability_is_recovered_and_the_fit_is_deterministic(configs):
    # Oracle by construction: simulate CAS at offer probability 0.37, then fit the scenario
    # (0.9) back to that figure: the fit lands where the figure is the same, next to 0.37.
    known = configs / "known.yaml"
    known.write_text(
        yaml.safe_dump(
            {
                "extends": "california-1995.yaml",
                "districts": {"CAS": {"offers": _offers_with(configs, 0.37)}},
            }
        ),
        encoding="utf-8",
    )
    summary = json.loads(invoke("run", known, *STUDY, "--json", "--out", configs / "r").output)
    figure = summary["districts"]["CAS"]["mean_months"]
    fits = []
    for _ in range(2):
        prepared = prepare(
            configs / "california-1995.yaml",
            [f"districts.CAS.mean_months={figure!r}"],
            [OFFER],
            OVERRIDES,
            acknowledge_undocumented=True,
        )
        fits.append(calibrate(prepared))
    first, second = fits
    assert first.fitted == second.fitted
    assert first.simulated == second.simulated
    assert abs(first.simulated[0] - figure) <= 0.01
    assert abs(first.fitted[0] - 0.37) < 0.02
    assert first.method.startswith("scipy.optimize.brentq")


def _offers_with(folder: Path, probability: float) -> list:
    data = yaml.safe_load((folder / "california-1995.yaml").read_text(encoding="utf-8"))
    offers = data["districts"]["CAS"]["offers"]
    offers[0]["offer_probability"] = {
        "value": probability,
        "unit": "probability",
        "source": "test",
        "assumption": True,
    }
    return offers


@pytest.mark.slow
def test_the_command_writes_a_valid_scenario_that_reproduces_the_fit(configs):
    out = configs / "fitted.yaml"
    result = invoke(
        "calibrate", configs / "california-1995.yaml",
        "--target", "districts.CAS.mean_months=15", "--free", OFFER,
        "--allow-undocumented-target", "--out", out, "--json", *STUDY,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["converged"]
    assert printed["undocumented_targets"] == ["districts.CAS.mean_months"]
    assert "is not a documented calibration target" in result.stderr
    target, parameter = printed["rows"]
    assert target["kind"] == "target"
    assert parameter["kind"] == "parameter"
    assert abs(target["residual"]) <= 0.01
    assert target["mcse"] > 0
    assert (parameter["low"], parameter["high"], parameter["initial"]) == (0.0, 1.0, 0.9)

    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["extends"] == "california-1995.yaml"
    assert set(data) == {"extends", "districts"}
    assert set(data["districts"]) == {"CAS"}
    fitted = data["districts"]["CAS"]["offers"][0]["offer_probability"]
    assert fitted["value"] == parameter["fitted"]
    assert fitted["assumption"] is True
    assert fitted["source"].startswith("fitted to districts.CAS.mean_months=15 (NOT a documented")
    assert "seed 20000969, 4000 defendants x 2 replications" in fitted["source"]
    table = (configs / "fitted.csv").read_text(encoding="utf-8").splitlines()
    assert table[0].startswith("kind,name,published")
    assert len(table) == 3

    assert invoke("validate", out).exit_code == 0
    rerun = invoke("run", out, *STUDY, "--json", "--out", configs / "rerun")
    districts = json.loads(rerun.output)["districts"]
    assert districts["CAS"]["mean_months"] == target["simulated"]
    assert abs(districts["CAS"]["mean_months"] - 15) <= 0.01
    original = json.loads(invoke("run", configs / "california-1995.yaml", *STUDY, "--json",
                                 "--out", configs / "original").output)["districts"]  # fmt: skip
    assert districts["CAE"]["mean_months"] == original["CAE"]["mean_months"]

    # The file now exists: refused without --force, replaced with it.
    again = ["calibrate", configs / "california-1995.yaml", "--target",
             "districts.CAS.mean_months=15", "--free", OFFER, "--allow-undocumented-target",
             "--out", out, *STUDY]  # fmt: skip
    refused = invoke(*again)
    assert refused.exit_code == 2
    assert "exists; allowed: a new file, or --force" in refused.stderr
    assert invoke(*again, "--force").exit_code == 0


@pytest.mark.slow
def test_bad_input_is_one_line_per_problem_and_nothing_runs_or_is_written(configs):
    before = sorted(p.name for p in configs.iterdir())
    result = invoke(
        "calibrate", configs / "california-1995.yaml",
        "--target", "districts.CAS.mean_month=15",
        "--target", "districts.CAS.median_months=x",
        "--free", "districts.CAS.offers[5].offer_probability",
        "--free", "districts.CAS.offers[0].offer_probability=-1:0.5",
        "--free", "districts.CAC.plea_acceptance_levels",
        "--free", "judge.departures.non_government_below_rate",
        "--out", configs / "bad.txt", *STUDY,
    )  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.removeprefix("error: ").splitlines()
    expected = [
        "--target districts.CAS.mean_month=15: not a documented calibration target",
        "--target districts.CAS.median_months=x: allowed: NAME=VALUE",
        "--free districts.CAS.offers[5].offer_probability: districts.CAS.offers has 2 items",
        "--free districts.CAS.offers[0].offer_probability=-1:0.5: bounds -1:0.5 leave the "
        "parameter's own range [0, 1]",
        "--free districts.CAC.plea_acceptance_levels: districts.CAC.plea_acceptance_levels is a "
        "number without unit and source",
        "--free judge.departures.non_government_below_rate: judge.departures."
        "non_government_below_rate is not set in the scenario",
        "--free: 4 free parameters for 2 target(s)",
        "--target districts.CAS.mean_month: no such figure in sim run --json: no 'mean_month' "
        "at districts.CAS; did you mean mean_months",
        "--out: ",
    ]
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert "Traceback" not in result.output
    assert sorted(p.name for p in configs.iterdir()) == before  # nothing written


@pytest.mark.slow
def test_an_undocumented_target_is_refused_without_the_acknowledgement(configs):
    result = invoke(
        "calibrate", configs / "california-1995.yaml", "--target",
        "districts.CAS.mean_months=15", "--free", OFFER, *STUDY,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "not a documented calibration target" in result.stderr
    assert "overall.mean_months=18" in result.stderr
    assert not (configs / "california-1995-calibrated.yaml").exists()


@pytest.mark.slow
def test_a_target_the_bounds_cannot_reach_fails_and_writes_nothing(configs):
    result = invoke(
        "calibrate", configs / "california-1995.yaml", "--target",
        "districts.CAS.mean_months=40", "--free", OFFER, "--allow-undocumented-target", *STUDY,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "not bracketed" in result.stderr
    assert "nothing was written" in result.stderr
    assert not (configs / "california-1995-calibrated.yaml").exists()
    assert not (configs / "california-1995-calibrated.csv").exists()
    assert not list(configs.glob(".calibrate-*"))


def test_a_path_into_anchors_is_refused(configs):
    # `anchors` holds the YAML the districts copy: fitting it would change nothing.
    with pytest.raises(InputError) as raised:
        prepare(
            configs / "california-1995.yaml",
            ["districts.CAS.mean_months=15"],
            ["anchors.plea-without-deal=0:1"],
            OVERRIDES,
            acknowledge_undocumented=True,
        )
    assert raised.value.problems[0][0] == "--free anchors.plea-without-deal=0:1"
    assert "changes nothing" in raised.value.problems[0][1]


def test_a_figure_that_is_not_a_number_stops_the_fit():
    def undefined(values):
        return [math.nan if values[0] > 0.5 else values[0]], [None]

    values, _, converged, message, _ = fit(undefined, [0.8], [(0.0, 1.0)], [0.2])
    assert not converged
    assert "not a number at parameters 1" in message
    assert values == [1.0]


def test_bounds_that_break_a_cross_field_rule_are_refused_before_the_fit(configs):
    # Departure rates may sum to at most 1 (sim/model/judge.py): with an above-range rate of
    # 0.3, a below-range rate of 0.8 is not allowed.
    rate = {"unit": "probability", "source": "test", "assumption": True}
    size = {"unit": "share of the sentence", "source": "test", "assumption": True}
    departures = {
        "non_government_below_rate": {"value": 0.1, **rate},
        "non_government_below_fraction": {"value": 0.2, **size},
        "above_rate": {"value": 0.3, **rate},
        "above_fraction": {"value": 0.1, **size},
    }
    config = configs / "departures.yaml"
    config.write_text(
        yaml.safe_dump({"extends": "california-1995.yaml", "judge": {"departures": departures}}),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        prepare(
            config,
            ["districts.CAC.mean_months=20"],
            ["judge.departures.non_government_below_rate=0:0.8"],
            OVERRIDES,
            acknowledge_undocumented=True,
        )
    ((option, detail),) = raised.value.problems
    assert option == "--free judge.departures.non_government_below_rate"
    assert detail.startswith("at 0.8 the scenario is invalid: ")
    assert "exceeds 1" in detail


def test_the_written_file_extends_the_original_from_another_folder(configs):
    prepared = prepare(
        configs / "california-1995.yaml",
        ["districts.CAS.mean_months=15"],
        [OFFER],
        OVERRIDES,
        acknowledge_undocumented=True,
    )
    calibration = Calibration(
        targets=prepared.targets,
        parameters=prepared.parameters,
        fitted=[0.25],
        simulated=[15.001],
        mcse=[0.05],
        tolerance=0.01,
        method="test",
        evaluations=1,
        converged=True,
        message="",
        seed=1,
        defendants=4000,
        replications=2,
    )
    (configs / "fits").mkdir()
    out = configs / "fits" / "cas.yaml"
    written = write_calibration(calibration, prepared, out)
    assert written == (out, configs / "fits" / "cas.csv")
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["extends"] == "../california-1995.yaml"
    scenario = load_scenario(out)[0]
    assert scenario.districts["CAS"].offers[0].offer_probability.value == 0.25
    assert scenario.districts["CAN"].offers[0].offer_probability.value == 0.9
    assert (
        scenario.districts["CAS"].offers[1]
        == load_scenario(configs / "california-1995.yaml")[0].districts["CAS"].offers[1]
    )
    # Written once: a second write without force is refused and leaves the files as they were.
    before = out.read_bytes()
    with pytest.raises(InputError):
        write_calibration(calibration, prepared, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in (configs / "fits").iterdir()) == ["cas.csv", "cas.yaml"]


def test_a_target_also_listed_as_validation_is_named(configs):
    prepared = prepare(
        configs / "california-1995.yaml",
        ["districts.CAS.mean_months=15"],
        [OFFER],
        OVERRIDES,
        acknowledge_undocumented=True,
    )
    assert prepared.validation_targets == []
    validation = [
        {"name": "districts.CAS.mean_months", "value": 15, "source": "x"},
        {"name": "districts.CAC.mean_months", "value": 30, "source": "y"},
    ]
    listed = dataclasses.replace(prepared, resolved={**prepared.resolved, "validation": validation})
    assert listed.validation_targets == ["districts.CAS.mean_months"]


def test_a_list_a_district_takes_from_district_defaults_is_copied_from_there():
    # Issue 12's district_defaults: a district without its own `offers` takes the defaults'
    # list whole (lists are not merged), so the override writes that list with the fitted value.
    deal = {"name": "deal", "offer_probability": {"value": 0.9, "unit": "p", "source": "s"}}
    resolved = {
        "district_defaults": {"offers": [deal], "prosecution": {"eligible": "all"}},
        "districts": {"AZ": {"name": "D. Ariz."}, "CAS": {"offers": []}},
    }
    fitted = {"value": 0.5, "unit": "p", "source": "fitted", "assumption": True}
    override = override_mapping(resolved, {("districts", "AZ", "offers", 0, "offer_probability"):
                                           fitted})  # fmt: skip
    assert override == {
        "districts": {"AZ": {"offers": [{"name": "deal", "offer_probability": fitted}]}}
    }
    assert resolved["district_defaults"]["offers"][0]["offer_probability"]["value"] == 0.9
    # Mappings on the way stay partial: the loader merges them key by key.
    override = override_mapping(resolved, {("district_defaults", "prosecution", "probability"):
                                           fitted})  # fmt: skip
    assert override == {"district_defaults": {"prosecution": {"probability": fitted}}}


def test_the_fitted_values_mcse_is_the_figures_mcse_through_the_slope():
    # One target: f(x) = 3x + 2 with MCSE 0.3 -> the fitted x has MCSE 0.3 / 3 = 0.1.
    assert fitted_mcse(linear, [3.0], [(0.0, 10.0)], [0.3]) == [pytest.approx(0.1)]

    # Two: f = (x + y, x - 2y), MCSEs (0.3, 0.6): J⁻¹ = [[2, 1], [1, -1]] / 3, so
    # var x = (4 * 0.09 + 0.36) / 9 = 0.08 and var y = (0.09 + 0.36) / 9 = 0.05.
    def system(values):
        x, y = values
        return [x + y, x - 2 * y], [None, None]

    mcse = fitted_mcse(system, [2.0, 1.0], [(0, 5), (0, 5)], [0.3, 0.6])
    assert mcse == [pytest.approx(math.sqrt(0.08)), pytest.approx(math.sqrt(0.05))]
    # A flat figure does not determine its parameter; an unknown MCSE gives none.
    assert fitted_mcse(lambda v: ([1.0], [None]), [0.5], [(0, 1)], [0.1]) == [None]
    assert fitted_mcse(linear, [3.0], [(0.0, 10.0)], [None]) == [None]

"""Sensitivity analysis: Sobol' indices recovered on functions whose indices are known, sweep
files checked all at once, factors mapped onto their beliefs, and the shipped ranges."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from SALib.sample import sobol as sobol_sample
from SALib.test_functions import Ishigami

from sim.analysis.sensitivity import (
    Factor,
    _all_assumptions,
    design_points,
    figure_path,
    load_sweep,
    sobol_indices,
)
from sim.inputs import InputError
from sim.model.parameters import Distribution, Parameter, Probability
from sim.model.scenario import load_scenario

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _unit_design(k: int, n: int, seed: int = 7) -> np.ndarray:
    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0, 1]] * k}
    return sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)


def _inside(value: float, interval: list[float]) -> bool:
    return interval[0] <= value <= interval[1]


def test_ishigami_indices_are_recovered_within_their_bootstrap_intervals():
    # Ishigami & Homma (1990), a = 7, b = 0.1, inputs uniform on [-π, π]: analytic indices
    # (Saltelli et al. 2008, Global Sensitivity Analysis, §4.5; SALib's test function).
    a, b = 7.0, 0.1
    v = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    s1 = [v1 / v, v2 / v, 0.0]
    st = [(v1 + v13) / v, v2 / v, v13 / v]
    unit = _unit_design(3, 4096)
    y = Ishigami.evaluate(-math.pi + 2 * math.pi * unit, A=a, B=b)
    found = sobol_indices(unit, y, ["x1", "x2", "x3"], resamples=500, seed=3)
    for i, name in enumerate(["x1", "x2", "x3"]):
        assert _inside(s1[i], found[name]["S1_ci95"]), (name, s1[i], found[name])
        assert _inside(st[i], found[name]["ST_ci95"]), (name, st[i], found[name])
    assert abs(found["x2"]["S1"] - 0.4424) < 0.05  # and near the analytic value, not just inside


def test_additive_model_has_first_order_equal_to_total_and_a_null_factor_zero():
    # Y = 3 x0 + 2 x1 + 1 x2 + 0 x3, x uniform: S1 = ST = a_i² / Σ a_j² (no interactions);
    # x3 cannot move Y, so its indices are exactly 0.
    weights = np.array([3.0, 2.0, 1.0, 0.0])
    unit = _unit_design(4, 1024)
    found = sobol_indices(unit, unit @ weights, ["x0", "x1", "x2", "x3"], resamples=500)
    share = weights**2 / (weights**2).sum()
    for i in range(4):
        entry = found[f"x{i}"]
        assert _inside(share[i], entry["S1_ci95"]), (i, share[i], entry)
        assert _inside(share[i], entry["ST_ci95"]), (i, share[i], entry)
    assert found["x3"]["ST"] == pytest.approx(0.0, abs=1e-12)


def test_an_output_that_never_moves_has_zero_indices():
    unit = _unit_design(2, 8)
    found = sobol_indices(unit, np.full(len(unit), 4.2), ["a", "b"])
    assert found["a"] == {"S1": 0.0, "S1_ci95": [0.0, 0.0], "ST": 0.0, "ST_ci95": [0.0, 0.0]}


def test_a_design_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="not a Saltelli design"):
        sobol_indices(np.zeros((7, 2)), np.arange(7.0), ["a", "b"])


# --- beliefs and factors -----------------------------------------------------------------------


def test_quantiles_of_each_belief():
    uniform = Distribution(kind="uniform", low=2, high=4)
    assert [uniform.quantile(u) for u in (0, 0.5, 1)] == [2, 3, 4]
    triangle = Distribution(kind="triangular", low=0, mode=1, high=1)  # density 2x on [0, 1]
    assert triangle.quantile(0.25) == pytest.approx(0.5)  # P(X ≤ 0.5) = 0.25
    beta = Distribution(kind="beta", low=0, high=10, a=2, b=2)  # symmetric: median mid-range
    assert beta.quantile(0.5) == pytest.approx(5)


@pytest.mark.parametrize(
    "bad",
    [
        {"range": [0.95, 0.2]},  # low above high
        {"range": [0.5, 1.2]},  # beyond a probability's bounds
        {"distribution": {"kind": "triangular", "low": 0, "high": 1}},  # no mode
        {"distribution": {"kind": "beta", "low": 0, "high": 1, "a": 2}},  # no b
        {"range": [0, 1], "distribution": {"kind": "uniform", "low": 0, "high": 1}},  # both
    ],
)
def test_bad_beliefs_are_refused(bad):
    with pytest.raises(ValueError, match=r"range|mode|shape|not both|allowed"):
        Probability.model_validate({"value": 0.5, "source": "x", **bad})


def test_whole_month_factors_draw_every_month_equally_and_alternatives_each_option():
    months = Factor("m", ("m",), Distribution(kind="uniform", low=1, high=4), whole=True)
    drawn = [months.value(u) for u in np.linspace(0, 1, 4001)]
    assert set(drawn) == {1.0, 2.0, 3.0, 4.0}
    assert all(abs(drawn.count(m) - 1000) <= 2 for m in (1.0, 2.0, 3.0, 4.0))
    reading = Factor("alternatives.r", ("alternatives", "r"), labels=("panel", "dissent"))
    assert [reading.value(u) for u in (0.0, 0.49, 0.5, 1.0)] == [
        "panel",
        "panel",
        "dissent",
        "dissent",
    ]


# --- sweep files ------------------------------------------------------------------------------


def _write(tmp_path, spec) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _spec(**changes):
    spec = {
        "scenario": str(CONFIGS / "california-1995.yaml"),
        "vary": ["districts.CAS.offers[0].offer_probability", "alternatives.deal-reading"],
        "design": {"method": "sobol", "base_samples": 4},
        "outputs": ["headline.gap_months", "pairwise.CAC-CAS.mean_difference_months"],
        "study": {"defendants": 2000, "replications": 2, "seed": 1},
    }
    spec.update(changes)
    return spec


def test_every_problem_of_a_sweep_file_is_reported_at_once(tmp_path):
    path = _write(
        tmp_path,
        _spec(
            vary=[
                "districts.CAS.offers[0].offer_probability",
                "districts.CAS.caseload_wieght",  # misspelt
                "districts.CAC.offers_made",  # no such field
                "alternatives.no-such-reading",
                {"path": "districts.CAS.plea_probability", "range": [0.5]},
            ],
            design={"method": "saltelli", "base_samples": 6},
            colour="blue",
        ),
    )
    with pytest.raises(InputError) as caught:
        load_sweep(path)
    message = str(caught.value)
    for expected in (
        "colour: unknown key",
        "design.method: saltelli: allowed: sobol, one-at-a-time, grid, latin",
        "vary[1]",
        "did you mean caseload_weight",
        "vary[2]",
        "vary[3]: alternatives.no-such-reading: not a declared alternative; declared: "
        "deal-reading, judge-position",
        "vary[4]: range: [0.5]: allowed: [low, high]",
    ):
        assert expected in message, (expected, message)


def test_a_parameter_without_a_range_must_be_given_one_inline(tmp_path):
    path = _write(tmp_path, _spec(vary=["districts.CAC.prosecution.declined.state_referral"]))
    with pytest.raises(InputError, match="declares no range or distribution"):
        load_sweep(path)


def test_sobol_base_samples_must_be_a_power_of_two(tmp_path):
    with pytest.raises(InputError, match="power of 2"):
        load_sweep(_write(tmp_path, _spec(design={"method": "sobol", "base_samples": 6})))


@pytest.mark.slow
def test_an_output_that_names_no_figure_is_refused_with_suggestions(tmp_path):
    path = _write(tmp_path, _spec(outputs=["headline.gap_month", "districts.CAS.mean_months"]))
    with pytest.raises(InputError, match=r"headline\.gap_month: not a figure of sim run --json"):
        load_sweep(path)


@pytest.mark.slow
def test_designs_have_their_sizes_and_one_at_a_time_moves_one_factor(tmp_path):
    sweep = load_sweep(_write(tmp_path, _spec()))
    assert design_points(sweep).shape == (4 * (2 + 2), 2)  # Saltelli: N (k + 2)
    sweep.method, sweep.levels = "one-at-a-time", 3
    rows = design_points(sweep)
    assert rows.shape == (1 + 3 + 2, 2)  # the base, 3 levels of a number, 2 options
    assert all(np.sum(row != rows[0]) <= 1 for row in rows)
    assert sweep.factors[0].value(rows[0][0]) == pytest.approx(0.9)  # the value as written
    assert sweep.factors[1].value(rows[0][1]) == "panel"
    sweep.method = "grid"
    assert design_points(sweep).shape == (3 * 2, 2)
    sweep.method, sweep.base_samples = "latin", 10
    assert design_points(sweep).shape == (10, 2)


def test_pairs_are_named_by_their_districts():
    summary = {
        "pairwise": [
            {"district_a": "CAC", "district_b": "CAS"},
            {"district_a": "CAC", "district_b": "CAE"},
        ]
    }
    assert figure_path(summary, "pairwise.CAC-CAE.mean_difference_months") == (
        "pairwise[1].all_defendants.mean_difference_months"
    )
    assert figure_path(summary, "pairwise.CAC-CAE.both_prosecuted.mean_difference_months") == (
        "pairwise[1].both_prosecuted.mean_difference_months"
    )
    assert figure_path(summary, "headline.gap_months") == "headline.gap_months"


# --- the shipped configs ----------------------------------------------------------------------

#: Shares of a split that must sum to 1 cannot be varied one at a time; they carry no range
#: (docs/sensitivity.md), nor do zero caseload weights (a district with no cases).
_NO_RANGE = (
    "declined.administrative_removal",
    "declined.state_referral",
    "declined.section_1325",
    "_mix",
)


@pytest.mark.parametrize(
    "name", ["california-1995", "california-1995-dissent", "border-2004", "national-fy2013"]
)
def test_shipped_assumptions_carry_ranges_that_hold_their_values(name):
    scenario, _ = load_scenario(CONFIGS / f"{name}.yaml")
    from sim.analysis.calibration import _walk_model, parse_path
    from sim.model.scenario import assumptions

    ranged = set(_all_assumptions(scenario))
    missing = []
    for entry in assumptions(scenario):
        path = parse_path(entry["field"])
        node, _ = _walk_model(scenario, path)
        if not isinstance(node, Parameter):
            continue  # rules and choices: alternatives (docs/sensitivity.md)
        if entry["field"] in ranged:
            belief = node.belief
            assert belief.low <= node.value <= belief.high, entry["field"]
            assert node.range_source, entry["field"]
        elif not entry["field"].endswith(_NO_RANGE):
            missing.append(entry["field"])
    assert missing == []


# --- alternatives -----------------------------------------------------------------------------


def _validated(mapping, path):
    from sim.inputs import validate_model
    from sim.model.scenario import Scenario

    return validate_model(Scenario, mapping, path)


def test_the_deal_reading_alternative_is_the_other_file_in_both_directions():
    from sim.model.scenario import with_alternative

    panel_path = CONFIGS / "california-1995.yaml"
    dissent_path = CONFIGS / "california-1995-dissent.yaml"
    panel, panel_mapping = load_scenario(panel_path)
    dissent, dissent_mapping = load_scenario(dissent_path)
    assert panel.districts != dissent.districts
    to_dissent = _validated(
        with_alternative(panel_mapping, "deal-reading", "dissent", panel_path), panel_path
    )
    assert to_dissent.districts == dissent.districts
    assert to_dissent.alternatives["deal-reading"].current_label == "dissent"
    back = _validated(
        with_alternative(dissent_mapping, "deal-reading", "panel", dissent_path), dissent_path
    )
    assert back.districts == panel.districts
    same = with_alternative(panel_mapping, "deal-reading", "panel", panel_path)
    assert _validated(same, panel_path) == panel  # the current option changes nothing


def test_an_alternative_on_a_block_merges_there_and_unknown_options_are_refused():
    from sim.model.scenario import with_alternative

    path = CONFIGS / "california-1995.yaml"
    _, mapping = load_scenario(path)
    middle = _validated(with_alternative(mapping, "judge-position", "middle", path), path)
    assert middle.judge.range_position.distribution == "middle"
    with pytest.raises(InputError, match="no option 'top'; allowed: bottom, middle, uniform"):
        with_alternative(mapping, "judge-position", "top", path)
    with pytest.raises(InputError, match="not declared by the scenario"):
        with_alternative(mapping, "the-weather", "sunny", path)


@pytest.mark.slow
def test_vary_assumptions_all_takes_every_ranged_assumption_and_alternative(tmp_path):
    sweep = load_sweep(_write(tmp_path, _spec(vary=[{"assumptions": "all"}])))
    names = [f.name for f in sweep.factors]
    assert "alternatives.deal-reading" in names
    assert "alternatives.judge-position" in names
    assert "districts.CAS.offers[0].offer_probability" in names
    assert "population.mean_prior_removals" in names
    assert not any(n.endswith("state_referral") for n in names)  # a split's share: no range
    assert len(names) == len(set(names)) > 80


def test_sensitivity_figures_draw_into_a_given_axes_and_return_it():
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.output.figures.sensitivity import output_distribution, sobol_bars, tornado

    rng = np.random.default_rng(0)
    u = rng.random((200, 2))
    points = pd.DataFrame(
        {
            "a": u[:, 0],
            "u:a": u[:, 0],
            "r": pd.array(np.where(u[:, 1] < 0.5, "panel", "dissent"), dtype="string"),
            "u:r": u[:, 1],
            "y": 3 * u[:, 0] + (u[:, 1] < 0.5),
        }
    )
    indices = pd.DataFrame(
        {
            "output": ["y", "y"],
            "parameter": ["a", "r"],
            "S1": [0.6, 0.4],
            "S1_low": [0.5, 0.3],
            "S1_high": [0.7, 0.5],
            "ST": [0.6, 0.4],
            "ST_low": [0.5, 0.3],
            "ST_high": [0.7, 0.5],
        }
    )
    for draw in (
        lambda ax: tornado(points, ["a", "r"], "y", ax=ax),
        lambda ax: sobol_bars(indices, "y", ax=ax),
        lambda ax: output_distribution(points, "y", current=2.0, ax=ax),
    ):
        ax = Figure().add_subplot()
        assert draw(ax) is ax
        assert ax.get_xlabel()
    # The tornado's widest bar is the factor with the largest swing (a: 3 against r: 1).
    ax = tornado(points, ["a", "r"], "y")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["r", "a"]

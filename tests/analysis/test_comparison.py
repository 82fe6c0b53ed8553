"""sim compare's analysis: per-replication values, paired differences and their MCSE.

Oracles: a run compared with itself differs by exactly 0; two runs that differ only in one
district's offer probability, paired by common random numbers, differ only in the figures that
involve that district (every other difference exactly 0); the paired MCSE is the standard
deviation of the per-replication differences over √R, and no larger than the unpaired one.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.analysis.comparison import (
    compare_summaries,
    compatibility_problems,
    headline_paths,
    pairing,
    per_replication,
    replication_values,
)
from sim.analysis.metrics import over_replications
from sim.analysis.results import analyse
from sim.analysis.summary import figure_index
from sim.model.scenario import load_scenario
from sim.run.runner import run_study

ROOT = Path(__file__).resolve().parents[2]
CALIFORNIA = ROOT / "configs" / "california-1995.yaml"
SMALL = {"defendants": 1500, "replications": 4, "seed": 11}


def _run(path, **overrides):
    scenario = load_scenario(path, {**SMALL, **overrides})[0]
    return analyse(run_study(scenario))


def _can_at_half(tmp_path):
    """california-1995 but for N.D. Cal.'s § 1326(a) deal, offered with probability 0.5."""
    offers = yaml.safe_load(CALIFORNIA.read_text(encoding="utf-8"))["districts"]["CAN"]["offers"]
    offers[0]["offer_probability"]["value"] = 0.5
    path = tmp_path / "can-half.yaml"
    text = {
        "extends": str(CALIFORNIA),
        "scenario": "can-half",
        "districts": {"CAN": {"offers": offers}},
    }
    path.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    a = _run(CALIFORNIA)
    b = _run(_can_at_half(tmp_path_factory.mktemp("scenarios")))
    return a, b, per_replication(a), per_replication(b)


def test_per_replication_values_give_back_every_figure(runs):
    a, _, values, _ = runs
    index = figure_index(a.summary)
    assert len(values) == len(headline_paths(index)) > 40
    for path, series in values.items():
        assert series.shape == (4,)
        again = over_replications(series)
        estimate, mcse = index[path]
        assert again.estimate == pytest.approx(estimate, rel=1e-12, abs=1e-12), path
        assert again.mcse == pytest.approx(mcse, rel=1e-9, abs=1e-12), path


def test_a_run_compared_with_itself_differs_by_exactly_zero(runs):
    a, _, values, _ = runs
    comparison = compare_summaries("A", a.summary, "A", a.summary, values, values)
    assert comparison.paired
    assert comparison.rows
    assert not comparison.only_in_a
    assert not comparison.only_in_b
    for row in comparison.rows:
        assert row.difference == 0.0, row.figure
        assert row.method == "paired"
        assert row.mcse == 0.0, row.figure


def test_one_districts_offer_changes_only_the_figures_involving_it(runs):
    a, b, values_a, values_b = runs
    comparison = compare_summaries("A", a.summary, "B", b.summary, values_a, values_b)
    assert comparison.paired
    assert all(row.method == "paired" for row in comparison.rows)
    by_path = {row.figure: row for row in comparison.rows}
    pairs = {k: (p["district_a"], p["district_b"]) for k, p in enumerate(a.summary["pairwise"])}
    unchanged, changed = [], []
    for path, _row in by_path.items():
        if path.startswith("pairwise["):
            k = int(path[len("pairwise[") : path.index("]")])
            (changed if "CAN" in pairs[k] else unchanged).append(path)
        elif path.startswith("districts.") or path.startswith("headline."):
            (changed if ".CAN." in path else unchanged).append(path)
    for path in unchanged:
        assert by_path[path].difference == 0.0, path
        assert by_path[path].mcse == 0.0, path
    # Fewer offers of the 24-month deal: N.D. Cal.'s sentences are longer, on the same men.
    assert by_path["districts.CAN.mean_months"].difference > 1.0
    moved = [p for p in changed if p.endswith(("mean_months", "mean_difference_months"))]
    assert len(moved) == 1 + 3 + 3  # CAN's mean; its three pairs, both populations
    assert all(by_path[p].difference != 0.0 for p in moved), moved
    assert by_path["headline.gap_months"].difference == 0.0  # C.D. − S.D. is untouched
    assert by_path["variance_shares.district"].difference != 0.0


def test_paired_mcse_is_at_most_the_unpaired_one(runs):
    a, b, values_a, values_b = runs
    comparison = compare_summaries("A", a.summary, "B", b.summary, values_a, values_b)
    checked = 0
    for row in comparison.rows:
        if row.a_mcse is None or row.b_mcse is None or row.difference in (None, 0.0):
            continue
        unpaired = math.hypot(row.a_mcse, row.b_mcse)
        assert row.mcse <= unpaired + 1e-12, row.figure
        checked += 1
    assert checked >= 10
    mean = next(r for r in comparison.rows if r.figure == "districts.CAN.mean_months")
    assert mean.mcse < 0.5 * math.hypot(mean.a_mcse, mean.b_mcse)


def test_paired_mcse_is_the_sd_of_per_replication_differences():
    a = {"seed": 1, "defendants": 10, "replications": 3, "districts": {"X": {}}}
    summary = {**a, "districts": {"X": {"mean_months": 5.0, "mean_months_mcse": 1.0}}}
    other = {**a, "districts": {"X": {"mean_months": 7.0, "mean_months_mcse": 1.0}}}
    values = {"districts.X.mean_months": np.array([4.0, 5.0, 6.0])}
    shifted = {"districts.X.mean_months": np.array([6.0, 8.0, 7.0])}  # differences 2, 3, 1
    row = compare_summaries("A", summary, "B", other, values, shifted).rows[0]
    assert (row.difference, row.method) == (2.0, "paired")
    assert row.mcse == pytest.approx(1.0 / math.sqrt(3))  # sd(2, 3, 1) = 1


def test_unpaired_runs_use_the_root_sum_of_squares():
    summary = {"seed": 1, "defendants": 10, "replications": 3}
    a = {**summary, "districts": {"X": {"mean_months": 5.0, "mean_months_mcse": 0.3}}}
    b = {**summary, "seed": 2, "districts": {"X": {"mean_months": 6.0, "mean_months_mcse": 0.4}}}
    values = {"districts.X.mean_months": np.array([4.0, 5.0, 6.0])}
    comparison = compare_summaries("A", a, "B", b, values, values)
    assert not comparison.paired
    assert "seed 1 vs 2" in comparison.pairing
    row = comparison.rows[0]
    assert (row.method, row.mcse) == ("unpaired", pytest.approx(0.5))


def test_pairing_needs_the_same_seed_size_and_replications():
    base = {"seed": 1, "seed_scheme": "s", "defendants": 10, "replications": 3}
    assert pairing(base, dict(base))[0]
    for key, value in (("seed", 2), ("defendants", 11), ("replications", 4)):
        paired, reason = pairing(base, {**base, key: value})
        assert not paired
        assert key in reason


def test_different_districts_are_incompatible():
    a = {"districts": {"CAC": {}, "CAS": {}}, "headline": {"from": "CAC", "to": "CAS"}}
    b = {"districts": {"CAC": {}, "CAN": {}}, "headline": {"from": "CAC", "to": "CAN"}}
    problems = compatibility_problems(a, b)
    assert len(problems) == 2
    assert "A has CAC, CAS; B has CAC, CAN" in problems[0]
    assert compatibility_problems(a, a) == []


def test_an_archives_replications_table_names_its_figures(runs):
    a, _, values, _ = runs
    kept = replication_values(a.tables["replications"], a.summary)
    assert "districts.CAC.mean_months" in kept
    assert "pairwise[0].all_defendants.mean_difference_months" in kept
    for path in kept.keys() & values.keys():
        series = kept[path]
        np.testing.assert_allclose(series, values[path], rtol=1e-12, err_msg=path)


def test_headline_paths_lead_with_the_headline_gap(runs):
    a = runs[0]
    paths = headline_paths(figure_index(a.summary))
    assert paths[0] == "headline.gap_months"
    assert "districts.CAN.prosecuted_share" in paths
    assert "variance_shares.district" in paths
    assert "overall.mean_months" in paths
    assert not any(p.startswith("profiles") for p in paths)

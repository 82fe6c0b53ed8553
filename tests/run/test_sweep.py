"""Sweeps: a point simulated with the shared population equals the same scenario run alone;
results do not depend on workers, block size or chunking; a parameter that cannot reach an
output leaves it exactly unchanged; ``sim sweep`` and ``sim run --assumption-interval`` end to
end, with the sweep's archive verified and reproduced."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.results import analyse
from sim.analysis.sensitivity import FigureReducer, load_sweep, run_sweep
from sim.analysis.summary import figure_index
from sim.cli import app
from sim.inputs import InputError
from sim.run.runner import run_study
from sim.run.sweep import evaluate_points

runner = CliRunner()
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
OUTPUTS = [
    "headline.gap_months",
    "pairwise.CAC-CAS.mean_difference_months",
    "districts.CAS.mean_months",
    "districts.CAE.mean_months",
]


def _sweep_file(tmp_path, **changes) -> Path:
    spec = {
        "scenario": str(CONFIGS / "california-1995.yaml"),
        "vary": [
            "alternatives.deal-reading",
            "districts.CAS.offers[0].offer_probability",
            "districts.CAE.offers[0].offer_probability",  # cannot reach the C.D. − S.D. gap
            "judge.time_served_months",
        ],
        "design": {"method": "sobol", "base_samples": 4},
        "outputs": OUTPUTS,
        "study": {"defendants": 3000, "replications": 2, "seed": 11, "block_size": 1000},
    }
    spec.update(changes)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.slow
def test_a_point_with_the_shared_population_equals_its_scenario_run_alone(tmp_path):
    sweep = load_sweep(_sweep_file(tmp_path))
    result = run_sweep(sweep)
    # Three points (the reading, the offer rate and time served all differ between them),
    # each run alone by the ordinary runner: the same figures to the last bit.
    for index in (0, 5, 17):
        scenario = sweep.scenario_at(result.inputs[index]).model_copy(update={"profiles": {}})
        index_of = figure_index(analyse(run_study(scenario)).summary)
        alone = [
            index_of[p][0]
            for p in (
                "headline.gap_months",
                "pairwise[0].all_defendants.mean_difference_months",
                "districts.CAS.mean_months",
                "districts.CAE.mean_months",
            )
        ]
        assert result.estimates[index].tolist() == alone, index


@pytest.mark.slow
def test_sweeps_are_identical_across_workers_block_sizes_and_chunks(tmp_path):
    first = run_sweep(load_sweep(_sweep_file(tmp_path)))
    other = load_sweep(
        _sweep_file(
            tmp_path, study={"defendants": 3000, "replications": 2, "seed": 11, "block_size": 3000}
        )
    )
    second = run_sweep(other, workers=2, chunk=3)
    assert np.array_equal(first.estimates, second.estimates)
    assert np.array_equal(first.mcse, second.mcse, equal_nan=True)
    assert first.sobol == second.sobol


@pytest.mark.slow
def test_another_districts_offer_rate_cannot_move_the_central_southern_gap(tmp_path):
    result = run_sweep(load_sweep(_sweep_file(tmp_path)))
    cae = "districts.CAE.offers[0].offer_probability"
    for output in ("headline.gap_months", "pairwise.CAC-CAS.mean_difference_months"):
        entry = result.sobol[output][cae]
        assert entry["ST_ci95"][0] <= 0.0 <= entry["ST_ci95"][1], entry
        assert abs(entry["ST"]) < 1e-12, entry  # common random numbers: exactly no effect
    # ... while it does move E.D. Cal.'s own mean.
    assert result.sobol["districts.CAE.mean_months"][cae]["ST"] > 0
    # Points that differ only in E.D.'s rate give the same gap, bit for bit.
    column = [f.name for f in result.sweep.factors].index(cae)
    others = np.delete(result.unit, column, axis=1)
    for i, j in [(i, j) for i in range(8) for j in range(8) if i < j]:
        if np.array_equal(others[i], others[j]):
            assert result.estimates[i, 0] == result.estimates[j, 0]


def test_points_must_share_their_study():
    from sim.model.scenario import load_scenario

    a, _ = load_scenario(CONFIGS / "california-1995.yaml", {"defendants": 1000})
    b, _ = load_scenario(CONFIGS / "california-1995.yaml", {"defendants": 2000})
    with pytest.raises(ValueError, match="point 1: its study differs"):
        evaluate_points([a, b], FigureReducer(("headline.gap_months",)))


@pytest.mark.slow
def test_sim_sweep_json_archive_verify_and_reproduce(tmp_path):
    path = _sweep_file(tmp_path, design={"method": "sobol", "base_samples": 16})
    out = tmp_path / "archive"
    result = runner.invoke(app, ["sweep", str(path), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"points", "outputs", "sobol"}
    assert printed["points"] == 16 * (4 + 2)
    assert set(printed["outputs"]) == set(OUTPUTS)
    spread = printed["outputs"]["headline.gap_months"]
    assert set(spread) == {"min", "p05", "median", "p95", "max"}
    assert spread["min"] <= spread["p05"] <= spread["median"] <= spread["p95"] <= spread["max"]
    entry = printed["sobol"]["headline.gap_months"]["alternatives.deal-reading"]
    assert set(entry) == {"S1", "S1_ci95", "ST", "ST_ci95"}
    # The reading of the deal is what moves the gap most.
    totals = {k: v["ST"] for k, v in printed["sobol"]["headline.gap_months"].items()}
    assert max(totals, key=totals.get) == "alternatives.deal-reading", totals
    for name in (
        "sweep.parquet",
        "sensitivity.parquet",
        "summary.json",
        "manifest.json",
        "report.md",
        "report.html",
        "config.resolved.yaml",
        "sweep.yaml",
    ):
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text()) == printed
    verified = runner.invoke(app, ["verify", str(out)])
    assert verified.exit_code == 0, verified.output
    reproduced = runner.invoke(app, ["reproduce", str(out)])
    assert reproduced.exit_code == 0, reproduced.output
    assert "every table reproduced byte for byte" in reproduced.output
    (out / "figures" / "extra.txt").write_text("x")
    assert runner.invoke(app, ["verify", str(out)]).exit_code == 1


def test_sim_sweep_bad_file_exits_2_naming_every_problem(tmp_path):
    path = _sweep_file(tmp_path, design={"method": "sobol", "base_samples": 5}, outputs="x")
    result = runner.invoke(app, ["sweep", str(path)])
    assert result.exit_code == 2
    assert "design.base_samples: 5: a Sobol' sequence needs a power of 2" in result.stderr
    assert "outputs: allowed: a list of paths" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_sim_run_assumption_interval_brackets_the_headline(tmp_path):
    result = runner.invoke(
        app,
        [
            "run",
            str(CONFIGS / "california-1995.yaml"),
            "--defendants",
            "2000",
            "--replications",
            "2",
            "--assumption-interval",
            "6",
            "--json",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    gap = summary["headline"]["gap_months"]
    assert gap["assumption_p05"] < gap["assumption_p95"]
    assert summary["assumption_interval"]["points"] == 6
    assert "alternatives.deal-reading" in summary["assumption_interval"]["factors"]
    stored = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert stored["headline"]["gap_months"]["assumption_p95"] == gap["assumption_p95"]
    printed = runner.invoke(
        app,
        [
            "run",
            str(CONFIGS / "california-1995.yaml"),
            "--defendants",
            "2000",
            "--replications",
            "2",
            "--assumption-interval",
            "4",
            "--out",
            str(tmp_path / "r2"),
        ],
    )
    assert printed.exit_code == 0, printed.output
    assert "across assumptions" in printed.stdout


def test_a_point_that_breaks_a_cross_field_rule_stops_a_sobol_sweep_naming_it(tmp_path):
    # Prior removals below what the histories imply (about 1.35 in the 1995 population).
    path = _sweep_file(
        tmp_path,
        vary=[{"path": "population.mean_prior_removals", "range": [0.5, 1.0]}],
        outputs=["headline.gap_months"],
        study={"defendants": 1000, "replications": 2, "seed": 1, "block_size": 1000},
    )
    sweep = load_sweep(path)
    with pytest.raises(
        InputError,
        match=r"point 0 \(population\.mean_prior_removals=0\.\d+\) "
        r"makes the scenario invalid",
    ):
        run_sweep(sweep)
    sweep.method, sweep.base_samples = "latin", 3
    with pytest.raises(InputError, match="every point makes the scenario invalid"):
        run_sweep(sweep, skip_invalid=True)

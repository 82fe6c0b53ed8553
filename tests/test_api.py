"""The public Python API (docs/api.md): ``sim.run`` / ``sim.study`` return a typed
:class:`sim.api.Study` whose tables are the archive's, ``sim.calc`` a :class:`sim.api.Calculation`
equal to ``sim calc --json``; ``sim.run`` is both the runner room and the function; ``import sim``
stays light; and docs/api.md runs as a doctest."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.inputs import InputError

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "banuelos-rodriguez.yaml"
SIZES = {"defendants": 2000, "replications": 2, "seed": 7}


@pytest.fixture(scope="module")
def archived_study(tmp_path_factory):
    """A small study through ``sim.run`` with ``out=``: the Study and its archive."""
    out = tmp_path_factory.mktemp("api") / "run"
    return sim.run(ROOT / "configs" / "california-1995.yaml", out=out, **SIZES), out


def test_sim_run_is_the_runner_room_and_calls_study():
    import sim.run.runner

    assert sim.run is sys.modules["sim.run"]
    assert sim.run.runner.run_study.__module__ == "sim.run.runner"
    assert callable(sim.run)
    assert sim.study is sim.api.study
    assert sim.calc is sim.api.calc


def test_import_sim_is_light():
    # The API (pandas, the compiled kernels) is imported on first use only.
    code = (
        "import sys, sim; "
        "print(sorted(m for m in ('pandas', 'numba', 'sim.api') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "[]"


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = sim.nothing


@pytest.mark.slow
def test_study_is_typed_and_its_tables_are_the_archives(archived_study):
    study, out = archived_study
    assert isinstance(study, sim.Study)
    assert study.archive == out
    assert study.summary["archive"] == str(out)
    assert study.scenario.study.defendants == 2000
    # Every table the archive holds (the defendant sample aside) is a DataFrame of the study,
    # equal to its Parquet and CSV files.
    parquet = {p.stem for p in (out / "tables").glob("*.parquet")}
    assert set(study.tables) == parquet
    for name, frame in study.tables.items():
        assert isinstance(frame, pd.DataFrame)
        pd.testing.assert_frame_equal(frame, pd.read_parquet(out / "tables" / f"{name}.parquet"))
    # The summary is sim run --json's: summary.json plus the run's own entries.
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    extra = {"archive", "wall_seconds", "simulation_seconds"}
    assert {k: v for k, v in study.summary.items() if k not in extra} == written
    assert study.wall_seconds >= study.simulation_seconds > 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["simulation_seconds"] == study.simulation_seconds
    assert manifest["wall_seconds"] <= study.wall_seconds


@pytest.mark.slow
def test_tables_are_read_only_and_to_df_is_a_copy(archived_study):
    study, _ = archived_study
    with pytest.raises(TypeError):
        study.tables["districts"] = pd.DataFrame()  # type: ignore[index]
    copy = study.to_df("districts")
    copy["estimate"] = 0.0
    assert (study.tables["districts"]["estimate"] != 0.0).any()
    with pytest.raises(KeyError, match="no such table"):
        study.to_df("nothing")


@pytest.mark.slow
def test_without_out_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = sim.study(**SIZES)
    assert study.archive is None
    assert "archive" not in study.summary
    assert list(tmp_path.iterdir()) == []
    assert study.scenario.scenario == "california-1995"  # the built-in default


def test_bad_overrides_raise_input_error_before_any_work(tmp_path):
    with pytest.raises(InputError):
        sim.run(ROOT / "configs" / "california-1995.yaml", defendants=0, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_calc_equals_sim_calc_json():
    printed = CliRunner().invoke(app, ["calc", str(CASE), "--json"])
    assert printed.exit_code == 0, printed.output
    worksheet = json.loads(printed.stdout)
    result = sim.calc(CASE)
    assert isinstance(result, sim.Calculation)
    assert result.worksheet == worksheet
    # The seed opinion's defendant under the 1995 Manual: level 21, category V, 70-87 months.
    assert (result.total_offense_level, result.criminal_history_category) == (21, "V")
    assert result.guideline_range_months == result.final_range_months == (70, 87)
    assert str(result) == "\n".join(worksheet["lines"])
    assert "worksheet" not in repr(result)


def test_calc_takes_a_mapping_and_a_case_file_object():
    from sim.guidelines.casefile import load_case

    data = {"manual": 2018, "conviction": "1326(a)"}
    # No priors: level 8, category I: 0-6 months (2018 Sentencing Table).
    assert sim.calc(data).final_range_months == (0, 6)
    assert sim.calc(load_case(CASE)).final_range_months == (70, 87)


def test_calc_names_every_bad_field_at_once():
    with pytest.raises(InputError) as raised:
        sim.calc({"manual": 1066, "conviction": "1326(z)"})
    message = str(raised.value)
    assert "manual" in message
    assert "conviction" in message


@pytest.mark.slow
def test_docs_api_md_runs_as_a_doctest(monkeypatch):
    # Every example of the walk-through, from the repository root (the paths it uses).
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(
        str(ROOT / "docs" / "api.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        report=True,
        verbose=False,
    )
    assert tried > 20
    assert failures == 0

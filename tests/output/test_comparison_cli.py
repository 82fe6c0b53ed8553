"""``sim compare`` end to end, in-process: archives (verified first) and scenario files (run
paired), the comparison folder (table as Parquet and CSV, figure, report, manifest), ``--json``,
and bad input (exit 2, one line per problem)."""

import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.inputs import InputError

ROOT = Path(__file__).resolve().parents[2]
CALIFORNIA = ROOT / "configs" / "california-1995.yaml"
DISSENT = ROOT / "configs" / "california-1995-dissent.yaml"
SMALL = ["--defendants", "1500", "--replications", "3"]
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["compare", *(str(a) for a in args)])


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.slow
def test_an_archive_compared_with_itself_differs_by_exactly_zero(archived_run, tmp_path):
    out = tmp_path / "self"
    result = as_json(invoke(archived_run.folder, archived_run.folder, "--out", out, "--json"))
    assert set(result) >= {"a", "b", "paired", "figures", "out"}
    assert result["paired"] is True
    figures = result["figures"]
    assert (
        figures["headline.gap_months"]["a"]
        == archived_run.printed["headline"]["gap_months"]["estimate"]
    )
    for path, entry in figures.items():
        assert entry["difference"] == 0.0, path
        assert set(entry) >= {"a", "b", "difference", "mcse", "method"}
    # The archive keeps per-replication district means and every-defendant gaps only.
    assert figures["districts.CAC.mean_months"]["method"] == "paired"
    assert figures["districts.CAC.mean_months"]["mcse"] == 0.0
    assert figures["headline.gap_months"]["method"] == "unpaired"
    assert figures["headline.gap_months"]["mcse"] > 0


@pytest.mark.slow
def test_rerun_pairs_every_figure_of_two_archives(archived_run, tmp_path):
    result = as_json(
        invoke(
            archived_run.folder, archived_run.folder, "--rerun", "--out", tmp_path / "r", "--json"
        )
    )
    for path, entry in result["figures"].items():
        assert entry["method"] == "paired", path
        assert entry["mcse"] == 0.0, path


@pytest.mark.slow
def test_two_scenarios_run_paired_and_write_the_comparison(tmp_path):
    out = tmp_path / "panel-vs-dissent"
    result = as_json(invoke(CALIFORNIA, DISSENT, *SMALL, "--seed", "5", "--out", out, "--json"))
    assert result["paired"] is True
    assert "seed 5" in result["pairing"]
    assert all(entry["method"] == "paired" for entry in result["figures"].values())
    gap = result["figures"]["headline.gap_months"]
    # The dissent's reading narrows the gap (README: 8.99 vs 1.87 months at full size).
    assert gap["difference"] < -3
    assert gap["difference"] == pytest.approx(gap["b"] - gap["a"])
    assert 0 < gap["mcse"] < (gap["a_mcse"] ** 2 + gap["b_mcse"] ** 2) ** 0.5
    assert result["figures"]["districts.CAC.mean_months"]["difference"] == 0.0  # C.D. untouched

    assert Path(result["out"]) == out
    names = {p.name for p in out.iterdir()}
    assert names == {
        "comparison.parquet",
        "comparison.csv",
        "comparison.png",
        "comparison.svg",
        "values.png",
        "values.svg",
        "report.md",
        "report.html",
        "manifest.json",
    }
    table = pd.read_parquet(out / "comparison.parquet")
    assert list(table["figure"]) == list(result["figures"])
    pd.testing.assert_frame_equal(table, pd.read_csv(out / "comparison.csv"), check_dtype=False)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["paired"] is True
    assert manifest["inputs"]["B"]["seed"] == 5
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "months smaller in B than in A" in report
    assert "The headline gap (A's definition): The mean difference in months" in report
    assert "CAC: Central District of California" in report
    assert "paired" in report
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2

    # The same comparison again: the same bytes.
    again = tmp_path / "again"
    as_json(invoke(CALIFORNIA, DISSENT, *SMALL, "--seed", "5", "--out", again, "--json"))
    for name in names - {"manifest.json"}:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


@pytest.mark.slow
def test_the_terminal_table_names_the_method_and_the_report():
    result = invoke(CALIFORNIA, CALIFORNIA, *SMALL)
    assert result.exit_code == 0, result.output
    assert "paired by common random numbers" in result.output
    assert "B − A" in result.output
    assert result.output.rstrip().endswith("report.html")
    # The default folder, under the working folder.
    assert (Path("results") / "compare-california-1995-vs-california-1995").is_dir()


def _error_lines(result):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line]


def test_not_an_archive_or_scenario(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    lines = _error_lines(invoke(empty, tmp_path / "missing"))
    assert len(lines) == 2
    assert "A " in lines[0]
    assert "not a usable archive" in lines[0]
    assert "B " in lines[1]
    assert "no such archive folder or scenario file" in lines[1]


def test_an_archive_failing_verification_is_refused(archived_run, tmp_path):
    forged = tmp_path / "forged"
    shutil.copytree(archived_run.folder, forged)
    with open(forged / "summary.json", "a", encoding="utf-8") as file:
        file.write(" ")
    (forged / "notes.txt").write_text("unlisted", encoding="utf-8")
    lines = _error_lines(invoke(archived_run.folder, forged))
    assert len(lines) == 2
    assert all(line.startswith(("error: B ", "B ")) for line in lines)
    assert all("fails verification" in line for line in lines)
    assert any("summary.json" in line for line in lines)
    assert any("notes.txt" in line for line in lines)
    assert not Path("results").exists()  # nothing written


def test_an_archive_and_a_scenario_are_not_mixed(archived_run):
    lines = _error_lines(invoke(archived_run.folder, CALIFORNIA))
    assert len(lines) == 1
    assert "give two archives or two scenario files" in lines[0]


def test_study_settings_are_refused_with_archives(archived_run):
    lines = _error_lines(invoke(archived_run.folder, archived_run.folder, "--seed", "3"))
    assert len(lines) == 1
    assert "--seed: only with scenario files" in lines[0]


def test_an_existing_out_is_refused_before_running(tmp_path):
    lines = _error_lines(invoke(CALIFORNIA, CALIFORNIA, "--out", tmp_path))
    assert len(lines) == 1
    assert "--out: " in lines[0]
    assert "already exists" in lines[0]


def test_rerun_is_refused_with_scenario_files():
    lines = _error_lines(invoke(CALIFORNIA, CALIFORNIA, "--rerun"))
    assert len(lines) == 1
    assert "--rerun: only with archives" in lines[0]


def test_different_districts_are_refused_before_running(tmp_path):
    extra = yaml.safe_load(CALIFORNIA.read_text(encoding="utf-8"))["districts"]["CAS"]
    path = tmp_path / "five.yaml"
    text = {"extends": str(CALIFORNIA), "scenario": "five", "districts": {"AZ": extra}}
    path.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    lines = _error_lines(invoke(CALIFORNIA, path, *SMALL))
    assert len(lines) == 1
    assert "different districts: A has CAC, CAS, CAE, CAN; B has CAC, CAS, CAE, CAN, AZ" in lines[0]


def test_a_bad_scenario_names_its_side(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: [unclosed\n", encoding="utf-8")
    lines = _error_lines(invoke(CALIFORNIA, bad, *SMALL))
    assert lines[0].startswith("error: B ")


def _forge(archive, folder, name, data):
    """A consistent forgery: ``name`` replaced in a copy of ``archive`` and its hash updated in
    the manifest (verifies as intact)."""
    shutil.copytree(archive, folder)
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_forged_summary_gives_no_traceback(archived_run, tmp_path):
    summary = dict(archived_run.printed)
    summary.pop("wall_seconds", None)
    summary.pop("archive", None)
    summary["headline"] = {"gap_months": {"estimate": "many", "mcse": None}}
    summary["pairwise"] = ["x", 3]
    summary["districts"] = {code: "x" for code in archived_run.printed["districts"]}
    forged = _forge(
        archived_run.folder, tmp_path / "forged", "summary.json", json.dumps(summary).encode()
    )
    result = invoke(archived_run.folder, forged, "--out", tmp_path / "out", "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert "headline" in result.output
    else:
        figures = json.loads(result.output)["figures"]
        assert figures["headline.gap_months"]["b"] is None
        assert figures["headline.gap_months"]["difference"] is None


def test_a_forged_replications_table_is_refused(archived_run, tmp_path):
    buffer = io.BytesIO()
    pd.DataFrame({"replication": [0], "oops": [1.0]}).to_parquet(buffer, index=False)
    forged = _forge(
        archived_run.folder, tmp_path / "forged", "tables/replications.parquet", buffer.getvalue()
    )
    lines = _error_lines(invoke(archived_run.folder, forged))
    assert len(lines) == 1
    assert "tables/replications.parquet: not a sim run table" in lines[0]


@pytest.mark.slow
def test_archives_of_different_seeds_are_unpaired(archived_run, tmp_path):
    other = tmp_path / "seed-9"
    from helpers import SMALL_RUN

    run = runner.invoke(app, ["run", *SMALL_RUN, "--seed", "9", "--out", str(other), "--json"])
    assert run.exit_code == 0, run.output
    result = as_json(invoke(archived_run.folder, other, "--out", tmp_path / "cmp", "--json"))
    assert result["paired"] is False
    assert "seed" in result["pairing"]
    for path, entry in result["figures"].items():
        assert entry["method"] == "unpaired", path
        if entry["a_mcse"] is not None and entry["b_mcse"] is not None:
            assert entry["mcse"] == pytest.approx(
                (entry["a_mcse"] ** 2 + entry["b_mcse"] ** 2) ** 0.5
            ), path


def _comparison(a="A", b="B"):
    from sim.analysis.comparison import Comparison, FigureDifference

    rows = [
        FigureDifference(
            "headline.gap_months", "gap", "months", 9.0, 0.1, 2.0, 0.1, -7.0, 0.05, "paired"
        ),
        FigureDifference(
            "variance_shares.district",
            "<b>share</b>",
            "share",
            0.1,
            0.01,
            None,
            None,
            None,
            None,
            "unpaired",
        ),
    ]
    return Comparison(a, b, True, "paired by common random numbers", rows)


def test_the_figure_functions_take_and_return_an_axes():
    import matplotlib.pyplot as plt

    from sim.output.figures.comparison import comparison_differences, comparison_values

    frame = _comparison().frame()
    for draw in (comparison_differences, comparison_values):
        figure, ax = plt.subplots()
        assert draw(frame, unit="months", ax=ax) is ax
        assert [t.get_text() for t in ax.get_yticklabels()] == ["gap"]
        plt.close(figure)
        made = draw(frame, unit="share")
        assert made.get_figure() is not None
        plt.close(made.get_figure())


def test_the_report_escapes_names_and_shows_missing_figures(tmp_path):
    from sim.output.comparison import write_comparison

    folder = write_comparison(
        _comparison("<script>a</script>", "b|c[x](javascript:y)"), tmp_path / "out"
    )
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;share&lt;/b&gt;" in html
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "b\\|c\\[x\\](javascript:y)" in markdown
    assert "<b>" not in markdown
    assert "n/a" in markdown  # B's undefined share
    assert "7.00 months smaller in B than in A" in markdown
    with pytest.raises(InputError, match="already exists"):
        write_comparison(_comparison(), folder)

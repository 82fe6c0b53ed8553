"""Issue 12 end to end, in process: a scenario naming its headline pair and published figures
runs through ``sim run``; the JSON, the console, the report (Markdown and HTML) lead with the
headline and show the validation table; a bad name stops the run before anything is written."""

import io
import json
import shutil

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.model.scenario import DEFAULT_SCENARIO
from sim.output.report import _render

runner = CliRunner()
SMALL = ["--defendants", "2000", "--replications", "2"]
PUBLISHED = [
    {"name": "overall.mean_months", "value": 18, "source": "USSC, Illegal Reentry Offenses"},
    {"name": "overall.by_enhancement.16.within_range_share", "value": 0.5, "source": "a <b>"},
]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def scenario_file(tmp_path, **keys):
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump({"extends": str(DEFAULT_SCENARIO), **keys}))
    return path


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    """A run with the headline pair turned round (CAS − CAC) and two published figures."""
    root = tmp_path_factory.mktemp("headline")
    path = scenario_file(root, headline={"from": "CAS", "to": "CAC"}, validation=PUBLISHED)
    out = root / "run"
    result = run("run", path, *SMALL, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output)


def test_the_json_names_the_headline_pair_and_the_published_figures(archived):
    _, summary = archived
    headline = summary["headline"]
    assert (headline["from"], headline["to"]) == ("CAS", "CAC")
    cas_cac = next(
        p for p in summary["pairwise"] if (p["district_a"], p["district_b"]) == ("CAC", "CAS")
    )
    # The tallied pair is CAC − CAS: the headline is its both-prosecuted gap, sign turned.
    both = cas_cac["both_prosecuted"]
    assert headline["gap_months"]["estimate"] == pytest.approx(-both["mean_difference_months"])
    assert headline["gap_months"]["mcse"] == pytest.approx(both["mean_difference_months_mcse"])
    assert headline["declined_share"]["CAS"]["estimate"] == pytest.approx(
        1 - summary["districts"]["CAS"]["prosecuted_share"]
    )
    names = [entry["name"] for entry in summary["validation"]]
    assert names == [figure["name"] for figure in PUBLISHED]
    first = summary["validation"][0]
    assert first["simulated"] == {
        "estimate": summary["overall"]["mean_months"],
        "mcse": summary["overall"]["mean_months_mcse"],
    }
    assert first["difference"] == pytest.approx(summary["overall"]["mean_months"] - 18)


def test_the_report_leads_with_the_headline_and_shows_the_validation_table(archived):
    out, summary = archived
    markdown = (out / "report.md").read_text()
    headline = markdown.index("## Headline: S.D. Cal. − C.D. Cal. paired gap")
    assert headline < markdown.index("## Districts")
    # The definition, the districts named as courts cite them.
    definition = summary["headline"]["definition"]
    assert definition.replace("CAS", "S.D. Cal.").replace("CAC", "C.D. Cal.") in markdown
    assert "## Overall, as arrested" in markdown
    assert "| +16 |" in markdown
    validation = markdown[markdown.index("## Validation") :]
    assert "| overall.mean\\_months | 18.000 |" not in validation  # underscores inside words
    assert "| overall.mean_months | 18.000 |" in validation
    assert "a &lt;b&gt;" in validation  # a source is text, never markup
    html = (out / "report.html").read_text()
    assert "<h2>Headline: S.D. Cal. − C.D. Cal. paired gap</h2>" in html
    assert "<h2>Validation: published figures" in html
    assert "a &lt;b&gt;" in html
    assert "<b>" not in html
    table = pd.read_parquet(out / "tables" / "validation.parquet")
    assert list(table["published"]) == [18.0, 0.5]


def test_the_report_rebuilds_to_the_same_bytes(archived, tmp_path):
    out, _ = archived
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "report.md").unlink()
    result = run("report", copy)
    assert result.exit_code == 0, result.output
    assert (copy / "report.md").read_bytes() == (out / "report.md").read_bytes()
    assert (copy / "report.html").read_bytes() == (out / "report.html").read_bytes()


def test_an_archive_without_the_new_tables_still_gets_a_report(archived):
    """Archives written before issue 12 have no headline, overall or validation table."""
    out, _ = archived
    tables = {
        name: pd.read_parquet(io.BytesIO((out / "tables" / f"{name}.parquet").read_bytes()))
        for name in ("districts", "pairwise", "variance_shares", "selection_vs_policy")
    }
    manifest = json.loads((out / "manifest.json").read_text())
    reports = _render(out.name, manifest, tables, [], [])
    markdown = reports["report.md"].decode()
    assert "## Districts" in markdown
    assert "## Headline" not in markdown
    assert "## Validation" not in markdown


def test_the_console_leads_with_the_headline(tmp_path):
    path = scenario_file(tmp_path, validation=PUBLISHED[:1])
    result = run("run", path, *SMALL, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the console wraps lines at its width
    assert text.index("Headline gap CAC − CAS") < text.index("Districts")
    assert "among the defendants both districts prosecute" in text
    assert "Validation: published figures" in text
    assert "Overall, as arrested" in text


@pytest.mark.parametrize("command", ["run", "validate"])
def test_an_unknown_figure_name_stops_before_anything_runs(tmp_path, command):
    bad = [{"name": "overall.mean_month", "value": 18, "source": "s"}, *PUBLISHED]
    path = scenario_file(tmp_path, validation=bad)
    out = tmp_path / "run"
    args = [command, path, *([*SMALL, "--out", out] if command == "run" else [])]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "validation[0].name: 'overall.mean_month': not a figure of the summary" in result.output
    assert "close matches: overall.mean_months" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_bad_headline_pair_is_exit_2(tmp_path):
    path = scenario_file(tmp_path, headline={"from": "CAC", "to": "NYS"})
    result = run("validate", path)
    assert result.exit_code == 2
    assert "headline.to: 'NYS': not a listed district" in result.output

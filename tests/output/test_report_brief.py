"""The report as a brief (issue 14): key findings in words from the numbers, district names,
districts with identical policies once, named profiles in words, a glossary, assumptions by
topic, run date and version, cited sources in the archive; and the figures behind it."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.output import figures as plots
from sim.output import report as report_module
from sim.output.figures.style import (
    district_short_name,
    group_label,
    identical_groups,
    merged_labels,
    profile_outcome,
)
from sim.output.report import _GLOSSARY, _topic, cited_sources

#: The shared folder the archive copies cited files from (absent in a bare checkout).
SHARED = Path(report_module.__file__).resolve().parents[2].parent / "shared"


def _profile(low, high, mean, deals):
    rows = [("min_months", low), ("max_months", high), ("mean_months", mean)]
    rows += [(f"deal_share:{k}", v) for k, v in deals.items()]
    return pd.DataFrame(rows, columns=["metric", "estimate"])


def test_a_profile_in_words_one_value_two_values_or_a_mean():
    assert profile_outcome(_profile(70, 70, 70.0, {"no_deal": 1.0})) == "70 mo."
    # 0.9 × 24 + 0.1 × 60 = 27.6: two deals, 90% at the minimum.
    two = _profile(24, 60, 27.6, {"a": 0.9, "b": 0.1, "no_deal": 0.0})
    assert profile_outcome(two) == "24 mo. (90%) / 60 mo. (10%)"
    assert profile_outcome(two, prose=True) == "24 months in 90% of draws and 60 months in 10%"
    # A mean no two-point split of the deals explains: shown as a mean and a range.
    assert profile_outcome(_profile(24, 60, 30.0, {"a": 0.9, "b": 0.1})) == (
        "mean 30.0 mo. (24–60)"
    )


def test_district_names_as_courts_cite_them():
    assert district_short_name("Central District of California") == "C.D. Cal."
    assert district_short_name("Western District of Texas") == "W.D. Tex."
    assert district_short_name("District of Arizona") == "D. Ariz."
    assert district_short_name("District of New Mexico") == "D.N.M."
    assert district_short_name("Somewhere else") == "Somewhere else"
    assert group_label(["S.D. Cal.", "E.D. Cal.", "N.D. Cal."]) == "S.D., E.D., N.D. Cal."
    assert group_label(["S.D. Cal.", "D. Ariz."]) == "S.D. Cal., D. Ariz."


def test_identical_tallies_group_districts():
    table = pd.DataFrame(
        {
            "district": ["A", "A", "B", "B", "C", "C", "D", "D"],
            "months": [1, 2, 1, 3, 1, 3, 1, 3],
            "defendants": [5, 5, 5, 5, 5, 5, 5, 6],
        }
    )
    groups = identical_groups(table, "district", ["A", "B", "C", "D"])
    assert groups == [["A"], ["B", "C"], ["D"]]
    names = {"A": "Central District of California", "B": "Southern District of California",
             "C": "Eastern District of California"}  # fmt: skip
    assert merged_labels(groups, names) == {
        "A": "C.D. Cal.",
        "B": "S.D., E.D. Cal. (identical policies)",
        "D": "D",
    }


def test_assumptions_are_grouped_by_topic():
    assert _topic("population.misdemeanor_mix") == "Population: mix of prior convictions"
    assert _topic("population.misdemeanor_sigma") == "Population: lengths of prior sentences"
    assert _topic("population.clean_record_share") == "Population: records and removals"
    assert _topic("districts.CAC.prosecution.plea_rate") == (
        "Districts: prosecution and plea policies"
    )
    assert _topic("something.new") == "Other"


def test_cited_sources_are_found_by_path_name_or_seed(tmp_path):
    shared = tmp_path / "shared"
    for relative in ("domain/scenarios.md", "domain/other.md", "data/x.csv", "seed/op.txt"):
        (shared / relative).parent.mkdir(parents=True, exist_ok=True)
        (shared / relative).write_text(relative)
    config = b"source: scenarios.md s1; ../shared/data/x.csv; Seed: the opinion"
    assert list(cited_sources(config, shared)) == ["op.txt", "scenarios.md", "x.csv"]
    assert list(cited_sources(b"nothing cited", shared)) == []


@pytest.fixture(scope="module")
def brief(archived_run):
    folder = archived_run.folder
    return folder, (folder / "report.md").read_text(encoding="utf-8")


def test_the_key_findings_come_from_the_numbers(brief):
    folder, markdown = brief
    headline = pd.read_parquet(folder / "tables" / "headline.parquet")
    gap = headline.loc[headline["metric"] == "gap_months", "estimate"].iloc[0]
    findings = markdown[markdown.index("## Key findings") : markdown.index("## Headline")]
    assert markdown.index("## Key findings") < markdown.index("## Headline")
    assert (
        f"The same defendants receive on average **{abs(gap):.1f} months** "
        f"{'more' if gap >= 0 else 'less'} in C.D. Cal. than in S.D. Cal." in findings
    )
    assert "S.D., E.D. and N.D. Cal. have identical policies" in findings
    assert "Banuelos-Rodriguez would get 70 months in C.D. Cal." in findings


def test_the_brief_names_districts_and_explains_its_terms(brief):
    _, markdown = brief
    body = markdown[: markdown.index("## Glossary")]
    assert "| S.D., E.D., N.D. Cal. |" in body  # identical districts once
    assert "section_2l1_2_enhancement" not in body  # no code names
    assert "| § 2L1.2 enhancement |" in body
    assert "| Banuelos-Rodriguez | C.D. Cal. | 70–87 | 240 | 70 mo. |" in body
    assert "## Inequality" in body
    assert "## As arrested: treatment and composition" in body
    glossary = markdown[markdown.index("## Glossary") :]
    for term, _ in _GLOSSARY:
        assert f"- **{term}**:" in glossary
    for word in ("Shapley", "Theil", "As arrested", "Treatment", "Composition"):
        assert word in glossary


def test_figures_follow_the_narrative_and_convergence_is_in_the_appendix(brief):
    _, markdown = brief
    shown = re.findall(r"\(figures/([a-z_]+)\.png\)", markdown)
    assert shown == [n for n in plots.FIGURE_NAMES if n in shown]
    assert shown[0] == "sentence_histogram"
    assert markdown.index("figures/convergence.png") > markdown.index("## Appendix A")


def test_run_date_version_sources_and_reproduce(brief):
    folder, markdown = brief
    manifest = json.loads((folder / "manifest.json").read_text())
    assert f"Run {manifest['created_utc'][:10]} with sim {manifest['versions']['sim']}." in markdown
    if (SHARED / "domain" / "scenarios.md").is_file():
        sources = sorted(p.name for p in (folder / "sources").iterdir())
        assert "scenarios.md" in sources
        assert all(f"sources/{name}" in manifest["files"] for name in sources)
        assert all(f"`sources/{name}`" in markdown for name in sources)
    else:  # a checkout without ../shared: nothing to copy, and no empty folder
        assert not (folder / "sources").exists()
    appendix = markdown[markdown.index("## Appendix B: assumptions") :]
    assert "### Population: mix of prior convictions" in appendix
    assert "### Districts: prosecution and plea policies" in appendix
    assert ".venv/bin/sim reproduce " in markdown
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.count("<figure") == len(list((folder / "figures").glob("*.png")))


def test_the_archive_with_sources_still_verifies(archived_run):
    result = CliRunner().invoke(app, ["verify", str(archived_run.folder)])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_months_by_category_equals_the_defendants_means(tmp_path):
    """Oracle: with one replication archived whole, the table's means are the sample's means
    of months by category (declined = 0)."""
    out = tmp_path / "run"
    args = ["run", "--defendants", "1500", "--replications", "1", "--defendant-sample", "1500"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    sample = pd.read_parquet(out / "tables" / "defendant_sample.parquet")
    sample["m"] = sample["months"].where(sample["prosecuted"], 0)
    expected = sample.groupby(["district", "criminal_history_category"])["m"].agg(["mean", "size"])
    table = pd.read_parquet(out / "tables" / "months_by_category.parquet")
    merged = table.join(expected, on=["district", "criminal_history_category"])
    assert len(merged) == len(expected)
    assert (merged["defendants"] == merged["size"]).all()
    assert merged["mean_months"].to_numpy() == pytest.approx(merged["mean"].to_numpy(), abs=1e-9)


def test_the_histogram_has_a_declined_bar_and_draws_identical_districts_once(archived_run):
    tables = {
        name: pd.read_parquet(archived_run.folder / "tables" / f"{name}.parquet")
        for name in ("distributions", "districts")
    }
    ax = plots.sentence_histogram(tables["distributions"], tables["districts"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["C.D. Cal.", "S.D., E.D., N.D. Cal. (identical policies)"]
    assert "declined" in [t.get_text() for t in ax.get_xticklabels()]
    districts = tables["districts"]
    prosecuted = districts[
        (districts["view"] == "counterfactual") & (districts["metric"] == "prosecuted_share")
        & (districts["district"] == "CAC")
    ]["estimate"].iloc[0]  # fmt: skip
    bars = [p.get_height() for p in ax.patches if p.get_x() < 0]
    assert max(bars) == pytest.approx(1 - prosecuted)


def test_a_large_group_of_identical_districts_is_named_by_its_first():
    names = [f"D{k}" for k in range(89)]
    assert group_label(names) == "D0 and 88 other districts"


def test_a_negative_headline_reads_as_less_with_its_interval_turned():
    from sim.output.report import _MD, _findings

    headline = pd.DataFrame(
        {
            "district_from": "A",
            "district_to": "B",
            "metric": ["gap_months", "both_prosecuted_share", "declined_share", "declined_share"],
            "district": [None, None, "A", "B"],
            "estimate": [-2.8, 1.0, 0.0, 0.0],
            "mcse": [0.1, 0.0, 0.0, 0.0],
            "ci95_low": [-3.79, 1.0, 0.0, 0.0],
            "ci95_high": [-1.79, 1.0, 0.0, 0.0],
        }
    )
    text = _findings({"headline": headline}, _MD, {"A": "W.D. Tex.", "B": "D. Ariz."}, [])
    assert text == (
        "The same defendants receive on average **2.8 months** less in W.D. Tex. than in "
        "D. Ariz. when both districts prosecute them (95% interval 1.79 to 3.79); that is 100% "
        "of defendants."
    )

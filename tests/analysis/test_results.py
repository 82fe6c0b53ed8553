"""The results object: computed once per run, typed, and its views (the JSON summary, the tidy
tables) agreeing with the typed figures and keeping their contracts."""

import copy
import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.frames import TABLE_NAMES
from sim.analysis.measures import District, GapFigures, Pair, ProfileDistrict
from sim.analysis.metrics import Estimate
from sim.analysis.results import Results, analyse
from sim.api import run_to_target
from sim.cli import app
from sim.model.judge import POSITION_CATEGORIES
from sim.model.scenario import DEFAULT_SCENARIO, Scenario, resolve_scenario_mapping
from sim.run.runner import run_study

BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)
CODES = ["CAC", "CAS", "CAE", "CAN"]
runner = CliRunner()


@pytest.fixture(scope="module")
def results():
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": 3, "defendants": 4_000, "profile_draws": 200})
    return analyse(run_study(Scenario.model_validate(data)))


# --- the summary's contract ---------------------------------------------------------------

VIEW = (
    "prosecuted_share",
    "imprisonment_share",
    "mean_months",
    "median_months",
    "p10_months",
    "p25_months",
    "p75_months",
    "p90_months",
    "mean_percent_from_guideline_minimum",
)
GAP = (
    "defendants",
    "mean_difference_months",
    "median_difference_months",
    "share_differing_over_12_months",
    "ratio_of_means",
)
RANGE = ("defendants", "mean_months", "median_months", "share_over_12_months")
VARIANCE = (
    "district",
    "criminal_history_category",
    "section_2l1_2_enhancement",
    "other_record",
    "district_main_effect",
    "record_main_effect",
    "district_record_interaction",
)
SELECTION = ("observed_gap_months", "treatment_months", "composition_months")
INEQUALITY = ("gini", "theil_total", "theil_between", "theil_within")
DISTANCE = ("wasserstein_months", "kolmogorov_smirnov")
SUMMARY_KEYS = {
    "scenario",
    "title",
    "manual",
    "seed",
    "seed_scheme",
    "replications",
    "defendants",
    "profile_draws",
    "conventions",
    "districts",
    "pairwise",
    "cross_district_range",
    "variance_shares",
    "selection_vs_policy",
    "inequality",
    "profiles",
    "profile_pairwise",
    "assumptions",
    "headline",
    "overall",
    "validation",
}
OVERALL = (
    "prosecuted_share",
    "mean_months",
    "median_months",
    "imprisonment_share",
    "share_at_most_120_months",
)
ENHANCEMENT = ("share", "mean_months", "within_range_share")
#: § 2L1.2(b) levels the 1995 Manual (the 1991 text) can apply: none, +4, +16.
LEVELS_1995 = ["0", "4", "16"]


def keys_of(*names):
    """The three summary keys of each estimate: ``x``, ``x_mcse`` and ``x_ci95``."""
    return {key for name in names for key in (name, f"{name}_mcse", f"{name}_ci95")}


def number_or_none(value):
    return value is None or (isinstance(value, float) and math.isfinite(value))


DECLINED = (
    "share",
    "administrative_removal",
    "state_referral",
    "section_1325",
    "section_1325_mean_months",
)


def check_figures(entry, names, *, more=()):
    """``entry`` holds exactly the estimates ``names`` (and the keys ``more``), each an
    estimate (a finite float or null), its MCSE and a two-number interval."""
    assert set(entry) == keys_of(*names) | set(more)
    for name in names:
        assert number_or_none(entry[name]), (name, entry[name])
        assert number_or_none(entry[f"{name}_mcse"]), name
        interval = entry[f"{name}_ci95"]
        assert interval is None or (len(interval) == 2 and all(map(number_or_none, interval)))


def check_pair(pair, codes):
    assert pair["district_a"] in codes
    assert pair["district_b"] in codes
    assert set(pair) == {
        "district_a",
        "district_b",
        "mean_difference_months",
        "mcse_months",
        "ci95_months",
        "all_defendants",
        "both_prosecuted",
    }
    headline = pair["all_defendants"]
    assert pair["mean_difference_months"] == headline["mean_difference_months"]
    assert pair["mcse_months"] == headline["mean_difference_months_mcse"]
    assert pair["ci95_months"] == headline["mean_difference_months_ci95"]
    check_figures(pair["all_defendants"], GAP)
    check_figures(pair["both_prosecuted"], GAP)


def check_summary(summary, codes):
    """Every entry of a JSON summary has the keys and types of the contract."""
    assert set(summary) >= SUMMARY_KEYS
    for key in ("seed", "replications", "defendants", "profile_draws", "manual"):
        assert isinstance(summary[key], int), key
    assert list(summary["districts"]) == codes
    for district in summary["districts"].values():
        check_figures(district, VIEW, more=("name", "position_shares", "as_arrested", "declined"))
        check_figures(district["position_shares"], POSITION_CATEGORIES)
        arrested = district["as_arrested"]
        check_figures(arrested, (*VIEW, "arrest_share"), more=("position_shares", "declined"))
        check_figures(arrested["position_shares"], POSITION_CATEGORIES)
        for view in (district, arrested):  # declination outcomes (issue 12)
            check_figures(view["declined"], DECLINED)
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    assert [(p["district_a"], p["district_b"]) for p in summary["pairwise"]] == pairs
    for pair in summary["pairwise"]:
        check_pair(pair, codes)
    assert set(summary["cross_district_range"]) == {"all_defendants", "prosecuted_everywhere"}
    for entry in summary["cross_district_range"].values():
        check_figures(entry, RANGE)
    check_figures(summary["variance_shares"], VARIANCE)
    for split in summary["selection_vs_policy"]:
        check_figures(split, SELECTION, more=("district_a", "district_b"))
    check_figures(summary["inequality"], INEQUALITY, more=("distances",))
    for distance in summary["inequality"]["distances"]:
        check_figures(distance, DISTANCE, more=("district_a", "district_b"))
    for name, by_district in summary["profiles"].items():
        assert list(by_district) == codes
        for entry in by_district.values():
            check_profile_district(entry)
        for pair in summary["profile_pairwise"][name]:
            check_pair(pair, codes)
    for item in summary["assumptions"]:
        assert {"field", "value", "source"} <= set(item)
    check_headline(summary["headline"], codes)
    check_overall(summary["overall"], LEVELS_1995)
    check_validation(summary["validation"])


def check_nested(entry):
    """An ``{estimate, mcse, ci95}`` entry."""
    assert set(entry) == {"estimate", "mcse", "ci95"}
    assert number_or_none(entry["estimate"])
    assert number_or_none(entry["mcse"])
    interval = entry["ci95"]
    assert interval is None or (len(interval) == 2 and all(map(number_or_none, interval)))


def check_headline(headline, codes):
    assert set(headline) == {
        "from",
        "to",
        "definition",
        "gap_months",
        "both_prosecuted_share",
        "declined_share",
    }
    assert headline["from"] in codes
    assert headline["to"] in codes
    assert headline["from"] != headline["to"]
    assert headline["definition"].endswith(".")
    assert headline["definition"].count(".") == 1  # one sentence
    check_nested(headline["gap_months"])
    check_nested(headline["both_prosecuted_share"])
    assert list(headline["declined_share"]) == [headline["from"], headline["to"]]
    for entry in headline["declined_share"].values():
        check_nested(entry)


def check_overall(overall, levels):
    check_figures(overall, OVERALL, more=("position_shares", "by_enhancement"))
    check_figures(overall["position_shares"], POSITION_CATEGORIES)
    assert list(overall["by_enhancement"]) == levels
    for entry in overall["by_enhancement"].values():
        check_figures(entry, ENHANCEMENT)


def check_validation(entries):
    for entry in entries:
        assert set(entry) == {"name", "published", "simulated", "difference", "source"}
        assert set(entry["simulated"]) == {"estimate", "mcse"}
        estimate = entry["simulated"]["estimate"]
        if estimate is None:
            assert entry["difference"] is None
        else:
            assert entry["difference"] == pytest.approx(estimate - entry["published"])


def check_profile_district(entry):
    check_figures(
        entry,
        ("prosecuted_share", "mean_months"),
        more=(
            "final_range_months",
            "guideline_range_months",
            "statutory_maximum_months",
            "min_months",
            "max_months",
            "deal_shares",
        ),
    )
    for key in ("final_range_months", "guideline_range_months"):
        low, high = entry[key]
        assert isinstance(low, int)
        assert isinstance(high, int)
        assert low <= high
    assert isinstance(entry["statutory_maximum_months"], int)
    for key in ("min_months", "max_months"):
        assert entry[key] is None or isinstance(entry[key], int)
    assert "no_deal" in entry["deal_shares"]
    assert all(0 <= share <= 1 for share in entry["deal_shares"].values())


def test_run_json_has_the_contract_of_the_summary(archived_run):
    summary = archived_run.printed
    assert set(summary) == SUMMARY_KEYS | {"wall_seconds", "simulation_seconds", "archive"}
    check_summary(summary, CODES)
    cac = summary["districts"]["CAC"]
    assert "mean_percent_from_guideline_minimum" in cac
    assert "within_range" in cac["position_shares"]


def test_summary_is_json_ready_and_has_the_contract(results):
    assert set(results.summary) == SUMMARY_KEYS
    assert json.loads(json.dumps(results.summary)) == results.summary
    check_summary(results.summary, CODES)


# --- typed figures, and the views agree with them --------------------------------------------


def test_figures_are_typed(results):
    assert isinstance(results, Results)
    assert list(results.districts) == CODES
    cac = results.districts["CAC"]
    assert isinstance(cac, District)
    assert isinstance(cac.mean_months, Estimate)
    assert isinstance(cac.as_arrested.arrest_share, Estimate)
    assert set(cac.position_shares) == set(POSITION_CATEGORIES)
    assert all(isinstance(pair, Pair) for pair in results.pairwise)
    assert isinstance(results.pairwise[0].all_defendants, GapFigures)
    profile = results.profiles["banuelos-rodriguez"]
    assert isinstance(profile.districts["CAC"], ProfileDistrict)
    assert profile.districts["CAC"].final_range_months == (70, 87)


def test_summary_reads_the_typed_figures(results):
    summary = results.summary
    for code, district in results.districts.items():
        entry = summary["districts"][code]
        assert entry["name"] == district.name
        assert entry["mean_months"] == district.mean_months.estimate
        assert entry["mean_months_mcse"] == district.mean_months.mcse
        assert entry["mean_months_ci95"] == list(district.mean_months.ci95)
        assert entry["as_arrested"]["arrest_share"] == district.as_arrested.arrest_share.estimate
    for entry, pair in zip(summary["pairwise"], results.pairwise, strict=True):
        headline = pair.all_defendants.mean_difference_months
        assert (entry["mean_difference_months"], entry["mcse_months"]) == headline[:2]
        assert entry["both_prosecuted"]["ratio_of_means"] == pair.both_prosecuted.ratio_of_means[0]
    assert summary["variance_shares"]["district"] == results.variance_shares.district.estimate
    assert summary["inequality"]["gini"] == results.inequality.gini.estimate


def test_tables_read_the_typed_figures(results):
    districts = results.to_df("districts").set_index(["district", "view", "metric"])
    for code, district in results.districts.items():
        row = districts.loc[(code, "counterfactual", "p90_months")]
        assert row["estimate"] == district.p90_months.estimate
        assert row["mcse"] == district.p90_months.mcse
        assert (row["ci95_low"], row["ci95_high"]) == district.p90_months.ci95
        shares = districts.loc[(code, "as_arrested", "position_shares:within_range")]
        assert shares["estimate"] == district.as_arrested.position_shares["within_range"].estimate
        declined = districts.loc[(code, "as_arrested", "declined:share")]
        assert (
            declined["estimate"]
            == results.summary["districts"][code]["as_arrested"]["declined"]["share"]
        )
    pairwise = results.to_df("pairwise")
    population = pairwise[
        (pairwise["subject"] == "population")
        & (pairwise["defendants"] == "all_defendants")
        & (pairwise["metric"] == "mean_difference_months")
    ]
    assert list(population["estimate"]) == [
        pair.all_defendants.mean_difference_months.estimate for pair in results.pairwise
    ]


FIGURE_COLUMNS = {
    "estimate": "float64",
    "mcse": "float64",
    "ci95_low": "float64",
    "ci95_high": "float64",
}

#: Every table's columns, in order, and their kinds (str, int64 or float64).
TABLE_COLUMNS = {
    "districts": {
        "district": "str",
        "name": "str",
        "view": "str",
        "metric": "str",
        **FIGURE_COLUMNS,
    },
    "pairwise": {
        "subject": "str",
        "defendants": "str",
        "district_a": "str",
        "district_b": "str",
        "metric": "str",
        **FIGURE_COLUMNS,
    },
    "variance_shares": {"component": "str", **FIGURE_COLUMNS},
    "selection_vs_policy": {
        "district_a": "str",
        "district_b": "str",
        "part": "str",
        **FIGURE_COLUMNS,
    },
    "inequality": {"metric": "str", "district_a": "str", "district_b": "str", **FIGURE_COLUMNS},
    "profiles": {"profile": "str", "district": "str", "metric": "str", **FIGURE_COLUMNS},
    "replications": {
        "replication": "int64",
        "metric": "str",
        "district_a": "str",
        "district_b": "str",
        "value": "float64",
    },
    "distributions": {
        "outcome": "str",
        "district": "str",
        "months": "int64",
        "defendants": "int64",
    },
    "pair_differences": {
        "defendants": "str",
        "district_a": "str",
        "district_b": "str",
        "difference_months": "int64",
        "count": "int64",
    },
    "gap_by_cell": {
        "district_a": "str",
        "district_b": "str",
        "offense_level": "int64",
        "criminal_history_category": "int64",
        "defendants": "int64",
        "mean_gap_months": "float64",
    },
    "months_by_category": {
        "district": "str",
        "criminal_history_category": "int64",
        "defendants": "int64",
        "mean_months": "float64",
    },
    "headline": {
        "district_from": "str",
        "district_to": "str",
        "metric": "str",
        "district": "str",
        **FIGURE_COLUMNS,
    },
    "overall": {"enhancement_levels": "str", "metric": "str", **FIGURE_COLUMNS},
    "validation": {
        "name": "str",
        "published": "float64",
        "estimate": "float64",
        "mcse": "float64",
        "difference": "float64",
        "source": "str",
    },
}
#: Tables with no rows unless the scenario asks for them (the default lists no published
#: figures).
MAY_BE_EMPTY = {"validation"}


def test_every_table_has_its_columns_and_types(results):
    assert tuple(results.tables) == TABLE_NAMES
    for name, frame in results.tables.items():
        expected = TABLE_COLUMNS[name]
        assert list(frame.columns) == list(expected), name
        assert len(frame) > 0 or name in MAY_BE_EMPTY, name
        for column, kind in expected.items():
            series = frame[column]
            if kind == "str":
                assert pd.api.types.is_string_dtype(series), (name, column)
            else:
                assert str(series.dtype) == kind, (name, column, series.dtype)


# --- computed once, views cached ------------------------------------------------------------


def test_views_are_cached_and_to_df_hands_out_copies(results):
    assert results.summary is results.summary
    assert results.tables is results.tables
    frame = results.to_df("variance_shares")
    frame.loc[:, "estimate"] = -1.0
    shared = results.tables["variance_shares"].set_index("component")["estimate"]
    assert shared["district"] == results.variance_shares.district.estimate
    with pytest.raises(TypeError):
        results.tables["districts"] = frame  # read-only
    with pytest.raises(KeyError, match="no such table"):
        results.to_df("nonsense")


def test_a_run_is_analysed_once_for_summary_archive_report_and_tables(tmp_path, monkeypatch):
    calls = {"analyse": 0, "summary_of": 0, "tables_of": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    import sim.api
    import sim.output.figures

    monkeypatch.setattr(sim.api, "analyse", counted("analyse", sim.api.analyse))
    for name in ("summary_of", "tables_of"):
        monkeypatch.setattr(
            sim.analysis.results, name, counted(name, getattr(sim.analysis.results, name))
        )
    # The figures are not the subject (rendering them is most of a run's time).
    monkeypatch.setattr(sim.output.figures, "render_figures", lambda *args, **kwargs: [])
    out = tmp_path / "run"
    summary = sim.api.run_and_summarise(
        None, {"defendants": 2000, "replications": 2}, out=out, defendant_sample=10
    )
    assert calls == {"analyse": 1, "summary_of": 1, "tables_of": 1}
    assert json.loads((out / "summary.json").read_text()) == {
        k: v
        for k, v in summary.items()
        if k not in ("archive", "wall_seconds", "simulation_seconds")
    }


# --- runs to a target MCSE --------------------------------------------------------------------


def _small(replications):
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": replications, "defendants": 3000})
    return Scenario.model_validate(data)


def test_target_mcse_stops_when_reached_and_equals_a_fixed_run():
    results, target = run_to_target(_small(2), target_mcse=0.2, max_replications=1000)
    assert target["reached"]
    assert target["headline_max_mcse_months"] <= 0.2
    assert target["headline_max_mcse_months"] == results.headline_mcse
    replications = target["replications"]
    assert replications > 2  # it had to add replications (doubling from 2)
    assert replications & (replications - 1) == 0
    fixed = analyse(run_study(_small(replications))).summary
    assert fixed["pairwise"] == results.summary["pairwise"]
    assert fixed["districts"] == results.summary["districts"]


def test_target_mcse_reports_a_cap_it_could_not_beat():
    results, target = run_to_target(_small(2), target_mcse=0.0001, max_replications=3)
    assert target["replications"] == 3
    assert results.study.scenario.study.replications == 3
    assert not target["reached"]


@pytest.mark.slow
def test_target_mcse_on_the_command_line():
    args = ["run", "--json", "--defendants", "500", "--replications", "2"]
    result = runner.invoke(app, [*args, "--target-mcse", "0.0001", "--max-replications", "4"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["target"]["replications"] == summary["replications"] == 4
    assert not summary["target"]["reached"]


def test_target_mcse_must_be_positive():
    result = runner.invoke(app, ["run", "--target-mcse", "0"])
    assert result.exit_code == 2
    assert "--target-mcse" in result.output


def test_headline_mcse_is_the_largest_headline_error(results):
    errors = [results.headline.gap_months.mcse]
    errors += [d.mean_months.mcse for d in results.districts.values()]
    errors += [p.all_defendants.mean_difference_months.mcse for p in results.pairwise]
    assert results.headline_mcse == max(errors)

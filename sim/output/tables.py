"""Tidy result tables of a run (one row per figure), as pandas DataFrames.

These are what the archive stores as Parquet and what the charts and the report read, so every
number a reader sees in a chart or a report is in a table. Figures over replications carry their
``estimate``, ``mcse`` and 95% interval (``ci95_low``, ``ci95_high``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.metrics import (
    balanced_histograms,
    district_summary,
    histogram_mean,
    inequality_summary,
    pairwise_summary,
    profile_summary,
    selection_summary,
    variance_summary,
)
from sim.guidelines.editions import edition
from sim.run.runner import StudyResult, simulate_block
from sim.run.tally import ENHANCEMENT_LEVELS, MAX_MONTHS, district_pairs

__all__ = ["TABLE_NAMES", "build_tables", "defendant_sample"]

#: Tables every archive holds (``defendant_sample`` is optional).
TABLE_NAMES = (
    "districts",
    "pairwise",
    "variance_shares",
    "selection_vs_policy",
    "inequality",
    "profiles",
    "replications",
    "distributions",
    "pair_differences",
    "gap_by_cell",
)

_FIGURE_COLUMNS = ["estimate", "mcse", "ci95_low", "ci95_high"]


def _figure(value: Mapping[str, Any]) -> dict[str, Any]:
    ci = value.get("ci95") or [None, None]
    return {
        "estimate": value["estimate"],
        "mcse": value["mcse"],
        "ci95_low": ci[0],
        "ci95_high": ci[1],
    }


def _figure_rows(figures: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    for name, value in figures.items():
        if isinstance(value, Mapping) and "estimate" in value:
            rows.append({"metric": prefix + name, **_figure(value)})
        elif isinstance(value, Mapping):
            rows += _figure_rows(value, prefix=f"{prefix}{name}:")
    return rows


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in _FIGURE_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("float64")
    return frame


def _districts(result: StudyResult) -> pd.DataFrame:
    rows = []
    for code, figures in district_summary(result).items():
        for view in ("counterfactual", "as_arrested"):
            for row in _figure_rows(figures[view]):
                rows.append({"district": code, "name": figures["name"], "view": view, **row})
    return _frame(rows, ["district", "name", "view", "metric", *_FIGURE_COLUMNS])


def _pairs(pairs: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    rows = []
    for pair in pairs:
        for population in ("all_defendants", "both_prosecuted"):
            for row in _figure_rows(pair[population]):
                rows.append(
                    {
                        "subject": subject,
                        "defendants": population,
                        "district_a": pair["district_a"],
                        "district_b": pair["district_b"],
                        **row,
                    }
                )
    return rows


def _profiles(result: StudyResult, summaries: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, entry in summaries.items():
        for code, figures in entry["districts"].items():
            base = {"profile": name, "district": code}
            for row in _figure_rows(figures):
                rows.append({**base, **row})
            fixed = {
                "final_range_min_months": figures["final_range_months"][0],
                "final_range_max_months": figures["final_range_months"][1],
                "guideline_range_min_months": figures["guideline_range_months"][0],
                "guideline_range_max_months": figures["guideline_range_months"][1],
                "statutory_maximum_months": figures["statutory_maximum_months"],
                "min_months": figures["min_months"],
                "max_months": figures["max_months"],
                **{f"deal_share:{k}": v for k, v in figures["deal_shares"].items()},
            }
            for metric, value in fixed.items():
                rows.append(
                    {
                        **base,
                        "metric": metric,
                        "estimate": value,
                        "mcse": None,
                        "ci95_low": None,
                        "ci95_high": None,
                    }
                )
    return _frame(rows, ["profile", "district", "metric", *_FIGURE_COLUMNS])


def _replications(result: StudyResult) -> pd.DataFrame:
    """Per-replication headline values (for convergence checks and charts)."""
    tally = result.tally
    codes = result.scenario.district_codes
    rows = []
    means = histogram_mean(tally.counterfactual_histogram)  # (R, D)
    for r in range(tally.replications):
        for d, code in enumerate(codes):
            rows.append(
                {
                    "replication": r,
                    "metric": "mean_months",
                    "district_a": code,
                    "district_b": None,
                    "value": float(means[r, d]),
                }
            )
    offset = MAX_MONTHS
    differences = np.arange(2 * MAX_MONTHS + 1) - offset
    for p, (a, b) in enumerate(district_pairs(len(codes))):
        histogram = tally.pair_difference[:, p]
        gaps = (histogram * differences).sum(axis=-1) / histogram.sum(axis=-1)
        for r in range(tally.replications):
            rows.append(
                {
                    "replication": r,
                    "metric": "mean_difference_months",
                    "district_a": codes[a],
                    "district_b": codes[b],
                    "value": float(gaps[r]),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["replication", "metric", "district_a", "district_b", "value"]
    )
    return frame.astype({"replication": "int64", "value": "float64"})


def _distributions(result: StudyResult) -> pd.DataFrame:
    """Pooled sentence histograms per district: prosecuted only, and every defendant (declined =
    0 months)."""
    tally = result.tally
    rows = []
    for outcome, histograms in (
        ("prosecuted", tally.counterfactual_histogram.sum(axis=0)),
        ("all_defendants", balanced_histograms(tally).sum(axis=0)),
        ("as_arrested", tally.as_arrested_histogram.sum(axis=0)),
    ):
        for d, code in enumerate(result.scenario.district_codes):
            for months in np.flatnonzero(histograms[d]):
                rows.append(
                    {
                        "outcome": outcome,
                        "district": code,
                        "months": int(months),
                        "defendants": int(histograms[d, months]),
                    }
                )
    return pd.DataFrame(rows, columns=["outcome", "district", "months", "defendants"]).astype(
        {"months": "int64", "defendants": "int64"}
    )


def _pair_differences(result: StudyResult) -> pd.DataFrame:
    tally = result.tally
    codes = result.scenario.district_codes
    rows = []
    for population, histograms in (
        ("all_defendants", tally.pair_difference.sum(axis=0)),
        ("both_prosecuted", tally.pair_both_difference.sum(axis=0)),
    ):
        for p, (a, b) in enumerate(district_pairs(len(codes))):
            for index in np.flatnonzero(histograms[p]):
                rows.append(
                    {
                        "defendants": population,
                        "district_a": codes[a],
                        "district_b": codes[b],
                        "difference_months": int(index) - MAX_MONTHS,
                        "count": int(histograms[p, index]),
                    }
                )
    columns = ["defendants", "district_a", "district_b", "difference_months", "count"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"difference_months": "int64", "count": "int64"}
    )


def _gap_by_cell(result: StudyResult) -> pd.DataFrame:
    """Mean paired gap (all defendants) by Chapter Two offense level and category, pooled."""
    tally = result.tally
    codes = result.scenario.district_codes
    base = edition(result.scenario.manual).reentry.base_offense_level
    counts = tally.cell_counts.sum(axis=0)  # (6, E)
    rows = []
    for p, (a, b) in enumerate(district_pairs(len(codes))):
        sums = tally.pair_cell_differences[:, p].sum(axis=0)
        for category in range(6):
            for enhancement in range(ENHANCEMENT_LEVELS):
                n = int(counts[category, enhancement])
                if n:
                    rows.append(
                        {
                            "district_a": codes[a],
                            "district_b": codes[b],
                            "offense_level": base + enhancement,
                            "criminal_history_category": category + 1,
                            "defendants": n,
                            "mean_gap_months": float(sums[category, enhancement]) / n,
                        }
                    )
    columns = [
        "district_a",
        "district_b",
        "offense_level",
        "criminal_history_category",
        "defendants",
        "mean_gap_months",
    ]
    return pd.DataFrame(rows, columns=columns)


def build_tables(result: StudyResult) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLE_NAMES` for a run."""
    codes = result.scenario.district_codes
    tally = result.tally
    profiles = profile_summary(result)
    pairwise = _pairs(pairwise_summary(tally, codes), "population")
    for name, entry in profiles.items():
        pairwise += _pairs(entry["pairwise"], f"profile:{name}")
    selection_rows = []
    for row in selection_summary(tally, codes):
        for part in ("observed_gap_months", "treatment_months", "composition_months"):
            selection_rows.append(
                {
                    "district_a": row["district_a"],
                    "district_b": row["district_b"],
                    "part": part,
                    **_figure(row[part]),
                }
            )
    inequality = inequality_summary(tally, codes)
    inequality_rows = [
        {"metric": name, "district_a": None, "district_b": None, **_figure(value)}
        for name, value in inequality.items()
        if name != "distances"
    ]
    for row in inequality["distances"]:
        for name in ("wasserstein_months", "kolmogorov_smirnov"):
            inequality_rows.append(
                {
                    "metric": name,
                    "district_a": row["district_a"],
                    "district_b": row["district_b"],
                    **_figure(row[name]),
                }
            )
    return {
        "districts": _districts(result),
        "pairwise": _frame(
            pairwise,
            ["subject", "defendants", "district_a", "district_b", "metric", *_FIGURE_COLUMNS],
        ),
        "variance_shares": _frame(
            [{"component": k, **_figure(v)} for k, v in variance_summary(tally).items()],
            ["component", *_FIGURE_COLUMNS],
        ),
        "selection_vs_policy": _frame(
            selection_rows, ["district_a", "district_b", "part", *_FIGURE_COLUMNS]
        ),
        "inequality": _frame(
            inequality_rows, ["metric", "district_a", "district_b", *_FIGURE_COLUMNS]
        ),
        "profiles": _profiles(result, profiles),
        "replications": _replications(result),
        "distributions": _distributions(result),
        "pair_differences": _pair_differences(result),
        "gap_by_cell": _gap_by_cell(result),
    }


def defendant_sample(result: StudyResult, defendants: int) -> pd.DataFrame:
    """The first ``defendants`` of replication 0, one row per defendant and district."""
    scenario = result.scenario
    n = min(defendants, scenario.study.defendants)
    outcome = simulate_block(scenario, 0, 0, n)
    codes = scenario.district_codes
    base = edition(scenario.manual).reentry.base_offense_level
    rows = {
        "defendant": np.repeat(np.arange(n), len(codes)),
        "district": np.tile(codes, n),
        "arrested_here": (outcome.arrest_district[:, None] == np.arange(len(codes))).ravel(),
        "criminal_history_category": np.repeat(outcome.criminal_history_category, len(codes)),
        "offense_level_chapter_two": np.repeat(base + outcome.enhancement_levels, len(codes)),
        "prosecuted": outcome.prosecuted.ravel(),
        "months": outcome.months.ravel().astype(np.int64),
        "final_min_months": outcome.final_min_months.ravel().astype(np.int64),
        "offer": outcome.offer.ravel().astype(np.int64),
        "position_category": outcome.position_category.ravel().astype(np.int64),
    }
    return pd.DataFrame(rows)

"""Tidy tables of a run (one row per figure, or per histogram cell), as pandas DataFrames.

Read them as :attr:`sim.analysis.results.Results.tables` or ``results.to_df(name)``. They are
what the archive stores as Parquet and what the charts and the report read, so every number a
reader sees in a chart or a report is in a table. Figures over replications carry their
``estimate``, ``mcse`` and 95% interval (``ci95_low``, ``ci95_high``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.measures import Measures, Pair, declined_figures, estimates
from sim.analysis.metrics import Estimate, balanced_histograms, histogram_mean
from sim.guidelines.editions import edition
from sim.run.runner import StudyResult
from sim.run.tally import ENHANCEMENT_LEVELS, MAX_MONTHS

__all__ = ["TABLE_NAMES", "tables_of"]

#: The tables of every run, in this order (an archive may add ``defendant_sample``).
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
    "headline",
    "overall",
    "validation",
    "months_by_category",
)

_FIGURE_COLUMNS = ["estimate", "mcse", "ci95_low", "ci95_high"]


def _figure(value: Estimate) -> dict[str, Any]:
    low, high = value.ci95 or (None, None)
    return {"estimate": value.estimate, "mcse": value.mcse, "ci95_low": low, "ci95_high": high}


def _figure_rows(record: Any, **keys: Any) -> list[dict[str, Any]]:
    """One row per estimate of a record (:func:`sim.analysis.measures.estimates`), each
    starting with ``keys`` and the metric's name."""
    return [{**keys, "metric": name, **_figure(value)} for name, value in estimates(record)]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in _FIGURE_COLUMNS:
        if column in frame:
            frame[column] = frame[column].astype("float64")
    return frame


def _districts(measures: Measures) -> pd.DataFrame:
    rows = []
    for code, district in measures.districts.items():
        for view, figures in (("counterfactual", district), ("as_arrested", district.as_arrested)):
            rows += _figure_rows(figures, district=code, name=district.name, view=view)
    rows += _declined_rows(measures)
    return _frame(rows, ["district", "name", "view", "metric", *_FIGURE_COLUMNS])


def _declined_rows(measures: Measures) -> list[dict[str, Any]]:
    """Declination outcomes (issue 12) as ``declined:NAME`` rows of the districts table."""
    rows = []
    for code, views in declined_figures(measures.study).items():
        name = measures.districts[code].name
        for view, figures in zip(("counterfactual", "as_arrested"), views, strict=True):
            rows += [
                {**row, "metric": f"declined:{row['metric']}"}
                for row in _figure_rows(figures, district=code, name=name, view=view)
            ]
    return rows


def _pair_rows(pairs: tuple[Pair, ...], subject: str) -> list[dict[str, Any]]:
    rows = []
    for pair in pairs:
        for population in ("all_defendants", "both_prosecuted"):
            rows += _figure_rows(
                getattr(pair, population),
                subject=subject,
                defendants=population,
                district_a=pair.district_a,
                district_b=pair.district_b,
            )
    return rows


def _pairwise(measures: Measures) -> pd.DataFrame:
    rows = _pair_rows(measures.pairwise, "population")
    for name, profile in measures.profiles.items():
        rows += _pair_rows(profile.pairwise, f"profile:{name}")
    columns = ["subject", "defendants", "district_a", "district_b", "metric", *_FIGURE_COLUMNS]
    return _frame(rows, columns)


def _profiles(measures: Measures) -> pd.DataFrame:
    """Each profile's estimates per district, then its fixed figures (no MCSE)."""
    rows = []
    for name, profile in measures.profiles.items():
        for code, figures in profile.districts.items():
            rows += _figure_rows(figures, profile=name, district=code)
            fixed = {
                "final_range_min_months": figures.final_range_months[0],
                "final_range_max_months": figures.final_range_months[1],
                "guideline_range_min_months": figures.guideline_range_months[0],
                "guideline_range_max_months": figures.guideline_range_months[1],
                "statutory_maximum_months": figures.statutory_maximum_months,
                "min_months": figures.min_months,
                "max_months": figures.max_months,
                **{f"deal_share:{k}": v for k, v in figures.deal_shares.items()},
            }
            rows += [
                {
                    "profile": name,
                    "district": code,
                    "metric": metric,
                    "estimate": value,
                    "mcse": None,
                    "ci95_low": None,
                    "ci95_high": None,
                }
                for metric, value in fixed.items()
            ]
    return _frame(rows, ["profile", "district", "metric", *_FIGURE_COLUMNS])


def _selection(measures: Measures) -> pd.DataFrame:
    rows = []
    for split in measures.selection_vs_policy:
        for part, value in estimates(split):
            rows.append(
                {
                    "district_a": split.district_a,
                    "district_b": split.district_b,
                    "part": part,
                    **_figure(value),
                }
            )
    return _frame(rows, ["district_a", "district_b", "part", *_FIGURE_COLUMNS])


def _inequality(measures: Measures) -> pd.DataFrame:
    inequality = measures.inequality
    rows = _figure_rows(inequality, district_a=None, district_b=None)
    for distance in inequality.distances:
        rows += _figure_rows(
            distance, district_a=distance.district_a, district_b=distance.district_b
        )
    return _frame(rows, ["metric", "district_a", "district_b", *_FIGURE_COLUMNS])


def _variance_shares(measures: Measures) -> pd.DataFrame:
    rows = [
        {"component": name, **_figure(value)} for name, value in estimates(measures.variance_shares)
    ]
    return _frame(rows, ["component", *_FIGURE_COLUMNS])


def _replications(study: StudyResult) -> pd.DataFrame:
    """Per-replication headline values (for convergence checks and charts)."""
    tally = study.tally
    codes = study.scenario.district_codes
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
    differences = np.arange(2 * MAX_MONTHS + 1) - MAX_MONTHS
    for p, (a, b) in enumerate(study.scenario.district_pairs):
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


def _distributions(study: StudyResult) -> pd.DataFrame:
    """Pooled sentence histograms per district: prosecuted only, every defendant (declined =
    0 months), and as arrested."""
    tally = study.tally
    rows = []
    for outcome, histograms in (
        ("prosecuted", tally.counterfactual_histogram.sum(axis=0)),
        ("all_defendants", balanced_histograms(tally).sum(axis=0)),
        ("as_arrested", tally.as_arrested_histogram.sum(axis=0)),
    ):
        for d, code in enumerate(study.scenario.district_codes):
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


def _pair_differences(study: StudyResult) -> pd.DataFrame:
    """Pooled paired-difference histograms per district pair."""
    tally = study.tally
    codes = study.scenario.district_codes
    rows = []
    for population, histograms in (
        ("all_defendants", tally.pair_difference.sum(axis=0)),
        ("both_prosecuted", tally.pair_both_difference.sum(axis=0)),
    ):
        for p, (a, b) in enumerate(study.scenario.district_pairs):
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


def _gap_by_cell(study: StudyResult) -> pd.DataFrame:
    """Mean paired gap (all defendants) by Chapter Two offense level and category, pooled."""
    tally = study.tally
    codes = study.scenario.district_codes
    base = edition(study.scenario.manual).reentry.base_offense_level
    counts = tally.cell_counts.sum(axis=0)  # (6, E)
    rows = []
    for p, (a, b) in enumerate(study.scenario.district_pairs):
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


def _months_by_category(study: StudyResult) -> pd.DataFrame:
    """Mean months by criminal history category in each district (every defendant in every
    district, declined = 0 months), pooled over replications.

    The tally keeps each cell's months summed over districts (``cell_totals``) and each pair's
    difference (``pair_cell_differences``); with every pair (0, b) tallied, district 0's sum is
    (total + Σ_b (s_0 − s_b)) / D and district b's is s_0 − (s_0 − s_b).
    """
    tally = study.tally
    codes = study.scenario.district_codes
    pairs = {pair: p for p, pair in enumerate(study.scenario.district_pairs)}
    columns = ["district", "criminal_history_category", "defendants", "mean_months"]
    if any((0, b) not in pairs for b in range(1, len(codes))):
        return pd.DataFrame([], columns=columns)
    counts = tally.cell_counts.sum(axis=(0, 2)).astype(np.float64)  # (6,)
    total = tally.cell_totals.sum(axis=(0, 2)).astype(np.float64)
    gaps = {
        b: tally.pair_cell_differences[:, pairs[(0, b)]].sum(axis=(0, 2))
        for b in range(1, len(codes))
    }
    first = (total + sum(gaps.values(), np.zeros(6))) / len(codes)
    sums = [first] + [first - gaps[b] for b in range(1, len(codes))]
    rows = [
        {
            "district": codes[d],
            "criminal_history_category": category + 1,
            "defendants": int(counts[category]),
            "mean_months": float(sums[d][category] / counts[category]),
        }
        for d in range(len(codes))
        for category in range(6)
        if counts[category] > 0
    ]
    return pd.DataFrame(rows, columns=columns)


def _headline(measures: Measures) -> pd.DataFrame:
    """The headline gap, the share both districts prosecute and each district's declined
    share (no rows with a single district)."""
    headline = measures.headline
    rows = []
    if headline is not None:
        keys = {"district_from": headline.district_from, "district_to": headline.district_to}
        rows += [
            {**keys, "metric": "gap_months", "district": None, **_figure(headline.gap_months)},
            {
                **keys,
                "metric": "both_prosecuted_share",
                "district": None,
                **_figure(headline.both_prosecuted_share),
            },
        ]
        rows += [
            {**keys, "metric": "declined_share", "district": code, **_figure(value)}
            for code, value in headline.declined_share.items()
        ]
    columns = ["district_from", "district_to", "metric", "district", *_FIGURE_COLUMNS]
    return _frame(rows, columns)


def _overall(measures: Measures) -> pd.DataFrame:
    """The as-arrested aggregate over every district: its figures (``enhancement_levels``
    null), then each § 2L1.2(b) level's."""
    overall = measures.overall
    rows = _figure_rows(overall, enhancement_levels=None)
    for levels, figures in overall.by_enhancement.items():
        rows += _figure_rows(figures, enhancement_levels=levels)
    return _frame(rows, ["enhancement_levels", "metric", *_FIGURE_COLUMNS])


def _validation(entries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Published figures beside the simulated ones (the summary's ``validation``)."""
    rows = [
        {
            "name": entry["name"],
            "published": entry["published"],
            "estimate": entry["simulated"]["estimate"],
            "mcse": entry["simulated"]["mcse"],
            "difference": entry["difference"],
            "source": entry["source"],
        }
        for entry in entries
    ]
    columns = ["name", "published", "estimate", "mcse", "difference", "source"]
    frame = pd.DataFrame(rows, columns=columns)
    numbers = {column: "float64" for column in ("published", "estimate", "mcse", "difference")}
    return frame.astype({**numbers, "name": object, "source": object})


def tables_of(
    measures: Measures, validation: Sequence[Mapping[str, Any]] = ()
) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLE_NAMES` for a run's figures and tallies.

    Parameters
    ----------
    measures : Measures
        The run's figures (a :class:`sim.analysis.results.Results`); the histogram tables
        (``replications``, ``distributions``, ``pair_differences``, ``gap_by_cell``) read its
        ``study`` tallies.
    validation : sequence of mapping
        The summary's ``validation`` entries (:func:`sim.analysis.summary.validation_entries`),
        for the ``validation`` table.

    Returns
    -------
    dict of str to pandas.DataFrame
        By table name, in :data:`TABLE_NAMES` order.
    """
    study = measures.study
    return {
        "districts": _districts(measures),
        "pairwise": _pairwise(measures),
        "variance_shares": _variance_shares(measures),
        "selection_vs_policy": _selection(measures),
        "inequality": _inequality(measures),
        "profiles": _profiles(measures),
        "replications": _replications(study),
        "distributions": _distributions(study),
        "pair_differences": _pair_differences(study),
        "gap_by_cell": _gap_by_cell(study),
        "headline": _headline(measures),
        "overall": _overall(measures),
        "validation": _validation(validation),
        "months_by_category": _months_by_category(study),
    }

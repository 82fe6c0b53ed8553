"""Two runs side by side (``sim compare``): every headline figure of run A and run B, the
difference B − A and the Monte Carlo standard error of that difference.

Two runs with the same seed, seed scheme, defendants per replication, replications and
districts are *paired*: replication r of both draws the same defendants and the same uniforms
(common random numbers, :mod:`sim.run.streams`), so the difference of a figure is estimated
replication by replication and its MCSE is the standard deviation of the R per-replication
differences over √R. Where the two runs share most of their randomness the differences vary far
less than either run, and this MCSE is far smaller than the unpaired
√(MCSE_A² + MCSE_B²), which assumes independent runs and is used otherwise, and for a figure
whose per-replication values are not available (an archive keeps them only for some figures,
``tables/replications.parquet``). Each figure says which was used (``method``).

Per-replication values of every figure come from a run's tallies: every figure of the summary
is the mean over replications of one value per replication
(:func:`sim.analysis.metrics.over_replications`), so the figures of replication r alone are the
summary of a one-replication study cut from the tallies (:func:`per_replication`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.results import Results, analyse
from sim.analysis.summary import figure_index
from sim.run.runner import StudyResult
from sim.run.tally import StudyTally

__all__ = [
    "COLUMNS",
    "Comparison",
    "FigureDifference",
    "compare_summaries",
    "compatibility_problems",
    "headline_paths",
    "pairing",
    "per_replication",
    "replication_values",
]

#: Methods of a difference's MCSE.
PAIRED = "paired"
UNPAIRED = "unpaired"

#: The headline figures compared, as patterns over :func:`figure_index` paths, in the order they
#: are shown: the headline gap and its shares, each district's prosecuted share and months, the
#: pairwise gaps (both prosecuted, then every defendant), the range across districts, the
#: variance shares, inequality and the overall (as-arrested) figures.
_HEADLINE_PATTERNS = (
    r"headline\.gap_months",
    r"headline\.both_prosecuted_share",
    r"headline\.declined_share\.[^.]+",
    r"districts\.[^.]+\.prosecuted_share",
    r"districts\.[^.]+\.mean_months",
    r"districts\.[^.]+\.median_months",
    r"districts\.[^.]+\.p90_months",
    r"pairwise\[\d+\]\.both_prosecuted\.mean_difference_months",
    r"pairwise\[\d+\]\.all_defendants\.mean_difference_months",
    r"cross_district_range\.(all_defendants|prosecuted_everywhere)\.mean_months",
    r"variance_shares\.[a-z_0-9]+",
    r"inequality\.(gini|theil_total|theil_between|theil_within)",
    r"overall\.(prosecuted_share|imprisonment_share|mean_months|median_months"
    r"|share_at_most_120_months)",
)
_COMPILED = tuple(re.compile(pattern) for pattern in _HEADLINE_PATTERNS)

#: Columns of :meth:`Comparison.frame`.
COLUMNS = ["figure", "label", "unit", "a", "a_mcse", "b", "b_mcse", "difference", "mcse", "method"]


def headline_paths(index: Mapping[str, Any]) -> list[str]:
    """The headline figures among ``index``'s paths (a :func:`figure_index`), in display order.

    >>> headline_paths({"overall.mean_months": 0, "headline.gap_months": 0, "x.y": 0})
    ['headline.gap_months', 'overall.mean_months']
    """
    chosen = []
    for pattern in _COMPILED:
        chosen += [path for path in index if pattern.fullmatch(path) and path not in chosen]
    return chosen


def _tally_of(tally: StudyTally, r: int) -> StudyTally:
    return StudyTally(*(array[r : r + 1] for array in tally))


def per_replication(results: Results, paths: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every headline figure's value in each replication (NaN where undefined).

    Replication r's figures are the summary of a one-replication study cut from the run's
    tallies (every figure is a mean over replications of one value per replication).

    Parameters
    ----------
    results : Results
        A run analysed with its tallies (not an archive).
    paths : sequence of str, optional
        The figures (default: :func:`headline_paths` of the run's summary).

    Returns
    -------
    dict of str to numpy.ndarray
        One float array of length R per path.
    """
    study = results.study
    if paths is None:
        paths = headline_paths(figure_index(results.summary))
    replications = study.tally.replications
    values = {path: np.full(replications, np.nan) for path in paths}
    one = study.scenario.study.model_copy(update={"replications": 1})
    scenario = study.scenario.model_copy(update={"study": one})
    # The profiles' figures are a third of the work and no headline figure: left out unless asked.
    with_profiles = any(path.startswith("profile") for path in paths)
    for r in range(replications):
        profiles = {
            name: replace(
                profile, tally=_tally_of(profile.tally, r), offers=profile.offers[r : r + 1]
            )
            for name, profile in study.profiles.items()
            if with_profiles
        }
        single = analyse(StudyResult(scenario, _tally_of(study.tally, r), profiles))
        index = figure_index(single.summary)
        for path in paths:
            estimate = index.get(path, (None, None))[0]
            values[path][r] = np.nan if estimate is None else estimate
    return values


def replication_values(
    replications: pd.DataFrame, summary: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The per-replication values an archive keeps (``tables/replications.parquet``): each
    district's mean months (prosecuted) and each pair's mean gap over every defendant.

    Parameters
    ----------
    replications : pandas.DataFrame
        Columns ``replication, metric, district_a, district_b, value``.
    summary : mapping
        The archive's ``summary.json`` (its ``pairwise`` order names the pairs' paths).

    Returns
    -------
    dict of str to numpy.ndarray
        By :func:`figure_index` path; figures the table does not hold are absent.
    """
    count = summary.get("replications")
    if not isinstance(count, int):
        count = int(replications["replication"].max()) + 1 if len(replications) else 0
    pairs = {
        (entry.get("district_a"), entry.get("district_b")): k
        for k, entry in enumerate(summary.get("pairwise") or [])
        if isinstance(entry, Mapping)
    }
    values: dict[str, np.ndarray] = {}
    for (metric, a, b), rows in replications.groupby(
        ["metric", "district_a", "district_b"], dropna=False, sort=False
    ):
        series = np.full(count, np.nan)
        series[rows["replication"].to_numpy(dtype=int)] = rows["value"].to_numpy(dtype=float)
        if metric == "mean_months" and isinstance(a, str):
            values[f"districts.{a}.mean_months"] = series
        elif metric == "mean_difference_months" and (a, b) in pairs:
            k = pairs[(a, b)]
            values[f"pairwise[{k}].all_defendants.mean_difference_months"] = series
            values[f"pairwise[{k}].mean_difference_months"] = series
    return values


def _codes(summary: Mapping[str, Any]) -> list[str]:
    return list((summary.get("districts") or {}).keys())


def compatibility_problems(summary_a: Mapping[str, Any], summary_b: Mapping[str, Any]) -> list[str]:
    """Why two runs' figures cannot be set side by side, one line each (none: comparable):
    different districts (codes or order, which name the pairwise figures) or a headline gap
    between different districts."""
    problems = []
    codes_a, codes_b = _codes(summary_a), _codes(summary_b)
    if codes_a != codes_b:
        problems.append(
            f"different districts: A has {', '.join(codes_a) or 'none'}; B has "
            f"{', '.join(codes_b) or 'none'} (the same districts in the same order are needed)"
        )
    head_a, head_b = summary_a.get("headline") or {}, summary_b.get("headline") or {}
    if (head_a.get("from"), head_a.get("to")) != (head_b.get("from"), head_b.get("to")):
        problems.append(
            f"different headline gaps: A's is {head_a.get('from')} − {head_a.get('to')}, "
            f"B's {head_b.get('from')} − {head_b.get('to')}"
        )
    return problems


def pairing(summary_a: Mapping[str, Any], summary_b: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether two comparable runs are paired by common random numbers, and why (not).

    Paired: the same seed, seed scheme, defendants per replication and replications (the
    districts are checked by :func:`compatibility_problems`)."""
    differing = [
        f"{key} {summary_a.get(key)} vs {summary_b.get(key)}"
        for key in ("seed", "seed_scheme", "defendants", "replications")
        if summary_a.get(key) != summary_b.get(key)
    ]
    if differing:
        return False, "not paired: " + "; ".join(differing) + " (independent runs)"
    return True, (
        f"paired by common random numbers: seed {summary_a.get('seed')}, "
        f"{summary_a.get('replications')} replications of {summary_a.get('defendants'):,} "
        "defendants in both"
    )


@dataclass(frozen=True)
class FigureDifference:
    """One figure of both runs: values, their MCSEs, B − A and its MCSE, and the method."""

    figure: str
    label: str
    unit: str
    a: float | None
    a_mcse: float | None
    b: float | None
    b_mcse: float | None
    difference: float | None
    mcse: float | None
    method: str


@dataclass(frozen=True)
class Comparison:
    """Two runs' headline figures side by side (``a``, ``b``: what the runs are)."""

    a: str
    b: str
    paired: bool
    pairing: str
    rows: list[FigureDifference] = field(default_factory=list)
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    #: A's definition of the headline gap and its districts' names, for the report.
    definition: str | None = None
    names: dict[str, str] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """The rows as a table (:data:`COLUMNS`)."""
        frame = pd.DataFrame([vars(row) for row in self.rows], columns=COLUMNS)
        numeric = ["a", "a_mcse", "b", "b_mcse", "difference", "mcse"]
        return frame.astype({column: "float64" for column in numeric})

    def to_json(self) -> dict[str, Any]:
        """``{a, b, paired, pairing, figures: {PATH: {a, b, difference, mcse, method, ...}},
        only_in_a, only_in_b}``."""
        return {
            "a": self.a,
            "b": self.b,
            "paired": self.paired,
            "pairing": self.pairing,
            "figures": {
                row.figure: {
                    "label": row.label,
                    "unit": row.unit,
                    "a": row.a,
                    "a_mcse": row.a_mcse,
                    "b": row.b,
                    "b_mcse": row.b_mcse,
                    "difference": row.difference,
                    "mcse": row.mcse,
                    "method": row.method,
                }
                for row in self.rows
            },
            "only_in_a": self.only_in_a,
            "only_in_b": self.only_in_b,
        }


_NAMES = {
    "district": "district",
    "criminal_history_category": "criminal history category",
    "section_2l1_2_enhancement": "§ 2L1.2 enhancement",
    "other_record": "other record",
    "district_main_effect": "district main effect (ANOVA)",
    "record_main_effect": "record main effect (ANOVA)",
    "district_record_interaction": "district × record interaction (ANOVA)",
    "gini": "Gini (every defendant)",
    "theil_total": "Theil index, total",
    "theil_between": "Theil index, between districts",
    "theil_within": "Theil index, within districts",
    "prosecuted_share": "prosecuted share",
    "imprisonment_share": "imprisonment share",
    "mean_months": "mean months",
    "median_months": "median months",
    "p90_months": "90th percentile months",
    "share_at_most_120_months": "share at most 120 months",
}


def _label(path: str, summary: Mapping[str, Any]) -> str:
    """A reader's name for a figure path (district codes for pair indices)."""
    parts = path.split(".")
    match = re.fullmatch(r"pairwise\[(\d+)\]", parts[0])
    if match:
        entry = summary["pairwise"][int(match.group(1))]
        population = {"both_prosecuted": "both prosecute", "all_defendants": "every defendant"}
        who = population.get(parts[1], parts[1])
        return f"gap {entry.get('district_a')} − {entry.get('district_b')} ({who})"
    last = _NAMES.get(parts[-1], parts[-1].replace("_", " "))
    if path == "headline.gap_months":
        head = summary["headline"]
        return f"headline gap {head.get('from')} − {head.get('to')} (both prosecute)"
    if path == "headline.both_prosecuted_share":
        return "share both headline districts prosecute"
    if parts[:2] == ["headline", "declined_share"]:
        return f"{parts[2]} declined share (headline pair)"
    if parts[0] == "districts":
        return f"{parts[1]} {last}"
    if parts[0] == "cross_district_range":
        who = "every defendant" if parts[1] == "all_defendants" else "prosecuted everywhere"
        return f"range across districts ({who})"
    if parts[0] == "variance_shares":
        return f"variance share: {last}"
    if parts[0] == "overall":
        return f"as arrested: {last}"
    return last


def _unit(path: str) -> str:
    """``share`` (0 to 1), ``months`` or ``index`` (Gini, Theil)."""
    if "share" in path:
        return "share"
    return "months" if path.endswith("months") else "index"


def _number(value: Any) -> float | None:
    """A finite number as float; anything else (None, NaN, text in a forged summary) None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _paired_mcse(a: np.ndarray, b: np.ndarray) -> float | None:
    """MCSE of the mean per-replication difference, over replications where both are defined."""
    differences = (b - a)[np.isfinite(a) & np.isfinite(b)]
    if len(differences) < 2:
        return None
    return float(np.std(differences, ddof=1) / math.sqrt(len(differences)))


def compare_summaries(
    a: str,
    summary_a: Mapping[str, Any],
    b: str,
    summary_b: Mapping[str, Any],
    values_a: Mapping[str, np.ndarray] | None = None,
    values_b: Mapping[str, np.ndarray] | None = None,
) -> Comparison:
    """Every headline figure of two comparable runs, with B − A and its MCSE.

    Parameters
    ----------
    a, b : str
        What the runs are (shown in the output).
    summary_a, summary_b : mapping
        The runs' summaries (``summary.json``); check them with :func:`compatibility_problems`
        first.
    values_a, values_b : mapping of str to numpy.ndarray, optional
        Per-replication values by path (:func:`per_replication`, :func:`replication_values`).
        Used for a figure's paired MCSE when the runs are paired (:func:`pairing`) and both hold
        it; otherwise the unpaired √(MCSE_A² + MCSE_B²).

    Returns
    -------
    Comparison
        ``difference`` = B − A of the two estimates (None where either is undefined); ``mcse``
        None where an MCSE is missing (fewer than two replications).
    """
    index_a, index_b = figure_index(summary_a), figure_index(summary_b)
    paths_a, paths_b = headline_paths(index_a), headline_paths(index_b)
    paired, reason = pairing(summary_a, summary_b)
    values_a, values_b = values_a or {}, values_b or {}
    rows = []
    for path in [p for p in paths_a if p in index_b]:
        (value_a, mcse_a), (value_b, mcse_b) = index_a[path], index_b[path]
        value_a, value_b = _number(value_a), _number(value_b)
        mcse_a, mcse_b = _number(mcse_a), _number(mcse_b)
        difference = None if value_a is None or value_b is None else value_b - value_a
        series_a, series_b = values_a.get(path), values_b.get(path)
        if (
            paired
            and series_a is not None
            and series_b is not None
            and (np.shape(series_a) == np.shape(series_b))
        ):
            method, mcse = PAIRED, _paired_mcse(series_a, series_b)
        else:
            method = UNPAIRED
            mcse = None if mcse_a is None or mcse_b is None else math.hypot(mcse_a, mcse_b)
        rows.append(
            FigureDifference(
                path,
                _label(path, summary_a),
                _unit(path),
                value_a,
                mcse_a,
                value_b,
                mcse_b,
                difference,
                mcse,
                method,
            )
        )
    return Comparison(
        a,
        b,
        paired,
        reason,
        rows,
        [p for p in paths_a if p not in index_b],
        [p for p in paths_b if p not in index_a],
        _text((summary_a.get("headline") or {}).get("definition")),
        {
            str(code): name
            for code, entry in (summary_a.get("districts") or {}).items()
            if isinstance(entry, Mapping) and (name := _text(entry.get("name")))
        },
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None

"""The JSON summary of a run (what ``sim run --json`` prints and ``summary.json`` holds).

Read it as :attr:`sim.analysis.results.Results.summary`. Each estimate ``x`` of a record appears
as three keys, ``x``, ``x_mcse`` and ``x_ci95`` (a two-item list or null); the ``headline``'s
figures are ``{estimate, mcse, ci95}`` entries, and ``validation`` gives
``simulated: {estimate, mcse}``. :func:`figure_index` finds every figure by its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from sim.analysis.measures import DistrictFigures, Headline, Measures, Pair, declined_figures
from sim.analysis.metrics import Estimate
from sim.inputs import InputError
from sim.model.scenario import PublishedFigure, assumptions
from sim.run.streams import SEED_SCHEME

__all__ = ["CONVENTIONS", "figure_index", "summary_of", "validation_entries"]

#: How to read the summary's figures (its ``conventions`` entry).
CONVENTIONS = {
    "months": "whole months; district figures are among the defendants the district prosecutes",
    "balanced_outcome": "pairwise gaps, ranges, variance shares and inequality use every "
    "defendant in every district, a declined defendant counting 0 months",
    "uncertainty": "each figure is the mean over replications with its Monte Carlo standard "
    "error (_mcse) and a 95% t interval (_ci95)",
    "differences": "district_a minus district_b",
    "declined": "a declined defendant has no § 1326 sentence; each district's `declined` gives "
    "the declined share of its defendants and what became of them (administrative removal, state "
    "referral, § 1325 misdemeanor with its mean months)",
    "headline": "the headline gap is the one figure the study leads with (its definition is in "
    "headline.definition): among defendants both districts prosecute, declined defendants "
    "reported beside it as declined shares; its figures are {estimate, mcse, ci95} entries",
    "overall": "as arrested: each defendant sentenced once, in the district the caseload mix "
    "assigns him, every district pooled (caseload-weighted); months among sentenced defendants",
    "validation": "published figures beside the simulated figure the name points to "
    "(difference = simulated minus published); reported, never calibrated to",
}


def _put(flat: dict[str, Any], name: str, value: Any) -> None:
    """Add one field to a flat entry: an estimate as three keys, a mapping or a record as a
    nested entry, a tuple as a list (of entries, for records), anything else as it is."""
    if isinstance(value, Estimate):
        flat[name] = value.estimate
        flat[f"{name}_mcse"] = value.mcse
        flat[f"{name}_ci95"] = None if value.ci95 is None else list(value.ci95)
    elif isinstance(value, Mapping):
        flat[name] = {}
        for key, item in value.items():
            _put(flat[name], key, item)
    elif is_dataclass(value):
        flat[name] = _flat(value)
    elif isinstance(value, tuple):
        flat[name] = [_flat(item) if is_dataclass(item) else item for item in value]
    else:
        flat[name] = value


def _flat(record: Any, kind: type | None = None) -> dict[str, Any]:
    """A record's fields (only those of ``kind``, a base class, when given) as a JSON entry."""
    flat: dict[str, Any] = {}
    for field in fields(kind or record):
        _put(flat, field.name, getattr(record, field.name))
    return flat


def _pair_entry(pair: Pair) -> dict[str, Any]:
    """A pairwise row: the mean gap over every defendant (declined = 0 months) at top level,
    as earlier summaries had it, and both variants nested. (The study's headline gap, among
    defendants both districts prosecute, is the summary's ``headline``.)"""
    everyone = pair.all_defendants.mean_difference_months
    return {
        "district_a": pair.district_a,
        "district_b": pair.district_b,
        "mean_difference_months": everyone.estimate,
        "mcse_months": everyone.mcse,
        "ci95_months": None if everyone.ci95 is None else list(everyone.ci95),
        "all_defendants": _flat(pair.all_defendants),
        "both_prosecuted": _flat(pair.both_prosecuted),
    }


def _with_declined(measures: Measures, districts: dict[str, Any]) -> dict[str, Any]:
    """Each district's entry with ``declined`` (counterfactual) and ``as_arrested.declined``:
    declination outcomes, reported as their own category (issue 12)."""
    for code, (counterfactual, as_arrested) in declined_figures(measures.study).items():
        districts[code]["declined"] = _flat(counterfactual)
        districts[code]["as_arrested"]["declined"] = _flat(as_arrested)
    return districts


def _nested(value: Estimate) -> dict[str, Any]:
    """An estimate as one entry ``{estimate, mcse, ci95}``."""
    return {
        "estimate": value.estimate,
        "mcse": value.mcse,
        "ci95": None if value.ci95 is None else list(value.ci95),
    }


def _headline_entry(headline: Headline | None) -> dict[str, Any] | None:
    if headline is None:
        return None
    return {
        "from": headline.district_from,
        "to": headline.district_to,
        "definition": headline.definition,
        "gap_months": _nested(headline.gap_months),
        "both_prosecuted_share": _nested(headline.both_prosecuted_share),
        "declined_share": {code: _nested(v) for code, v in headline.declined_share.items()},
    }


def figure_index(summary: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Every figure of a summary by its path, as ``(estimate, mcse)``.

    A path names keys from the top, joined by dots, and list items by ``[index]``:
    ``overall.mean_months``, ``districts.CAC.as_arrested.position_shares.within_range``,
    ``pairwise[0].both_prosecuted.mean_difference_months``, ``headline.gap_months``. A figure
    is a key ``x`` with an ``x_mcse`` beside it, or an ``{estimate, mcse, ...}`` entry; the
    ``validation`` entry itself is left out.

    >>> figure_index({"a": {"x": 1.0, "x_mcse": 0.1, "x_ci95": None}, "b": [{"estimate": 2,
    ...     "mcse": None}], "validation": []})
    {'a.x': (1.0, 0.1), 'b[0]': (2, None)}
    """
    index: dict[str, tuple[Any, Any]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            if "estimate" in node and "mcse" in node:
                index[path] = (node["estimate"], node["mcse"])
                return
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                if f"{key}_mcse" in node:
                    index[child] = (value, node[f"{key}_mcse"])
                elif isinstance(value, Mapping | list):
                    walk(value, child)
        elif isinstance(node, list):
            for k, item in enumerate(node):
                walk(item, f"{path}[{k}]")

    walk({k: v for k, v in summary.items() if k != "validation"}, "")
    return index


def validation_entries(
    summary: Mapping[str, Any], published: list[PublishedFigure]
) -> list[dict[str, Any]]:
    """Each published figure beside the simulated figure its name points to.

    Parameters
    ----------
    summary : mapping
        A summary (its figures are found by :func:`figure_index`).
    published : list of sim.model.scenario.PublishedFigure
        The scenario's ``validation`` entries.

    Returns
    -------
    list of dict
        ``{name, published, simulated: {estimate, mcse}, difference, source}``, difference =
        simulated − published (None where the simulated figure is undefined).

    Raises
    ------
    InputError
        A name that is no figure of the summary (:func:`sim.analysis.validation.check_validation`
        finds these, with close matches, when a scenario is loaded to run; this is for a
        scenario that reaches the analysis another way, e.g. an archive's).
    """
    index = figure_index(summary)
    entries = []
    for k, figure in enumerate(published):
        if figure.name not in index:
            raise InputError(
                f"{figure.name!r}: not a figure of the summary (sim run --json)",
                field=f"validation[{k}].name",
            )
        estimate, mcse = index[figure.name]
        entries.append(
            {
                "name": figure.name,
                "published": figure.value,
                "simulated": {"estimate": estimate, "mcse": mcse},
                "difference": None if estimate is None else estimate - figure.value,
                "source": figure.source,
            }
        )
    return entries


def summary_of(measures: Measures) -> dict[str, Any]:
    """The JSON-ready summary of a run's figures (identical for identical scenario and seed).

    Parameters
    ----------
    measures : Measures
        The run's figures (a :class:`sim.analysis.results.Results`).

    Returns
    -------
    dict
        Scenario identity and size, ``conventions``, ``headline`` (None with one district),
        ``districts`` (the counterfactual view at top level, ``as_arrested`` nested),
        ``pairwise``, ``cross_district_range``, ``variance_shares``, ``selection_vs_policy``,
        ``inequality``, ``overall``, ``validation``, ``profiles``, ``profile_pairwise`` and
        ``assumptions``.
    """
    scenario = measures.study.scenario
    study = scenario.study
    summary = {
        "scenario": scenario.scenario,
        "title": scenario.title,
        "manual": scenario.manual,
        "seed": study.seed,
        "seed_scheme": SEED_SCHEME,
        "replications": study.replications,
        "defendants": study.defendants,
        "profile_draws": study.profile_draws,
        "conventions": dict(CONVENTIONS),
        "headline": _headline_entry(measures.headline),
        "districts": _with_declined(
            measures,
            {
                code: {
                    "name": district.name,
                    **_flat(district, DistrictFigures),
                    "as_arrested": _flat(district.as_arrested),
                }
                for code, district in measures.districts.items()
            },
        ),
        "pairwise": [_pair_entry(pair) for pair in measures.pairwise],
        "cross_district_range": _flat(measures.cross_district_range),
        "variance_shares": _flat(measures.variance_shares),
        "selection_vs_policy": [_flat(split) for split in measures.selection_vs_policy],
        "inequality": _flat(measures.inequality),
        "overall": _flat(measures.overall),
        "validation": [],
        "profiles": {
            name: {code: _flat(figures) for code, figures in profile.districts.items()}
            for name, profile in measures.profiles.items()
        },
        "profile_pairwise": {
            name: [_pair_entry(pair) for pair in profile.pairwise]
            for name, profile in measures.profiles.items()
        },
        "assumptions": assumptions(scenario),
    }
    summary["validation"] = validation_entries(summary, scenario.validation)
    return summary

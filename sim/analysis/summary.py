"""The JSON summary of a run (what ``sim run --json`` prints and ``summary.json`` holds).

Read it as :attr:`sim.analysis.results.Results.summary`. Each estimate ``x`` of a record appears
as three keys, ``x``, ``x_mcse`` and ``x_ci95`` (a two-item list or null).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from sim.analysis.measures import DistrictFigures, Measures, Pair, declined_figures
from sim.analysis.metrics import Estimate
from sim.model.scenario import assumptions
from sim.run.streams import SEED_SCHEME

__all__ = ["CONVENTIONS", "summary_of"]

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
    """A pairwise row: the headline (all defendants) at top level, both variants nested."""
    headline = pair.all_defendants.mean_difference_months
    return {
        "district_a": pair.district_a,
        "district_b": pair.district_b,
        "mean_difference_months": headline.estimate,
        "mcse_months": headline.mcse,
        "ci95_months": None if headline.ci95 is None else list(headline.ci95),
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


def summary_of(measures: Measures) -> dict[str, Any]:
    """The JSON-ready summary of a run's figures (identical for identical scenario and seed).

    Parameters
    ----------
    measures : Measures
        The run's figures (a :class:`sim.analysis.results.Results`).

    Returns
    -------
    dict
        Scenario identity and size, ``conventions``, ``districts`` (the counterfactual view at
        top level, ``as_arrested`` nested), ``pairwise``, ``cross_district_range``,
        ``variance_shares``, ``selection_vs_policy``, ``inequality``, ``profiles``,
        ``profile_pairwise`` and ``assumptions``.
    """
    scenario = measures.study.scenario
    study = scenario.study
    return {
        "scenario": scenario.scenario,
        "title": scenario.title,
        "manual": scenario.manual,
        "seed": study.seed,
        "seed_scheme": SEED_SCHEME,
        "replications": study.replications,
        "defendants": study.defendants,
        "profile_draws": study.profile_draws,
        "conventions": dict(CONVENTIONS),
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

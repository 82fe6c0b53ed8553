"""The JSON summary of a run (what ``sim run --json`` prints and ``summary.json`` holds)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.analysis.metrics import (
    district_summary,
    pairwise_summary,
    profile_summary,
    study_summary,
)
from sim.model.scenario import assumptions
from sim.run.runner import StudyResult
from sim.run.streams import SEED_SCHEME

__all__ = ["headline_mcse", "summarise"]


def _flatten(figures: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, figure in figures.items():
        if isinstance(figure, Mapping) and "estimate" in figure:
            flat[name] = figure["estimate"]
            flat[f"{name}_mcse"] = figure["mcse"]
            flat[f"{name}_ci95"] = figure["ci95"]
        elif isinstance(figure, Mapping):
            flat[name] = _flatten(figure)
        else:
            flat[name] = figure
    return flat


def _pair_entry(pair: Mapping[str, Any]) -> dict[str, Any]:
    """A pairwise row: the headline (all defendants) at top level, both variants nested."""
    headline = pair["all_defendants"]["mean_difference_months"]
    return {
        "district_a": pair["district_a"],
        "district_b": pair["district_b"],
        "mean_difference_months": headline["estimate"],
        "mcse_months": headline["mcse"],
        "ci95_months": headline["ci95"],
        "all_defendants": _flatten(pair["all_defendants"]),
        "both_prosecuted": _flatten(pair["both_prosecuted"]),
    }


def summarise(result: StudyResult) -> dict[str, Any]:
    """The JSON-ready summary of a run (identical for identical scenario and seed)."""
    scenario = result.scenario
    metrics = study_summary(result)
    districts = {}
    for code, figures in metrics["districts"].items():
        entry = {"name": figures["name"], **_flatten(figures["counterfactual"])}
        entry["as_arrested"] = _flatten(figures["as_arrested"])
        districts[code] = entry
    profile_metrics = profile_summary(result)
    return {
        "scenario": scenario.scenario,
        "title": scenario.title,
        "manual": scenario.manual,
        "seed": scenario.study.seed,
        "seed_scheme": SEED_SCHEME,
        "replications": scenario.study.replications,
        "defendants": scenario.study.defendants,
        "profile_draws": scenario.study.profile_draws,
        "conventions": {
            "months": "whole months; district figures are among the defendants the district "
            "prosecutes",
            "balanced_outcome": "pairwise gaps, ranges, variance shares and inequality use every "
            "defendant in every district, a declined defendant counting 0 months",
            "uncertainty": "each figure is the mean over replications with its Monte Carlo "
            "standard error (_mcse) and a 95% t interval (_ci95)",
            "differences": "district_a minus district_b",
        },
        "districts": districts,
        "pairwise": [_pair_entry(pair) for pair in metrics["pairwise"]],
        "cross_district_range": _flatten(metrics["cross_district_range"]),
        "variance_shares": _flatten(metrics["variance_shares"]),
        "selection_vs_policy": [_flatten(row) for row in metrics["selection_vs_policy"]],
        "inequality": {
            **_flatten({k: v for k, v in metrics["inequality"].items() if k != "distances"}),
            "distances": [_flatten(row) for row in metrics["inequality"]["distances"]],
        },
        "profiles": {
            name: {code: _flatten(figures) for code, figures in entry["districts"].items()}
            for name, entry in profile_metrics.items()
        },
        "profile_pairwise": {
            name: [_pair_entry(pair) for pair in entry["pairwise"]]
            for name, entry in profile_metrics.items()
        },
        "assumptions": assumptions(scenario),
    }


def headline_mcse(result: StudyResult) -> float:
    """The largest Monte Carlo standard error among the headline figures (months): each
    district's mean months and each pair's mean paired difference (all defendants)."""
    errors = [
        figures["counterfactual"]["mean_months"]["mcse"]
        for figures in district_summary(result).values()
    ]
    errors += [
        pair["all_defendants"]["mean_difference_months"]["mcse"]
        for pair in pairwise_summary(result.tally, result.scenario.district_codes)
    ]
    known = [e for e in errors if e is not None]
    return max(known) if len(known) == len(errors) and known else float("inf")

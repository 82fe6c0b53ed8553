"""Run a scenario end to end: load, simulate, summarise, optionally write the results folder.

This is the library function behind ``sim run``; it raises :class:`sim.inputs.InputError` for bad
input and never prints except through :func:`print_summary` and the optional progress bar (stderr).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config import Scenario, load_scenario
from sim.inputs import InputError
from sim.metrics import profile_summary, study_summary
from sim.runner import StudyResult, run_study
from sim.streams import SEED_SCHEME

__all__ = ["assumptions", "print_summary", "run_and_summarise", "summarise"]

#: Defendant-district sentencings above which a progress bar is shown on a terminal.
_PROGRESS_THRESHOLD = 2_000_000


def assumptions(model: BaseModel, path: str = "") -> list[dict[str, Any]]:
    """Every parameter of a scenario labelled ``assumption: true``, with its field path."""
    found: list[dict[str, Any]] = []
    if "assumption" in type(model).model_fields:  # a documented number or choice
        if model.assumption:
            found.append(
                {
                    "field": path,
                    "value": getattr(model, "value", getattr(model, "distribution", None)),
                    "source": model.source,
                }
            )
        return found
    for name in type(model).model_fields:
        value = getattr(model, name)
        child = f"{path}.{name}" if path else name
        if isinstance(value, BaseModel):
            found += assumptions(value, child)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    found += assumptions(item, f"{child}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += assumptions(item, f"{child}[{index}]")
    return found


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


def _progress_bar(scenario: Scenario, enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    work = scenario.study.replications * scenario.study.defendants * len(scenario.districts)
    show = enabled and console.is_terminal and work >= _PROGRESS_THRESHOLD
    return Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} defendants"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not show,
    )


def headline_mcse(result: StudyResult) -> float:
    """The largest Monte Carlo standard error among the headline figures (months): each
    district's mean months and each pair's mean paired difference (all defendants)."""
    from sim.metrics import district_summary, pairwise_summary

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


def run_to_target(
    scenario: Scenario,
    target_mcse: float,
    max_replications: int,
    workers: int = 1,
    progress=None,
) -> tuple[StudyResult, dict[str, Any]]:
    """Add replications (doubling) until every headline MCSE is at most ``target_mcse`` months
    or ``max_replications`` is reached. Replication r's streams do not depend on the total, so
    the result equals a fixed run with the final number of replications."""
    replications = max(scenario.study.replications, 2)
    current = scenario.model_copy(
        update={"study": scenario.study.model_copy(update={"replications": replications})}
    )
    result = run_study(current, workers=workers, progress=progress)
    while headline_mcse(result) > target_mcse and replications < max_replications:
        replications = min(2 * replications, max_replications)
        current = scenario.model_copy(
            update={"study": scenario.study.model_copy(update={"replications": replications})}
        )
        result = run_study(current, workers=workers, progress=progress, previous=result)
    achieved = headline_mcse(result)
    return result, {
        "target_mcse_months": target_mcse,
        "max_replications": max_replications,
        "replications": replications,
        "headline_max_mcse_months": achieved,
        "reached": achieved <= target_mcse,
    }


def run_and_summarise(
    config: str | Path | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    workers: int = 1,
    out: Path | None = None,
    progress: bool = False,
    target_mcse: float | None = None,
    max_replications: int = 1000,
    archive: bool = True,
    results_root: Path = Path("results"),
    command: str = "",
    defendant_sample: int = 0,
) -> dict[str, Any]:
    """Load a scenario (the default when ``config`` is None), run it and summarise it.

    With ``target_mcse`` (months), replications are added until every headline figure's Monte
    Carlo standard error is at most that, or ``max_replications`` is reached; the summary's
    ``target`` entry says how many it took and whether the target was reached.

    Unless ``archive`` is false, the run is archived (:mod:`sim.archive`) in ``out`` or in a new
    folder under ``results_root``; the returned summary then names it under ``"archive"``.

    Raises
    ------
    InputError
        A bad scenario or target, or an ``out`` folder that already exists (nothing is run or
        written).
    """
    if out is not None and out.exists():
        raise InputError(f"--out: {out}: already exists; results are never overwritten")
    if target_mcse is not None and not target_mcse > 0:
        raise InputError(f"--target-mcse: {target_mcse}: allowed: a positive number of months")
    scenario, resolved = load_scenario(config, overrides)
    started = time.perf_counter()
    with _progress_bar(scenario, progress) as bar:
        task = bar.add_task("run", total=scenario.study.replications * scenario.study.defendants)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        target = None
        if target_mcse is None:
            result = run_study(scenario, workers=workers, progress=advance)
        else:
            result, target = run_to_target(
                scenario, target_mcse, max_replications, workers=workers, progress=advance
            )
            resolved = dict(resolved)
            resolved["study"] = {**resolved["study"], "replications": target["replications"]}
    summary = summarise(result)
    if target is not None:
        summary["target"] = target
    wall_seconds = round(time.perf_counter() - started, 3)
    printed = dict(summary)
    if archive:
        from sim.archive import write_archive

        folder = write_archive(
            result,
            resolved,
            summary,
            out=out,
            results_root=results_root,
            wall_seconds=wall_seconds,
            command=command,
            defendant_sample=defendant_sample,
        )
        printed["archive"] = str(folder)
    printed["wall_seconds"] = wall_seconds
    return printed


def _figure(value: float | None, mcse: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return f"{text} ± {mcse:.{digits + 1}f}" if mcse is not None else text


def print_summary(summary: dict[str, Any]) -> None:
    """Print the headline tables of a summary (rich, stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{summary['title']}[/bold]\n{summary['replications']} replications x "
        f"{summary['defendants']:,} defendants, seed {summary['seed']}, "
        f"{summary['wall_seconds']} s; ± is the Monte Carlo standard error"
    )
    if "target" in summary:
        t = summary["target"]
        console.print(
            f"target MCSE {t['target_mcse_months']} months: "
            f"{'reached' if t['reached'] else 'NOT reached'} with {t['replications']} "
            f"replications (largest headline MCSE {t['headline_max_mcse_months']:.3f})"
        )

    table = Table(title="Districts: every defendant sentenced everywhere (months among prosecuted)")
    for column in ("district", "prosecuted", "mean", "median", "90th pct", "as arrested: mean"):
        table.add_column(column, justify="right")
    for code, d in summary["districts"].items():
        table.add_row(
            f"{code} {d['name']}",
            _figure(d["prosecuted_share"], d["prosecuted_share_mcse"], 3),
            _figure(d["mean_months"], d["mean_months_mcse"]),
            _figure(d["median_months"], d["median_months_mcse"]),
            _figure(d["p90_months"], d["p90_months_mcse"]),
            _figure(d["as_arrested"]["mean_months"], d["as_arrested"]["mean_months_mcse"]),
        )
    console.print(table)

    pairs = Table(
        title="Paired gaps, same defendants (a − b, months; declined = 0 unless both prosecuted)"
    )
    for column in ("a − b", "mean gap", "median", ">12 months apart", "both prosecuted: mean"):
        pairs.add_column(column, justify="right")
    for pair in summary["pairwise"]:
        everyone, both = pair["all_defendants"], pair["both_prosecuted"]
        pairs.add_row(
            f"{pair['district_a']} − {pair['district_b']}",
            _figure(pair["mean_difference_months"], pair["mcse_months"], 2),
            _figure(
                everyone["median_difference_months"], everyone["median_difference_months_mcse"]
            ),
            _figure(
                everyone["share_differing_over_12_months"],
                everyone["share_differing_over_12_months_mcse"],
                3,
            ),
            _figure(both["mean_difference_months"], both["mean_difference_months_mcse"], 2),
        )
    console.print(pairs)

    shares = summary["variance_shares"]
    variance = Table(title="Share of sentence variance explained (Shapley values of R²)")
    for column in ("district", "criminal history category", "§ 2L1.2 enhancement", "other record"):
        variance.add_column(column, justify="right")
    variance.add_row(
        *(
            _figure(shares[key], shares[f"{key}_mcse"], 3)
            for key in (
                "district",
                "criminal_history_category",
                "section_2l1_2_enhancement",
                "other_record",
            )
        )
    )
    console.print(variance)

    selection = Table(title="As-arrested gap = treatment (same defendants) + composition (who)")
    for column in ("a − b", "observed gap", "treatment", "composition"):
        selection.add_column(column, justify="right")
    for row in summary["selection_vs_policy"]:
        selection.add_row(
            f"{row['district_a']} − {row['district_b']}",
            *(
                _figure(row[key], row[f"{key}_mcse"], 2)
                for key in ("observed_gap_months", "treatment_months", "composition_months")
            ),
        )
    console.print(selection)

    inequality = summary["inequality"]
    console.print(
        "Inequality (declined = 0): Gini "
        f"{_figure(inequality['gini'], inequality['gini_mcse'], 3)}; Theil T between districts "
        f"{_figure(inequality['theil_between'], inequality['theil_between_mcse'], 3)}, within "
        f"{_figure(inequality['theil_within'], inequality['theil_within_mcse'], 3)}"
    )

    for name, by_district in summary["profiles"].items():
        profile = Table(title=f"Profile {name}")
        for column in ("district", "no-deal final range", "mean months", "min–max", "deals"):
            profile.add_column(column, justify="right")
        for code, p in by_district.items():
            low, high = p["final_range_months"]
            deals = ", ".join(
                f"{deal} {share:.0%}" for deal, share in p["deal_shares"].items() if share
            )
            profile.add_row(
                code,
                f"{low}–{high}",
                _figure(p["mean_months"], p["mean_months_mcse"]),
                f"{p['min_months']}–{p['max_months']}",
                deals,
            )
        console.print(profile)

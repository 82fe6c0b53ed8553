"""Run a scenario end to end: load, simulate, summarise, optionally write the results folder.

This is the library function behind ``sim run``; it raises :class:`sim.inputs.InputError` for bad
input and never prints except through :func:`print_summary` and the optional progress bar (stderr).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from sim.config import Scenario, load_scenario
from sim.inputs import InputError
from sim.metrics import profile_summary, study_summary
from sim.parameters import Parameter
from sim.runner import StudyResult, run_study
from sim.streams import SEED_SCHEME

__all__ = ["assumptions", "print_summary", "run_and_summarise", "summarise"]

#: Defendant-district sentencings above which a progress bar is shown on a terminal.
_PROGRESS_THRESHOLD = 2_000_000


def assumptions(model: BaseModel, path: str = "") -> list[dict[str, Any]]:
    """Every parameter of a scenario labelled ``assumption: true``, with its field path."""
    found: list[dict[str, Any]] = []
    if isinstance(model, Parameter) or (
        isinstance(model, BaseModel) and "assumption" in type(model).model_fields
    ):
        if getattr(model, "assumption", False):
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


def summarise(result: StudyResult) -> dict[str, Any]:
    """The JSON-ready summary of a run (identical for identical scenario and seed)."""
    scenario = result.scenario
    districts = {}
    for code, figures in study_summary(result).items():
        entry = {"name": figures["name"], **_flatten(figures["counterfactual"])}
        entry["as_arrested"] = _flatten(figures["as_arrested"])
        entry["position_shares"] = _flatten(figures["position_shares"])
        districts[code] = entry
    profiles = {
        name: {code: _flatten(figures) for code, figures in by_district.items()}
        for name, by_district in profile_summary(result).items()
    }
    return {
        "scenario": scenario.scenario,
        "title": scenario.title,
        "manual": scenario.manual,
        "seed": scenario.study.seed,
        "seed_scheme": SEED_SCHEME,
        "replications": scenario.study.replications,
        "defendants": scenario.study.defendants,
        "profile_draws": scenario.study.profile_draws,
        "months_are": "whole months among prosecuted defendants; figures are means over "
        "replications with their Monte Carlo standard error (_mcse) and 95% t interval (_ci95)",
        "districts": districts,
        "profiles": profiles,
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


def _write_results(out: Path, summary: dict[str, Any], resolved: dict[str, Any]) -> None:
    """Write into a temporary sibling folder, then rename it into place (all or nothing)."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    try:
        (staging / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (staging / "config.resolved.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run_and_summarise(
    config: str | Path | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    workers: int = 1,
    out: Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Load a scenario (the default when ``config`` is None), run it and summarise it.

    Raises
    ------
    InputError
        A bad scenario, or an ``out`` folder that already exists (nothing is run or written).
    """
    if out is not None and out.exists():
        raise InputError(f"--out: {out}: already exists; results are never overwritten")
    scenario, resolved = load_scenario(config, overrides)
    started = time.perf_counter()
    with _progress_bar(scenario, progress) as bar:
        task = bar.add_task("run", total=scenario.study.replications * scenario.study.defendants)
        result = run_study(
            scenario, workers=workers, progress=lambda done, _: bar.update(task, completed=done)
        )
    summary = summarise(result)
    if out is not None:
        _write_results(out, summary, resolved)
    summary_with_time = dict(summary)
    summary_with_time["wall_seconds"] = round(time.perf_counter() - started, 3)
    return summary_with_time


def _figure(value: float | None, mcse: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return f"{text} ± {mcse:.{digits + 1}f}" if mcse is not None else text


def print_summary(summary: dict[str, Any]) -> None:
    """Print the per-district and per-profile tables of a summary (rich, stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{summary['title']}[/bold]\n{summary['replications']} replications x "
        f"{summary['defendants']:,} defendants, seed {summary['seed']}, "
        f"{summary['wall_seconds']} s"
    )
    table = Table(
        title="Every defendant sentenced in every district (counterfactual; months among "
        "prosecuted; ± Monte Carlo standard error)"
    )
    for column in (
        "district",
        "prosecuted",
        "mean months",
        "median",
        "90th pct",
        "as arrested: mean",
    ):
        table.add_column(column, justify="right")
    for code, d in summary["districts"].items():
        arrested = d["as_arrested"]
        table.add_row(
            f"{code} {d['name']}",
            _figure(d["prosecuted_share"], d["prosecuted_share_mcse"], 3),
            _figure(d["mean_months"], d["mean_months_mcse"]),
            _figure(d["median_months"], d["median_months_mcse"]),
            _figure(d["p90_months"], d["p90_months_mcse"]),
            _figure(arrested["mean_months"], arrested["mean_months_mcse"]),
        )
    console.print(table)
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

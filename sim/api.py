"""What each command does, as one library call: run a scenario end to end (load, simulate,
summarise, archive), and the other commands' work; and the public API for notebooks and scripts
(docs/api.md): :func:`study` (``sim.run``, ``sim.study``) returning a :class:`Study`, and
:func:`calc` returning a :class:`Calculation`.

These functions raise :class:`sim.inputs.InputError` for bad input and never print; progress is
reported through a callback.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.results import Results, analyse
from sim.analysis.validation import check_validation
from sim.inputs import InputError
from sim.model.scenario import DEFAULT_SCENARIO, Scenario, StudySettings, load_scenario
from sim.run.backends import Backend, ClusterOptions, open_backend
from sim.run.runner import check_fits, most_replications, run_study

__all__ = [
    "Calculation",
    "Study",
    "attribute_gap",
    "calc",
    "calculate_case",
    "calibrate_scenario",
    "calibration_summary",
    "compare",
    "rebuild_report",
    "reproduce_archive",
    "run_and_summarise",
    "run_scenario",
    "run_to_target",
    "sentencing_table",
    "stale_staging",
    "study",
    "sweep",
    "validate_scenario",
    "verify_archive",
]

#: ``progress(done, total)`` after each block, in defendants.
Progress = Callable[[int, int], None]

#: Defendant-district sentencings above which a progress bar is shown on a terminal.
_PROGRESS_THRESHOLD = 2_000_000


def run_to_target(
    scenario: Scenario,
    target_mcse: float,
    max_replications: int,
    workers: int | Backend = 1,
    progress: Progress | None = None,
) -> tuple[Results, dict[str, Any]]:
    """Add replications (doubling) until every headline MCSE is at most ``target_mcse`` months
    or ``max_replications`` is reached.

    Replication r's streams do not depend on the total, so the result equals a fixed run with
    the final number of replications.

    Parameters
    ----------
    scenario : Scenario
        Its ``study.replications`` (at least 2) is the first run's size.
    target_mcse : float
        Months; the headline figures are :attr:`sim.analysis.measures.Measures.headline_mcse`'s.
    max_replications : int
        The cap; lowered to the most replications the scenario allows and whose tallies fit
        (:func:`sim.run.runner.most_replications`), and reported as the cap in ``target``.
    workers : int or Backend
        Worker processes, or an open backend (:mod:`sim.run.backends`).
    progress : callable, optional
        ``progress(done, total)`` after each block, in defendants.

    Returns
    -------
    tuple of (Results, dict)
        The final run's results, and the ``target`` entry of its summary (target, cap,
        replications, the largest headline MCSE reached, whether the target was reached).
    """
    replications = max(scenario.study.replications, 2)
    # The cap can be no higher than the replications a scenario allows and whose tallies fit.
    limit = StudySettings.model_fields["replications"].metadata
    most = min(most_replications(scenario), *(c.le for c in limit if hasattr(c, "le")))
    max_replications = max(min(max_replications, most), 2)

    def with_replications(count: int) -> Scenario:
        study = scenario.study.model_copy(update={"replications": count})
        return scenario.model_copy(update={"study": study})

    results = analyse(
        run_study(with_replications(replications), workers=workers, progress=progress)
    )
    while results.headline_mcse > target_mcse and replications < max_replications:
        replications = min(2 * replications, max_replications)
        study = run_study(
            with_replications(replications),
            workers=workers,
            progress=progress,
            previous=results.study,
        )
        results = analyse(study)
    achieved = results.headline_mcse
    return results, {
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
    backend: str = "local",
    cluster: ClusterOptions | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    target_mcse: float | None = None,
    max_replications: int = 1000,
    archive: bool = True,
    results_root: Path = Path("results"),
    command: str = "",
    defendant_sample: int = 0,
    started: float | None = None,
    assumption_points: int = 0,
) -> dict[str, Any]:
    """Load a scenario (the default when ``config`` is None), run it and summarise it: the
    :attr:`Study.summary` of :func:`run_scenario` (``sim run --json``).

    With ``assumption_points`` N, each headline figure also gets ``assumption_p05`` and
    ``assumption_p95``: its 5th and 95th percentiles over an N-point Latin hypercube of every
    assumption that carries a range or alternatives (:func:`with_assumption_interval`).

    With ``target_mcse`` (months), replications are added until every headline figure's Monte
    Carlo standard error is at most that, or ``max_replications`` is reached; the summary's
    ``target`` entry says how many it took and whether the target was reached.

    Unless ``archive`` is false, the run is archived (:mod:`sim.output.archive`) in ``out`` or in a
    new folder under ``results_root``; the returned summary then names it under ``"archive"``.

    The simulation runs on ``backend`` (:func:`sim.run.backends.open_backend`): ``"local"``,
    ``workers`` processes of this machine; ``"dask"``, the scheduler ``cluster`` names or a
    ``LocalCluster`` of ``workers`` processes. The figures are identical on every backend.

    Raises
    ------
    InputError
        A bad scenario or target, or an ``out`` that cannot be a new archive folder (it exists,
        its name is invalid, it is inside another archive, its parent cannot be written): all
        found before the run, and nothing is written; a backend that cannot be opened (a
        scheduler that cannot be reached, named by its address). Also when another run took
        ``out`` while this one ran (its archive is not kept).
    """
    return run_scenario(
        config,
        overrides,
        workers=workers,
        backend=backend,
        cluster=cluster,
        out=out,
        progress=progress,
        target_mcse=target_mcse,
        max_replications=max_replications,
        archive=archive,
        results_root=results_root,
        command=command,
        defendant_sample=defendant_sample,
        started=started,
        assumption_points=assumption_points,
    ).summary


@dataclass(frozen=True, eq=False)
class Study:
    """A study that ran: its typed results, its summary and tables, and its archive if it has one.

    Returned by :func:`study` (``sim.run(...)``, ``sim.study(...)``). The figures are those of
    :class:`sim.analysis.results.Results` (each an ``Estimate(estimate, mcse, ci95)``).

    Attributes
    ----------
    results : sim.analysis.results.Results
        Every figure of the run, typed: ``results.headline``, ``results.districts["CAC"]``, ...
    summary : dict
        What ``sim run --json`` prints: :attr:`Results.summary` plus ``wall_seconds`` (the whole
        call: loading, compiling on first use, simulating, analysing, archiving),
        ``simulation_seconds`` (simulating and analysing only), ``archive`` (when archived) and
        ``target`` (with ``target_mcse``).
    archive : pathlib.Path or None
        The archive folder, when one was written (``out=``).
    """

    results: Results
    summary: dict[str, Any]
    archive: Path | None = None

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The tidy tables by name (pandas DataFrames, read-only), the same tables the archive
        writes as ``tables/<name>.parquet`` and ``.csv`` (the defendant sample aside); use
        :meth:`to_df` for a copy to change."""
        return self.results.tables

    def to_df(self, name: str) -> pd.DataFrame:
        """One of :attr:`tables`, as a copy the caller may change (KeyError: no such table)."""
        return self.results.to_df(name)

    @property
    def scenario(self) -> Scenario:
        """The scenario as it ran (file, ``extends:`` and the overrides resolved)."""
        return self.results.study.scenario

    @property
    def wall_seconds(self) -> float:
        """Seconds of the whole call."""
        return self.summary["wall_seconds"]

    @property
    def simulation_seconds(self) -> float:
        """Seconds of simulation and analysis only."""
        return self.summary["simulation_seconds"]

    def __repr__(self) -> str:
        s = self.scenario.study
        where = f", archive={str(self.archive)!r}" if self.archive is not None else ""
        return (
            f"Study({self.scenario.scenario!r}, replications={s.replications}, "
            f"defendants={s.defendants}, seed={s.seed}, tables={len(self.tables)}{where})"
        )


def run_scenario(
    config: str | Path | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    workers: int = 1,
    backend: str = "local",
    cluster: ClusterOptions | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    target_mcse: float | None = None,
    max_replications: int = 1000,
    archive: bool = True,
    results_root: Path = Path("results"),
    command: str = "",
    defendant_sample: int = 0,
    started: float | None = None,
    assumption_points: int = 0,
) -> Study:
    """:func:`run_and_summarise`'s work, returning the :class:`Study` (typed results as well as
    the summary).

    ``started`` is the :func:`time.perf_counter` reading the whole run's ``wall_seconds`` counts
    from (default: this call's start); the command line passes its own start.
    """
    started = time.perf_counter() if started is None else started
    if target_mcse is not None and not target_mcse > 0:
        raise InputError(
            f"{target_mcse}: allowed: a positive number of months", field="target_mcse"
        )
    scenario, resolved = load_scenario(config, overrides)
    check_validation(scenario, DEFAULT_SCENARIO if config is None else config)
    check_fits(scenario)
    with contextlib.ExitStack() as stack:
        slot = None
        if archive:
            from sim.output.archive import reserve_archive, write_archive

            # The archive's place is checked and claimed before any work.
            slot = stack.enter_context(reserve_archive(out, results_root))
        pool = stack.enter_context(open_backend(backend, workers, cluster))
        simulation_started = time.perf_counter()
        if target_mcse is None:
            results = analyse(run_study(scenario, workers=pool, progress=progress))
            summary = dict(results.summary)
        else:
            results, target = run_to_target(
                scenario, target_mcse, max_replications, workers=pool, progress=progress
            )
            resolved = dict(resolved)
            resolved["study"] = {**resolved["study"], "replications": target["replications"]}
            summary = {**results.summary, "target": target}
        simulation_seconds = round(time.perf_counter() - simulation_started, 3)
        if assumption_points:
            summary = with_assumption_interval(
                summary, config, overrides, assumption_points, workers=pool
            )
        printed = dict(summary)
        folder = None
        if slot is not None:
            folder = write_archive(
                results,
                resolved,
                slot,
                summary=summary,
                command=command,
                defendant_sample=defendant_sample,
                started=started,
                simulation_seconds=simulation_seconds,
            )
            printed["archive"] = str(folder)
    printed["wall_seconds"] = round(time.perf_counter() - started, 3)
    printed["simulation_seconds"] = simulation_seconds
    return Study(results, printed, folder)


def study(
    config: str | Path | None = None,
    *,
    defendants: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    block_size: int | None = None,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    target_mcse: float | None = None,
    max_replications: int = 1000,
    out: str | Path | None = None,
    defendant_sample: int = 0,
    progress: Progress | None = None,
) -> Study:
    """Run a Monte Carlo study of a scenario: every defendant through every district's policy.

    The library form of ``sim run``, also callable as ``sim.run(...)`` (docs/api.md). Nothing is
    written unless ``out`` is given.

    Parameters
    ----------
    config : str or pathlib.Path, optional
        A scenario file (``configs/california-1995.yaml``); the built-in default when omitted.
    defendants, replications, seed, block_size : int, optional
        Override the scenario's ``study`` settings (``--defendants`` and so on).
    workers : int
        Worker processes (with ``backend="dask"`` and no ``scheduler``: the size of the
        ``LocalCluster`` started).
    backend : {"local", "dask"}
        Where the simulation runs (docs/cluster.md); the figures are identical on either.
    scheduler : str, optional
        With ``backend="dask"``: the address of a running scheduler (``tcp://host:8786``).
    target_mcse : float, optional
        Months: add replications until every headline figure's Monte Carlo standard error is
        at most this, or ``max_replications`` is reached.
    max_replications : int
        The cap for ``target_mcse``.
    out : str or pathlib.Path, optional
        Also archive the run in this new folder, as ``sim run --out`` does.
    defendant_sample : int
        With ``out``: also archive the first this many defendants of replication 0.
    progress : callable, optional
        ``progress(done, total)`` after each block, in defendants.

    Returns
    -------
    Study
        ``.summary`` (a dict, what ``sim run --json`` prints), ``.tables`` (pandas DataFrames by
        name), ``.results`` (the typed figures), ``.archive`` (or None).

    Raises
    ------
    sim.inputs.InputError
        A bad scenario, override, target or ``out``: every problem at once, before any work.
    """
    overrides = {
        "defendants": defendants,
        "replications": replications,
        "seed": seed,
        "block_size": block_size,
    }
    return run_scenario(
        config,
        overrides,
        workers=workers,
        backend=backend,
        cluster=ClusterOptions(scheduler=scheduler),
        out=None if out is None else Path(out),
        progress=progress,
        target_mcse=target_mcse,
        max_replications=max_replications,
        archive=out is not None,
        defendant_sample=defendant_sample,
    )


@dataclass(frozen=True)
class Calculation:
    """One defendant's guideline calculation (:func:`calc`): the PSR-style worksheet's figures.

    ``str(calculation)`` is the worksheet as ``sim calc`` prints it; :attr:`worksheet` is the
    whole mapping ``sim calc --json`` prints (:func:`sim.guidelines.worksheet.build_worksheet`).
    A range is ``(low, high)`` in months, None for life.
    """

    manual: int
    total_offense_level: int | None
    criminal_history_points: int
    criminal_history_category: str
    guideline_range_months: tuple[int | None, int | None] | None
    final_range_months: tuple[int | None, int | None]
    statutory_maximum_months: int
    zone: str | None
    worksheet: dict[str, Any] = field(repr=False)

    def __str__(self) -> str:
        return "\n".join(self.worksheet["lines"])


def calc(case: str | Path | Mapping[str, Any] | Any) -> Calculation:
    """Compute one defendant's guideline range under a Manual edition (``sim calc``).

    Parameters
    ----------
    case : str, pathlib.Path, mapping or sim.guidelines.casefile.CaseFile
        A case file (YAML, or JSON by suffix; docs/case-file.md), its contents as a mapping, or
        a validated ``CaseFile``.

    Returns
    -------
    Calculation

    Raises
    ------
    sim.inputs.InputError
        An invalid case: every problem at once, naming field, value and what is allowed.
    """
    from sim.guidelines.casefile import CaseFile, load_case
    from sim.guidelines.worksheet import build_worksheet
    from sim.inputs import validate_model

    if isinstance(case, CaseFile):
        validated = case
    elif isinstance(case, Mapping):
        validated = validate_model(CaseFile, case, "case", reference="docs/case-file.md")
    else:
        validated = load_case(case)
    w = build_worksheet(validated)

    def span(value: list[int | None] | None) -> tuple[int | None, int | None] | None:
        return None if value is None else (value[0], value[1])

    return Calculation(
        manual=w["manual"],
        total_offense_level=w["total_offense_level"],
        criminal_history_points=w["criminal_history_points"],
        criminal_history_category=w["criminal_history_category"],
        guideline_range_months=span(w["guideline_range_months"]),
        final_range_months=span(w["final_range_months"]),
        statutory_maximum_months=w["statutory_maximum_months"],
        zone=w["zone"],
        worksheet=w,
    )


def with_assumption_interval(
    summary: Mapping[str, Any],
    config: str | Path | None,
    overrides: Mapping[str, Any] | None,
    points: int,
    workers: int | Backend = 1,
) -> dict[str, Any]:
    """The summary with ``assumption_p05``/``assumption_p95`` beside each headline figure
    (``sim run --assumption-interval N``): the figure's 5th and 95th percentiles over an N-point
    Latin hypercube of the scenario's ranged assumptions and alternatives, every point with the
    run's study and common random numbers (:func:`sim.analysis.sensitivity.assumption_interval`).
    Also ``assumption_interval: {points, rejected_points, factors, design}`` at the top level
    (points at which a cross-field rule makes the scenario invalid are left out and counted).

    Raises
    ------
    InputError
        ``points`` below 2, or a point at which the scenario is invalid.
    """
    from sim.analysis.sensitivity import assumption_interval
    from sim.analysis.summary import figure_index

    if points < 2:
        raise InputError(f"{points}: allowed: at least 2 points", field="assumption_points")
    headline = summary.get("headline")
    if not headline:
        return dict(summary)
    names = [name for name in figure_index(summary) if name.startswith("headline.")]
    path = DEFAULT_SCENARIO if config is None else config
    interval, factors, rejected = assumption_interval(
        path, overrides, names, points, workers=workers
    )
    headline = json.loads(json.dumps(headline))  # a copy: the summary is shared
    for name, (low, high) in interval.items():
        node = headline
        for key in name.split(".")[1:]:
            node = node[key]
        node["assumption_p05"], node["assumption_p95"] = low, high
    return {
        **summary,
        "headline": headline,
        "assumption_interval": {
            "points": points,
            "rejected_points": rejected,
            "factors": factors,
            "design": "latin",
        },
    }


def sweep(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    workers: int = 1,
    backend: str = "local",
    cluster: ClusterOptions | None = None,
    out: Path | None = None,
    archive: bool = True,
    results_root: Path = Path("results"),
    progress: Progress | None = None,
    command: str = "",
) -> dict[str, Any]:
    """Run a sweep file (``sim sweep``; docs/sensitivity.md) and archive it.

    The points run on ``backend`` with ``workers`` and ``cluster`` as in
    :func:`run_and_summarise`; the figures are identical on every backend.

    Returns
    -------
    dict
        ``{"points", "outputs": {OUTPUT: {min, p05, median, p95, max}}, "sobol": {OUTPUT:
        {PARAM: {S1, S1_ci95, ST, ST_ci95}}}}`` (what ``--json`` prints), and, apart from it,
        ``archive`` and ``wall_seconds`` under the key ``_run``.

    Raises
    ------
    InputError
        Every problem of the sweep file at once, before any work; an ``out`` that cannot be
        a new archive folder; or a backend that cannot be opened.
    """
    from sim.analysis.sensitivity import load_sweep, run_sweep

    loaded = load_sweep(path, overrides)
    with contextlib.ExitStack() as stack:
        slot = None
        if archive:
            from sim.output.archive import reserve_archive

            slot = stack.enter_context(reserve_archive(out, results_root))
        pool = stack.enter_context(open_backend(backend, workers, cluster))
        started = time.perf_counter()
        result = run_sweep(loaded, workers=pool, progress=progress)
        summary = result.summary()
        wall_seconds = round(time.perf_counter() - started, 3)
        folder = None
        if slot is not None:
            from sim.output.sweep_archive import write_sweep_archive

            folder = write_sweep_archive(
                result, summary, slot, wall_seconds=wall_seconds, command=command
            )
    return {
        **summary,
        "_run": {
            "archive": None if folder is None else str(folder),
            "wall_seconds": wall_seconds,
            "factors": [f.name for f in loaded.factors],
            "defendants": loaded.scenario.study.defendants,
            "replications": loaded.scenario.study.replications,
            "districts": len(loaded.scenario.districts),
        },
    }


def calculate_case(path: str | Path) -> dict[str, Any]:
    """The worksheet of a case file (``sim calc``)."""
    from sim.guidelines.casefile import load_case
    from sim.guidelines.worksheet import build_worksheet

    return build_worksheet(load_case(path))


def sentencing_table(manual: int, output_format: str) -> str:
    """The Sentencing Table of an edition as CSV or Markdown text (``sim table``)."""
    from sim.guidelines.table import sentencing_table_text

    try:
        return sentencing_table_text(manual, output_format)
    except ValueError as error:
        field = "manual" if str(error).startswith("manual") else "format"
        raise InputError(str(error).partition(" ")[2], field=field) from None


def validate_scenario(path: str | Path) -> Scenario:
    """A scenario file, loaded and validated with everything it extends, its ``validation``
    names checked against the summary's figures, and checked to fit the tally memory budget
    (``sim validate``)."""
    scenario = load_scenario(path)[0]
    check_validation(scenario, path)
    check_fits(scenario)
    return scenario


def verify_archive(folder: Path) -> tuple[list[str], str]:
    """Check an archive as a closed world (``sim verify``): its problems, one line each (none:
    intact), and its manifest's SHA-256. Raises InputError when there is no usable manifest."""
    from sim.output.verification import verify_archive as verify

    return verify(folder)


def stale_staging(folder: Path) -> list[Path]:
    """Staging folders beside ``folder`` left by killed runs whose process is gone (``sim
    verify`` reports them; the next ``sim run`` in that folder removes them)."""
    from sim.output.archive import stale_partials

    return stale_partials(Path(folder).absolute().parent)


def reproduce_archive(folder: Path, workers: int = 1) -> tuple[list[str], str]:
    """Verify an archive, re-run it from its config and seed (``sim reproduce``): the tables that
    differ, one line each (none: byte-identical), and the manifest's SHA-256. Raises InputError,
    running nothing, when the archive fails verification."""
    from sim.output.manifest import load_manifest
    from sim.output.sweep_archive import is_sweep, reproduce_sweep
    from sim.output.verification import reproduce_archive as reproduce

    if is_sweep(load_manifest(folder)):  # a sweep's archive (issue 13)
        return reproduce_sweep(folder, workers=workers)
    return reproduce(folder, workers=workers)


def rebuild_report(folder: Path) -> str:
    """Verify an archive and rebuild its report.md and report.html (``sim report``); return the
    SHA-256 of the updated manifest. Raises InputError when the archive fails verification (a
    missing or altered report aside)."""
    from sim.output.report import rebuild_report as rebuild

    return rebuild(folder)


def calibrate_scenario(
    config: str | Path,
    targets: list[str],
    free: list[str],
    overrides: Mapping[str, Any] | None = None,
    *,
    out: Path | None = None,
    force: bool = False,
    acknowledge_undocumented: bool = False,
    tolerance: float = 0.01,
    max_evaluations: int = 200,
    workers: int = 1,
    command: str = "",
    on_evaluation: Callable[[int, list[float], list[float]], None] | None = None,
) -> dict[str, Any]:
    """Fit free parameters of a scenario to published figures and write the calibrated scenario
    and its table (``sim calibrate``; docs/calibration.md).

    Parameters
    ----------
    config : path
        The scenario file.
    targets : list of str
        ``NAME=VALUE``: a path into ``sim run --json`` and the published value.
    free : list of str
        ``PATH`` or ``PATH=LOW:HIGH``: a documented parameter of the scenario and its bounds
        (the parameter's own when omitted).
    overrides : mapping, optional
        ``study`` settings (``seed``, ``replications``, ``defendants``, ``block_size``).
    out : path, optional
        The calibrated scenario (default: ``<config stem>-calibrated.yaml`` beside ``config``);
        the table goes beside it with the suffix ``.csv``.
    force : bool
        Replace existing output files.
    acknowledge_undocumented : bool
        Allow targets that are not the documented calibration target; they are marked so.
    tolerance : float
        A residual at most this, in the target's units, is a hit.
    max_evaluations : int
        Simulations allowed.
    workers : int
    command : str
        The command line, recorded in the file's header.
    on_evaluation : callable, optional
        ``on_evaluation(k, values, figures)`` after each simulation.

    Returns
    -------
    dict
        ``scenario``, ``calibrated`` and ``table`` (the files written), ``method``,
        ``converged``, ``message``, ``evaluations``, ``undocumented_targets``,
        ``fitted_validation_figures`` (targets the scenario also lists under ``validation:``)
        and ``rows`` (the calibration table).

    Raises
    ------
    InputError
        Every problem with the arguments at once, before any fit; nothing is written.
    sim.analysis.calibration.CalibrationError
        The fit did not reach the targets; nothing is written.
    """
    from sim.analysis.calibration import calibrate, prepare
    from sim.output.calibration import check_outputs, write_calibration

    config = Path(config)
    out = Path(out) if out is not None else config.with_name(f"{config.stem}-calibrated.yaml")
    output_problems = check_outputs(out, force)
    try:
        prepared = prepare(
            config,
            targets,
            free,
            overrides,
            acknowledge_undocumented=acknowledge_undocumented,
            tolerance=tolerance,
        )
    except InputError as error:
        if output_problems and error.problems:
            raise InputError("bad calibration", problems=error.problems + output_problems) from None
        raise
    if output_problems:
        raise InputError("bad calibration", problems=output_problems)
    calibration = calibrate(
        prepared,
        tolerance=tolerance,
        max_evaluations=max_evaluations,
        workers=workers,
        on_evaluation=on_evaluation,
    )
    calibrated, table = write_calibration(calibration, prepared, out, force=force, command=command)
    return calibration_summary(calibration) | {
        "calibrated": str(calibrated),
        "table": str(table),
        "fitted_validation_figures": prepared.validation_targets,
    }


def calibration_summary(calibration: Any) -> dict[str, Any]:
    """A calibration as a JSON-ready mapping (also for a failed fit's report)."""
    return {
        "method": calibration.method,
        "converged": calibration.converged,
        "message": calibration.message,
        "evaluations": calibration.evaluations,
        "tolerance": calibration.tolerance,
        "seed": calibration.seed,
        "defendants": calibration.defendants,
        "replications": calibration.replications,
        "undocumented_targets": [t.name for t in calibration.targets if not t.documented],
        "rows": calibration.rows(),
    }


def attribute_gap(
    config: str | Path | None,
    district_from: str | None,
    district_to: str | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    measure: str = "both_prosecuted",
    split_offers: bool = False,
    workers: int = 1,
    out: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Attribute the paired gap between two districts to the levers of their policies by Shapley
    values over every subset of levers (``sim attribute``; docs/attribution.md).

    Parameters
    ----------
    config : path or None
        The scenario file; the built-in default when None.
    district_from, district_to : str
        The districts A and B (the gap is A − B).
    overrides : mapping, optional
        ``study`` settings (``seed``, ``replications``, ``defendants``, ``block_size``).
    measure : str
        The measure the top level reports (:data:`sim.analysis.attribution.MEASURES`); both
        are computed and listed under ``measures``.
    split_offers : bool
        Split each offer position both districts have into the groups of its terms that differ
        (who gets it, charge bargain, sentence terms, early-disposition and acceptance levels).
    workers : int
    out : path, optional
        A new folder to write ``attribution.json``, ``levers.csv`` (one row per measure and
        lever) and the waterfall (``waterfall.png``, ``.svg``, ``.pdf``; not when the measure is
        undefined, e.g. no defendant both districts prosecute) into.
    progress : callable, optional
        ``progress(done, total)`` after each block, in defendants.

    Returns
    -------
    dict
        :func:`sim.analysis.attribution.attribution_summary`, with ``scenario``,
        ``wall_seconds`` and, with ``out``, ``out``.

    Raises
    ------
    InputError
        A bad scenario, an unknown district, the same district twice, an unknown measure, an
        ``out`` that exists, or tallies that would not fit: all before any work.
    """
    from sim.analysis.attribution import MEASURES, attribute, attribution_problems
    from sim.analysis.attribution import attribution_summary as summarise
    from sim.inputs import printable

    scenario, _ = load_scenario(config, overrides)
    problems = attribution_problems(scenario, district_from, district_to, split_offers=split_offers)
    if measure not in MEASURES:
        problems.append(("--measure", f"{measure!r}; allowed: {', '.join(MEASURES)}"))
    if out is not None and (out.exists() or out.is_symlink()):
        problems.append(("--out", f"{printable(out, 200)}: exists; allowed: a new folder"))
    elif out is not None and not out.absolute().parent.is_dir():
        problems.append(("--out", f"{printable(out, 200)}: its parent folder does not exist"))
    if problems:
        raise InputError("bad attribution", problems=problems)
    started = time.perf_counter()
    attribution = attribute(
        scenario,
        district_from,
        district_to,
        split_offers=split_offers,
        workers=workers,
        progress=progress,
    )
    summary = {"scenario": scenario.scenario, **summarise(attribution, measure)}
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    if out is not None:
        _write_attribution(summary, out)
        summary["out"] = str(out)
    return summary


#: The waterfall's x label per measure.
_WATERFALL_LABELS = {
    "both_prosecuted": "mean sentence (months),\ndefendants both districts prosecute",
    "all_defendants": "mean sentence (months),\nevery defendant, declined = 0",
}


def _write_attribution(summary: Mapping[str, Any], out: Path) -> None:
    """``attribution.json``, ``levers.csv`` and the waterfall into the new folder ``out``."""
    import json

    import pandas as pd

    from sim.output.figures.attribution import waterfall
    from sim.output.figures.render import _save
    from sim.output.figures.style import _style

    out.mkdir()
    shown = {k: v for k, v in summary.items() if k != "wall_seconds"}
    (out / "attribution.json").write_text(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    rows = [
        {
            "measure": name,
            "lever": lever,
            **{k: v for k, v in figures.items() if k != "ci95_months"},
        }
        for name, measured in summary["measures"].items()
        for lever, figures in measured["levers"].items()
    ]
    pd.DataFrame(rows).to_csv(out / "levers.csv", index=False)
    table = pd.DataFrame(
        [
            {"lever": name, "shapley_months": v["shapley_months"], "mcse_months": v["mcse_months"]}
            for name, v in summary["levers"].items()
        ]
    ).astype({"mcse_months": float})
    if summary["mean_from_months"] is None or summary["mean_to_months"] is None:
        return  # the measure is undefined (no defendant both prosecute): nothing to chart
    identity = (
        f"sim attribute {summary['scenario']} {summary['from']} -> {summary['to']} "
        f"({summary['measure']}), seed {summary['seed']}"
    )
    with _style():
        axes = waterfall(
            table,
            summary["mean_from_months"],
            summary["mean_to_months"],
            summary["from"],
            summary["to"],
            xlabel=_WATERFALL_LABELS[summary["measure"]],
        )
        _save(axes.get_figure(root=True), out, "waterfall", identity, 300)


def compare(
    a: str | Path,
    b: str | Path,
    *,
    defendants: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    rerun: bool = False,
    out: Path | None = None,
    write: bool = True,
    results_root: Path = Path("results"),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Two runs side by side (``sim compare``): every headline figure of A and B, the
    difference B − A and its Monte Carlo standard error (docs/compare.md).

    ``a`` and ``b`` are two archive folders (each verified first, as ``sim reproduce`` does) or
    two scenario files. Scenario files are both run with the same seed, defendants and
    replications (those given, else A's), so they are paired by common random numbers and every
    difference's MCSE is paired: the standard deviation of the per-replication differences over
    √R. Archives of the same seed, size and districts are paired too, but an archive keeps
    per-replication values only for district mean months and the pairwise gaps over every
    defendant; with ``rerun`` both verified configs are run again (as ``sim reproduce`` does),
    checked to give the archived figures, and every MCSE is paired. Unpaired runs use
    √(MCSE_A² + MCSE_B²). Each figure's ``method`` says which.

    Parameters
    ----------
    a, b : path
        Two archive folders or two scenario files.
    defendants, replications, seed : int, optional
        Study settings for both scenario files (not allowed with archives).
    workers : int
    rerun : bool
        Archives only: re-run both to pair every figure.
    out : pathlib.Path, optional
        The comparison folder (new); default under ``results_root``.
    write : bool
        Write the comparison folder (table, figure, report, manifest).
    results_root : pathlib.Path
    progress : callable, optional
        ``progress(done, total)`` while scenario files run, in defendants.

    Returns
    -------
    dict
        ``{a, b, paired, pairing, figures: {PATH: {label, unit, a, a_mcse, b, b_mcse,
        difference, mcse, method}}, only_in_a, only_in_b}``, and ``out`` (the folder) when
        written.

    Raises
    ------
    InputError
        Every problem at once, before anything runs or is written: an input that is neither an
        archive folder nor a scenario file, an archive that fails verification, an archive and a
        scenario mixed, study settings given with archives, runs with different districts.
    """
    from sim.analysis.comparison import (
        compare_summaries,
        compatibility_problems,
        per_replication,
        replication_values,
    )
    from sim.inputs import shown_path

    paths = {"A": Path(a), "B": Path(b)}
    archives = {role: path.is_dir() for role, path in paths.items()}
    settings = {"defendants": defendants, "replications": replications, "seed": seed}
    problems: list[str] = []
    read: dict[str, Any] = {}
    for role, path in paths.items():
        if not path.exists():
            problems.append(f"{role} {shown_path(path)}: no such archive folder or scenario file")
        elif archives[role]:
            from sim.output.comparison import read_compared

            read[role], found = read_compared(path, role)
            problems += found
    if all(path.exists() for path in paths.values()) and archives["A"] != archives["B"]:
        kinds = {role: "an archive" if archives[role] else "a scenario file" for role in paths}
        problems.append(
            f"A {shown_path(paths['A'])} is {kinds['A']} and B {shown_path(paths['B'])} "
            f"{kinds['B']}: give two archives or two scenario files"
        )
    given = [f"--{name}" for name, value in settings.items() if value is not None]
    if given and any(archives.values()):
        problems.append(
            f"{', '.join(given)}: only with scenario files (an archive's settings are its own)"
        )
    if write and out is not None and (Path(out).exists() or Path(out).is_symlink()):
        # Checked before anything runs; write_comparison checks again when it writes.
        problems.append(f"--out: {shown_path(out)}: already exists; allowed: a new folder")
    if rerun and not any(archives.values()) and all(p.exists() for p in paths.values()):
        problems.append("--rerun: only with archives (scenario files are always run paired)")
    if problems:
        raise InputError("\n".join(problems))
    values: dict[str, dict[str, Any]] = {}
    summaries: dict[str, dict[str, Any]] = {}
    inputs: dict[str, Any] = {}
    if archives["A"]:
        for role, compared in read.items():
            summaries[role] = compared.summary
            inputs[role] = {
                "archive": str(paths[role]),
                "manifest_sha256": compared.manifest_sha256,
            }
        if incompatible := compatibility_problems(summaries["A"], summaries["B"]):
            raise InputError("\n".join(incompatible))
        for role, compared in read.items():
            if rerun:
                values[role] = _rerun_values(compared, role, workers, progress)
            elif compared.replications is not None:
                values[role] = replication_values(compared.replications, compared.summary)
    else:
        scenarios = {}
        for role, path in paths.items():
            try:
                overrides = settings
                if role == "B" and "A" in scenarios:
                    # B runs with A's study settings unless given: the same defendants and
                    # uniforms (common random numbers, sim/run/streams.py).
                    study = scenarios["A"].study
                    overrides = {
                        "defendants": defendants or study.defendants,
                        "replications": replications or study.replications,
                        "seed": study.seed if seed is None else seed,
                    }
                scenario = load_scenario(path, overrides)[0]
                check_fits(scenario)
                scenarios[role] = scenario
            except InputError as error:
                problems += [f"{role} {line}" for line in str(error).splitlines()]
        if not problems:
            # Different districts are refused before anything runs.
            problems = compatibility_problems(
                *({"districts": {key: {} for key in s.district_codes}} for s in scenarios.values())
            )
        if problems:
            raise InputError("\n".join(problems))
        studies = {}
        for role, scenario in scenarios.items():
            studies[role] = analyse(run_study(scenario, workers=workers, progress=progress))
            summaries[role] = dict(studies[role].summary)
            study = scenario.study
            inputs[role] = {
                "scenario_file": str(paths[role]),
                "scenario": scenario.scenario,
                "seed": study.seed,
                "defendants": study.defendants,
                "replications": study.replications,
            }
        if incompatible := compatibility_problems(summaries["A"], summaries["B"]):
            raise InputError("\n".join(incompatible))
        values = {role: per_replication(results) for role, results in studies.items()}
    comparison = compare_summaries(
        str(paths["A"]),
        summaries["A"],
        str(paths["B"]),
        summaries["B"],
        values.get("A"),
        values.get("B"),
    )
    result = comparison.to_json()
    if write:
        from sim.output.comparison import write_comparison

        result["out"] = str(write_comparison(comparison, out, results_root, inputs))
    return result


def _rerun_values(compared: Any, role: str, workers: int, progress: Progress | None) -> dict:
    """Per-replication values of every headline figure of a verified archive, by running its
    config again; refused unless the re-run gives the archived figures."""
    from sim.analysis.comparison import headline_paths, per_replication
    from sim.analysis.summary import figure_index
    from sim.inputs import shown_path

    if compared.scenario is None:
        raise InputError(f"{role} {shown_path(compared.folder)}: no valid config to re-run")
    results = analyse(run_study(compared.scenario, workers=workers, progress=progress))
    archived, fresh = figure_index(compared.summary), figure_index(results.summary)
    paths = headline_paths(archived)
    differing = [path for path in paths if fresh.get(path) != archived[path]]
    if differing:
        raise InputError(
            f"{role} {shown_path(compared.folder)}: the re-run does not give the archived "
            f"figures ({', '.join(differing[:3])}{' …' if len(differing) > 3 else ''}); another "
            "sim version? compare without --rerun"
        )
    return per_replication(results, paths)

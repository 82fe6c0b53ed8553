"""What each command does, as one library call: run a scenario end to end (load, simulate,
summarise, archive), and the other commands' work.

These functions raise :class:`sim.inputs.InputError` for bad input and never print; progress is
reported through a callback.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sim.analysis.results import Results, analyse
from sim.analysis.validation import check_validation
from sim.inputs import InputError
from sim.model.scenario import DEFAULT_SCENARIO, Scenario, StudySettings, load_scenario
from sim.run.runner import check_fits, most_replications, run_study

__all__ = [
    "calculate_case",
    "calibrate_scenario",
    "calibration_summary",
    "rebuild_report",
    "reproduce_archive",
    "run_and_summarise",
    "run_to_target",
    "sentencing_table",
    "stale_staging",
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
    workers: int = 1,
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
    workers : int
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
    out: Path | None = None,
    progress: Progress | None = None,
    target_mcse: float | None = None,
    max_replications: int = 1000,
    archive: bool = True,
    results_root: Path = Path("results"),
    command: str = "",
    defendant_sample: int = 0,
    assumption_points: int = 0,
) -> dict[str, Any]:
    """Load a scenario (the default when ``config`` is None), run it and summarise it.

    With ``assumption_points`` N, each headline figure also gets ``assumption_p05`` and
    ``assumption_p95``: its 5th and 95th percentiles over an N-point Latin hypercube of every
    assumption that carries a range or alternatives (:func:`with_assumption_interval`).

    With ``target_mcse`` (months), replications are added until every headline figure's Monte
    Carlo standard error is at most that, or ``max_replications`` is reached; the summary's
    ``target`` entry says how many it took and whether the target was reached.

    Unless ``archive`` is false, the run is archived (:mod:`sim.output.archive`) in ``out`` or in a
    new folder under ``results_root``; the returned summary then names it under ``"archive"``.

    Raises
    ------
    InputError
        A bad scenario or target, or an ``out`` that cannot be a new archive folder (it exists,
        its name is invalid, it is inside another archive, its parent cannot be written): all
        found before the run, and nothing is written. Also when another run took ``out`` while
        this one ran (its archive is not kept).
    """
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
        started = time.perf_counter()
        if target_mcse is None:
            results = analyse(run_study(scenario, workers=workers, progress=progress))
            summary = dict(results.summary)
        else:
            results, target = run_to_target(
                scenario, target_mcse, max_replications, workers=workers, progress=progress
            )
            resolved = dict(resolved)
            resolved["study"] = {**resolved["study"], "replications": target["replications"]}
            summary = {**results.summary, "target": target}
        if assumption_points:
            summary = with_assumption_interval(
                summary, config, overrides, assumption_points, workers=workers
            )
        wall_seconds = round(time.perf_counter() - started, 3)
        printed = dict(summary)
        if slot is not None:
            folder = write_archive(
                results,
                resolved,
                slot,
                summary=summary,
                wall_seconds=wall_seconds,
                command=command,
                defendant_sample=defendant_sample,
            )
            printed["archive"] = str(folder)
    printed["wall_seconds"] = wall_seconds
    return printed


def with_assumption_interval(
    summary: Mapping[str, Any],
    config: str | Path | None,
    overrides: Mapping[str, Any] | None,
    points: int,
    workers: int = 1,
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
    out: Path | None = None,
    archive: bool = True,
    results_root: Path = Path("results"),
    progress: Progress | None = None,
    command: str = "",
) -> dict[str, Any]:
    """Run a sweep file (``sim sweep``; docs/sensitivity.md) and archive it.

    Returns
    -------
    dict
        ``{"points", "outputs": {OUTPUT: {min, p05, median, p95, max}}, "sobol": {OUTPUT:
        {PARAM: {S1, S1_ci95, ST, ST_ci95}}}}`` (what ``--json`` prints), and, apart from it,
        ``archive`` and ``wall_seconds`` under the key ``_run``.

    Raises
    ------
    InputError
        Every problem of the sweep file at once, before any work; or an ``out`` that cannot be
        a new archive folder.
    """
    from sim.analysis.sensitivity import load_sweep, run_sweep

    loaded = load_sweep(path, overrides)
    with contextlib.ExitStack() as stack:
        slot = None
        if archive:
            from sim.output.archive import reserve_archive

            slot = stack.enter_context(reserve_archive(out, results_root))
        started = time.perf_counter()
        result = run_sweep(loaded, workers=workers, progress=progress)
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

"""Command line: a thin Typer layer. Each command parses, calls one :mod:`sim.api` function, and
prints (through :mod:`sim.console` for the run summary).

Library code raises :class:`sim.inputs.InputError` for bad input; one decorator here turns it into
a message on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.inputs import InputError
from sim.run.backends import ClusterError

app = typer.Typer(
    name="sim",
    help="Monte Carlo study of sentencing disparity in 8 U.S.C. § 1326 cases, with a versioned "
    "U.S. Sentencing Guidelines engine (1995-2025 Manuals).\n\n"
    "Start with sim run (the default scenario, California in 1995), then open the report.html "
    "it names. sim COMMAND --help shows each command's options, defaults and examples.",
    epilog="Examples:\n\n"
    "  sim run\n\n"
    "  sim run configs/california-1995.yaml --defendants 20000 --out results/try\n\n"
    "  sim calc examples/banuelos-rodriguez.yaml\n\n"
    "  sim table --manual 1995 --format markdown\n\n"
    "  sim verify results/try && sim reproduce results/try",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INPUT_ERROR = 2

#: Library argument names and the options that set them.
_OPTIONS = {
    "out": "--out",
    "target_mcse": "--target-mcse",
    "max_replications": "--max-replications",
    "manual": "--manual",
    "format": "--format",
    "workers": "--workers",
    "seed": "--seed",
    "replications": "--replications",
    "defendants": "--defendants",
    "block_size": "--block-size",
    "tolerance": "--tolerance",
    "assumption_points": "--assumption-interval",
    "backend": "--backend",
    "scheduler": "--scheduler",
}
#: Library argument names whose command parameter is named otherwise.
_PARAMETERS = {"format": "output_format"}


def _input_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input: the message on stderr and exit code 2, never a traceback; an argument the
    library names is named as the option that set it, when it was set on the command line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as error:
            if error.problems:
                lines = [
                    f"{_OPTIONS[name]}: {detail}"
                    if name in _OPTIONS and kwargs.get(_PARAMETERS.get(name, name)) is not None
                    else f"{name}: {detail}"
                    for name, detail in error.problems
                ]
            else:
                lines = [str(error)]
            typer.echo("error: " + "\n".join(lines), err=True)
            raise typer.Exit(EXIT_INPUT_ERROR) from None
        except ClusterError as error:  # the cluster failed the run: nothing was archived
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper


class TableFormat(StrEnum):
    csv = "csv"
    markdown = "markdown"


@app.command(
    epilog="Example: sim calc examples/banuelos-rodriguez.yaml (case files: docs/case-file.md)"
)
@_input_errors
def calc(
    case_file: Annotated[Path, typer.Argument(help="Case file (YAML, or JSON by suffix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the worksheet as JSON.")] = False,
) -> None:
    """Compute one defendant's guideline range and print a PSR-style worksheet."""
    import sim
    from sim.api import calculate_case
    from sim.console import first_use_note

    first_use_note(sim.NUMBA_CACHE_DIR, ("guidelines",))
    worksheet = calculate_case(case_file)
    if as_json:
        typer.echo(json.dumps(worksheet, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(worksheet["lines"]))


@app.command(epilog="Example: sim table --manual 2018 --format markdown")
@_input_errors
def table(
    manual: Annotated[int, typer.Option(help="Manual edition: in force on Nov 1 of this year.")],
    output_format: Annotated[
        TableFormat, typer.Option("--format", help="csv or markdown.")
    ] = TableFormat.csv,
) -> None:
    """Print the Sentencing Table (months) of a Manual edition."""
    from sim.api import sentencing_table

    typer.echo(sentencing_table(manual, output_format.value), nl=False)


#: What an override left out means: the scenario's own study setting.
_FROM_SCENARIO = "the scenario's study: setting"

_Defendants = Annotated[
    int | None,
    typer.Option(
        "--defendants",
        help="Synthetic defendants per replication, each sentenced in every district "
        "(the default scenario: 50,000).",
        min=1,
        show_default=_FROM_SCENARIO,
    ),
]
_Replications = Annotated[
    int | None,
    typer.Option(
        "--replications",
        help="Independent replications; the ± figures are their Monte Carlo standard error "
        "(the default scenario: 20).",
        min=1,
        show_default=_FROM_SCENARIO,
    ),
]
_Seed = Annotated[
    int | None,
    typer.Option(
        "--seed",
        help="Root seed: the same config and seed give byte-identical tables.",
        min=0,
        show_default=_FROM_SCENARIO,
    ),
]


class Backend(StrEnum):
    local = "local"
    dask = "dask"


_Backend = Annotated[
    Backend,
    typer.Option(
        "--backend",
        help="Where the simulation runs: local (--workers processes of this machine) or dask "
        "(the --scheduler's cluster, or a LocalCluster of --workers processes; "
        "docs/cluster.md). The figures are identical on either.",
    ),
]
_Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="With --backend dask: the address of a running dask.distributed scheduler "
        "(tcp://host:8786); its workers run the pieces.",
        show_default="none: start a LocalCluster of --workers processes",
    ),
]
_SchedulerTimeout = Annotated[
    int,
    typer.Option("--scheduler-timeout", help="Seconds to try to reach --scheduler.", min=1),
]
_Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        help="Worker processes (with --backend dask and no --scheduler, the LocalCluster's "
        "size); the figures are identical whatever the number.",
        min=1,
    ),
]

_BlockSize = Annotated[
    int | None,
    typer.Option(
        "--block-size",
        help="Defendants per processing block (memory, not results: every figure is the same "
        "whatever the block size).",
        min=1,
        show_default=_FROM_SCENARIO,
    ),
]


@app.command(epilog="Example: sim validate configs/california-1995.yaml")
@_input_errors
def validate(
    config: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
) -> None:
    """Check a scenario file (with everything it extends) without running it."""
    from sim.api import validate_scenario

    scenario = validate_scenario(config)
    typer.echo(
        f"{config}: valid scenario {scenario.scenario!r}: {len(scenario.districts)} districts "
        f"({', '.join(scenario.district_codes)}), {scenario.manual} Manual, "
        f"{scenario.study.replications} x {scenario.study.defendants:,} defendants"
    )


_RUN_HELP = (
    "Run a Monte Carlo study: every defendant through every district's policy.\n\n"
    "Prints the headline gap, then tables per district, paired gaps, variance shares, the "
    "as-arrested split, inequality and the named profiles (± is the Monte Carlo standard "
    "error), and archives everything. The first run of a new version of sim compiles the "
    "simulation kernels (a minute or two, once)."
)
_RUN_EXAMPLES = (
    "Examples:\n\n"
    "  sim run\n\n"
    "  (the default scenario, configs/california-1995.yaml: 20 x 50,000 defendants)\n\n"
    "  sim run configs/california-1995.yaml --defendants 20000 --seed 7\n\n"
    "  sim run configs/california-1995-dissent.yaml --target-mcse 0.2 --workers 2\n\n"
    "  sim run --json > summary.json\n\n"
    "  sim run configs/national-fy2013.yaml --backend dask --scheduler tcp://head:8786\n\n"
    "  (on a running Dask cluster: docs/cluster.md)\n\n"
    "Every run is archived (tables as Parquet and CSV, figures, report.html, manifest.json); "
    "the last line printed names its report.html."
)


@app.command(help=_RUN_HELP, epilog=_RUN_EXAMPLES)
@_input_errors
def run(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario file (YAML; see configs/ and docs/scenarios.md).",
            show_default="the built-in default, configs/california-1995.yaml",
        ),
    ] = None,
    defendants: _Defendants = None,
    replications: _Replications = None,
    seed: _Seed = None,
    workers: _Workers = 1,
    backend: _Backend = Backend.local,
    scheduler: _Scheduler = None,
    scheduler_timeout: _SchedulerTimeout = 10,
    block_size: _BlockSize = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Archive the run in this new folder (it must not exist).",
            show_default="results/<scenario>-<UTC time>-<config hash>",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")
    ] = False,
    target_mcse: Annotated[
        float | None,
        typer.Option(
            "--target-mcse",
            help="Add replications until every headline figure's Monte Carlo standard error "
            "is at most this many months.",
            show_default="off: the scenario's replications",
        ),
    ] = None,
    max_replications: Annotated[
        int, typer.Option("--max-replications", help="Cap for --target-mcse.", min=2)
    ] = 1000,
    sample: Annotated[
        int,
        typer.Option(
            "--defendant-sample",
            help="Also archive the first N defendants of replication 0 (0: none).",
            min=0,
        ),
    ] = 0,
    assumption_interval: Annotated[
        int,
        typer.Option(
            "--assumption-interval",
            help="Also give each headline figure its 5th-95th percentile over an N-point Latin "
            "hypercube of the scenario's ranged assumptions and alternatives (common random "
            "numbers; docs/sensitivity.md).",
            min=0,
        ),
    ] = 0,
) -> None:
    """Run a Monte Carlo study: every defendant through every district's policy (help text:
    :data:`_RUN_HELP`)."""
    started = time.perf_counter()
    import sim
    from sim.api import run_and_summarise
    from sim.console import first_use_note, print_summary

    overrides = {
        "defendants": defendants,
        "replications": replications,
        "seed": seed,
        "block_size": block_size,
    }
    if not as_json:  # --json prints the JSON alone
        first_use_note(sim.NUMBA_CACHE_DIR)
    with _progress(backend, scheduler, scheduler_timeout, as_json) as (progress, cluster):
        summary = run_and_summarise(
            config,
            overrides,
            workers=workers,
            backend=backend.value,
            cluster=cluster,
            out=out,
            progress=progress,
            target_mcse=target_mcse,
            max_replications=max_replications,
            command=" ".join(["sim", *sys.argv[1:]]),
            defendant_sample=sample,
            started=started,
            assumption_points=assumption_interval,
        )
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_summary(summary)
        if assumption_interval:
            from sim.console import print_assumption_interval

            print_assumption_interval(summary)
        archive = Path(summary["archive"])
        typer.echo(f"results: {archive}")
        typer.echo(f"report: {archive / 'report.html'}")


@contextlib.contextmanager
def _progress(
    backend: Backend, scheduler: str | None, timeout: int, quiet: bool
) -> Iterator[tuple[Callable[[int, int], None], Any]]:
    """A command's ``progress`` callback and its Dask options: a bar of defendants for a local
    run (not with ``quiet``: --json), of pieces for a Dask run, whose first line (stderr) names
    the scheduler, its workers and the dashboard."""
    from sim.console import piece_progress, progress_bar
    from sim.run.backends import ClusterOptions

    def ready(line: str) -> None:
        typer.echo(line, err=True)

    with (
        progress_bar(enabled=not quiet and backend == Backend.local) as progress,
        piece_progress() as on_piece,
    ):
        yield progress, ClusterOptions(scheduler, timeout, on_ready=ready, on_piece=on_piece)


@app.command()
@_input_errors
def calibrate(
    config: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    target: Annotated[
        list[str],
        typer.Option(
            "--target",
            help="NAME=VALUE: a figure of sim run --json (e.g. overall.mean_months) and the "
            "published value to hit. Repeatable.",
        ),
    ],
    free: Annotated[
        list[str],
        typer.Option(
            "--free",
            help="PATH[=LOW:HIGH]: a documented parameter to fit (e.g. districts.CAS.offers[0]."
            "offer_probability), within LOW:HIGH or its own bounds. Repeatable.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The calibrated scenario (default: CONFIG's stem + -calibrated.yaml beside "
            "it); the table is written beside it as .csv.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files.")] = False,
    allow_undocumented: Annotated[
        bool,
        typer.Option(
            "--allow-undocumented-target",
            help="Fit to a figure that is not the documented calibration target (FY2013 mean "
            "sentence, 18 months); the fit is marked undocumented everywhere.",
        ),
    ] = False,
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", help="A residual at most this (target units) is a hit."),
    ] = 0.01,
    max_evaluations: Annotated[
        int, typer.Option("--max-evaluations", help="Simulations allowed.", min=2)
    ] = 200,
    defendants: _Defendants = None,
    replications: _Replications = None,
    seed: _Seed = None,
    block_size: _BlockSize = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Fit free scenario parameters to published figures (common random numbers, scipy) and
    write the calibrated scenario (extends CONFIG) and its calibration table.

    Only the FY2013 mean sentence of § 2L1.2 offenders (overall.mean_months=18, USSC 2015) is a
    documented target; any other needs --allow-undocumented-target. Exit 0 when fitted, 1 when
    the fit failed (nothing written), 2 for bad input (nothing run).
    """
    from sim.analysis.calibration import CalibrationError
    from sim.api import calibrate_scenario, calibration_summary
    from sim.console import print_calibration, print_evaluation, print_undocumented

    overrides = {
        "defendants": defendants,
        "replications": replications,
        "seed": seed,
        "block_size": block_size,
    }
    try:
        result = calibrate_scenario(
            config,
            target,
            free,
            overrides,
            out=out,
            force=force,
            acknowledge_undocumented=allow_undocumented,
            tolerance=tolerance,
            max_evaluations=max_evaluations,
            workers=workers,
            command=" ".join(["sim", *sys.argv[1:]]),
            on_evaluation=None if as_json else print_evaluation,
        )
    except CalibrationError as failure:
        summary = calibration_summary(failure.calibration)
        if as_json:
            typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        else:
            print_calibration(summary)
        typer.echo(f"error: calibration failed: {failure}; nothing was written", err=True)
        raise typer.Exit(1) from None
    print_undocumented(result)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_calibration(result)
        typer.echo(f"calibrated scenario: {result['calibrated']}")
        typer.echo(f"calibration table: {result['table']}")


@app.command()
@_input_errors
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (YAML; docs/sensitivity.md).")],
    defendants: _Defendants = None,
    replications: _Replications = None,
    seed: _Seed = None,
    workers: _Workers = 1,
    backend: _Backend = Backend.local,
    scheduler: _Scheduler = None,
    scheduler_timeout: _SchedulerTimeout = 10,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the sweep's archive to this new folder.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print points, output spreads and Sobol' indices.")
    ] = False,
) -> None:
    """Vary a scenario's assumptions over their ranges (common random numbers) and report
    each output's spread and Sobol' indices (SALib)."""
    from sim.api import sweep as run_sweep
    from sim.console import print_sweep

    overrides = {"defendants": defendants, "replications": replications, "seed": seed}
    with _progress(backend, scheduler, scheduler_timeout, as_json) as (progress, cluster):
        summary = run_sweep(
            sweep_file,
            overrides,
            workers=workers,
            backend=backend.value,
            cluster=cluster,
            out=out,
            progress=progress,
            command=" ".join(["sim", *sys.argv[1:]]),
        )
    run = summary.pop("_run")
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_sweep(summary, run)
        typer.echo(f"results: {run['archive']}")


_Archive = Annotated[Path, typer.Argument(help="An archive folder written by sim run.")]


class Measure(StrEnum):
    both_prosecuted = "both_prosecuted"
    all_defendants = "all_defendants"


@app.command()
@_input_errors
def attribute(
    config: Annotated[
        Path | None, typer.Argument(help="Scenario file; the built-in default when omitted.")
    ] = None,
    district_from: Annotated[
        str | None, typer.Option("--from", help="District A: the gap is A − B.")
    ] = None,
    district_to: Annotated[str | None, typer.Option("--to", help="District B.")] = None,
    measure: Annotated[
        Measure,
        typer.Option(
            "--measure",
            help="both_prosecuted: among defendants both prosecute (the headline's); "
            "all_defendants: every defendant, declined = 0 months. Both are in --json.",
        ),
    ] = Measure.both_prosecuted,
    split_offers: Annotated[
        bool,
        typer.Option(
            "--split-offers",
            help="Split each offer position both districts have into the groups of its terms "
            "that differ (who gets it, charge bargain, sentence terms, early-disposition and "
            "acceptance levels) instead of one lever per offer position.",
        ),
    ] = False,
    defendants: _Defendants = None,
    replications: _Replications = None,
    seed: _Seed = None,
    block_size: _BlockSize = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write attribution.json, levers.csv and the waterfall to this new folder."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Attribute the paired gap between two districts to the levers of their policies.

    Every subset of levers (prosecution rule, declination, each offer, plea behaviour, judge)
    switched from A's policy to B's is a synthetic district of one study (common random
    numbers); the levers' Shapley values sum to the gap exactly. Exit 2 for bad input.
    """
    from sim.api import attribute_gap
    from sim.console import print_attribution, progress_bar

    overrides = {
        "defendants": defendants,
        "replications": replications,
        "seed": seed,
        "block_size": block_size,
    }
    with progress_bar(enabled=not as_json) as progress:
        summary = attribute_gap(
            config,
            district_from,
            district_to,
            overrides,
            measure=measure.value,
            split_offers=split_offers,
            workers=workers,
            out=out,
            progress=progress,
        )
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_attribution(summary)
        if "out" in summary:
            typer.echo(f"results: {summary['out']}")


_Archive = Annotated[Path, typer.Argument(help="An archive folder written by sim run.")]


@app.command(epilog="Example: sim verify results/try")
@_input_errors
def verify(folder: _Archive) -> None:
    """Check an archive as a closed world and print its manifest's SHA-256.

    Every file must be a regular file listed in manifest.json with a matching SHA-256, and
    nothing else may be there (no links, FIFOs, unlisted files, second manifest, unsafe manifest
    paths, extends: in the config). Exit 0 when intact, 1 naming each problem, 2 when there is no
    usable manifest. A forgery that changes files and manifest together is caught only by
    comparing the manifest SHA-256 with one recorded elsewhere (docs/archives.md).
    """
    from sim.api import stale_staging, verify_archive
    from sim.inputs import printable

    shown = printable(folder, 500)
    problems, digest = verify_archive(folder)
    typer.echo(f"{shown}: manifest sha256 {digest}")
    for stale in stale_staging(folder):
        typer.echo(
            f"note: {printable(stale, 500)}: left by a killed run (its process is gone); the next "
            "sim run in that folder removes it",
            err=True,
        )
    if problems:
        for problem in problems:
            typer.echo(f"{shown}: {problem}", err=True)
        typer.echo(f"{shown}: not intact: {len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{shown}: intact: every file matches the manifest (a forgery of files and manifest "
        "together is caught only by comparing the manifest sha256 with one recorded elsewhere)"
    )


@app.command(epilog="Example: sim reproduce results/try --workers 2")
@_input_errors
def reproduce(
    folder: _Archive,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
) -> None:
    """Verify an archive, then re-run it from its config and seed and compare every table.

    Fresh tables are written to memory and compared byte for byte with the archive's. Exit 0 when
    every table is identical, 1 naming each table that differs, 2 when the archive is refused
    because it fails sim verify (nothing is run) or has no usable manifest.
    """
    import sim
    from sim.api import reproduce_archive
    from sim.console import first_use_note
    from sim.inputs import printable

    shown = printable(folder, 500)
    first_use_note(sim.NUMBA_CACHE_DIR)
    differences, digest = reproduce_archive(folder, workers=workers)
    typer.echo(f"{shown}: manifest sha256 {digest}")
    if differences:
        for difference in differences:
            typer.echo(f"{shown}: {difference}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{shown}: every table reproduced byte for byte")


@app.command(epilog="Example: sim report results/try")
@_input_errors
def report(folder: _Archive) -> None:
    """Verify an archive, then rebuild its report.md and report.html without re-running.

    The report is built from the verified tables, config and figures, written atomically (never
    through a link) and re-hashed in manifest.json, whose new SHA-256 is printed. A missing or
    altered report is what it replaces; any other problem sim verify finds refuses the archive.
    Exit 0, or 2 when the archive is refused (nothing is written) or has no usable manifest.
    """
    from sim.api import rebuild_report
    from sim.inputs import printable

    shown = printable(folder, 500)
    digest = rebuild_report(folder)
    typer.echo(f"{shown}: report.md and report.html rebuilt; new manifest sha256 {digest}")


@app.command()
@_input_errors
def compare(
    a: Annotated[Path, typer.Argument(help="Run A: an archive folder or a scenario file.")],
    b: Annotated[Path, typer.Argument(help="Run B: the same kind as A.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the comparison to this new folder (default: results/)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    defendants: _Defendants = None,
    replications: _Replications = None,
    seed: _Seed = None,
    rerun: Annotated[
        bool,
        typer.Option(
            "--rerun",
            help="Archives: run both verified configs again to pair every figure's MCSE.",
        ),
    ] = False,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
) -> None:
    """Set two runs side by side: every headline figure of A and B, B − A and its MCSE.

    A and B are two archives (each verified first, as sim reproduce does) or two scenario files
    (both run with the same seed and size: A's unless --seed, --defendants, --replications are
    given, so they are paired by common random numbers). Paired runs get the MCSE of a
    difference from the per-replication differences, others sqrt(MCSE_A² + MCSE_B²). Writes a
    table (Parquet, CSV), a figure and a report to a new folder. Exit 2 for an input that is
    not an archive or scenario, fails verification, or has other districts than the other.

    Example: sim compare configs/california-1995.yaml configs/california-1995-dissent.yaml
    """
    from sim.api import compare as compare_runs
    from sim.console import print_comparison, progress_bar

    with progress_bar(enabled=not as_json) as progress:
        result = compare_runs(
            a,
            b,
            defendants=defendants,
            replications=replications,
            seed=seed,
            rerun=rerun,
            workers=workers,
            out=out,
            progress=progress,
        )
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_comparison(result)
        typer.echo(f"comparison: {result['out']}/report.html")


class Stopped(BaseException):
    """A stop signal received (SIGINT, SIGTERM, SIGHUP), raised where the program was so that
    every cleanup on the way out runs: a half-written archive is removed, worker processes are
    stopped, temporary files deleted."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, _frame: object) -> None:
    # Further stop signals are ignored from here on: the cleanup must not be cut short.
    for other in _STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Stopped(signum)


_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def main() -> None:
    """Console-script entry point: SIGINT, SIGTERM and SIGHUP all stop the program cleanly, with
    exit code 128 + the signal's number (130, 143, 129) and one line on stderr."""
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _raise_stopped)
    try:
        app(prog_name="sim")
    except Stopped as stop:
        name = signal.Signals(stop.signum).name
        sys.stderr.write(f"sim: stopped by {name}; nothing was left half-written\n")
        sys.exit(128 + stop.signum)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

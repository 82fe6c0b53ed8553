"""Command line: a thin Typer layer. Each command parses, calls one library function, prints.

Library code raises :class:`sim.inputs.InputError` for bad input; this module alone turns it into
a message on stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sim.inputs import InputError

app = typer.Typer(
    name="sim",
    help="Monte Carlo study of sentencing disparity in 8 U.S.C. § 1326 cases, with a versioned "
    "U.S. Sentencing Guidelines engine (1995-2025 Manuals).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INPUT_ERROR = 2


def _fail(error: InputError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(EXIT_INPUT_ERROR)


class TableFormat(StrEnum):
    csv = "csv"
    markdown = "markdown"


@app.command()
def calc(
    case_file: Annotated[Path, typer.Argument(help="Case file (YAML, or JSON by suffix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the worksheet as JSON.")] = False,
) -> None:
    """Compute one defendant's guideline range and print a PSR-style worksheet."""
    from sim.guidelines.casefile import load_case
    from sim.guidelines.worksheet import build_worksheet

    try:
        worksheet = build_worksheet(load_case(case_file))
    except InputError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(worksheet, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(worksheet["lines"]))


@app.command()
def table(
    manual: Annotated[int, typer.Option(help="Manual edition: in force on Nov 1 of this year.")],
    output_format: Annotated[
        TableFormat, typer.Option("--format", help="csv or markdown.")
    ] = TableFormat.csv,
) -> None:
    """Print the Sentencing Table (months) of a Manual edition."""
    from sim.guidelines.report import sentencing_table_text

    try:
        typer.echo(sentencing_table_text(manual, output_format.value), nl=False)
    except InputError as error:
        raise _fail(error) from None


_Defendants = Annotated[
    int | None, typer.Option("--defendants", help="Defendants per replication.", min=1)
]
_Replications = Annotated[int | None, typer.Option("--replications", help="Replications.", min=1)]
_Seed = Annotated[int | None, typer.Option("--seed", help="Root seed.", min=0)]
_BlockSize = Annotated[
    int | None, typer.Option("--block-size", help="Defendants per processing block.", min=1)
]


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
) -> None:
    """Check a scenario file (with everything it extends) without running it."""
    from sim.config import load_scenario

    try:
        scenario, _ = load_scenario(config)
    except InputError as error:
        raise _fail(error) from None
    typer.echo(
        f"{config}: valid scenario {scenario.scenario!r}: {len(scenario.districts)} districts "
        f"({', '.join(scenario.district_codes)}), {scenario.manual} Manual, "
        f"{scenario.study.replications} x {scenario.study.defendants:,} defendants"
    )


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Argument(help="Scenario file; the built-in default when omitted.")
    ] = None,
    defendants: _Defendants = None,
    replications: _Replications = None,
    seed: _Seed = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
    block_size: _BlockSize = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write results to this new folder.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    target_mcse: Annotated[
        float | None,
        typer.Option(
            "--target-mcse",
            help="Add replications until every headline figure's Monte Carlo standard error "
            "is at most this many months.",
        ),
    ] = None,
    max_replications: Annotated[
        int, typer.Option("--max-replications", help="Cap for --target-mcse.", min=2)
    ] = 1000,
    sample: Annotated[
        int,
        typer.Option(
            "--defendant-sample",
            help="Also archive the first N defendants of replication 0.",
            min=0,
        ),
    ] = 0,
) -> None:
    """Run a Monte Carlo study: every defendant through every district's policy."""
    from sim.study import run_and_summarise

    overrides = {
        "defendants": defendants,
        "replications": replications,
        "seed": seed,
        "block_size": block_size,
    }
    try:
        summary = run_and_summarise(
            config,
            overrides,
            workers=workers,
            out=out,
            progress=not as_json,
            target_mcse=target_mcse,
            max_replications=max_replications,
            command=" ".join(["sim", *sys.argv[1:]]),
            defendant_sample=sample,
        )
    except InputError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        from sim.study import print_summary

        print_summary(summary)
        typer.echo(f"results: {summary['archive']}")


_Archive = Annotated[Path, typer.Argument(help="An archive folder written by sim run.")]


@app.command()
def verify(folder: _Archive) -> None:
    """Re-hash every file of an archive: exit 0 when intact, 1 naming each problem."""
    from sim.archive import verify_archive

    try:
        problems = verify_archive(folder)
    except InputError as error:
        raise _fail(error) from None
    if problems:
        for problem in problems:
            typer.echo(f"{folder}: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: intact")


@app.command()
def reproduce(
    folder: _Archive,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.", min=1)] = 1,
) -> None:
    """Re-run an archive from its config and seed; exit 0 when every table is byte-identical."""
    from sim.archive import reproduce_archive

    try:
        differences = reproduce_archive(folder, workers=workers)
    except InputError as error:
        raise _fail(error) from None
    if differences:
        for difference in differences:
            typer.echo(f"{folder}: {difference}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: every table reproduced byte for byte")


@app.command()
def report(folder: _Archive) -> None:
    """Rebuild an archive's report.md and report.html from its files, without re-running."""
    from sim.report import rebuild_report

    try:
        rebuild_report(folder)
    except InputError as error:
        raise _fail(error) from None
    typer.echo(f"{folder}: report.md and report.html rebuilt")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="sim")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

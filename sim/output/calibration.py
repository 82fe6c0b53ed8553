"""Writing a calibration (``sim calibrate``): the calibrated scenario and its table.

The calibrated scenario is a YAML file that ``extends:`` the original (a path relative to the new
file) and overrides only the fitted parameters, each with a ``source`` saying what it was fitted
to, by what, at which study size, with which residual. The table is a CSV file beside it (same
name, ``.csv``). Both are written to temporary files in the same folder and then put in place:
no half-written file is ever left, and without ``force`` an existing file is never replaced.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.analysis.calibration import Calibration, Prepared, override_mapping
from sim.inputs import InputError, shown_path

__all__ = ["TABLE_COLUMNS", "calibrated_yaml", "check_outputs", "table_csv", "write_calibration"]

#: The calibration table's columns (CSV and ``--json``), in order.
TABLE_COLUMNS = (
    "kind",
    "name",
    "published",
    "documented",
    "source",
    "simulated",
    "residual",
    "mcse",
    "tolerance",
    "initial",
    "fitted",
    "low",
    "high",
    "unit",
    "method",
    "evaluations",
    "converged",
    "seed",
    "defendants",
    "replications",
)


def outputs(out: Path) -> tuple[Path, Path]:
    """The scenario file and the table beside it."""
    return out, out.with_suffix(".csv")


def check_outputs(out: Path, force: bool) -> list[tuple[str, str]]:
    """Problems with the output paths, found before any work: a suffix other than .yaml/.yml,
    a missing folder, or files that exist (without ``force``)."""
    problems = []
    shown = shown_path(out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        problems.append(("--out", f"{shown}: allowed: a .yaml or .yml file name"))
    if not out.parent.is_dir():
        problems.append(("--out", f"{shown}: its folder does not exist"))
    for path in outputs(out):
        if (path.exists() or path.is_symlink()) and not force:
            problems.append(
                ("--out", f"{shown_path(path)}: exists; allowed: a new file, or --force")
            )
        elif path.is_dir():
            problems.append(("--out", f"{shown_path(path)}: a folder; allowed: a file"))
    return problems


def _relative(config: Path, out: Path) -> str:
    return Path(os.path.relpath(Path(config).resolve(), out.parent.resolve())).as_posix()


def calibrated_yaml(
    calibration: Calibration, prepared: Prepared, out: Path, command: str = ""
) -> str:
    """The calibrated scenario's text: a header, ``extends:`` and the fitted parameters."""
    override = override_mapping(
        prepared.resolved,
        {
            parameter.path: {
                "value": float(value),
                "unit": parameter.unit,
                "source": calibration.fitted_source(index),
                # A fitted value stays an assumption: it reproduces a published figure given
                # every other assumption of the scenario; it does not measure the parameter.
                "assumption": True,
            }
            for index, (parameter, value) in enumerate(
                zip(calibration.parameters, calibration.fitted, strict=True)
            )
        },
    )
    lines = [
        f"# Calibrated by sim calibrate from {_relative(prepared.config, out)}: only the fitted",
        "# parameters are set here; everything else comes from the file it extends (a list on",
        "# the way to a fitted value is written whole, because extends: replaces lists).",
        f"# Study: seed {calibration.seed}, {calibration.defendants} defendants x "
        f"{calibration.replications} replications (run it with these to reproduce the fit).",
    ]
    if command:
        lines.append(f"# Command: {' '.join(command.split())[:300]}")
    for target, simulated, residual in zip(
        calibration.targets, calibration.simulated, calibration.residuals, strict=True
    ):
        flag = "" if target.documented else " [NOT a documented calibration target]"
        lines.append(
            f"# Target {target.name} = {target.value:g}{flag}: simulated {simulated:.6g}, "
            f"residual {residual:.4g}"
        )
    for name in prepared.validation_targets:
        lines.append(
            f"# {name} is also listed under validation: fitted to it, it reproduces it by "
            "construction and no longer tests the model."
        )
    lines.append(f"# Table: {outputs(out)[1].name}; docs/calibration.md")
    body = yaml.safe_dump(
        {"extends": _relative(prepared.config, out), **override},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return "\n".join(lines) + "\n" + body


def table_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The calibration table as CSV text (empty cells where a column does not apply)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in TABLE_COLUMNS})
    return buffer.getvalue()


def write_calibration(
    calibration: Calibration,
    prepared: Prepared,
    out: Path,
    *,
    force: bool = False,
    command: str = "",
) -> tuple[Path, Path]:
    """Write the calibrated scenario and its table; both or neither.

    Raises
    ------
    InputError
        A file exists (without ``force``) or cannot be written; nothing is left behind.
    """
    texts = (calibrated_yaml(calibration, prepared, out, command), table_csv(calibration.rows()))
    temporaries: list[Path] = []
    placed: list[Path] = []
    try:
        for text in texts:
            handle, name = tempfile.mkstemp(prefix=".calibrate-", dir=out.parent)
            temporaries.append(Path(name))
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
        for temporary, path in zip(temporaries, outputs(out), strict=True):
            if force:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)  # fails if the file appeared meanwhile: no clobbering
            placed.append(path)
    except OSError as error:
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise InputError(
            f"{shown_path(out)}: cannot be written: {error.strerror or error}", field="out"
        ) from None
    finally:
        for temporary in temporaries:
            with contextlib.suppress(OSError):
                temporary.unlink()
    return outputs(out)

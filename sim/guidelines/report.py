"""Printable views of the Sentencing Table."""

from __future__ import annotations

from sim.guidelines.editions import FIRST_MANUAL, LAST_MANUAL
from sim.guidelines.table import CATEGORY_NAMES, table_rows
from sim.inputs import InputError

__all__ = ["sentencing_table_text"]


def sentencing_table_text(manual: int, output_format: str) -> str:
    """The Sentencing Table of the ``manual`` edition as CSV or Markdown text.

    CSV: header ``offense_level,I,II,III,IV,V,VI`` and cells such as ``70-87``, ``360-life``,
    ``life`` (USSG Ch. 5 Pt. A; identical 1995-2025, see :mod:`sim.guidelines.table`).

    >>> print(sentencing_table_text(1995, "csv").splitlines()[21])
    21,37-46,41-51,46-57,57-71,70-87,77-96
    """
    if not FIRST_MANUAL <= manual <= LAST_MANUAL:
        raise InputError(
            f"--manual: {manual}: no such edition is encoded; allowed: {FIRST_MANUAL}-{LAST_MANUAL}"
        )
    rows = table_rows()
    categories = list(CATEGORY_NAMES[1:])
    if output_format == "csv":
        lines = [",".join(["offense_level", *categories])]
        lines += [",".join([str(level), *cells]) for level, cells in rows]
    elif output_format == "markdown":
        lines = [
            f"Sentencing Table (months), Guidelines Manual in force on November 1, {manual} "
            "(USSG Ch. 5 Pt. A)",
            "",
            "| Offense level | " + " | ".join(categories) + " |",
            "|---:|" + "---:|" * len(categories),
        ]
        lines += [f"| {level} | " + " | ".join(cells) + " |" for level, cells in rows]
    else:
        raise InputError(f"--format: {output_format!r}: allowed: csv, markdown")
    return "\n".join(lines) + "\n"

"""Reading the two archives ``sim compare`` sets side by side, and writing the comparison.

An archive is hostile input (docs/archives.md): :func:`read_compared` verifies it as a closed
world (:func:`sim.output.manifest.read_archive`) and uses only the verified bytes of its
``summary.json`` and ``tables/replications.parquet``. :func:`write_comparison` writes a new
folder::

    comparison.parquet, comparison.csv   one row per headline figure: A, B, B − A, MCSE, method
    comparison.png, comparison.svg       the differences with ±1.96 MCSE intervals
    report.md, report.html               a short report (HTML self-contained: figure embedded)
    manifest.json                        what was compared and the SHA-256 of every other file

Every file is deterministic: comparing the same runs again gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from sim.analysis.comparison import Comparison
from sim.inputs import InputError, parse_document, printable, shown_path
from sim.model.scenario import Scenario
from sim.output.figures.comparison import comparison_differences, comparison_values
from sim.output.figures.style import _style
from sim.output.manifest import MANIFEST, hash_files, read_archive

__all__ = ["Compared", "read_compared", "write_comparison"]

SUMMARY = "summary.json"
REPLICATIONS = "tables/replications.parquet"
_FIGURE = "comparison"
_VALUES = "values"
_MARKUP = re.compile(r"([\\`*\[\]|~_!])")
_UNITS = {"months": "months", "share": "shares (0 to 1)", "index": "indices"}


@dataclass(frozen=True)
class Compared:
    """One verified archive: its summary, its per-replication table (None when absent), its
    validated scenario and its manifest's SHA-256."""

    folder: Path
    summary: dict[str, Any]
    replications: pd.DataFrame | None
    scenario: Scenario | None
    manifest_sha256: str


def read_compared(folder: Path, role: str) -> tuple[Compared | None, list[str]]:
    """Verify an archive and read what a comparison uses.

    Parameters
    ----------
    folder : pathlib.Path
    role : str
        ``"A"`` or ``"B"``: how the problem lines name the archive.

    Returns
    -------
    tuple of (Compared or None, list of str)
        The archive (None when it cannot be used) and one line per problem (none: usable).
    """
    shown = f"{role} {shown_path(folder)}"
    if not Path(folder).is_dir():
        return None, [f"{shown}: not an archive folder (no such folder)"]
    try:
        archive = read_archive(folder, keep=lambda path: path in (SUMMARY, REPLICATIONS))
    except InputError as error:
        return None, [f"{shown}: not a usable archive: {printable(' '.join(str(error).split()))}"]
    if archive.problems:
        lines = [f"{shown}: fails verification: {problem}" for problem in archive.problems]
        return None, lines
    if SUMMARY not in archive.contents:
        return None, [f"{shown}: not a sim run archive: no {SUMMARY}"]
    try:
        summary = parse_document(archive.contents[SUMMARY], f"{folder}/{SUMMARY}", is_json=True)
    except InputError as error:
        return None, [f"{shown}: {SUMMARY}: {printable(' '.join(str(error).split()))}"]
    if not isinstance(summary, dict) or not isinstance(summary.get("districts"), dict):
        return None, [f"{shown}: {SUMMARY}: not a sim run summary (no districts)"]
    replications = None
    if REPLICATIONS in archive.contents:
        try:
            replications = pd.read_parquet(io.BytesIO(archive.contents[REPLICATIONS]))
        except Exception as error:  # pyarrow raises many kinds on bad bytes
            return None, [f"{shown}: {REPLICATIONS}: unreadable ({type(error).__name__})"]
        if problem := _replications_problem(replications, summary):
            return None, [f"{shown}: {REPLICATIONS}: {problem}"]
    return Compared(folder, summary, replications, archive.scenario, archive.manifest_sha256), []


def _replications_problem(frame: pd.DataFrame, summary: dict[str, Any]) -> str | None:
    """Why a per-replication table is not what ``sim run`` writes (None: it is)."""
    columns = ["replication", "metric", "district_a", "district_b", "value"]
    if list(frame.columns) != columns:
        return f"not a sim run table (columns {', '.join(map(str, frame.columns))})"
    if not pd.api.types.is_integer_dtype(frame["replication"]) or not (
        pd.api.types.is_float_dtype(frame["value"])
    ):
        return "not a sim run table (replication must be integers, value numbers)"
    count = summary.get("replications")
    if isinstance(count, bool) or not isinstance(count, int):
        return "summary.json gives no number of replications"
    if len(frame) and (frame["replication"].min() < 0 or frame["replication"].max() >= count):
        return f"replication numbers outside 0 to {count} − 1 (summary.json's replications)"
    return None


# --- writing ---------------------------------------------------------------------------------


def _new_folder(out: Path | None, results_root: Path, stem: str) -> Path:
    """The comparison's folder: ``out`` (which must not exist) or the first free
    ``<results_root>/<stem>[-k]``."""
    if out is not None:
        if os.path.lexists(out):
            raise InputError(f"{shown_path(out)}: already exists; allowed: a new folder", "out")
        return Path(out)
    candidate, k = results_root / stem, 2
    while os.path.lexists(candidate):
        candidate, k = results_root / f"{stem}-{k}", k + 1
    return candidate


def _number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _digits(unit: str) -> int:
    return 2 if unit == "months" else 4


def _rows(comparison: Comparison) -> list[list[str]]:
    """The report's table cells (plain text, escaped by the writer)."""
    rows = []
    for row in comparison.rows:
        d = _digits(row.unit)
        rows.append(
            [
                row.label,
                f"{_number(row.a, d)} ± {_number(row.a_mcse, d)}",
                f"{_number(row.b, d)} ± {_number(row.b_mcse, d)}",
                _number(row.difference, d),
                _number(row.mcse, d),
                row.method,
            ]
        )
    return rows


_HEADER = ["figure", "A ± MCSE", "B ± MCSE", "B − A", "MCSE of B − A", "MCSE method"]


def _lead(comparison: Comparison) -> str:
    """The report's first paragraph: the headline gap's difference in words."""
    head = next((r for r in comparison.rows if r.figure == "headline.gap_months"), None)
    if head is None or head.difference is None:
        return "The runs have no headline gap to compare."
    direction = "larger" if head.difference > 0 else "smaller"
    mcse = "" if head.mcse is None else f" (Monte Carlo standard error {head.mcse:.2f})"
    if head.difference == 0:
        return f"The {head.label} is the same in both runs: {_number(head.a, 2)} months."
    return (
        f"The {head.label} is {abs(head.difference):.2f} months {direction} in B than in A"
        f"{mcse}: {_number(head.a, 2)} months in A, {_number(head.b, 2)} in B."
    )


def _definitions(comparison: Comparison) -> list[str]:
    """What the headline gap is and which districts the codes name."""
    lines = []
    if comparison.definition:
        lines.append(f"The headline gap (A's definition): {comparison.definition}")
    if comparison.names:
        named = "; ".join(f"{code}: {name}" for code, name in comparison.names.items())
        lines.append(f"Districts: {named}.")
    return lines


def _method_note(comparison: Comparison) -> str:
    paired = sum(r.method == "paired" for r in comparison.rows)
    total = len(comparison.rows)
    how_paired = (
        "paired (the standard deviation of the per-replication differences over √R, valid "
        "because both runs draw the same defendants and uniforms)"
    )
    how_unpaired = "unpaired (√(MCSE_A² + MCSE_B²), as for independent runs)"
    if paired == total:
        note = f"The MCSE of every difference is {how_paired}"
    elif paired == 0:
        note = f"The MCSE of every difference is {how_unpaired}"
    else:
        note = (
            f"The MCSE of a difference is {how_paired} for {paired} of {total} figures, and "
            f"{how_unpaired} for the others"
        )
    if comparison.paired and paired < total:
        note += (
            " (an archive keeps per-replication values only for district mean months and the "
            "pairwise gaps over every defendant; compare the scenario files, or use --rerun, "
            "for paired MCSEs of every figure)"
        )
    return f"{comparison.pairing[0].upper()}{comparison.pairing[1:]}. {note}."


def _markdown(comparison: Comparison) -> str:
    def cell(text: str) -> str:
        # No raw HTML, and Markdown's markup characters shown as themselves (a forged name
        # cannot make a link or an image), as report.md does.
        return _MARKUP.sub(r"\\\1", html.escape(printable(text, None), quote=False))

    lines = [
        "# sim compare",
        "",
        f"- A: {cell(comparison.a)}",
        f"- B: {cell(comparison.b)}",
        "",
        cell(_lead(comparison)),
        "",
        *(line for text in _definitions(comparison) for line in (cell(text), "")),
        cell(_method_note(comparison)),
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "---|" * len(_HEADER),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in _rows(comparison)),
        "",
        f"![Differences B − A with ±1.96 MCSE intervals]({_FIGURE}.png)",
        "",
        f"![A and B side by side with ±1.96 MCSE intervals]({_VALUES}.png)",
        "",
    ]
    if comparison.only_in_a or comparison.only_in_b:
        only = ", ".join(comparison.only_in_a) or "none"
        lines += [
            f"Figures only in A: {cell(only)}; only in B: "
            f"{cell(', '.join(comparison.only_in_b) or 'none')}.",
            "",
        ]
    return "\n".join(lines)


def _html(comparison: Comparison, pngs: list[bytes]) -> str:
    def cell(text: str) -> str:
        return html.escape(printable(text, None), quote=True)

    head = "".join(f"<th>{cell(h)}</th>" for h in _HEADER)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in _rows(comparison)
    )
    difference, values = (base64.b64encode(png).decode("ascii") for png in pngs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sim compare</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.4}}table{{border-collapse:collapse;font-size:.9rem}}td,th{{border-bottom:1px solid
#ddd;padding:.2rem .5rem;text-align:right}}td:first-child,th:first-child{{text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>sim compare</h1>
<ul><li>A: {cell(comparison.a)}</li><li>B: {cell(comparison.b)}</li></ul>
<p>{cell(_lead(comparison))}</p>
{"".join(f"<p>{cell(text)}</p>" for text in _definitions(comparison))}
<p>{cell(_method_note(comparison))}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
<figure><img alt="Differences B − A with ±1.96 MCSE intervals"
src="data:image/png;base64,{difference}">
<figcaption>Each headline figure's difference B − A with a ±1.96 MCSE interval; circles: paired
MCSE, squares: unpaired.</figcaption></figure>
<figure><img alt="A and B side by side with ±1.96 MCSE intervals"
src="data:image/png;base64,{values}">
<figcaption>Each headline figure in A (circles) and B (squares), each with its own ±1.96 MCSE
interval.</figcaption></figure>
</body></html>
"""


def _draw(frame: pd.DataFrame, folder: Path, identity: str, name: str, draw: Any) -> bytes:
    """Draw one figure (one panel per unit), save PNG and SVG without dates, return the PNG."""
    shown = frame["difference"].notna() if name == _FIGURE else frame["unit"].notna()
    units = [u for u in _UNITS if ((frame["unit"] == u) & shown).any()]
    heights = [max(int(((frame["unit"] == u) & shown).sum()), 1) for u in units]
    with _style():
        figure, axes = plt.subplots(
            max(len(units), 1),
            1,
            figsize=(5.0, 1.0 + 0.2 * sum(heights) + 0.5 * len(units)),
            height_ratios=heights or [1],
            layout="constrained",
            squeeze=False,
        )
        for ax, unit in zip(axes[:, 0], units, strict=False):
            draw(frame, unit=unit, ax=ax, legend=False)
            prefix = "B − A" if name == _FIGURE else "A and B"
            ax.set_title(f"{prefix}: {_UNITS[unit]}", loc="left")
        handles = {}
        for ax in axes[:, 0]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, handle)
        if handles:
            figure.legend(
                list(handles.values()), list(handles), loc="outside upper center", ncols=2
            )
        title = f"{name}: {identity}"
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=200, metadata={"Title": title})
        figure.savefig(
            folder / f"{name}.svg", format="svg", metadata={"Date": None, "Title": title}
        )
        plt.close(figure)
    png = buffer.getvalue()
    (folder / f"{name}.png").write_bytes(png)
    return png


def write_comparison(
    comparison: Comparison,
    out: Path | None = None,
    results_root: Path = Path("results"),
    inputs: Mapping[str, Any] | None = None,
) -> Path:
    """Write a comparison's table, figure, report and manifest to a new folder.

    Parameters
    ----------
    comparison : Comparison
    out : pathlib.Path, optional
        The folder (must not exist); default: ``<results_root>/compare-<A>-vs-<B>`` (with
        ``-2``, ``-3`` … when taken).
    results_root : pathlib.Path
    inputs : mapping, optional
        What identifies the compared runs (manifest SHA-256s or scenario settings), recorded in
        the manifest.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    InputError
        ``out`` exists or cannot be written (field ``out``); nothing is left behind.
    """
    stem = "compare-" + "-vs-".join(
        "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).stem)[:60] or "run"
        for name in (comparison.a, comparison.b)
    )
    folder = _new_folder(out, Path(results_root), stem)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as error:
        raise InputError(
            f"{shown_path(folder)}: cannot be written ({error.strerror})", "out"
        ) from None
    try:
        frame = comparison.frame()
        frame.to_parquet(staging / "comparison.parquet", index=False, engine="pyarrow")
        frame.to_csv(staging / "comparison.csv", index=False, lineterminator="\n")
        identity = f"{comparison.a} vs {comparison.b}"
        pngs = [
            _draw(frame, staging, identity, _FIGURE, comparison_differences),
            _draw(frame, staging, identity, _VALUES, comparison_values),
        ]
        (staging / "report.md").write_text(_markdown(comparison), encoding="utf-8")
        (staging / "report.html").write_text(_html(comparison, pngs), encoding="utf-8")
        manifest = {
            "kind": "sim compare",
            "a": comparison.a,
            "b": comparison.b,
            "paired": comparison.paired,
            "pairing": comparison.pairing,
            "inputs": dict(inputs or {}),
            "files": hash_files(staging),
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        os.chmod(staging, 0o777 & ~_umask())
        if os.path.lexists(folder):  # taken while this one was written
            raise InputError(f"{shown_path(folder)}: already exists; allowed: a new folder", "out")
        try:
            os.rename(staging, folder)
        except OSError as error:
            message = f"{shown_path(folder)}: cannot be written ({error.strerror})"
            raise InputError(message, "out") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""A sweep's archive (``sim sweep --out DIR``), in the same closed world as a run's.

Files: ``config.resolved.yaml`` (the scenario, every alternative's options written inline, so
the archive needs no other file), ``sweep.yaml`` (the sweep file with ``scenario:`` pointing at
it), ``summary.json`` (what ``sim sweep --json`` prints), ``sweep.parquet`` (one row per point:
each factor's value and its place ``u:`` in [0, 1], each output and its ``:mcse``),
``sensitivity.parquet`` (per output and factor: S1 and ST with their bootstrap 95% intervals;
empty unless the design is ``sobol``), ``figures/`` (tornado, Sobol' bars and distribution of
each output), ``report.md``, ``report.html`` and ``manifest.json`` (``kind: sweep``). ``sim
verify`` checks it as any archive (:func:`sim.output.manifest.read_archive`); ``sim reproduce``
re-runs the sweep from the archived files and byte-compares both tables
(:func:`reproduce_sweep`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import SweepResult, run_sweep, sweep_from_archive
from sim.inputs import InputError, parse_document, printable, shown_path
from sim.output.archive import (
    ArchiveSlot,
    archive_identity,
    provenance,
    resolved_yaml,
)
from sim.output.manifest import CONFIG, MANIFEST, hash_files, read_archive, refusal
from sim.output.report import html_text, markdown_text
from sim.output.verification import Reproduction
from sim.run.streams import SEED_SCHEME

__all__ = ["SWEEP_TABLES", "is_sweep", "reproduce_sweep", "sweep_tables", "write_sweep_archive"]

#: The tables a sweep archive holds (byte-compared by ``sim reproduce``).
SWEEP_TABLES = ("sweep.parquet", "sensitivity.parquet")
_SPEC = "sweep.yaml"


def sweep_tables(result: SweepResult) -> dict[str, pd.DataFrame]:
    """``sweep`` (a row per point) and ``sensitivity`` (a row per output and factor)."""
    sweep = result.sweep
    columns: dict[str, Any] = {"point": np.arange(len(result.inputs), dtype=np.int64)}
    for i, factor in enumerate(sweep.factors):
        values = [row[i] for row in result.inputs]
        columns[factor.name] = (
            pd.array(values, dtype="string") if factor.discrete else np.array(values, dtype=float)
        )
        columns[f"u:{factor.name}"] = result.unit[:, i]
    for j, output in enumerate(sweep.outputs):
        columns[output] = result.estimates[:, j]
        columns[f"{output}:mcse"] = result.mcse[:, j]
    rows = []
    for output, by_parameter in result.sobol.items():
        for parameter, entry in by_parameter.items():
            s1, st = entry["S1_ci95"] or [None, None], entry["ST_ci95"] or [None, None]
            rows.append(
                {
                    "output": output,
                    "parameter": parameter,
                    "S1": entry["S1"],
                    "S1_low": s1[0],
                    "S1_high": s1[1],
                    "ST": entry["ST"],
                    "ST_low": st[0],
                    "ST_high": st[1],
                }
            )
    names = ["output", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    sensitivity = pd.DataFrame(rows, columns=names).astype(
        {n: "float64" for n in names[2:]} | {"output": "string", "parameter": "string"}
    )
    return {"sweep": pd.DataFrame(columns), "sensitivity": sensitivity}


def _table_bytes(tables: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    out = {}
    for name, frame in tables.items():
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, engine="pyarrow")
        out[f"{name}.parquet"] = buffer.getvalue()
    return out


def _spec(result: SweepResult) -> dict[str, Any]:
    """The sweep file as archived: its scenario is the archive's resolved config."""
    spec = {k: v for k, v in result.sweep.spec.items() if k != "scenario"}
    study = result.sweep.scenario.study
    spec["study"] = {
        "defendants": study.defendants,
        "replications": study.replications,
        "seed": study.seed,
        "block_size": study.block_size,
    }
    return {"scenario": CONFIG, **spec}


def _figures(
    result: SweepResult, tables: dict[str, pd.DataFrame], folder: Path, identity: str
) -> None:
    from matplotlib.figure import Figure

    from sim.output.figures.render import _save
    from sim.output.figures.sensitivity import output_distribution, sobol_bars, tornado
    from sim.output.figures.style import _style

    folder.mkdir()
    factors = [f.name for f in result.sweep.factors]
    points = tables["sweep"]
    for j, output in enumerate(result.sweep.outputs):
        slug = f"output{j + 1}"
        draws: list[tuple[str, Any]] = [
            (f"distribution-{slug}", lambda o=output: output_distribution(points, o)),
        ]
        if points[output].notna().any():
            draws.append(
                (f"tornado-{slug}", lambda o=output: tornado(points.dropna(subset=[o]), factors, o))
            )
        if result.sobol:
            draws.append((f"sobol-{slug}", lambda o=output: sobol_bars(tables["sensitivity"], o)))
        for name, draw in draws:
            with _style():
                figure: Figure = draw().get_figure(root=True)
                _save(figure, folder, name, identity, 150)


def _report(
    result: SweepResult, summary: dict[str, Any], manifest: dict[str, Any], folder: Path
) -> None:
    sweep = result.sweep
    md = [
        f"# Sweep: {markdown_text(manifest['title'])}",
        "",
        f"{summary['points']:,} points ({markdown_text(sweep.method)} design, base samples "
        f"{sweep.base_samples}), {manifest['defendants']:,} defendants × "
        f"{manifest['replications']} replications per point, seed {manifest['seed']}, common "
        "random numbers (every point the same defendants and uniforms).",
        "",
        "## Factors",
        "",
        "| factor | belief | as written | why this range |",
        "|---|---|---|---|",
    ]
    for f in sweep.factors:
        belief = (
            ", ".join(f.labels)
            if f.discrete
            else f"{f.belief.kind} [{f.belief.low:g}, {f.belief.high:g}]"  # type: ignore[union-attr]
        )
        md.append(
            f"| `{markdown_text(f.name)}` | {markdown_text(belief)} | {markdown_text(f.current)} "
            f"| {markdown_text(f.source)} |"
        )
    md += [
        "",
        "## Outputs over the sweep",
        "",
        "| output | min | p05 | median | p95 | max |",
        "|---|---|---|---|---|---|",
    ]
    for name, spread in summary["outputs"].items():
        cells = " | ".join(
            "–" if spread[k] is None else f"{spread[k]:.2f}"
            for k in ("min", "p05", "median", "p95", "max")
        )
        md.append(f"| `{markdown_text(name)}` | {cells} |")
    if summary["sobol"]:
        md += ["", "## Sobol' indices (SALib; bootstrap 95% intervals)", ""]
        for output, by_parameter in summary["sobol"].items():
            md += [f"### `{markdown_text(output)}`", "", "| factor | S1 | ST |", "|---|---|---|"]
            for parameter, e in sorted(by_parameter.items(), key=lambda kv: -(kv[1]["ST"] or 0)):

                def show(key: str, e: dict[str, Any] = e) -> str:
                    if e[key] is None:
                        return "–"
                    low, high = e[f"{key}_ci95"]
                    return f"{e[key]:.3f} [{low:.3f}, {high:.3f}]"

                md.append(f"| `{markdown_text(parameter)}` | {show('S1')} | {show('ST')} |")
            md.append("")
    figures = sorted(p.name for p in (folder / "figures").glob("*.png"))
    md += ["", "## Figures", ""] + [f"![{name}](figures/{name})" for name in figures]
    name = manifest["archive_name"]
    md += ["", "## Reproduce", "", f"    sim verify {name}", f"    sim reproduce {name}", ""]
    text = "\n".join(md) + "\n"
    (folder / "report.md").write_text(text, encoding="utf-8")
    body = "".join(
        f"<pre>{html_text(line)}</pre>" if line.startswith("|") else f"<p>{html_text(line)}</p>"
        for line in md
        if line and not line.startswith("![")
    )
    images = "".join(
        f'<img alt="{html_text(n)}" src="data:image/png;base64,'
        f'{base64.b64encode((folder / "figures" / n).read_bytes()).decode()}">'
        for n in figures
    )
    (folder / "report.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html_text(manifest['title'])}</title>"
        f"{body}{images}\n",
        encoding="utf-8",
    )


def write_sweep_archive(
    result: SweepResult,
    summary: dict[str, Any],
    slot: ArchiveSlot,
    *,
    wall_seconds: float | None = None,
    command: str = "",
) -> Path:
    """Write a sweep's archive into its reserved slot (:func:`sim.output.archive.reserve_archive`)
    and publish it; return its folder.

    Raises
    ------
    InputError
        The target appeared while the sweep ran (``field`` is ``"out"``).
    """
    sweep = result.sweep
    config_bytes = resolved_yaml(sweep.resolved)
    config_sha256 = hashlib.sha256(config_bytes).hexdigest()
    created = dt.datetime.now(dt.UTC)
    scenario = sweep.scenario
    target = slot.target or slot.parent / (
        f"sweep-{scenario.scenario}-{created:%Y%m%dT%H%M%SZ}-{config_sha256[:12]}"
    )
    identity = "sweep " + archive_identity(scenario.scenario, config_sha256, scenario.study.seed)
    manifest: dict[str, Any] = {
        "kind": "sweep",
        "scenario": scenario.scenario,
        "title": scenario.title,
        "archive_name": target.name,
        "identity": identity,
        "config_sha256": config_sha256,
        "seed": scenario.study.seed,
        "seed_scheme": SEED_SCHEME,
        "replications": scenario.study.replications,
        "defendants": scenario.study.defendants,
        "points": len(result.inputs),
        "design": sweep.method,
        **provenance(created, wall_seconds, command),
    }
    folder = slot.staging
    (folder / CONFIG).write_bytes(config_bytes)
    (folder / _SPEC).write_bytes(resolved_yaml(_spec(result)))
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    tables = sweep_tables(result)
    for name, data in _table_bytes(tables).items():
        (folder / name).write_bytes(data)
    _figures(result, tables, folder / "figures", identity)
    _report(result, summary, manifest, folder)
    manifest["files"] = hash_files(folder)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if os.path.lexists(target):
        raise InputError(
            f"{shown_path(target)}: already exists: another run wrote it while "
            "this sweep ran; this sweep's archive was not kept",
            field="out",
        )
    os.rename(folder, target)
    slot.published = target
    return target


def is_sweep(manifest: dict[str, Any]) -> bool:
    """Whether a manifest is a sweep's."""
    return manifest.get("kind") == "sweep"


def reproduce_sweep(folder: Path, workers: int = 1) -> Reproduction:
    """Verify a sweep archive, re-run its sweep from the archived files and byte-compare its
    tables (nothing is written).

    Raises
    ------
    InputError
        The archive fails verification (nothing is run).
    """
    archive = read_archive(folder, keep=lambda path: path in (*SWEEP_TABLES, _SPEC))
    if archive.problems or archive.scenario is None:
        raise refusal(archive, archive.problems, "reproduce it")
    config_bytes = (Path(folder) / CONFIG).read_bytes()
    if hashlib.sha256(config_bytes).hexdigest() != archive.manifest["config_sha256"]:
        raise InputError(f"{printable(folder)}: {CONFIG} changed while it was read")
    config = parse_document(config_bytes, CONFIG, is_json=False)
    spec = parse_document(archive.contents.get(_SPEC, b""), _SPEC, is_json=False)
    if not isinstance(spec, dict):
        raise InputError(f"{printable(folder)}: {_SPEC}: not a sweep file")
    sweep = sweep_from_archive(spec, config, Path(folder))
    produced = _table_bytes(sweep_tables(run_sweep(sweep, workers=workers)))
    differences = []
    for name in SWEEP_TABLES:
        if name not in archive.contents:
            differences.append(f"missing from the archive: {name}")
        elif produced[name] != archive.contents[name]:
            differences.append(f"differs: {name}")
    return Reproduction(differences, archive.manifest_sha256)

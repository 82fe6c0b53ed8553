"""Result archives: everything a run produced, hashed, reproducible byte for byte.

An archive is a folder ``results/<scenario>-<UTC timestamp>-<config hash>/`` (or ``--out``)::

    config.resolved.yaml   the scenario after extends: and command-line overrides
    summary.json           the run's summary (what ``sim run --json`` prints)
    tables/*.parquet       tidy result tables (sim.analysis.frames, sim.output.tables)
    figures/*.png, *.svg   charts (sim.output.figures)
    report.md, report.html the study report (sim.output.report)
    manifest.json          identity, versions, platform, wall time and every file's SHA-256

It is written into a temporary sibling folder and renamed into place, so an interrupted or failed
run leaves nothing behind, and an existing folder is never overwritten. Results are Parquet, JSON
and YAML only: nothing is pickled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.analysis.results import Results
from sim.inputs import InputError
from sim.output.manifest import MANIFEST, hash_files, load_manifest, sha256_file
from sim.output.report import write_report
from sim.output.tables import defendant_sample as sample_table
from sim.run.streams import SEED_SCHEME

__all__ = [
    "MANIFEST",
    "archive_identity",
    "load_manifest",
    "sha256_file",
    "write_archive",
    "write_tables",
]

_VERSIONED = (
    "sim",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "pydantic",
    "PyYAML",
)


def resolved_yaml(resolved: dict[str, Any]) -> bytes:
    """The canonical bytes of a resolved scenario (its hash is the config hash)."""
    return yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True, width=100).encode()


def archive_identity(scenario: str, config_sha256: str, seed: int) -> str:
    """What identifies a run's numbers: scenario, config hash and seed (no timestamp)."""
    return f"{scenario} config sha256 {config_sha256[:16]} seed {seed}"


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip() or None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in _VERSIONED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def write_tables(results: Results, folder: Path, sample: int) -> dict[str, pd.DataFrame]:
    """Write the run's tables (and, when ``sample``, the first ``sample`` defendants) as Parquet
    into a new ``folder``; return them, as copies."""
    tables = {name: results.to_df(name) for name in results.tables}
    if sample:
        tables["defendant_sample"] = sample_table(results.study, sample)
    folder.mkdir()
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False, engine="pyarrow")
    return tables


def write_archive(
    results: Results,
    resolved: dict[str, Any],
    *,
    summary: Mapping[str, Any] | None = None,
    out: Path | None = None,
    results_root: Path = Path("results"),
    wall_seconds: float | None = None,
    command: str = "",
    defendant_sample: int = 0,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Path:
    """Write a run's archive and return its folder.

    Parameters
    ----------
    results : sim.analysis.results.Results
        The run's results: its summary, tables, figures and report are written from them.
    resolved : dict
        The resolved scenario (written as ``config.resolved.yaml``; its hash names the run).
    summary : mapping, optional
        What ``summary.json`` holds; ``results.summary`` by default (a caller adds entries of
        its own, e.g. ``target``).
    out : pathlib.Path, optional
        The archive folder; by default ``results_root/<scenario>-<UTC time>-<config hash>``.
    results_root : pathlib.Path
    wall_seconds : float, optional
        The run's wall time, for the manifest.
    command : str
        The command line, for the manifest.
    defendant_sample : int
        Also write the first this many defendants of replication 0 (0: none).
    now : callable
        The clock (UTC).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        When the target folder already exists (nothing is written).
    """
    config_bytes = resolved_yaml(resolved)
    config_sha256 = hashlib.sha256(config_bytes).hexdigest()
    created = now()
    scenario = results.study.scenario
    target = out or results_root / (
        f"{scenario.scenario}-{created:%Y%m%dT%H%M%SZ}-{config_sha256[:12]}"
    )
    if target.exists():
        raise InputError(f"{target}: already exists; results are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    )
    try:
        manifest = _manifest(
            results,
            archive_name=target.name,
            identity=archive_identity(scenario.scenario, config_sha256, scenario.study.seed),
            config_sha256=config_sha256,
            created=created,
            defendant_sample=defendant_sample,
            wall_seconds=wall_seconds,
            command=command,
        )
        summary = results.summary if summary is None else summary
        _write_contents(staging, results, config_bytes, summary, manifest)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_contents(
    folder: Path,
    results: Results,
    config_bytes: bytes,
    summary: Mapping[str, Any],
    manifest: dict[str, Any],
) -> None:
    """Write an archive's files into ``folder``: config, summary, tables, figures, report, and
    last the manifest with every file's hash."""
    (folder / "config.resolved.yaml").write_bytes(config_bytes)
    (folder / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    tables = write_tables(results, folder / "tables", manifest["defendant_sample"])
    from sim.output.figures import render_figures

    render_figures(tables, folder / "figures", manifest["identity"])
    write_report(folder, manifest, results)
    manifest = {**manifest, "files": hash_files(folder)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _manifest(
    results: Results,
    *,
    archive_name: str,
    identity: str,
    config_sha256: str,
    created: dt.datetime,
    defendant_sample: int,
    wall_seconds: float | None,
    command: str,
) -> dict[str, Any]:
    """The manifest's entries but ``files``: identity, size, versions, platform, wall time."""
    scenario = results.study.scenario
    return {
        "scenario": scenario.scenario,
        "title": scenario.title,
        "archive_name": archive_name,
        "identity": identity,
        "config_sha256": config_sha256,
        "seed": scenario.study.seed,
        "seed_scheme": SEED_SCHEME,
        "replications": scenario.study.replications,
        "defendants": scenario.study.defendants,
        "defendant_sample": defendant_sample,
        "created_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_seconds": wall_seconds,
        "command": command,
        "versions": _versions(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "git_commit": _git_commit(),
    }

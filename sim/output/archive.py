"""Result archives: everything a run produced, hashed, reproducible byte for byte.

An archive is a folder ``results/<scenario>-<UTC timestamp>-<config hash>/`` (or ``--out``)::

    config.resolved.yaml   the scenario after extends: and command-line overrides
    summary.json           the run's summary (what ``sim run --json`` prints)
    tables/*.parquet       tidy result tables (sim.analysis.frames, sim.output.tables)
    tables/*.csv           the same tables as CSV, for a spreadsheet
    figures/*.png, *.svg   charts (sim.output.figures)
    report.md, report.html the study report (sim.output.report)
    manifest.json          identity, versions, platform, wall time (the whole run, and the
                           simulation alone) and every file's SHA-256

Its place is claimed before the run (:func:`reserve_archive`: the folder name checked, the parent
created and proven writable by creating a staging folder there), so a bad ``--out`` fails before
any work. The archive is written into the staging folder and renamed into place, so an
interrupted or failed run leaves nothing behind, and an existing folder is never overwritten (two
runs racing for one folder: the second to finish is refused). A staging folder left by a killed
run (SIGKILL) is removed by the next run in that folder once its process is gone. Folders and
files honour the umask. Results are Parquet, CSV,
JSON and YAML only: nothing is pickled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.analysis.results import Results
from sim.inputs import InputError, shown_path
from sim.output.manifest import MANIFEST, hash_files, load_manifest, sha256_file
from sim.output.report import copy_sources, write_report
from sim.output.tables import defendant_sample as sample_table
from sim.output.tables import table_files
from sim.run.streams import SEED_SCHEME

__all__ = [
    "MANIFEST",
    "ArchiveSlot",
    "archive_identity",
    "load_manifest",
    "reserve_archive",
    "sha256_file",
    "stale_partials",
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


def provenance(created: dt.datetime, wall_seconds: float, command: str) -> dict[str, Any]:
    """When, how and with what an archive was made (the manifest's provenance fields, in their
    order): creation time, wall seconds, the command, package versions, platform, git commit."""
    return {
        "created_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wall_seconds": wall_seconds,
        "command": command,
        "versions": _versions(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "git_commit": _git_commit(),
    }


def write_tables(results: Results, folder: Path, sample: int) -> dict[str, pd.DataFrame]:
    """Write the run's tables (and, when ``sample``, the first ``sample`` defendants) as Parquet
    and as CSV (:func:`sim.output.tables.table_files`) into a new ``folder``; return them, as
    copies."""
    tables = {name: results.to_df(name) for name in results.tables}
    if sample:
        tables["defendant_sample"] = sample_table(results.study, sample)
    folder.mkdir()
    for file_name, data in table_files(tables).items():
        (folder / file_name).write_bytes(data)
    return tables


#: Bytes of a folder name (most file systems allow 255), less the staging folder's additions.
_NAME_BYTES = 255 - len(".") - len(".4194304.abcdefgh.partial")
#: A staging folder: ``.<name>.<process id>.<random>.partial`` (tempfile.mkdtemp's 8 characters).
_STAGING = re.compile(r"^\.(?P<name>.*)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.partial$")


@dataclass
class ArchiveSlot:
    """Where a run's archive will go, claimed before the run: the target folder (None: named
    after the run, under ``parent``) and the staging folder the archive is written into."""

    parent: Path
    target: Path | None
    staging: Path
    published: Path | None = None


def stale_partials(folder: Path) -> list[Path]:
    """Staging folders in ``folder`` left by runs whose process is gone (killed with SIGKILL,
    or a crashed machine): ``.<name>.<pid>.<random>.partial`` whose process no longer exists."""
    stale = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _STAGING.match(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        pid = int(match["pid"])
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            stale.append(Path(entry.path))
        except (PermissionError, OverflowError, OSError):
            continue  # alive under another user, or not a process number: not ours to judge
    return sorted(stale)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _out_problem(out: Path) -> str | None:
    """What is wrong with ``out`` as a new archive folder, checked before any work."""
    name = out.name
    if name in ("", ".", ".."):
        return "not a folder name; allowed: a new folder such as results/my-run"
    if "\0" in str(out):
        return "contains a NUL character"
    if len(os.fsencode(name)) > _NAME_BYTES:
        return f"a name of {len(os.fsencode(name))} bytes; allowed: at most {_NAME_BYTES}"
    if os.path.lexists(out):
        return "already exists; results are never overwritten"
    for ancestor in out.absolute().parents:
        if (ancestor / MANIFEST).is_file():
            return f"is inside the archive {ancestor}; allowed: a folder outside any archive"
    return None


@contextlib.contextmanager
def reserve_archive(
    out: Path | None, results_root: Path = Path("results")
) -> Iterator[ArchiveSlot]:
    """Claim an archive's place before the run: check ``out`` (a new folder, a valid name, not
    inside another archive), create missing parent folders, remove stale staging folders left
    there by killed runs, and create this run's staging folder, which proves the place writable.

    Whatever ends the ``with`` body without publishing (an error, Ctrl-C, a stop signal), the
    staging folder and any parent folder created here are removed.

    Parameters
    ----------
    out : pathlib.Path or None
        The archive folder; None: a folder named after the run under ``results_root``.
    results_root : pathlib.Path

    Yields
    ------
    ArchiveSlot
        For :func:`write_archive`.

    Raises
    ------
    InputError
        ``out`` cannot be a new archive folder, or its parent cannot be written (``field`` is
        ``"out"``); nothing has been created.
    """
    if out is not None and (problem := _out_problem(out)):
        raise InputError(f"{shown_path(out)}: {problem}", field="out")
    parent = out.parent if out is not None else results_root
    where = out if out is not None else results_root
    created = [p for p in (parent, *parent.parents) if not os.path.lexists(p)][::-1]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_partials(parent):
            shutil.rmtree(stale, ignore_errors=True)
        prefix = f".{out.name if out is not None else 'run'}.{os.getpid()}."
        staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=".partial", dir=parent))
        os.chmod(staging, 0o777 & ~_current_umask())  # mkdtemp makes it private (0700)
    except OSError as error:
        _remove_created(created)
        reason = error.strerror or str(error)
        message = f"{shown_path(where)}: cannot be written ({reason})"
        raise InputError(message, field="out") from None
    slot = ArchiveSlot(parent, out, staging)
    try:
        yield slot
    finally:
        if slot.published is None:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_created(created)


def _remove_created(folders: list[Path]) -> None:
    """Remove the parent folders a reservation created, deepest first, if still empty."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def write_archive(
    results: Results,
    resolved: dict[str, Any],
    slot: ArchiveSlot,
    *,
    summary: Mapping[str, Any] | None = None,
    wall_seconds: float | None = None,
    command: str = "",
    defendant_sample: int = 0,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    started: float | None = None,
    simulation_seconds: float | None = None,
) -> Path:
    """Write a run's archive into its reserved slot and publish it (one rename); return its
    folder.

    Parameters
    ----------
    results : sim.analysis.results.Results
        The run's results: its summary, tables, figures and report are written from them.
    resolved : dict
        The resolved scenario (written as ``config.resolved.yaml``; its hash names the run).
    slot : ArchiveSlot
        From :func:`reserve_archive`: the target (or, when None, a folder
        ``<scenario>-<UTC time>-<config hash>`` in the slot's parent) and the staging folder.
    summary : mapping, optional
        What ``summary.json`` holds; ``results.summary`` by default (a caller adds entries of
        its own, e.g. ``target``).
    wall_seconds : float, optional
        The run's wall time, for the manifest (unless ``started`` is given).
    started : float, optional
        The :func:`time.perf_counter` reading at the start of the whole run: the manifest's
        ``wall_seconds`` is then measured from it when the manifest is written, the archive's
        own writing (figures, report) included.
    simulation_seconds : float, optional
        Seconds of simulation and analysis alone, for the manifest.
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
        The target folder appeared while the run ran (another run took it): this run's archive
        is not kept (``field`` is ``"out"``).
    """
    config_bytes = resolved_yaml(resolved)
    config_sha256 = hashlib.sha256(config_bytes).hexdigest()
    created = now()
    scenario = results.study.scenario
    target = slot.target or slot.parent / (
        f"{scenario.scenario}-{created:%Y%m%dT%H%M%SZ}-{config_sha256[:12]}"
    )
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
    if simulation_seconds is not None:
        manifest["simulation_seconds"] = simulation_seconds
    summary = results.summary if summary is None else summary
    _write_contents(slot.staging, results, config_bytes, summary, manifest, started)
    taken = (
        f"{shown_path(target)}: already exists: another run wrote it while this one ran; "
        "this run's archive was not kept"
    )
    if os.path.lexists(target):
        raise InputError(taken, field="out")
    try:
        os.rename(slot.staging, target)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
            raise InputError(taken, field="out") from None
        raise
    slot.published = target
    return target


def _write_contents(
    folder: Path,
    results: Results,
    config_bytes: bytes,
    summary: Mapping[str, Any],
    manifest: dict[str, Any],
    started: float | None = None,
) -> None:
    """Write an archive's files into ``folder``: config, summary, tables, figures, report, and
    last the manifest with every file's hash (and, from ``started``, the whole run's wall time
    up to this point)."""
    (folder / "config.resolved.yaml").write_bytes(config_bytes)
    (folder / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    tables = write_tables(results, folder / "tables", manifest["defendant_sample"])
    from sim.output.figures import render_figures

    render_figures(tables, folder / "figures", manifest["identity"])
    copy_sources(folder, config_bytes)  # cited ../shared files, so citations resolve offline
    write_report(folder, manifest, results)
    if started is not None:
        manifest = {**manifest, "wall_seconds": round(time.perf_counter() - started, 3)}
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
        **provenance(created, wall_seconds, command),
    }

"""Reading an archive someone else wrote: verifying it against its manifest and reproducing its
tables from its config and seed (``sim verify``, ``sim reproduce``).

An archive is hostile input (docs/archives.md). :func:`verify_archive` checks it as a closed world
(:func:`sim.output.manifest.read_archive`) and reports the SHA-256 of its manifest, which
identifies the whole archive when cited from outside it. :func:`reproduce_archive` refuses an
archive that fails verification, then re-runs the verified config and compares, byte for byte,
tables written to memory with the verified tables: nothing is written to disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from sim.analysis.results import Results, analyse
from sim.inputs import printable
from sim.output.manifest import read_archive, refusal
from sim.output.tables import build_tables, defendant_sample, table_files

__all__ = ["Reproduction", "Verification", "reproduce_archive", "table_bytes", "verify_archive"]


class Verification(NamedTuple):
    """What ``sim verify`` found: one line per problem (none: intact), and the manifest's
    SHA-256."""

    problems: list[str]
    manifest_sha256: str


class Reproduction(NamedTuple):
    """What ``sim reproduce`` found: one line per table that differs (none: every table
    reproduced byte for byte), and the manifest's SHA-256."""

    differences: list[str]
    manifest_sha256: str


def verify_archive(folder: Path) -> Verification:
    """Check an archive against its manifest as a closed world.

    Raises
    ------
    sim.inputs.InputError
        No such folder, or no usable manifest.
    """
    archive = read_archive(folder)
    return Verification([str(problem) for problem in archive.problems], archive.manifest_sha256)


def table_bytes(results: Results, sample: int) -> dict[str, bytes]:
    """The bytes of a run's tables by file name, Parquet and CSV, as
    :func:`sim.output.archive.write_tables` writes them (:func:`sim.output.tables.table_files`),
    with the first ``sample`` defendants when ``sample``."""
    tables = build_tables(results)
    if sample:
        tables["defendant_sample"] = defendant_sample(results.study, sample)
    return table_files(tables)


def reproduce_archive(folder: Path, workers: int = 1) -> Reproduction:
    """Verify an archive, re-run its resolved config and seed, and byte-compare every table.

    Returns
    -------
    Reproduction
        One line per table that differs, is missing from the archive or is not produced again.

    Raises
    ------
    sim.inputs.InputError
        Not an archive, or an archive that fails verification (nothing is run).
    """
    from sim.run.runner import run_study

    archive = read_archive(folder, keep=lambda path: path.startswith("tables/"))
    if archive.problems or archive.scenario is None:
        raise refusal(archive, archive.problems, "reproduce it")
    results = analyse(run_study(archive.scenario, workers=workers))
    produced = table_bytes(results, archive.manifest.get("defendant_sample", 0))
    archived = {
        path.removeprefix("tables/"): data
        for path, data in archive.contents.items()
        if path.startswith("tables/")
    }
    differences = []
    for name in sorted(archived.keys() | produced.keys()):
        shown = printable(name)
        if name not in produced:
            differences.append(f"not produced again: tables/{shown}")
        elif name not in archived:
            differences.append(f"missing from the archive: tables/{shown}")
        elif produced[name] != archived[name]:
            differences.append(f"differs: tables/{shown}")
    return Reproduction(differences, archive.manifest_sha256)

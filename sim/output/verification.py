"""Reading an archive someone else wrote: verifying it against its manifest and reproducing its
tables from its config and seed (``sim verify``, ``sim reproduce``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sim.analysis.results import analyse
from sim.output.archive import write_tables
from sim.output.manifest import hash_files, load_manifest, sha256_file

__all__ = ["reproduce_archive", "verify_archive"]


def verify_archive(folder: Path) -> list[str]:
    """Re-hash every file; one line per altered, missing or unlisted file (empty: intact)."""
    manifest = load_manifest(folder)
    problems = []
    listed = manifest.get("files", {})
    for relative, expected in sorted(listed.items()):
        path = folder / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif sha256_file(path) != expected:
            problems.append(f"altered: {relative}")
    for relative in sorted(hash_files(folder)):
        if relative not in listed:
            problems.append(f"not in the manifest: {relative}")
    config = folder / "config.resolved.yaml"
    if config.is_file() and sha256_file(config) != manifest.get("config_sha256"):
        problems.append("altered: config.resolved.yaml (config_sha256 differs)")
    return problems


def reproduce_archive(folder: Path, workers: int = 1) -> list[str]:
    """Re-run an archive's resolved config and seed; byte-compare every table.

    Returns one line per table that differs or is missing (empty = identical).
    """
    from sim.model.scenario import load_scenario
    from sim.run.runner import run_study

    manifest = load_manifest(folder)
    scenario, _ = load_scenario(folder / "config.resolved.yaml")
    result = run_study(scenario, workers=workers)
    differences = []
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "tables"
        write_tables(analyse(result), fresh, int(manifest.get("defendant_sample") or 0))
        archived = {p.name for p in (folder / "tables").glob("*.parquet")}
        produced = {p.name for p in fresh.glob("*.parquet")}
        for name in sorted(archived | produced):
            if name not in produced:
                differences.append(f"not produced again: tables/{name}")
            elif name not in archived:
                differences.append(f"missing from the archive: tables/{name}")
            elif (fresh / name).read_bytes() != (folder / "tables" / name).read_bytes():
                differences.append(f"differs: tables/{name}")
    return differences

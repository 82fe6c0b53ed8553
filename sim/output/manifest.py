"""An archive's manifest (``manifest.json``): reading it and hashing the files it lists.

Shared by :mod:`sim.output.archive`, which writes and verifies archives, and
:mod:`sim.output.report`, which rebuilds an archive's report and re-hashes it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sim.inputs import InputError

__all__ = ["MANIFEST", "hash_files", "load_manifest", "sha256_file"]

MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the manifest, by relative path, sorted."""
    return {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def load_manifest(folder: Path) -> dict[str, Any]:
    """The archive's manifest.

    Raises
    ------
    InputError
        No such folder, or no readable manifest.
    """
    if not folder.is_dir():
        raise InputError(f"{folder}: no such archive folder")
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder}: no {MANIFEST}; not a sim archive") from None
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{folder / MANIFEST}: unreadable: {error}") from None

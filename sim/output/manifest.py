"""An archive's manifest (``manifest.json``) and its files, read as hostile input.

``sim verify``, ``sim reproduce`` and ``sim report`` read archives downloaded from others, so an
archive is a *closed world* (docs/archives.md): regular files and folders only, every file listed
in the manifest under a normal relative path and every listed file present, one manifest, at the
top. :func:`read_archive` checks all of it without following a symbolic link anywhere (every file
is opened component by component with ``O_NOFOLLOW``, never blocking on a FIFO), validates the
manifest's shape and the resolved config (which may not use ``extends:``), and returns the bytes
of the files a command goes on to use, exactly as they were hashed. :func:`replace_file` writes a
file into an archive atomically, never through a link.

Shared by :mod:`sim.output.archive` (which writes archives), :mod:`sim.output.verification`
(verify, reproduce) and :mod:`sim.output.report` (which rebuilds an archive's report).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The strict JSON and YAML readers of sim.inputs (duplicate keys, depth, huge integers, alias
# bombs), applied here to bytes already read and hashed rather than to a path.
from sim.inputs import (
    MAX_FILE_BYTES,
    InputError,
    parse_document,
    printable,
    validate_model,
)
from sim.model.scenario import Scenario

__all__ = [
    "CONFIG",
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "Archive",
    "Problem",
    "hash_files",
    "load_manifest",
    "open_folder",
    "read_archive",
    "refusal",
    "regular_files",
    "replace_file",
    "sha256_file",
]

MANIFEST = "manifest.json"
CONFIG = "config.resolved.yaml"
#: Files every archive has (besides its tables and figures).
REQUIRED = (CONFIG, "summary.json", "report.md", "report.html")
#: A manifest is a few kilobytes; a larger one is refused unread.
MAX_MANIFEST_BYTES = 1 << 20
#: Files and folders an archive may hold, and how deep its folders may nest.
MAX_ENTRIES = 10_000
MAX_DEPTH = 8
#: Longest path a manifest may list.
MAX_PATH = 1024

_O_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: Lines of a manifest's problems an error message lists.
_LISTED = 20


@dataclass(frozen=True)
class Problem:
    """One reason an archive fails verification: ``kind: path (detail)``."""

    kind: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.kind}: {printable(self.path)}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class Archive:
    """An archive as :func:`read_archive` found it.

    ``manifest`` is shape-checked; ``problems`` is empty when every check passed; ``scenario`` is
    the validated resolved config (None when it failed a check); ``contents`` holds the bytes of
    the requested files that matched their manifest hash, by relative path.
    """

    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    problems: list[Problem] = field(default_factory=list)
    scenario: Scenario | None = None
    contents: dict[str, bytes] = field(default_factory=dict)


def refusal(archive: Archive, problems: Iterable[Problem], action: str) -> InputError:
    """The error for a command that will not ``action`` an archive failing verification."""
    lines = [f"  {problem}" for problem in problems]
    return InputError(
        f"{printable(archive.folder, 500)}: refused to {action}: the archive fails verification "
        f"(manifest sha256 {archive.manifest_sha256}):\n" + "\n".join(lines)
    )


# --- Opening files without following links ---------------------------------------------------


def open_folder(folder: Path) -> int:
    """A descriptor of an archive folder (the folder named may itself be a link: the user named
    it); everything inside is opened relative to it."""
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{printable(folder, 500)}: no such archive folder") from None
    except NotADirectoryError:
        raise InputError(
            f"{printable(folder, 500)}: not a folder; allowed: an archive folder"
        ) from None
    except OSError as error:
        raise InputError(
            f"{printable(folder, 500)}: cannot be read: {error.strerror or error}"
        ) from None


class _NotRegularError(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket)."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _open_in(root: int, relative: str) -> int:
    """A regular file under ``root``, opened for reading with no link followed at any component
    (``O_NOFOLLOW``: a link swapped in after the folder was listed fails here) and without
    blocking on a FIFO."""
    parts = relative.split("/")
    folders: list[int] = []
    try:
        at = root
        for part in parts[:-1]:
            at = os.open(part, _O_DIR, dir_fd=at)
            folders.append(at)
        fd = os.open(parts[-1], _O_FILE, dir_fd=at)
    finally:
        for folder in folders:
            os.close(folder)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _NotRegularError(errno.EINVAL, _kind(mode))
    return fd


def _hash_in(root: int, relative: str, keep: bool) -> tuple[str, bytes | None]:
    """SHA-256 of a regular file under ``root``, and its bytes when ``keep``."""
    digest = hashlib.sha256()
    chunks: list[bytes] | None = [] if keep else None
    with os.fdopen(_open_in(root, relative), "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if chunks is not None:
                chunks.append(chunk)
    return digest.hexdigest(), None if chunks is None else b"".join(chunks)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a regular file's bytes (a link or a FIFO is refused, not followed)."""
    folder = open_folder(path.parent)
    try:
        return _hash_in(folder, path.name, keep=False)[0]
    except OSError as error:
        raise InputError(f"{printable(path, 500)}: cannot be hashed: {_reason(error)}") from None
    finally:
        os.close(folder)


def _reason(error: OSError) -> str:
    if isinstance(error, _NotRegularError):
        return f"{error.strerror}, not a regular file"
    if error.errno == errno.ELOOP:
        return "a symbolic link"
    return error.strerror or str(error)


def _walk(root: int) -> tuple[dict[str, str], list[Problem]]:
    """Everything under ``root`` (the top-level manifest aside) by relative path: ``"file"``,
    ``"folder"``, ``"link"`` or ``"other"``; and the problems met (links, non-regular files, a
    second manifest). Nothing is followed or opened but folders (``O_NOFOLLOW``)."""
    found: dict[str, str] = {}
    problems: list[Problem] = []

    def visit(at: int, prefix: str, depth: int) -> None:
        with os.scandir(at) as entries:
            listing = sorted(entries, key=lambda entry: entry.name)
        for entry in listing:
            relative = prefix + entry.name
            if relative == MANIFEST:
                continue
            if len(found) >= MAX_ENTRIES:
                raise InputError(f"more than {MAX_ENTRIES:,} files and folders; not a sim archive")
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                found[relative] = "link"
                problems.append(Problem("a symbolic link", relative, "an archive holds no links"))
            elif stat.S_ISDIR(mode):
                found[relative] = "folder"
                if depth >= MAX_DEPTH:
                    problems.append(Problem("nested too deeply", relative))
                    continue
                try:
                    inner = os.open(entry.name, _O_DIR, dir_fd=at)
                except OSError as error:
                    problems.append(Problem("cannot be read", relative, _reason(error)))
                    continue
                try:
                    visit(inner, relative + "/", depth + 1)
                finally:
                    os.close(inner)
            elif stat.S_ISREG(mode):
                found[relative] = "file"
                if entry.name == MANIFEST:
                    problems.append(Problem("a second manifest", relative, "one, at the top"))
            else:
                found[relative] = "other"
                problems.append(Problem("not a regular file", relative, _kind(mode)))

    try:
        visit(root, "", 0)
    except OSError as error:
        raise InputError(f"cannot list the archive: {_reason(error)}") from None
    return found, problems


def hash_files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the manifest, by relative path, sorted.

    Raises
    ------
    InputError
        The folder holds a link, a FIFO, a device or a second manifest.
    """
    root = open_folder(folder)
    try:
        found, problems = _walk(root)
        if problems:
            raise InputError(f"{printable(folder, 500)}: " + "; ".join(map(str, problems)))
        return {
            relative: _hash_in(root, relative, keep=False)[0]
            for relative, kind in sorted(found.items())
            if kind == "file"
        }
    finally:
        os.close(root)


def regular_files(folder: Path, under: str) -> dict[str, bytes]:
    """The regular files directly in ``folder/under`` by name, read with no link followed (links,
    FIFOs and devices are skipped unread); empty when there is no such folder."""
    root = open_folder(folder)
    try:
        try:
            inner = os.open(under, _O_DIR, dir_fd=root)
        except OSError:
            return {}
        try:
            with os.scandir(inner) as entries:
                names = sorted(
                    e.name for e in entries if stat.S_ISREG(e.stat(follow_symlinks=False).st_mode)
                )
            found = {}
            for name in names:
                try:
                    found[name] = _hash_in(inner, name, keep=True)[1] or b""
                except OSError:
                    continue
            return found
        finally:
            os.close(inner)
    finally:
        os.close(root)


def replace_file(root: int, name: str, data: bytes) -> str:
    """Write ``data`` as ``name`` in the folder ``root`` atomically and return its SHA-256.

    A new file is created beside it (``O_CREAT | O_EXCL | O_NOFOLLOW``: never an existing file or
    a link), written, synced and renamed over ``name``: a link or file already at ``name`` is
    replaced, never followed or written through.
    """
    for _ in range(100):
        temporary = f".{name}.{secrets.token_hex(8)}.partial"
        try:
            fd = os.open(temporary, _O_NEW, 0o644, dir_fd=root)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 64 random bits
        raise InputError(f"{name}: no temporary name is free")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, name, src_dir_fd=root, dst_dir_fd=root)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=root)
        raise
    os.fsync(root)
    return hashlib.sha256(data).hexdigest()


# --- The manifest ----------------------------------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_seconds(value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return value is None or (number and math.isfinite(value) and value >= 0)


def _is_versions(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    )


#: The entries sim.output.archive._manifest writes, what each may hold, and whether it is
#: required (those the report and reproduce use); an older archive may lack the others. Entries
#: not named here are accepted unread (a newer sim may add some), covered by the manifest's hash.
_ENTRIES: dict[str, tuple[Callable[[Any], bool], str, bool]] = {
    "scenario": (_is_text, "text", True),
    "title": (_is_text, "text", True),
    "archive_name": (_is_text, "text", False),
    "identity": (_is_text, "text", False),
    "config_sha256": (
        lambda v: isinstance(v, str) and bool(_HEX64.fullmatch(v)),
        "64 lowercase hex digits (a SHA-256)",
        True,
    ),
    "seed": (_is_count, "a whole number ≥ 0", True),
    "seed_scheme": (_is_text, "text", False),
    "replications": (_is_count, "a whole number ≥ 0", True),
    "defendants": (_is_count, "a whole number ≥ 0", True),
    "defendant_sample": (_is_count, "a whole number ≥ 0", False),
    "created_utc": (_is_text, "text", False),
    "wall_seconds": (_is_seconds, "a number of seconds or null", False),
    "command": (_is_text, "text", False),
    "versions": (_is_versions, "a mapping of package names to versions", False),
    "platform": (_is_text, "text", False),
    "machine": (_is_text, "text", False),
    "git_commit": (lambda v: v is None or isinstance(v, str), "text or null", False),
}


_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def _parse_manifest(data: bytes, where: str) -> dict[str, Any]:
    """The manifest's JSON, strictly: UTF-8, no duplicate key, no NaN, bounded depth; and its
    shape (:data:`_ENTRIES`, ``files``)."""
    manifest = parse_document(data, where, is_json=True)
    if not isinstance(manifest, dict):
        kind = _JSON_KINDS.get(type(manifest), "not an object")
        raise InputError(
            f"{where}: not a sim manifest: the top level is {kind}; allowed: a JSON object"
        )
    lines = []
    for key, (valid, allowed, required) in _ENTRIES.items():
        if key not in manifest:
            if required:
                lines.append(f"{where}: {key}: required entry is missing")
        elif not valid(manifest[key]):
            lines.append(f"{where}: {key}: {_shown(manifest[key])}: allowed: {allowed}")
    files = manifest.get("files")
    if files is None:
        lines.append(f"{where}: files: required entry is missing")
    elif not isinstance(files, dict):
        lines.append(f"{where}: files: allowed: a mapping of paths to SHA-256 digests")
    elif len(files) > MAX_ENTRIES:
        lines.append(f"{where}: files: {len(files):,} entries; allowed: at most {MAX_ENTRIES:,}")
    else:
        for path, digest in files.items():
            if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
                lines.append(
                    f"{where}: files[{printable(repr(path), 80)}]: {_shown(digest)}: allowed: "
                    "64 lowercase hex digits (a SHA-256)"
                )
    if lines:
        more = len(lines) - _LISTED
        raise InputError("\n".join(lines[:_LISTED] + ([f"… and {more} more"] if more > 0 else [])))
    return manifest


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return printable(repr(value), 80)


def _read_manifest(root: int, folder: Path) -> tuple[dict[str, Any], str]:
    """The manifest (shape-checked) and the SHA-256 of its bytes."""
    where = printable(folder / MANIFEST, 500)
    try:
        fd = _open_in(root, MANIFEST)
    except FileNotFoundError:
        raise InputError(f"{printable(folder, 500)}: no {MANIFEST}; not a sim archive") from None
    except OSError as error:
        raise InputError(f"{where}: refused: {_reason(error)}") from None
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        data = b"" if size > MAX_MANIFEST_BYTES else handle.read(MAX_MANIFEST_BYTES + 1)
    if size > MAX_MANIFEST_BYTES or len(data) > MAX_MANIFEST_BYTES:
        raise InputError(
            f"{where}: {max(size, len(data)):,} bytes; allowed: at most {MAX_MANIFEST_BYTES:,}"
        )
    digest = hashlib.sha256(data).hexdigest()
    try:
        return _parse_manifest(data, where), digest
    except InputError as error:
        raise InputError(f"{error}\n{where}: manifest sha256 {digest}") from None


def load_manifest(folder: Path) -> dict[str, Any]:
    """The archive's manifest, shape-checked (its files are not checked: :func:`read_archive`).

    Raises
    ------
    InputError
        No such folder, or no usable manifest.
    """
    root = open_folder(folder)
    try:
        return _read_manifest(root, folder)[0]
    finally:
        os.close(root)


def _path_problem(path: str) -> str | None:
    """Why a manifest path is not a normal relative path inside the archive (None: it is)."""
    if not path:
        return "empty"
    if len(path) > MAX_PATH:
        return f"longer than {MAX_PATH} characters"
    if "\x00" in path:
        return "a NUL character"
    if "\\" in path:
        return "a backslash; allowed: / between folders"
    if printable(path, None) != path:
        return "a control character"
    if path.startswith("/"):
        return "an absolute path; allowed: a path inside the archive"
    parts = path.split("/")
    if "" in parts:
        return "an empty component"
    if any(part in (".", "..") for part in parts):
        return "a '.' or '..' component; allowed: a path inside the archive"
    if path == MANIFEST:
        return "the manifest cannot list itself"
    return None


# --- The whole archive -----------------------------------------------------------------------


def read_archive(folder: Path, keep: Callable[[str], bool] = lambda path: False) -> Archive:
    """Check an archive as a closed world and return what was found.

    Parameters
    ----------
    folder : pathlib.Path
    keep : callable
        Which files' bytes to return (``Archive.contents``), by relative path; only files that
        matched their manifest hash are returned, as they were hashed.

    Returns
    -------
    Archive
        Its ``problems`` name each link, non-regular file, second manifest, unsafe manifest path,
        missing, altered or unlisted file, and each problem of the resolved config (its hash, an
        ``extends:``, its validity, its agreement with the manifest).

    Raises
    ------
    InputError
        No such folder, or no usable manifest (missing, a link, not a regular file, over
        :data:`MAX_MANIFEST_BYTES`, not UTF-8, malformed or duplicate-key JSON, a wrong shape).
    """
    root = open_folder(folder)
    try:
        manifest, digest = _read_manifest(root, folder)
        archive = Archive(folder, manifest, digest)
        try:
            found, archive.problems = _walk(root)
        except InputError as error:
            raise InputError(f"{printable(folder, 500)}: {error}") from None
        listed: dict[str, str] = manifest["files"]
        for path, expected in sorted(listed.items()):
            why = _path_problem(path)
            if why is not None:
                archive.problems.append(Problem("unsafe path in the manifest", path, why))
                continue
            kind = found.get(path)
            if kind is None:
                archive.problems.append(Problem("missing", path))
            elif kind == "folder":
                archive.problems.append(Problem("not a regular file", path, "a folder"))
            elif kind == "file":
                try:
                    actual, data = _hash_in(root, path, keep=path == CONFIG or keep(path))
                except OSError as error:
                    archive.problems.append(Problem("cannot be read", path, _reason(error)))
                    continue
                if actual != expected:
                    archive.problems.append(Problem("altered", path))
                elif data is not None:
                    archive.contents[path] = data
        flagged = {problem.path for problem in archive.problems}
        for path, kind in found.items():
            if kind == "file" and path not in listed and path not in flagged:
                archive.problems.append(Problem("not in the manifest", path))
        for path in REQUIRED:
            if path not in listed and path not in found:
                archive.problems.append(Problem("missing", path, "every archive has one"))
        archive.scenario = _scenario(archive)
    finally:
        os.close(root)
    return archive


def _scenario(archive: Archive) -> Scenario | None:
    """The archive's resolved config, validated, when it matches ``config_sha256``, holds no
    ``extends:`` and agrees with the manifest; otherwise None and the problems noted."""
    data = archive.contents.pop(CONFIG, None)
    if data is None:  # missing, altered or unlisted: already a problem
        return None
    problems = archive.problems
    if hashlib.sha256(data).hexdigest() != archive.manifest["config_sha256"]:
        problems.append(Problem("altered", CONFIG, "config_sha256 differs"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem("invalid", CONFIG, f"larger than {MAX_FILE_BYTES:,} bytes"))
        return None
    try:
        mapping = parse_document(data, CONFIG, is_json=False)
    except InputError as error:
        problems.append(Problem("invalid", CONFIG, printable(str(error).removeprefix(CONFIG))))
        return None
    if not isinstance(mapping, dict):
        problems.append(Problem("invalid", CONFIG, "not a mapping of keys to values"))
        return None
    if "extends" in mapping:
        problems.append(
            Problem(
                "refused",
                CONFIG,
                "extends: is never allowed in an archive: a resolved config is complete, and "
                "extends: would read a file outside the archive",
            )
        )
        return None
    try:
        scenario = validate_model(Scenario, mapping, CONFIG)
    except InputError as error:
        for line in str(error).splitlines():
            detail = printable(line.removeprefix(f"{CONFIG}: "), 300)
            problems.append(Problem("invalid scenario", CONFIG, detail))
        return None
    study = scenario.study
    stated = {
        "scenario": scenario.scenario,
        "title": scenario.title,
        "seed": study.seed,
        "replications": study.replications,
        "defendants": study.defendants,
    }
    for key, value in stated.items():
        if archive.manifest.get(key, value) != value:
            problems.append(
                Problem(
                    "inconsistent",
                    MANIFEST,
                    f"{key} is {_shown(archive.manifest[key])}, {CONFIG} says {_shown(value)}",
                )
            )
    return None if any(p.kind == "inconsistent" for p in problems) else scenario

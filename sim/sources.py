"""Which source files sim's compiled kernels can reach, and their hash: the key of numba's
on-disk cache (:mod:`sim`) and the identity a Dask worker's results are checked against
(:mod:`sim.run.backends`). Imports nothing of sim, so that any room can ask."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import platform
import sys
from pathlib import Path

__all__ = ["KERNEL_ROOMS", "describe_identity", "identity", "kernel_sources", "source_hash"]

_PACKAGE = Path(__file__).resolve().parent
#: The rooms whose modules compiled kernels are defined in or can import from.
KERNEL_ROOMS = ("guidelines", "model", "run")


def kernel_sources() -> list[Path]:
    """The package's ``__init__.py`` and every module of the kernel rooms."""
    files = [_PACKAGE / "__init__.py"]
    for room in KERNEL_ROOMS:
        files += (_PACKAGE / room).rglob("*.py")
    return sorted(files)


def source_hash() -> str:
    """SHA-256 (16 hex digits) of every source file kernels can reach (:func:`kernel_sources`),
    their relative paths, and the Python and numba versions."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info[:2]}".encode())
    spec = importlib.util.find_spec("numba")
    version = Path(spec.origin).with_name("_version.py") if spec and spec.origin else None
    digest.update(version.read_bytes() if version and version.exists() else b"numba")
    for path in kernel_sources():
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def identity() -> tuple[str, str, str, str]:
    """What two processes must share to compute the same tallies: :func:`source_hash`, and the
    versions of Python, numpy and numba (read from the installed packages' metadata)."""
    return (
        source_hash(),
        platform.python_version(),
        importlib.metadata.version("numpy"),
        importlib.metadata.version("numba"),
    )


def describe_identity(value: tuple[str, ...]) -> str:
    """An :func:`identity` in words: ``sim 0123abcd… on Python 3.11.7, numpy 2.4.6, numba …``."""
    code, python, numpy, numba = value
    return f"sim {code} on Python {python}, numpy {numpy}, numba {numba}"

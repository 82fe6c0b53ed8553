"""sim: Monte Carlo simulation of sentencing disparity in 8 U.S.C. § 1326 illegal-reentry cases.

Importing the package points numba's on-disk cache at a folder named after a hash of every source
file the compiled kernels can reach (and the Python and numba versions). numba's own cache checks
only the source file of the kernel it compiled, so a kernel that reads a constant or calls a
function from another module would otherwise be served stale after that module changed; with the
keyed folder, any edit there makes every kernel compile afresh (``tests/test_numba_cache.py``).

The kernels live in the rooms ``guidelines``, ``model`` and ``run``, which import nothing from the
rooms after them (``analysis``, ``output``); of the top-level modules they import only
``sim.inputs`` (file reading and validation messages) and ``sim.sources`` (this hash, which a Dask
worker's results are checked against), which hold no kernel and no constant a kernel reads. Only
the rooms and this file are hashed (:func:`sim.sources.kernel_sources`), so editing a report, a
figure, a message or the command line does not recompile the simulation
(``tests/test_numba_cache.py`` checks that the top-level modules stay free of numba).

The public API for notebooks and scripts (docs/api.md) is :func:`sim.api.study`, also callable as
``sim.run(...)``, and :func:`sim.api.calc`. ``sim.run`` is the runner room (``sim/run/``): a name
can hold one object, and Python's import system sets ``sim.run`` to the subpackage whenever any of
its modules is imported, so a function of that name would be replaced. The room's module object
is made callable instead (:class:`_CallableRoom`): ``sim.run("configs/california-1995.yaml")``
runs a study and ``from sim.run.runner import run_study`` still imports the runner. The API itself
is imported on first use (:func:`__getattr__`), so ``import sim`` stays light (no pandas, no
compiler) and the hash below covers no API code.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from sim.sources import source_hash

__all__ = [
    "NUMBA_CACHE_DIR",
    "Calculation",
    "Study",
    "calc",
    "run",
    "source_hash",
    "study",
]

#: Cached kernel folders kept besides the current one (older ones are removed).
_KEEP = 8


def _cache_root() -> Path:
    explicit = os.environ.get("SIM_CACHE_DIR")
    if explicit:
        return Path(explicit) / "numba"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sim" / "numba"


def _prune(root: Path, current: Path) -> None:
    """Remove all but the most recently used cache folders (best effort)."""
    try:
        folders = sorted(
            (p for p in root.iterdir() if p.is_dir() and p != current),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in folders[_KEEP:]:
            for file in old.rglob("*"):
                if file.is_file():
                    file.unlink()
            for folder in sorted(old.rglob("*"), reverse=True):
                folder.rmdir()
            old.rmdir()
    except OSError:
        pass


def _configure_numba_cache() -> Path:
    key = source_hash()
    folder = _cache_root() / key
    try:
        fresh = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # an unwritable home: a private folder under the system's temporary one
        folder = Path(tempfile.gettempdir()) / f"sim-numba-{os.getuid()}" / key
        fresh = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
    if fresh:
        _prune(folder.parent, folder)
    # numba reads NUMBA_CACHE_DIR when it is first imported; a process that imported it already
    # is told directly. Child processes (workers) inherit the variable.
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:
        sys.modules["numba"].config.CACHE_DIR = str(folder)
    return folder


#: Where this version of the package's compiled kernels are cached.
NUMBA_CACHE_DIR = _configure_numba_cache()


#: Names of :mod:`sim.api` exported here, imported on first use.
_API = ("Calculation", "Study", "calc", "study")


def __getattr__(name: str) -> Any:
    """``sim.study``, ``sim.calc``, ``sim.Study``, ``sim.Calculation``: imported from
    :mod:`sim.api` on first use."""
    if name in _API:
        from sim import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


class _CallableRoom(types.ModuleType):
    """The runner room ``sim.run``, which is also the function that runs a study: calling it
    calls :func:`sim.api.study` with the same arguments."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from sim.api import study

        return study(*args, **kwargs)


def _callable_run_room() -> types.ModuleType:
    # The room's __init__ holds only a docstring: importing it loads no kernel.
    room = importlib.import_module("sim.run")
    room.__class__ = _CallableRoom
    return room


run = _callable_run_room()

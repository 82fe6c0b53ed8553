"""Test-wide fixtures and settings.

``tests/`` mirrors ``sim/`` (guidelines, model, run, analysis, output); shared test code lives in
``tests/support`` (case-file strategies, the engine-vs-worksheet helpers), importable from every
folder. Hypothesis profiles: ``dev`` (the default: few examples, fast) and ``ci`` (thorough), chosen
with ``HYPOTHESIS_PROFILE``; ``make test`` uses ``ci``.
"""

import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "support"))

settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _run_in_a_scratch_folder(tmp_path_factory, monkeypatch):
    # `sim run` archives into ./results by default: keep every test's working folder apart.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


class ArchivedRun(NamedTuple):
    """A run archived through the command line: its folder and what ``--json`` printed."""

    folder: Path
    printed: dict[str, Any]


@pytest.fixture(scope="session")
def archived_run(tmp_path_factory, worker_id) -> ArchivedRun:
    """One small default-scenario run through ``sim run --json``, archived with its tables,
    figures and report, shared by the tests that only read an archive (copy it to change it):
    rendering the figures is most of a run's time. Under pytest-xdist the workers share one
    (the first to take the lock builds it), as pytest-xdist's documentation recommends."""
    from helpers import SMALL_RUN

    from sim.cli import app

    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent
    folder, printed = root / "archived-run", root / "archived-run.json"
    with open(root / "archived-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not printed.exists():
            result = CliRunner().invoke(app, ["run", *SMALL_RUN, "--out", str(folder), "--json"])
            assert result.exit_code == 0, result.output
            printed.write_text(result.output, encoding="utf-8")
    return ArchivedRun(folder, json.loads(printed.read_text(encoding="utf-8")))

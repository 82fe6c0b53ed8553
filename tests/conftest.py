"""Test-wide fixtures and settings.

``tests/`` mirrors ``sim/`` (guidelines, model, run, analysis, output); shared test code lives in
``tests/support`` (case-file strategies, the engine-vs-worksheet helpers), importable from every
folder. Hypothesis profiles: ``dev`` (the default: few examples, fast) and ``ci`` (thorough), chosen
with ``HYPOTHESIS_PROFILE``; ``make test`` uses ``ci``.
"""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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

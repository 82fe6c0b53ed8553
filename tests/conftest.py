"""Test-wide fixtures."""

import pytest


@pytest.fixture(autouse=True)
def _run_in_a_scratch_folder(tmp_path_factory, monkeypatch):
    # `sim run` archives into ./results by default: keep every test's working folder apart.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))

"""Regression corpus: hand-computed worksheets in tests/cases/*.yaml, each naming its source.

Every file holds ``source``, ``description``, ``case`` (a case file) and ``expected`` (the
worksheet fields computed by hand from docs/engine.md and the Sentencing Table, with the arithmetic
in comments). Both the engine and the scalar reference must reproduce each one.
"""

from pathlib import Path

import pytest
import yaml
from helpers import COMPARED_FIELDS, engine_summary

from sim.guidelines.reference import reference_worksheet

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


def load(path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_matches_hand_computed_worksheet(path):
    entry = load(path)
    assert set(entry) == {"source", "description", "case", "expected"}
    assert entry["source"].strip(), "every corpus case names the opinion or rule it comes from"
    expected = {field: entry["expected"][field] for field in COMPARED_FIELDS}
    assert engine_summary(entry["case"]) == expected


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_reference_matches_hand_computed_worksheet(path):
    entry = load(path)
    if any("aggravated_felony" not in prior for prior in entry["case"].get("priors", [])):
        pytest.skip("the reference takes aggravated_felony as given; the engine derives it")
    got = reference_worksheet(entry["case"])
    assert {field: got[field] for field in COMPARED_FIELDS} == {
        field: entry["expected"][field] for field in COMPARED_FIELDS
    }

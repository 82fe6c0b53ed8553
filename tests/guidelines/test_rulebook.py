"""The edition rulebook: every encoded year resolves, revisions apply in order, a new Manual is one
entry, and no module outside the rulebook (and the independent reference) decodes a Manual year."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import engine_summary

from sim.guidelines.casefile import CaseFile, case_dispositions, case_to_records
from sim.guidelines.durations import months
from sim.guidelines.editions import (
    FIRST_MANUAL,
    LAST_MANUAL,
    REVISIONS,
    TEXT_2018,
    Revision,
    edition,
    resolve,
)
from sim.guidelines.engine import compute_guidelines

SIM = Path(__file__).resolve().parents[2] / "sim"


def test_every_encoded_year_resolves_and_names_its_sources():
    assert (1995, REVISIONS[-1].year) == (FIRST_MANUAL, LAST_MANUAL)
    for year in range(FIRST_MANUAL, LAST_MANUAL + 1):
        e = edition(year)
        assert e.year == year
        assert e.sources[0].startswith("1995: ")
        assert all(int(s[:4]) <= year for s in e.sources)
    for year in (FIRST_MANUAL - 1, LAST_MANUAL + 1):
        with pytest.raises(ValueError, match=f"allowed: {FIRST_MANUAL}-{LAST_MANUAL}"):
            edition(year)


def test_revisions_are_in_order_and_each_changes_something():
    years = [r.year for r in REVISIONS]
    assert years == sorted(set(years))
    for revision in REVISIONS[1:]:
        assert revision.source.strip()
        before, after = edition(revision.year - 1), edition(revision.year)
        parts = ("reentry", "criminal_history", "acceptance", "zero_point", "early_disposition")
        changed = [p for p in (*parts, "zone_ceilings") if getattr(before, p) != getattr(after, p)]
        assert changed, f"the {revision.year} revision changes nothing"


def _case(months_imposed: float) -> dict:
    return {
        "manual": 2026,
        "conviction": "1326(b)(1)",
        "acceptance": 2,
        "priors": [
            {
                "kind": "other_felony",
                "felony": True,
                "aggravated_felony": False,
                "sentence_imposed_months": months_imposed,
                "imposed_years_ago": 4,
                "before_first_removal": True,
            }
        ],
    }


def test_a_new_manual_is_one_rulebook_entry():
    # docs/engine.md §1, worked example: a 2026 Manual moving (b)(2)(C) to "18 months or more".
    text_2026 = replace(
        TEXT_2018.with_rule("§ 2L1.2(b)(2)(C)", min_sentence_ticks=months(18), min_exclusive=False),
        name="2026",
        source="hypothetical 2026 amendment (test)",
    )
    rulebook = (*REVISIONS, Revision(2026, "hypothetical (test)", reentry=text_2026))
    e2026 = resolve(2026, rulebook)
    rules = e2026.reentry.characteristics[1].rules
    assert rules[2].describe().endswith("with a sentence imposed of 18 months or more")
    levels = []
    for term in (17, 18):
        case = CaseFile.model_validate({**_case(term), "manual": LAST_MANUAL})
        records, dispositions = case_to_records([case]), case_dispositions([case])
        assessment, _ = compute_guidelines(records, dispositions, e2026)
        levels.append(int(assessment.reentry.levels[1, 0]))
    assert levels == [4, 6]  # (D) +4 below the new line, (C) +6 on it
    # The shipped rulebook is untouched: under 2025 both exceed 13 months, (C) +6.
    assert [
        engine_summary({**_case(t), "manual": 2025})["adjustments"][0]["levels"] for t in (17, 18)
    ] == [6, 6]


def test_no_manual_year_is_decoded_outside_the_rulebook():
    pattern = re.compile(r"manual[a-z_]*\s*(>=|<=|<|>|==)\s*(19|20)\d\d")
    allowed = {SIM / "guidelines" / "editions.py", SIM / "guidelines" / "reference.py"}
    offenders = [
        f"{path.relative_to(SIM)}:{number}: {line.strip()}"
        for path in SIM.rglob("*.py")
        if path not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_kernels_read_the_numbers_of_the_rulebook():
    # The 2016 tiers as arrays [characteristic, rule]: "exceeding 13 months" is one tick more.
    numbers = edition(2016).numbers.reentry
    assert numbers.min_sentence_ticks[1, :3].tolist() == [months(60), months(24), months(13) + 1]
    assert numbers.levels[1].tolist() == [10, 8, 6, 4, 2]
    assert numbers.count[1, 4] == 3
    np.testing.assert_array_equal(edition(2009).numbers.zone_ceilings, [0, 6, 10])
    np.testing.assert_array_equal(edition(2010).numbers.zone_ceilings, [0, 9, 12])

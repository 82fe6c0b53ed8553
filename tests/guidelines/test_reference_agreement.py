"""The vectorized engine and the scalar reference agree exactly, for every edition.

The reference (``sim/guidelines/reference.py``) was written separately from docs/engine.md, rule by
rule, without the engine's code; hypothesis draws records that sit on every threshold (13 months,
60 days, 10 and 15 years, 1988 and 1994 offense dates).
"""

import numpy as np
from helpers import COMPARED_FIELDS, engine_summary
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples
from strategies import case_dicts

from sim.guidelines.casefile import CaseFile, case_dispositions, case_to_records
from sim.guidelines.editions import edition
from sim.guidelines.engine import compute_guidelines
from sim.guidelines.reference import reference_worksheet


def run(cases, manual):
    return compute_guidelines(case_to_records(cases), case_dispositions(cases), edition(manual))


EDITIONS = st.integers(1995, 2025)


@examples(600)
@given(case_dicts(manual=EDITIONS))
def test_engine_equals_reference(case):
    expected = reference_worksheet(case)
    assert engine_summary(case) == {field: expected[field] for field in COMPARED_FIELDS}


def _per_defendant(computed, i):
    assessment, result = computed
    return (
        int(result.total_offense_level[i]),
        int(assessment.criminal_history_points[i]),
        int(assessment.criminal_history_category[i]),
        int(result.final_min_months[i]),
        int(result.final_max_months[i]),
        int(result.zone[i]),
        tuple(int(levels) for levels in assessment.reentry.levels[:, i]),
    )


@examples(60)
@given(st.data(), EDITIONS)
def test_one_batch_equals_one_call_per_defendant(data, manual):
    # Batching must not leak priors or sentence groups between neighbouring defendants.
    cases = [
        CaseFile.model_validate(c)
        for c in data.draw(st.lists(case_dicts(manual=st.just(manual)), min_size=2, max_size=12))
    ]
    batch = run(cases, manual)
    for i, single_case in enumerate(cases):
        alone = run([single_case], manual)
        assert _per_defendant(batch, i) == _per_defendant(alone, 0)


def test_batch_order_is_irrelevant():
    cases = [
        CaseFile.model_validate(c)
        for c in (
            {
                "manual": 2016,
                "conviction": "1326(a)",
                "priors": [
                    {
                        "kind": "other_felony",
                        "felony": True,
                        "aggravated_felony": False,
                        "sentence_imposed_months": m,
                        "imposed_years_ago": 3,
                        "before_first_removal": True,
                        "single_sentence_group": 1,
                        "consecutive": True,
                    }
                    for m in (8, 8)
                ],
            },
            {"manual": 2016, "conviction": "1326(a)"},
        )
    ]
    forward_assessment, forward = run(cases, 2016)
    _, backward = run(cases[::-1], 2016)
    np.testing.assert_array_equal(forward.total_offense_level, backward.total_offense_level[::-1])
    # Two consecutive 8-month terms are one 16-month sentence: (b)(2)(C) +6, § 4A1.1(a) 3 points.
    assert forward.total_offense_level.tolist() == [14, 8]
    assert forward_assessment.criminal_history_points.tolist() == [3, 0]


@examples(40)
@given(st.data(), EDITIONS, st.integers(1, 5))
def test_blocks_equal_the_whole_batch(data, manual, block_size):
    cases = [
        CaseFile.model_validate(c)
        for c in data.draw(st.lists(case_dicts(manual=st.just(manual)), min_size=1, max_size=10))
    ]
    records, dispositions = case_to_records(cases), case_dispositions(cases)
    whole = compute_guidelines(records, dispositions, edition(manual))
    start = 0
    while start < records.size:
        stop = min(start + block_size, records.size)
        part = compute_guidelines(
            records.block(start, stop),
            type(dispositions)(*(column[start:stop] for column in dispositions)),
            edition(manual),
        )
        for i in range(stop - start):
            assert _per_defendant(part, i) == _per_defendant(whole, start + i)
        start = stop

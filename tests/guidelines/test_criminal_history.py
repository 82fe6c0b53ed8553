"""Single sentences over the CSR layout, and criminal history on batches that are not case files.

``SentenceGroups.build`` is checked against the definition of a partition (every prior in exactly
one sentence, a sentence's members sharing owner and group id, ungrouped priors first in row
order); the rules themselves are checked by the corpus and the scalar reference.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from sim.guidelines.criminal_history import compute_criminal_history
from sim.guidelines.durations import NEVER, months, years
from sim.guidelines.editions import edition
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import Priors, Records, kind_code


@examples(200)
@given(st.lists(st.lists(st.integers(-1, 4), max_size=12), max_size=8))
def test_groups_partition_the_priors(defendants):
    # Defendants with 0-12 priors each, group ids in any order within a defendant.
    counts = [len(ids) for ids in defendants]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    owner = np.repeat(np.arange(len(defendants)), counts)
    group_id = np.array([g for ids in defendants for g in ids], dtype=np.int16)
    groups = SentenceGroups.build(offsets, group_id)
    p = len(group_id)
    singles = np.flatnonzero(group_id < 0)
    # Ungrouped priors are sentences 0..s-1, in row order.
    assert groups.single_count == len(singles)
    assert groups.prior_group[singles].tolist() == list(range(len(singles)))
    # Each grouped sentence lists exactly the priors of one (owner, group id), in row order.
    seen = []
    for k in range(len(groups.grouped_starts) - 1):
        members = groups.grouped_rows[groups.grouped_starts[k] : groups.grouped_starts[k + 1]]
        assert len(members) > 0
        assert list(members) == sorted(members)
        keys = {(int(owner[j]), int(group_id[j])) for j in members}
        assert len(keys) == 1
        o, g = keys.pop()
        assert set(members) == set(np.flatnonzero((owner == o) & (group_id == g)))
        assert (groups.prior_group[members] == groups.single_count + k).all()
        assert groups.group_owner[groups.single_count + k] == o
        seen.extend(members)
    assert sorted(seen + list(singles)) == list(range(p))
    assert (groups.group_owner[groups.prior_group] == owner).all()


def _records(group_id: list[int], owner_counts: list[int]) -> Records:
    p, n = len(group_id), len(owner_counts)
    priors = Priors(
        kind=np.full(p, kind_code("crime_of_violence"), dtype=np.int8),
        felony=np.ones(p, dtype=bool),
        aggravated_felony=np.zeros(p, dtype=bool),
        sentence_imposed_ticks=np.full(p, months(8)),
        imposed_ago_ticks=np.full(p, years(3)),
        released_ago_ticks=np.full(p, NEVER),
        before_first_removal=np.ones(p, dtype=bool),
        removed_after_conviction=np.ones(p, dtype=bool),
        foreign=np.zeros(p, dtype=bool),
        single_sentence_group=np.array(group_id, dtype=np.int16),
        consecutive=np.ones(p, dtype=bool),
    )
    return Records(
        offense_date=np.full(n, np.datetime64("2020-01-01")),
        under_sentence=np.zeros(n, dtype=bool),
        zero_point_criteria_met=np.ones(n, dtype=bool),
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=np.concatenate([[0], np.cumsum(owner_counts)]).astype(np.int64),
        priors=priors,
    )


def test_a_sentence_of_many_consecutive_terms_is_their_exact_sum():
    # 1,000 consecutive 8-month crimes of violence, one sentence: 8,000 months, § 4A1.1(a) 3
    # points, and the single-sentence crime-of-violence point capped at 3 (§ 4A1.1(e), 2010).
    records = _records([0] * 1000, [1000])
    groups = SentenceGroups.build(records.prior_offsets, records.priors.single_sentence_group)
    history = compute_criminal_history(records, edition(2010).criminal_history, groups)
    assert history.sentence_ticks.tolist() == [months(8000)]
    assert history.points_a.tolist() == [3]
    assert history.violent_single_sentence_points.tolist() == [3]


def test_groups_of_other_priors_are_refused():
    records = _records([0, 0, -1, 1, 1, 2], [2, 0, 3, 1])
    rules = edition(2025).criminal_history
    # Groups of a batch of five defendants: the last prior's owner is past these four.
    other = SentenceGroups.build(
        np.array([0, 2, 2, 5, 5, 6], dtype=np.int64), records.priors.single_sentence_group
    )
    with pytest.raises(ValueError, match="not built from these defendants"):
        compute_criminal_history(records, rules, other)
    groups = SentenceGroups.build(records.prior_offsets, records.priors.single_sentence_group)
    with pytest.raises(ValueError, match="groups cover"):
        compute_criminal_history(records.block(0, 1), rules, groups)
    with pytest.raises(ValueError, match="offsets must run"):
        SentenceGroups.build(np.array([0, 2], dtype=np.int64), records.priors.single_sentence_group)

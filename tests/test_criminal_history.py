"""Compiled criminal history and single sentences against the numpy code they replaced.

The oracle below is the former implementation (an argsort of the grouped priors, ufunc
reductions over them), kept here test-only. Every field of ``SentenceGroups`` and
``CriminalHistory`` is compared bit for bit, dtype included: on hypothesis-drawn batches of valid
case files under every edition, on priors whose owners come in any order (the general path of
``SentenceGroups.build``), and on single sentences of up to 300 members whose terms span 19
orders of magnitude, whose sums only numpy's own pairwise summation order reproduces.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_oracle import group_all, group_any, group_max, group_min, group_sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from strategies import case_dicts

from sim.guidelines.casefile import CaseFile, case_to_defendants
from sim.guidelines.criminal_history import (
    SIXTY_DAYS_IN_MONTHS,
    CriminalHistory,
    compute_criminal_history,
)
from sim.guidelines.groups import SentenceGroups, pairwise_sum
from sim.guidelines.records import Defendants, Priors, kind_code


class OracleGroups:
    """The former ``SentenceGroups``: ungrouped priors first, then grouped ones sorted stably by
    ``(owner, group_id)``."""

    def __init__(self, owner: np.ndarray, group_id: np.ndarray) -> None:
        in_group = group_id >= 0
        self.singles = np.flatnonzero(~in_group)
        rows = np.flatnonzero(in_group)
        key = (owner[rows].astype(np.int64) << 16) | group_id[rows].astype(np.int64)
        order = np.argsort(key, kind="stable")
        self.grouped, sorted_key = rows[order], key[order]
        new = np.ones(len(self.grouped), dtype=bool)
        new[1:] = sorted_key[1:] != sorted_key[:-1]
        self.starts = np.flatnonzero(new)
        self.prior_group = np.empty(len(owner), dtype=np.int64)
        self.prior_group[self.singles] = np.arange(len(self.singles))
        self.prior_group[self.grouped] = len(self.singles) + np.cumsum(new) - 1
        self.group_owner = np.concatenate(
            [owner[self.singles], owner[self.grouped[self.starts]]]
        ).astype(np.int64)

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        merged = ufunc.reduceat(values[self.grouped], self.starts) if len(self.grouped) else []
        return np.concatenate([values[self.singles], np.asarray(merged, dtype=values.dtype)])


def oracle_history(defendants: Defendants, manual: int) -> dict[str, np.ndarray]:
    """The former numpy criminal history (USSG § 4A1.1, § 4A1.2(a)(2), (e), (h))."""
    n, pr = len(defendants), defendants.priors
    groups = OracleGroups(defendants.prior_owner, pr.single_sentence_group)
    months = groups.reduce(np.add, np.where(pr.consecutive, pr.sentence_imposed_months, 0.0))
    months = months + groups.reduce(
        np.maximum, np.where(pr.consecutive, 0.0, pr.sentence_imposed_months)
    )
    imposed = groups.reduce(np.fmin, pr.imposed_years_ago)
    released = groups.reduce(np.fmin, pr.released_years_ago)
    domestic = ~groups.reduce(np.logical_and, pr.foreign)
    with np.errstate(invalid="ignore"):
        is_a = domestic & (months > 13.0) & ((imposed <= 15.0) | (released <= 15.0))
        recent_release = released < 2.0
    within_10 = domestic & (imposed <= 10.0)
    is_b = ~is_a & within_10 & (months >= SIXTY_DAYS_IN_MONTHS)
    is_c = ~is_a & ~is_b & within_10
    item = np.select([is_a, is_b, is_c], [1, 2, 3], 0).astype(np.int8)
    owner = groups.group_owner

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(owner[mask], minlength=n)

    points_a, points_b = 3 * count(is_a), 2 * count(is_b)
    points_c = np.minimum(count(is_c), 4)
    violent = (pr.kind == kind_code("crime_of_violence")) & pr.felony & ~pr.foreign
    extra = np.where(
        item != 0, np.maximum(groups.reduce(np.add, violent.astype(np.int64)) - 1, 0), 0
    )
    violent_points = np.minimum(np.bincount(owner, weights=extra, minlength=n).astype(np.int64), 3)
    other = points_a + points_b + points_c + violent_points
    if manual >= 2023:
        status = np.where(defendants.under_sentence & (other >= 7), 1, 0)
    else:
        status = np.where(defendants.under_sentence, 2, 0)
    if manual <= 2009:
        recency = np.where(
            count((is_a | is_b) & recent_release) > 0, np.where(status == 2, 1, 2), 0
        )
    else:
        recency = np.zeros(n, dtype=np.int64)
    return {
        "prior_group": groups.prior_group,
        "group_owner": groups.group_owner,
        "sentence_item": item,
        "sentence_months": months,
        "receives_points": (item != 0)[groups.prior_group] & ~pr.foreign,
        "points_a": points_a,
        "points_b": points_b,
        "points_c": points_c,
        "status_points": status,
        "recency_points": recency,
        "violent_single_sentence_points": violent_points,
        "points": other + status + recency,
    }


def assert_identical(got: np.ndarray, expected: np.ndarray, name: str) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, (name, got.dtype, expected.dtype)
    assert got.shape == expected.shape, (name, got.shape, expected.shape)
    assert got.tobytes() == expected.tobytes(), (name, got, expected)


def assert_groups_match(groups: SentenceGroups, oracle: OracleGroups, pr: Priors) -> None:
    assert_identical(groups.prior_group, oracle.prior_group, "prior_group")
    assert_identical(groups.group_owner, oracle.group_owner, "group_owner")
    assert_identical(groups.grouped_rows, oracle.grouped, "grouped_rows")
    assert_identical(groups.grouped_starts[:-1], oracle.starts, "grouped_starts")
    assert groups.single_count == len(oracle.singles)
    for reduce, ufunc, values in (
        (group_sum, np.add, pr.sentence_imposed_months),
        (group_max, np.maximum, pr.sentence_imposed_months),
        (group_min, np.fmin, pr.released_years_ago),
        (group_any, np.logical_or, pr.felony),
        (group_all, np.logical_and, pr.foreign),
    ):
        assert_identical(reduce(groups, values), oracle.reduce(ufunc, values), reduce.__name__)


def assert_history_matches(defendants: Defendants, manual: int) -> None:
    pr = defendants.priors
    groups = SentenceGroups.build(defendants.prior_owner, pr.single_sentence_group)
    assert_groups_match(groups, OracleGroups(defendants.prior_owner, pr.single_sentence_group), pr)
    history = compute_criminal_history(defendants, manual, groups)
    expected = oracle_history(defendants, manual)
    got = {f.name: getattr(history, f.name) for f in dataclasses.fields(CriminalHistory)}
    assert got.pop("groups") is groups
    got.update(prior_group=groups.prior_group, group_owner=groups.group_owner)
    assert set(got) == set(expected)
    for name, values in expected.items():
        assert_identical(got[name], values, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1995, 2025))
def test_batches_of_case_files_match_the_oracle(data, manual):
    cases = data.draw(st.lists(case_dicts(manual=st.just(manual)), min_size=1, max_size=12))
    defendants = case_to_defendants([CaseFile.model_validate(c) for c in cases])
    assert_history_matches(defendants, manual)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(-1, 4)), max_size=60),
    st.sampled_from([np.int64, np.int32]),
)
def test_build_with_owners_in_any_order(rows, owner_dtype):
    owner = np.array([r[0] for r in rows], dtype=owner_dtype)
    group_id = np.array([r[1] for r in rows], dtype=np.int16)
    rng = np.random.default_rng(len(rows))
    pr = Priors(
        kind=np.zeros(len(rows), dtype=np.int8),
        felony=rng.random(len(rows)) < 0.5,
        aggravated_felony=np.zeros(len(rows), dtype=bool),
        sentence_imposed_months=rng.random(len(rows)) * 10.0 ** rng.integers(-3, 17, len(rows)),
        imposed_years_ago=rng.uniform(0, 30, len(rows)),
        released_years_ago=np.where(rng.random(len(rows)) < 0.3, np.nan, 1.0),
        before_first_removal=np.zeros(len(rows), dtype=bool),
        removed_after_conviction=np.zeros(len(rows), dtype=bool),
        foreign=rng.random(len(rows)) < 0.5,
        single_sentence_group=group_id,
        consecutive=rng.random(len(rows)) < 0.5,
    )
    assert_groups_match(SentenceGroups.build(owner, group_id), OracleGroups(owner, group_id), pr)


def _large_sentences() -> Defendants:
    """Single sentences of 1-300 members, some listed in descending group order, terms from 1e-3
    to 1e16 months, NaN releases and foreign members."""
    rng = np.random.default_rng(2025)
    counts = np.array([0, 9, 10, 17, 129, 300, 3, 0, 40, 1000, 2, 0])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    p, n = int(offsets[-1]), len(counts)
    group_id = np.full(p, -1, dtype=np.int16)
    for i, count in enumerate(counts):
        span = slice(offsets[i], offsets[i + 1])
        if i in (1, 2, 3, 4, 5):
            group_id[span] = 0  # one sentence of all of them
        elif i == 9:
            group_id[span] = np.repeat(np.arange(count // 4 - 1, -1, -1), 4)  # descending
        else:
            group_id[span] = rng.integers(-1, 3, count)
    imposed = rng.uniform(0, 30, p)
    priors = Priors(
        kind=rng.choice([kind_code("crime_of_violence"), kind_code("misdemeanor")], p).astype(
            np.int8
        ),
        felony=rng.random(p) < 0.7,
        aggravated_felony=np.zeros(p, dtype=bool),
        sentence_imposed_months=rng.random(p) * 10.0 ** rng.integers(-3, 17, p),
        imposed_years_ago=imposed,
        released_years_ago=np.where(rng.random(p) < 0.3, np.nan, imposed * rng.random(p)),
        before_first_removal=np.zeros(p, dtype=bool),
        removed_after_conviction=np.ones(p, dtype=bool),
        foreign=rng.random(p) < 0.05,
        single_sentence_group=group_id,
        consecutive=rng.random(p) < 0.8,
    )
    return Defendants(
        conviction=np.zeros(n, dtype=np.int8),
        offense_date=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        acceptance_levels=np.zeros(n, dtype=np.int8),
        early_disposition_levels=np.zeros(n, dtype=np.int8),
        under_sentence=rng.random(n) < 0.5,
        zero_point_criteria_met=np.zeros(n, dtype=bool),
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=offsets,
        priors=priors,
    )


def test_large_single_sentences_sum_in_numpy_order():
    defendants = _large_sentences()
    for manual in (1995, 2009, 2010, 2022, 2023, 2025):
        assert_history_matches(defendants, manual)
    # Summed sequentially instead, some of these terms would differ in the last bits.
    pr = defendants.priors
    history = compute_criminal_history(
        defendants, 2025, SentenceGroups.build(defendants.prior_owner, pr.single_sentence_group)
    )
    terms = np.where(pr.consecutive, pr.sentence_imposed_months, 0.0)[history.groups.grouped_rows]
    starts = history.groups.grouped_starts
    sequential = [
        float(np.cumsum(terms[starts[k] : starts[k + 1]])[-1]) for k in range(len(starts) - 1)
    ]
    pairwise = np.add.reduceat(terms, starts[:-1])
    assert any(s != q for s, q in zip(sequential, pairwise, strict=True))


def test_groups_of_other_priors_are_refused():
    defendants = _large_sentences()
    pr = defendants.priors
    shuffled = np.random.default_rng(1).permutation(defendants.prior_owner)
    with pytest.raises(ValueError, match="not built from these defendants"):
        compute_criminal_history(
            defendants, 2025, SentenceGroups.build(shuffled, pr.single_sentence_group)
        )
    groups = SentenceGroups.build(defendants.prior_owner, pr.single_sentence_group)
    with pytest.raises(ValueError, match="groups cover"):
        compute_criminal_history(defendants.block(0, 3), 2025, groups)


@settings(deadline=None)
@given(
    arrays(np.float64, st.integers(0, 1_100), elements=st.floats(0, 1e16)),
    st.integers(0, 3),
)
def test_pairwise_sum_adds_in_numpys_order(values, start):
    """Sentence totals must equal numpy's ``np.add.reduce`` bit for bit (pairwise above 8)."""
    padded = np.concatenate([np.ones(start), values])
    total = pairwise_sum(padded, start, len(values))
    assert total == np.add.reduce(values) or (len(values) == 0 and total == 0.0)

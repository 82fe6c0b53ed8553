"""The compiled guidelines engine against the numpy code it replaced (here and engine_oracle.py).

§ 2L1.2 (every text), the record assessment (overrides, category, § 4C1.1) and the dispositions
(§ 3E1.1, § 5K3.1, the Sentencing Table, statutory maxima, § 5G1.1, zones) are compared field by
field, dtypes included, on seeded random batches: priors of every kind at the 13/24/60-month
thresholds, single sentences of up to 20 members whose terms add up to a threshold (numpy sums
more than eight of them pairwise), overrides, every conviction, acceptance and early-disposition
level and offense dates around Nov 18, 1988 and Sept 13, 1994.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_oracle import (
    acceptance_reduction,
    aggregate_months,
    group_any,
    segment_count,
    segment_first,
    segment_max,
    zero_point_reduction,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.guidelines.criminal_history import compute_criminal_history
from sim.guidelines.engine import apply_dispositions, assess_records
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import (
    CONVICTIONS,
    IMMIGRATION_LAW_KINDS,
    NO_OVERRIDE,
    PRIOR_KINDS,
    Defendants,
    Priors,
    kind_code,
)
from sim.guidelines.reentry import (
    BASE_OFFENSE_LEVEL,
    ReentryOffenseLevel,
    compute_reentry_offense_level,
)
from sim.guidelines.statutes import STATUTES, apply_5g1_1, statutory_maximum_months
from sim.guidelines.table import category_from_points, guideline_range, zone_from_minimum

#: The first and last Manual of every § 2L1.2 text, and 2023 (§ 4C1.1, § 4A1.1(e) of 2023).
MANUALS = (1995, 1996, 1997, 2000, 2001, 2010, 2011, 2015, 2016, 2017, 2018, 2022, 2023, 2025)
MONTHS = (0.0, 0.5, 1.97, 2.0, 12.0, 12.99, 13.0, 13.01, 23.99, 24.0, 59.99, 60.0, 61.0, 0.1, 2.4)


# ---- Inputs ---------------------------------------------------------------------------------


STYLES = ("mixed", "sentences", "misdemeanors")


def records(rng: np.random.Generator, n: int, style: str = "mixed") -> Defendants:
    """``n`` defendants with random priors, many of them in single sentences.

    ``sentences``: one single sentence of 2-20 members whose terms add up to 13, 24 or 60 months
    (numpy sums more than eight of them pairwise). ``misdemeanors``: mostly misdemeanor crimes of
    violence, drug offenses and illegal entries, two to a sentence (the count rules).
    """
    counts = np.minimum(rng.geometric(0.25, n) - 1, 20)
    if style == "sentences":
        counts = rng.integers(2, 21, n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    p = int(offsets[-1])
    owner = np.repeat(np.arange(n), counts)
    months = np.where(rng.random(p) < 0.5, rng.choice(MONTHS, p), np.round(rng.random(p) * 80, 2))
    kind = rng.integers(0, len(PRIOR_KINDS), p)
    felony = rng.random(p) < 0.6
    years = rng.choice([0.0, 1.0, 2.0, 9.99, 10.0, 14.99, 15.0, 16.0], p)
    group = np.where(rng.random(p) < 0.4, rng.integers(0, 3, p), -1)
    group[(counts[owner] >= 9) & (rng.random(p) < 0.9)] = 5  # one sentence of many members
    consecutive = rng.random(p) < 0.7
    if style == "sentences":
        months = (rng.choice([13.0, 24.0, 60.0], n) / counts)[owner]
        kind = np.where(rng.random(p) < 0.9, kind_code("other_felony"), kind)
        felony = rng.random(p) < 0.95
        years[:] = 1.0
        group = np.where(rng.random(p) < 0.95, 5, -1)
        consecutive = rng.random(p) < 0.95
    elif style == "misdemeanors":
        kinds = ("misdemeanor_violent", "misdemeanor_drug", "crime_of_violence", "illegal_entry")
        kind = np.where(rng.random(p) < 0.8, rng.choice([kind_code(k) for k in kinds], p), kind)
        felony = rng.random(p) < 0.1
        years[:] = 1.0
        group = np.where(rng.random(p) < 0.6, np.arange(p) // 2 % 4, -1)
    priors = Priors(
        kind=kind.astype(np.int8),
        felony=felony,
        aggravated_felony=rng.random(p) < 0.3,
        sentence_imposed_months=months,
        imposed_years_ago=years,
        released_years_ago=np.where(rng.random(p) < 0.5, np.nan, years * rng.random(p)),
        before_first_removal=np.where(
            rng.random(p) < 0.8, (rng.random(n) < 0.5)[owner], rng.random(p) < 0.5
        ),
        removed_after_conviction=rng.random(p) < 0.8,
        foreign=rng.random(p) < 0.05,
        single_sentence_group=group.astype(np.int16),
        consecutive=consecutive,
    )
    return Defendants(
        conviction=np.zeros(n, dtype=np.int8),
        offense_date=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        acceptance_levels=np.zeros(n, dtype=np.int8),
        early_disposition_levels=np.zeros(n, dtype=np.int8),
        under_sentence=rng.random(n) < 0.3,
        zero_point_criteria_met=rng.random(n) < 0.7,
        criminal_history_points_override=np.where(
            rng.random(n) < 0.1, rng.integers(0, 20, n), NO_OVERRIDE
        ).astype(np.int16),
        criminal_history_category_override=np.where(
            rng.random(n) < 0.1, rng.integers(1, 7, n), NO_OVERRIDE
        ).astype(np.int8),
        prior_offsets=offsets,
        priors=priors,
    )


def dispositions(rng: np.random.Generator, n: int, manual: int) -> tuple[np.ndarray, ...]:
    """Conviction, acceptance, early-disposition levels and offense dates (NaT among them)."""
    conviction = rng.integers(0, len(CONVICTIONS), n).astype(np.int8)
    acceptance = rng.choice(np.array([0, 2, 3, 1], dtype=np.int8), n)
    early = rng.integers(0, 5 if manual >= 2003 else 1, n).astype(np.int8)
    days = rng.integers(np.datetime64("1988-11-18").astype(np.int64), 22_000, n)
    days[::3] = rng.choice(
        np.array(
            ["1988-11-18", "1994-09-12", "1994-09-13", "1994-09-14"], dtype="datetime64[D]"
        ).astype(np.int64),
        len(days[::3]),
    )
    date = days.astype("datetime64[D]")
    date[rng.random(n) < 0.2] = np.datetime64("NaT")
    early_act = rng.random(n) < 0.3  # § 1326(a) and § 1325 existed before the ADAA
    date[early_act] = np.datetime64("1987-01-01")
    conviction[early_act] = rng.choice(np.array([0, 3, 4, 5], dtype=np.int8), early_act.sum())
    return conviction, acceptance, early, date


# ---- Oracles --------------------------------------------------------------------------------


def _kind_in(kind: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    table = np.zeros(len(PRIOR_KINDS), dtype=bool)
    table[[kind_code(name) for name in names]] = True
    return table[kind]


def _greatest(levels: list[np.ndarray], per_prior: list[bool], defendants: Defendants):
    offsets = defendants.prior_offsets
    n, p = len(defendants), len(defendants.priors)
    prior_score = np.zeros(p, dtype=np.int64)
    defendant_score = np.zeros(n, dtype=np.int64)
    for index, (level, each) in enumerate(zip(levels, per_prior, strict=True)):
        score = np.where(level > 0, level.astype(np.int64) * 32 + (31 - index), 0)
        if each:
            prior_score = np.maximum(prior_score, score)
        else:
            defendant_score = np.maximum(defendant_score, score)
    best = np.maximum(segment_max(prior_score, offsets), defendant_score)
    owner = defendants.prior_owner
    trigger = segment_first((prior_score > 0) & (prior_score == best[owner]), offsets)
    return (best // 32).astype(np.int64), np.where(best > 0, 31 - best % 32, -1), trigger


def _count(mask: np.ndarray, groups: SentenceGroups, n: int) -> np.ndarray:
    return segment_count(group_any(groups, mask), groups.group_owner, n)


def oracle_reentry(defendants: Defendants, manual: int, groups, history) -> list[tuple]:
    """(levels, rule_index, trigger_prior) of each specific offense characteristic."""
    pr = defendants.priors
    n = len(defendants)
    removed = pr.removed_after_conviction
    violent_or_trafficking = ~pr.felony & _kind_in(
        pr.kind, ("misdemeanor_violent", "crime_of_violence", "drug_trafficking")
    )
    if manual <= 1996:
        levels = [
            np.where(removed & pr.aggravated_felony, 16, 0),
            np.where(removed & pr.felony & ~_kind_in(pr.kind, IMMIGRATION_LAW_KINDS), 4, 0),
        ]
        return [_greatest(levels, [True, True], defendants)]
    if manual <= 2000:
        kinds = ("misdemeanor_violent", "misdemeanor_drug", "crime_of_violence", "drug_trafficking")
        misdemeanor = removed & ~pr.felony & _kind_in(pr.kind, kinds)
        levels = [
            np.where(removed & pr.aggravated_felony, 16, 0),
            np.where(removed & pr.felony, 4, 0),
            np.where(_count(misdemeanor, groups, n) >= 3, 4, 0),
        ]
        return [_greatest(levels, [True, True, False], defendants)]
    if manual <= 2015:
        eligible = removed & pr.felony
        drug = pr.kind == kind_code("drug_trafficking")
        long_drug = drug & (pr.sentence_imposed_months > 13.0)
        sixteen = (
            "crime_of_violence",
            "firearms",
            "child_pornography",
            "national_security",
            "human_trafficking",
            "alien_smuggling",
        )
        points = history.receives_points if manual >= 2011 else np.ones(len(pr), dtype=bool)
        levels = [
            np.where(
                eligible & (long_drug | _kind_in(pr.kind, sixteen)), np.where(points, 16, 12), 0
            ),
            np.where(eligible & drug & ~long_drug, np.where(points, 12, 8), 0),
            np.where(removed & pr.aggravated_felony, 8, 0),
            np.where(eligible, 4, 0),
            np.where(_count(removed & violent_or_trafficking, groups, n) >= 3, 4, 0),
        ]
        return [_greatest(levels, [True] * 4 + [False], defendants)]
    counted = history.receives_points
    reentry_offense = pr.felony & _kind_in(pr.kind, ("illegal_reentry", "illegal_entry"))
    entries = counted & ~pr.felony & (pr.kind == kind_code("illegal_entry"))
    result = [
        _greatest(
            [
                np.where(counted & reentry_offense, 4, 0),
                np.where(_count(entries, groups, n) >= 2, 2, 0),
            ],
            [True, False],
            defendants,
        )
    ]
    months = aggregate_months(
        groups, pr.sentence_imposed_months, pr.consecutive, include=~reentry_offense
    )[groups.prior_group]
    felony = counted & pr.felony & ~reentry_offense
    for side in (pr.before_first_removal, ~pr.before_first_removal):
        on_side = felony & side
        levels = [
            np.where(on_side & (months >= 60.0), 10, 0),
            np.where(on_side & (months >= 24.0), 8, 0),
            np.where(on_side & (months > 13.0), 6, 0),
            np.where(on_side, 4, 0),
            np.where(_count(counted & violent_or_trafficking & side, groups, n) >= 3, 2, 0),
        ]
        result.append(_greatest(levels, [True] * 4 + [False], defendants))
    return result


def oracle_assessment(defendants: Defendants, manual: int, history) -> tuple[np.ndarray, ...]:
    points = np.where(
        defendants.criminal_history_points_override != NO_OVERRIDE,
        defendants.criminal_history_points_override,
        history.points,
    ).astype(np.int64)
    category = np.where(
        defendants.criminal_history_category_override != NO_OVERRIDE,
        defendants.criminal_history_category_override,
        category_from_points(points),
    ).astype(np.int8)
    return (
        points,
        category,
        zero_point_reduction(manual, points, defendants.zero_point_criteria_met),
    )


def oracle_dispositions(assessment, conviction, acceptance_levels, early_levels, offense_date):
    manual = assessment.manual
    level = assessment.reentry.offense_level
    acceptance = acceptance_reduction(acceptance_levels, level)
    early = early_levels.astype(np.int64)
    total = np.clip(level - acceptance - assessment.zero_point_reduction - early, 1, 43)
    range_min, range_max = guideline_range(total, assessment.criminal_history_category)
    offense_date = np.where(np.isnat(offense_date), np.datetime64(f"{manual}-11-01"), offense_date)
    statutory_max = statutory_maximum_months(conviction, offense_date)
    final_min, final_max = apply_5g1_1(range_min, range_max, statutory_max)
    applies = np.array([statute.guideline_applies for statute in STATUTES])[conviction]
    return {
        "guideline_applies": applies,
        "acceptance_reduction": np.where(applies, acceptance, 0),
        "zero_point_reduction": np.where(applies, assessment.zero_point_reduction, 0),
        "early_disposition_reduction": np.where(applies, early, 0),
        "total_offense_level": np.where(applies, total, 0),
        "guideline_min_months": np.where(applies, range_min, 0),
        "guideline_max_months": np.where(applies, range_max, 0),
        "statutory_maximum_months": statutory_max,
        "final_min_months": np.where(applies, final_min, 0),
        "final_max_months": np.where(applies, final_max, 6),
        "zone": np.where(applies, zone_from_minimum(final_min, manual), 0).astype(np.int8),
    }


def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


# ---- Tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("manual", MANUALS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(0, 400), style=st.sampled_from(STYLES))
def test_reentry_and_assessment_equal_numpy(manual, seed, n, style):
    defendants = records(np.random.default_rng(seed), n, style)
    assessment = assess_records(defendants, manual)
    groups = SentenceGroups.build(defendants.prior_owner, defendants.priors.single_sentence_group)
    history = compute_criminal_history(defendants, manual, groups)
    reentry = compute_reentry_offense_level(defendants, manual, groups, history)
    expected = oracle_reentry(defendants, manual, groups, history)
    assert len(reentry.characteristics) == len(expected)
    total = np.full(n, BASE_OFFENSE_LEVEL, dtype=np.int64)
    for characteristic, (levels, rule_index, trigger) in zip(
        reentry.characteristics, expected, strict=True
    ):
        assert_same(characteristic.levels, levels)
        assert_same(characteristic.rule_index, rule_index)
        assert_same(characteristic.trigger_prior, trigger)
        total += levels
    assert_same(reentry.offense_level, total)
    assert_same(assessment.reentry.offense_level, total)
    for actual, oracle in zip(
        (
            assessment.criminal_history_points,
            assessment.criminal_history_category,
            assessment.zero_point_reduction,
        ),
        oracle_assessment(defendants, manual, history),
        strict=True,
    ):
        assert_same(actual, oracle)


@pytest.mark.parametrize("manual", MANUALS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(0, 400))
def test_dispositions_equal_numpy(manual, seed, n):
    rng = np.random.default_rng(seed)
    assessment = assess_records(records(rng, n), manual)
    # Offense levels beyond what records reach, so that the total is clamped at 1 and 43.
    level = rng.integers(-5, 60, n).astype(np.int64)
    assessment = dataclasses.replace(
        assessment,
        reentry=ReentryOffenseLevel("test", (), level),
        criminal_history_category=rng.integers(1, 7, n).astype(np.int8),
    )
    disposition = dispositions(rng, n, manual)
    result = apply_dispositions(assessment, *disposition)
    for field, expected in oracle_dispositions(assessment, *disposition).items():
        assert_same(getattr(result, field), expected)
    assert result.reentry is assessment.reentry
    assert result.history is assessment.history


def test_same_offense_date_for_everyone():
    # The runner passes one date for the whole batch.
    rng = np.random.default_rng(3)
    assessment = assess_records(records(rng, 300), 2004)
    conviction, acceptance, early, _ = dispositions(rng, 300, 2004)
    conviction[:] = 2
    for day in ("1988-11-17", "1988-11-18", "1994-09-12", "1994-09-13", "NaT"):
        date = np.full(300, np.datetime64(day, "D"))
        if day == "1988-11-17":
            with pytest.raises(ValueError, match=r"1326\(b\)\(2\) \(defendant 0\) did not exist"):
                apply_dispositions(assessment, conviction, acceptance, early, date)
            continue
        result = apply_dispositions(assessment, conviction, acceptance, early, date)
        expected = oracle_dispositions(assessment, conviction, acceptance, early, date)
        for field, values in expected.items():
            assert_same(getattr(result, field), values)


@pytest.mark.parametrize(("manual", "bad", "allowed"), [(2002, 1, 0), (2003, 5, 4), (2025, -1, 4)])
def test_early_disposition_levels_outside_the_edition_are_refused(manual, bad, allowed):
    rng = np.random.default_rng(4)
    assessment = assess_records(records(rng, 50), manual)
    conviction, acceptance, early, date = dispositions(rng, 50, manual)
    early[17] = bad
    conviction[30], date[30] = 1, np.datetime64("1988-11-17")  # reported after the levels
    message = (
        rf"early_disposition_levels {bad} \(defendant 17\) is not allowed under the {manual} "
        rf"Manual; allowed: 0-{allowed}"
    )
    with pytest.raises(ValueError, match=message):
        apply_dispositions(assessment, conviction, acceptance, early, date)
    early[17] = 0
    with pytest.raises(ValueError, match=r"1326\(b\)\(1\) \(defendant 30\) did not exist on the "):
        apply_dispositions(assessment, conviction, acceptance, early, date)

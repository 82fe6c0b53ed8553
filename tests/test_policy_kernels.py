"""The compiled policy and sentencing stages against plain oracles written here.

``record_facts`` is checked against a defendant-by-defendant Python loop; ``apply_policy`` and
``impose_sentences`` against the vectorized numpy code they replaced (kept here, test-only), for
hypothesis-drawn policies and judges over seeded random records, uniforms and ranges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaincinv

from sim.guidelines.records import CONVICTIONS, PRIOR_KINDS, Defendants, Priors, kind_code
from sim.guidelines.table import CATEGORY_NAMES
from sim.policy import (
    MAX_OFFERS,
    DistrictPolicy,
    PolicyUniforms,
    RecordFacts,
    apply_policy,
    record_facts,
    statutory_charge,
)
from sim.sentencing import (
    ABOVE,
    EARLY_DISPOSITION,
    GOVERNMENT_BELOW,
    NON_GOVERNMENT_BELOW,
    WITHIN,
    JudgeConfig,
    JudgeUniforms,
    impose_sentences,
)

CATEGORIES = CATEGORY_NAMES[1:]
QUALIFYING_MISDEMEANOR_KINDS = {
    kind_code(k)
    for k in ("misdemeanor_drug", "misdemeanor_violent", "drug_trafficking", "crime_of_violence")
}


# ---- Inputs ---------------------------------------------------------------------------------


def records(rng: np.random.Generator, counts: np.ndarray, special_months: bool = False):
    """A batch with ``counts[i]`` random priors for defendant i, its categories and removals."""
    n = len(counts)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    p = int(offsets[-1])
    months = np.where(
        rng.random(p) < 0.5,
        rng.choice([0.0, 12.0, 60.0, 119.99, 120.0, 120.01, 240.0], p),
        np.round(rng.exponential(40, p), 2),
    )
    if special_months:  # outside what case files allow: NaN propagates, negatives floor at 0
        months[rng.random(p) < 0.05] = np.nan
        months[rng.random(p) < 0.05] = -0.0
        months[rng.random(p) < 0.05] = -3.0
    priors = Priors(
        kind=rng.integers(0, len(PRIOR_KINDS), p).astype(np.int8),
        felony=rng.random(p) < 0.6,
        aggravated_felony=rng.random(p) < 0.25,
        sentence_imposed_months=months,
        imposed_years_ago=rng.random(p) * 20,
        released_years_ago=rng.random(p) * 20,
        before_first_removal=rng.random(p) < 0.5,
        removed_after_conviction=rng.random(p) < 0.6,
        foreign=np.zeros(p, dtype=bool),
        single_sentence_group=np.full(p, -1, dtype=np.int16),
        consecutive=np.zeros(p, dtype=bool),
    )
    defendants = Defendants(
        conviction=np.zeros(n, dtype=np.int8),
        offense_date=np.full(n, np.datetime64("1995-08-01", "D")),
        acceptance_levels=np.zeros(n, dtype=np.int8),
        early_disposition_levels=np.zeros(n, dtype=np.int8),
        under_sentence=np.zeros(n, dtype=bool),
        zero_point_criteria_met=np.zeros(n, dtype=bool),
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=offsets,
        priors=priors,
    )
    category = rng.integers(1, 7, n).astype(np.int8)
    removals = rng.integers(0, 6, n).astype(np.int16)
    return defendants, category, removals


def prior_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice([0, 0, 1, 2, 3, 4, 6, 12], n)


def policy_uniforms(rng: np.random.Generator, n: int) -> PolicyUniforms:
    u = PolicyUniforms(
        rng.random(n), rng.random((n, MAX_OFFERS)), rng.random((n, MAX_OFFERS)), rng.random(n)
    )
    u.offer_extended[::7] = 0.5  # ties with a probability of 0.5: not extended
    u.plea[::5] = 0.0
    return u


# ---- Oracles --------------------------------------------------------------------------------


def oracle_record_facts(defendants: Defendants, category, removals) -> RecordFacts:
    """Defendant by defendant, prior by prior."""
    n = len(defendants)
    pr = defendants.priors
    mask = np.zeros(n, dtype=np.int64)
    aggravated = np.zeros(n, dtype=bool)
    section_1326b = np.zeros(n, dtype=bool)
    longest = np.zeros(n)
    for i in range(n):
        rows = range(defendants.prior_offsets[i], defendants.prior_offsets[i + 1])
        months = [pr.sentence_imposed_months[j] for j in rows]
        mask[i] = sum(1 << k for k in {int(pr.kind[j]) for j in rows})
        after = [j for j in rows if pr.removed_after_conviction[j]]
        aggravated[i] = any(pr.aggravated_felony[j] for j in after)
        misdemeanors = sum(
            1 for j in after if not pr.felony[j] and pr.kind[j] in QUALIFYING_MISDEMEANOR_KINDS
        )
        felony = any(pr.felony[j] for j in after)
        section_1326b[i] = aggravated[i] or felony or misdemeanors >= 3
        longest[i] = math.nan if any(map(math.isnan, months)) else max([0.0, *months])
    return RecordFacts(category, mask, aggravated, section_1326b, longest, removals)


def _numpy_eligible(eligibility, facts: RecordFacts) -> np.ndarray:
    def number(name, default):
        return default if name is None else CATEGORY_NAMES.index(name)

    category = facts.criminal_history_category
    ok = (category >= number(eligibility.min_criminal_history_category, 1)) & (
        category <= number(eligibility.max_criminal_history_category, 6)
    )
    if eligibility.exclude_prior_kinds:
        mask = sum(1 << kind_code(kind) for kind in set(eligibility.exclude_prior_kinds))
        ok &= (facts.prior_kinds_mask & mask) == 0
    if eligibility.max_prior_removals is not None:
        ok &= facts.prior_removals <= eligibility.max_prior_removals
    if eligibility.max_prior_sentence_months is not None:
        ok &= facts.max_prior_sentence_months <= eligibility.max_prior_sentence_months
    if eligibility.aggravated_felony == "required":
        ok &= facts.aggravated_felony
    elif eligibility.aggravated_felony == "excluded":
        ok &= ~facts.aggravated_felony
    return ok


def oracle_apply_policy(policy: DistrictPolicy, facts: RecordFacts, u: PolicyUniforms) -> dict:
    """The numpy implementation apply_policy had before its kernel."""
    n = len(facts.criminal_history_category)
    rule = policy.prosecution.eligible
    eligible = (
        np.ones(n, dtype=bool)
        if rule == "all"
        else (facts.section_1326b if rule == "section_1326b" else facts.aggravated_felony)
    )
    prosecuted = eligible & (u.prosecute < policy.prosecution.probability.value)
    conviction = np.select(
        [facts.aggravated_felony, facts.section_1326b],
        [CONVICTIONS.index("1326(b)(2)"), CONVICTIONS.index("1326(b)(1)")],
        CONVICTIONS.index("1326(a)"),
    ).astype(np.int8)
    pleaded = u.plea < policy.plea_probability.value
    acceptance = np.where(pleaded, policy.plea_acceptance_levels, 0).astype(np.int8)
    early = np.zeros(n, dtype=np.int8)
    cap = np.full(n, np.inf)
    applied = np.full(n, -1, dtype=np.int8)
    for k, offer in enumerate(policy.offers):
        takes = (
            (applied < 0)
            & _numpy_eligible(offer.eligibility, facts)
            & (u.offer_extended[:, k] < offer.offer_probability.value)
            & (u.offer_accepted[:, k] < offer.acceptance_probability.value)
        )
        applied[takes] = k
        if offer.conviction is not None:
            conviction[takes] = CONVICTIONS.index(offer.conviction)
        if offer.sentence_cap_months is not None:
            cap[takes] = offer.sentence_cap_months.value
        levels = offer.early_disposition_levels
        by_category = np.zeros(7, dtype=np.int8)
        if isinstance(levels, dict):
            for name, value in levels.items():
                by_category[CATEGORY_NAMES.index(name)] = value
        else:
            by_category[:] = levels
        early[takes] = by_category[facts.criminal_history_category][takes]
        acceptance[takes] = offer.acceptance_levels
        pleaded |= takes
    return {
        "prosecuted": prosecuted,
        "offer": applied,
        "conviction": conviction,
        "acceptance_levels": acceptance,
        "early_disposition_levels": early,
        "sentence_cap_months": cap,
        "pleaded": pleaded,
    }


def oracle_impose_sentences(config: JudgeConfig, low, high, statutory, cap, early, u) -> dict:
    """The numpy implementation impose_sentences had before its kernel."""
    low, high = low.astype(np.int64), high.astype(np.int64)
    width = high - low
    rp = config.range_position
    if rp.distribution == "uniform":
        months = low + np.minimum(np.floor(u.position * (width + 1)).astype(np.int64), width)
    elif rp.distribution == "middle":
        months = (low + high) // 2
    else:
        position = {"bottom": np.zeros_like(u.position), "top": np.ones_like(u.position)}.get(
            rp.distribution
        )
        if position is None:
            position = betaincinv(rp.a, rp.b, u.position)
        months = low + np.rint(position * width).astype(np.int64)
    below_rate, above_rate = config.departures.rates()
    category = np.where(early > 0, EARLY_DISPOSITION, WITHIN).astype(np.int8)
    if below_rate:
        fraction = config.departures.non_government_below_fraction.value
        below = u.departure < below_rate
        months = np.where(below, np.floor(low * (1.0 - fraction)).astype(np.int64), months)
        category[below & (months < low)] = NON_GOVERNMENT_BELOW
    if above_rate:
        fraction = config.departures.above_fraction.value
        above = (u.departure >= below_rate) & (u.departure < below_rate + above_rate)
        months = np.where(above, np.ceil(high * (1.0 + fraction)).astype(np.int64), months)
        months = np.minimum(months, statutory)
        category[above & (months > high)] = ABOVE
    capped = months > cap
    months = np.where(capped, np.floor(np.minimum(cap, 1e9)), months).astype(np.int64)
    category[capped & (months < low)] = GOVERNMENT_BELOW
    return {"months": months.astype(np.int32), "position_category": category}


def assert_identical(got, expected: dict) -> None:
    for name, want in expected.items():
        have = getattr(got, name)
        assert have.dtype == want.dtype, name
        np.testing.assert_array_equal(have, want, err_msg=name)


# ---- Strategies -----------------------------------------------------------------------------


def _parameter(values, unit="probability"):
    return values.map(lambda v: {"value": float(v), "unit": unit, "source": "test"})


probabilities = _parameter(st.sampled_from([0.0, 0.5, 1.0]) | st.floats(0, 1))
levels = st.integers(0, 4)

eligibilities = st.fixed_dictionaries(
    {},
    optional={
        "exclude_prior_kinds": st.lists(st.sampled_from(PRIOR_KINDS), max_size=4),
        "min_criminal_history_category": st.sampled_from(CATEGORIES),
        "max_criminal_history_category": st.sampled_from(CATEGORIES),
        "max_prior_removals": st.integers(0, 6) | st.just(10**30),
        "max_prior_sentence_months": st.sampled_from([0.0, 12.0, 60.0, 119.99, 120.0, 1e9]),
        "aggravated_felony": st.sampled_from(["any", "required", "excluded"]),
    },
)

offers = st.fixed_dictionaries(
    {
        "eligibility": eligibilities,
        "offer_probability": probabilities,
        "acceptance_probability": probabilities,
        "acceptance_levels": st.sampled_from([0, 2, 3]),
        # At least one change, so that every draw is a valid offer.
        "early_disposition_levels": st.integers(1, 4)
        | st.dictionaries(st.sampled_from(CATEGORIES), levels, min_size=1).filter(
            lambda d: any(d.values())
        ),
    },
    optional={
        "conviction": st.sampled_from(CONVICTIONS),
        "sentence_cap_months": _parameter(st.sampled_from([0.0, 24.0, 37.5, 60.0, 1e12]), "months"),
    },
)

policies = st.fixed_dictionaries(
    {
        "name": st.just("district"),
        "caseload_weight": _parameter(st.just(1.0), "weight"),
        "prosecution": st.fixed_dictionaries(
            {
                "eligible": st.sampled_from(["all", "section_1326b", "aggravated_felony"]),
                "probability": probabilities,
            }
        ),
        "offers": st.lists(offers, max_size=MAX_OFFERS).map(
            lambda offers: [{**o, "name": f"offer-{k}"} for k, o in enumerate(offers)]
        ),
        "plea_probability": probabilities,
        "plea_acceptance_levels": st.sampled_from([0, 2, 3]),
    }
)


@st.composite
def judges(draw) -> dict:
    distribution = draw(st.sampled_from(["bottom", "middle", "top", "uniform", "beta"]))
    position = {"distribution": distribution, "source": "test"}
    if distribution == "beta":
        position["a"] = draw(st.sampled_from([0.5, 1.0, 2.0, 5.0]))
        position["b"] = draw(st.sampled_from([0.7, 1.0, 3.0]))
    departures = {}
    below = draw(st.sampled_from([0.0, 0.1, 0.5]))
    above = draw(st.sampled_from([0.0, 0.2, 0.5]))
    if below:
        departures["non_government_below_rate"] = {"value": below, "unit": "p", "source": "t"}
        fraction = draw(st.sampled_from([0.0, 0.25, 1 / 3, 1.0]))
        departures["non_government_below_fraction"] = {
            "value": fraction,
            "unit": "s",
            "source": "t",
        }
    if above:
        departures["above_rate"] = {"value": above, "unit": "p", "source": "t"}
        fraction = draw(st.sampled_from([0.0, 0.1, 1 / 3, 2.0]))
        departures["above_fraction"] = {"value": fraction, "unit": "s", "source": "t"}
    return {"range_position": position, "departures": departures}


# ---- Tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("special_months", [False, True])
def test_record_facts_matches_a_defendant_by_defendant_loop(special_months: bool):
    rng = np.random.default_rng(11)
    defendants, category, removals = records(rng, prior_counts(rng, 3_000), special_months)
    facts = record_facts(defendants, category, removals)
    expected = oracle_record_facts(defendants, category, removals)
    for name in ("prior_kinds_mask", "aggravated_felony", "section_1326b"):
        got, want = getattr(facts, name), getattr(expected, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert facts.max_prior_sentence_months.dtype == np.float64
    # Bit for bit: no -0.0 where the oracle has 0.0.
    assert facts.max_prior_sentence_months.tobytes() == expected.max_prior_sentence_months.tobytes()
    assert facts.criminal_history_category is category
    assert facts.prior_removals is removals


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 5), max_size=40), seed=st.integers(0, 2**32))
def test_record_facts_any_layout_of_priors(counts: list[int], seed: int):
    # Empty batches, no priors at all, empty defendants first, last and in runs.
    rng = np.random.default_rng(seed)
    defendants, category, removals = records(rng, np.array(counts, dtype=np.int64))
    facts = record_facts(defendants, category, removals)
    expected = oracle_record_facts(defendants, category, removals)
    for name in ("prior_kinds_mask", "aggravated_felony", "section_1326b"):
        np.testing.assert_array_equal(getattr(facts, name), getattr(expected, name))
    assert facts.max_prior_sentence_months.tobytes() == expected.max_prior_sentence_months.tobytes()


def test_record_facts_rejects_offsets_that_do_not_cover_the_priors():
    rng = np.random.default_rng(3)
    defendants, category, removals = records(rng, np.array([1, 2]))
    short = Defendants(
        **{**defendants.__dict__, "prior_offsets": np.array([0, 1, 2], dtype=np.int64)}
    )
    with pytest.raises(ValueError, match="prior_offsets"):
        record_facts(short, category, removals)


@settings(max_examples=80, deadline=None)
@given(policy=policies, seed=st.integers(0, 2**32))
def test_apply_policy_matches_the_numpy_implementation(policy: dict, seed: int):
    rng = np.random.default_rng(seed)
    defendants, category, removals = records(rng, prior_counts(rng, 2_000), seed % 4 == 0)
    facts = record_facts(defendants, category, removals)
    u = policy_uniforms(rng, len(defendants))
    district = DistrictPolicy.model_validate(policy)
    assert_identical(apply_policy(district, facts, u), oracle_apply_policy(district, facts, u))


def test_statutory_charge_follows_section_1326b():
    facts = RecordFacts(
        criminal_history_category=np.ones(4, dtype=np.int8),
        prior_kinds_mask=np.zeros(4, dtype=np.int64),
        aggravated_felony=np.array([True, True, False, False]),
        section_1326b=np.array([True, False, True, False]),
        max_prior_sentence_months=np.zeros(4),
        prior_removals=np.zeros(4, dtype=np.int16),
    )
    charge = statutory_charge(facts)
    assert charge.dtype == np.int8
    assert [CONVICTIONS[c] for c in charge] == ["1326(b)(2)", "1326(b)(2)", "1326(b)(1)", "1326(a)"]


@settings(max_examples=80, deadline=None)
@given(judge=judges(), seed=st.integers(0, 2**32), narrow=st.booleans())
def test_impose_sentences_matches_the_numpy_implementation(judge: dict, seed: int, narrow: bool):
    rng = np.random.default_rng(seed)
    n = 3_000
    low = rng.integers(0, 300, n)
    high = low + rng.choice([0, 1, 2, 5, 6, 30, 100], n)
    statutory = np.where(rng.random(n) < 0.3, high + rng.integers(-10, 50, n), 240)
    cap = np.where(rng.random(n) < 0.5, np.inf, rng.choice([0.0, 24.0, 37.5, 60.0, 1e12], n))
    early = rng.integers(0, 5, n) * (rng.random(n) < 0.3)
    if narrow:  # the dtypes the engine may hand over
        low, high, early = low.astype(np.int32), high.astype(np.int32), early.astype(np.int8)
    u = JudgeUniforms(rng.random(n), rng.random(n))
    u.position[::11] = 0.0
    u.departure[::13] = judge["departures"].get("non_government_below_rate", {"value": 0.3})[
        "value"
    ]
    config = JudgeConfig.model_validate(judge)
    args = (config, low, high, statutory, cap, early, u)
    assert_identical(impose_sentences(*args), oracle_impose_sentences(*args))

"""District policy and the judge on hand-made defendants and uniforms.

Each case states the rule it checks; the uniforms are chosen so that the answer can be read off
them (a uniform below a probability means the event happens, in every district alike).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples
from pydantic import ValidationError

from sim.guidelines.durations import NEVER, months, years
from sim.guidelines.records import CONVICTIONS, PRIOR_KINDS, Priors, Records, kind_code
from sim.model.judge import (
    ABOVE,
    EARLY_DISPOSITION,
    GOVERNMENT_BELOW,
    NON_GOVERNMENT_BELOW,
    WITHIN,
    JudgeConfig,
    JudgeUniforms,
    impose_sentences,
)
from sim.model.policy import (
    MAX_OFFERS,
    DistrictPolicy,
    PolicyUniforms,
    apply_policy,
    record_facts,
    statutory_charge,
)


def batch(defendants: list[list[tuple]]) -> Records:
    """Records from per-defendant lists of (kind, felony, aggravated, months, removed after)."""
    rows = [prior for priors in defendants for prior in priors]
    p, n = len(rows), len(defendants)
    priors = Priors(
        kind=np.array([kind_code(r[0]) for r in rows], dtype=np.int8),
        felony=np.array([r[1] for r in rows], dtype=bool),
        aggravated_felony=np.array([r[2] for r in rows], dtype=bool),
        sentence_imposed_ticks=np.array([months(r[3]) for r in rows], dtype=np.int64),
        imposed_ago_ticks=np.full(p, years(5), dtype=np.int64),
        released_ago_ticks=np.full(p, NEVER, dtype=np.int64),
        before_first_removal=np.zeros(p, dtype=bool),
        removed_after_conviction=np.array([r[4] for r in rows], dtype=bool),
        foreign=np.zeros(p, dtype=bool),
        single_sentence_group=np.full(p, -1, dtype=np.int16),
        consecutive=np.zeros(p, dtype=bool),
    )
    counts = [len(priors) for priors in defendants]
    return Records(
        offense_date=np.full(n, np.datetime64("1995-08-01")),
        under_sentence=np.zeros(n, dtype=bool),
        zero_point_criteria_met=np.ones(n, dtype=bool),
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        priors=priors,
    )


THREE_MISDEMEANORS = [
    ("misdemeanor_drug", False, False, 1, True),
    ("misdemeanor_violent", False, False, 2, True),
    ("crime_of_violence", False, False, 3, True),
]
AGGRAVATED_AFTER_UNREMOVED_FELONY = [
    ("other_felony", True, False, 100, False),
    ("drug_trafficking", True, True, 40, True),
]


def test_record_facts_of_hand_made_records():
    records = batch([THREE_MISDEMEANORS, [], AGGRAVATED_AFTER_UNREMOVED_FELONY])
    facts = record_facts(records, np.array([2, 1, 5], np.int8), np.array([3, 1, 2], np.int16))
    # § 1326(b)(1) (1994): three misdemeanors involving drugs or crimes against the person.
    assert facts.section_1326b.tolist() == [True, False, True]
    assert facts.aggravated_felony.tolist() == [False, False, True]
    kinds = [
        {PRIOR_KINDS[k] for k in range(len(PRIOR_KINDS)) if mask >> k & 1}
        for mask in facts.prior_kinds_mask
    ]
    assert kinds == [
        {"misdemeanor_drug", "misdemeanor_violent", "crime_of_violence"},
        set(),
        {"other_felony", "drug_trafficking"},
    ]
    assert facts.max_prior_sentence_ticks.tolist() == [months(3), 0, months(100)]
    assert [CONVICTIONS[c] for c in statutory_charge(facts)] == [
        "1326(b)(1)",
        "1326(a)",
        "1326(b)(2)",
    ]


@examples(50)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(PRIOR_KINDS),
                st.booleans(),
                st.booleans(),
                st.integers(0, 300),
                st.booleans(),
            ),
            max_size=5,
        ),
        max_size=30,
    )
)
def test_record_facts_for_any_layout_follow_their_definitions(defendants):
    records = batch(defendants)
    n = len(defendants)
    facts = record_facts(records, np.ones(n, np.int8), np.ones(n, np.int16))
    for i, priors in enumerate(defendants):
        assert facts.prior_kinds_mask[i] == sum({1 << kind_code(p[0]) for p in priors})
        assert facts.max_prior_sentence_ticks[i] == max((months(p[3]) for p in priors), default=0)
        assert facts.aggravated_felony[i] == any(p[2] and p[4] for p in priors)
        # Deported after a felony or an aggravated felony (the `felony` prosecution rule).
        assert facts.felony[i] == any((p[1] or p[2]) and p[4] for p in priors)


def test_offsets_that_do_not_cover_the_priors_are_refused():
    records = batch([THREE_MISDEMEANORS])._replace(prior_offsets=np.array([0, 2], np.int64))
    with pytest.raises(ValueError, match="prior_offsets"):
        record_facts(records, np.ones(1, np.int8), np.ones(1, np.int16))


def _policy(**changes) -> DistrictPolicy:
    probability = {"value": 1.0, "unit": "probability", "source": "test"}
    policy = {
        "name": "Test District",
        "caseload_weight": {"value": 1, "unit": "cases", "source": "test"},
        "prosecution": {"eligible": "all", "probability": probability},
        "plea_probability": {"value": 0.5, "unit": "probability", "source": "test"},
        "plea_acceptance_levels": 3,
        "offers": [
            {
                "name": "charge bargain",
                "conviction": "1326(a)",
                "eligibility": {
                    "max_criminal_history_category": "IV",
                    "exclude_prior_kinds": ["firearms"],
                },
                "offer_probability": {"value": 0.8, "unit": "probability", "source": "test"},
                "acceptance_probability": probability,
            },
            {
                "name": "cap",
                "sentence_cap_months": {"value": 60, "unit": "months", "source": "test"},
                "eligibility": {"aggravated_felony": "required", "max_prior_sentence_months": 120},
                "offer_probability": probability,
                "acceptance_probability": {"value": 0.5, "unit": "probability", "source": "test"},
            },
        ],
    }
    return DistrictPolicy.model_validate({**policy, **changes})


def test_the_first_offer_eligible_extended_and_accepted_applies():
    records = batch(
        [
            AGGRAVATED_AFTER_UNREMOVED_FELONY,  # category III: takes offer 0
            AGGRAVATED_AFTER_UNREMOVED_FELONY,  # offer 0 not extended (0.9 >= 0.8): offer 1
            AGGRAVATED_AFTER_UNREMOVED_FELONY,  # category V: offer 1 declined (0.7 >= 0.5): plea
            [("firearms", True, True, 20, True)],  # excluded from 0, extended and accepted 1
            [("firearms", True, True, 200, True)],  # too long a prior for 1: no plea (0.6): trial
        ]
    )
    facts = record_facts(records, np.array([3, 3, 5, 2, 2], np.int8), np.ones(5, np.int16))
    extended = np.zeros((5, MAX_OFFERS))
    extended[1, 0] = 0.9
    accepted = np.zeros((5, MAX_OFFERS))
    accepted[2, 1] = 0.7
    u = PolicyUniforms(np.zeros(5), extended, accepted, np.array([0, 0, 0.2, 0, 0.6]))
    out = apply_policy(_policy(), facts, u)
    assert out.offer.tolist() == [0, 1, -1, 1, -1]
    assert [CONVICTIONS[c] for c in out.conviction] == [
        "1326(a)",
        "1326(b)(2)",
        "1326(b)(2)",
        "1326(b)(2)",
        "1326(b)(2)",
    ]
    assert out.sentence_cap_months.tolist() == [np.inf, 60, np.inf, 60, np.inf]
    assert out.pleaded.tolist() == [True, True, True, True, False]
    assert out.acceptance_levels.tolist() == [3, 3, 3, 3, 0]


@pytest.mark.parametrize(
    ("eligible", "prosecuted"),
    [
        ("all", [True, True, True]),
        ("section_1326b", [True, False, True]),
        # § 1326(b)(1)-(2) without the three-misdemeanour limb (the dissent's reading of C.D.).
        ("felony", [False, False, True]),
        ("aggravated_felony", [False, False, True]),
    ],
)
def test_prosecution_rules(eligible, prosecuted):
    records = batch([THREE_MISDEMEANORS, [], AGGRAVATED_AFTER_UNREMOVED_FELONY])
    facts = record_facts(records, np.ones(3, np.int8), np.ones(3, np.int16))
    u = PolicyUniforms(np.zeros(3), np.ones((3, 2)), np.ones((3, 2)), np.zeros(3))
    rule = {
        "eligible": eligible,
        "probability": {"value": 1.0, "unit": "probability", "source": "t"},
    }
    assert apply_policy(_policy(prosecution=rule), facts, u).prosecuted.tolist() == prosecuted


def _judge(position: str, **departures) -> JudgeConfig:
    return JudgeConfig.model_validate(
        {
            "range_position": {"distribution": position, "source": "test"},
            "departures": {
                name: {"value": value, "unit": "share", "source": "test"}
                for name, value in departures.items()
            },
        }
    )


def _sentence(judge, low, high, cap=np.inf, early=0, position=0.5, departure=0.99, maximum=240):
    out = impose_sentences(
        judge,
        np.array([low]),
        np.array([high]),
        np.array([maximum]),
        np.array([cap], dtype=float),
        np.array([early]),
        JudgeUniforms(np.array([position]), np.array([departure])),
    )
    return int(out.months[0]), int(out.position_category[0])


def test_range_positions():
    assert _sentence(_judge("bottom"), 70, 87) == (70, WITHIN)
    assert _sentence(_judge("top"), 70, 87) == (87, WITHIN)
    assert _sentence(_judge("middle"), 70, 87) == (78, WITHIN)  # (70 + 87) // 2
    # Uniform over the 18 whole months 70..87: position 0.5 is month 70 + floor(9) = 79.
    assert _sentence(_judge("uniform"), 70, 87, position=0.5) == (79, WITHIN)
    assert _sentence(_judge("uniform"), 70, 87, position=0.999) == (87, WITHIN)


def test_caps_departures_and_categories():
    # A stipulated cap below the range: other government-sponsored below range.
    assert _sentence(_judge("bottom"), 70, 87, cap=60) == (60, GOVERNMENT_BELOW)
    # Early disposition: a within-range sentence after a § 5K3.1 motion.
    assert _sentence(_judge("bottom"), 24, 30, early=4) == (24, EARLY_DISPOSITION)
    judge = _judge(
        "bottom",
        non_government_below_rate=0.1,
        non_government_below_fraction=0.25,
        above_rate=0.1,
        above_fraction=0.2,
    )
    # Below: floor(40 * 0.75) = 30.  Above: ceil(50 * 1.2) = 60, within the 240 maximum.
    assert _sentence(judge, 40, 50, departure=0.05) == (30, NON_GOVERNMENT_BELOW)
    assert _sentence(judge, 40, 50, departure=0.15) == (60, ABOVE)
    assert _sentence(judge, 40, 50, departure=0.15, maximum=55) == (55, ABOVE)
    assert _sentence(judge, 40, 50, departure=0.5) == (40, WITHIN)


def test_felony_rule_takes_a_removed_felony_without_an_aggravated_felony():
    # Deported after a (non-aggravated) felony: felony and section_1326b prosecute him,
    # aggravated_felony does not; charged under § 1326(b)(1) either way.
    records = batch(
        [[("other_felony", True, False, 20, True)], [("other_felony", True, False, 20, False)]]
    )
    facts = record_facts(records, np.ones(2, np.int8), np.ones(2, np.int16))
    u = PolicyUniforms(np.zeros(2), np.ones((2, 2)), np.ones((2, 2)), np.zeros(2))
    for rule, expected in (
        ("felony", [True, False]),
        ("section_1326b", [True, False]),
        ("aggravated_felony", [False, False]),
    ):
        prosecution = {
            "eligible": rule,
            "probability": {"value": 1.0, "unit": "probability", "source": "t"},
        }
        out = apply_policy(_policy(prosecution=prosecution), facts, u)
        assert out.prosecuted.tolist() == expected, rule
        assert CONVICTIONS[out.conviction[0]] == "1326(b)(1)"


def _declined(removal, referral, misdemeanor, months_1325=2):
    def share(value):
        return {"value": value, "unit": "share", "source": "t"}

    return {
        "administrative_removal": share(removal),
        "state_referral": share(referral),
        "section_1325": share(misdemeanor),
        "section_1325_months": {"value": months_1325, "unit": "months", "source": "t"},
    }


def test_declination_outcomes_read_the_shared_uniform():
    # Five defendants without priors, all declined by a section_1326b district. Shares 0.5 /
    # 0.2 / 0.3: u < 0.5 removal, 0.5 <= u < 0.7 referral, else § 1325 with 2 months.
    records = batch([[], [], [], [], []])
    facts = record_facts(records, np.ones(5, np.int8), np.ones(5, np.int16))
    u = PolicyUniforms(
        np.zeros(5),
        np.ones((5, 2)),
        np.ones((5, 2)),
        np.zeros(5),
        declined=np.array([0.0, 0.49, 0.5, 0.69, 0.7]),
    )
    prosecution = {
        "eligible": "section_1326b",
        "probability": {"value": 1.0, "unit": "probability", "source": "t"},
        "declined": _declined(0.5, 0.2, 0.3),
    }
    out = apply_policy(_policy(prosecution=prosecution), facts, u)
    assert out.prosecuted.tolist() == [False] * 5
    assert out.declined_outcome.tolist() == [0, 0, 1, 1, 2]
    assert out.declined_months.tolist() == [0, 0, 0, 0, 2]
    # A prosecuted defendant has no declination outcome.
    everyone = {**prosecution, "eligible": "all"}
    out = apply_policy(_policy(prosecution=everyone), facts, u)
    assert out.declined_outcome.tolist() == [-1] * 5


def test_declined_default_is_administrative_removal_labelled_an_assumption():
    policy = _policy()
    declined = policy.prosecution.declined
    assert declined.administrative_removal.value == 1.0
    assert declined.administrative_removal.assumption
    assert declined.state_referral.value == declined.section_1325.value == 0.0


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ((0.5, 0.2, 0.2, 2), "summing to 1"),
        ((0.5, 0.2, 0.3, 7), "0-6 (8 U.S.C. § 1325(a))"),
        ((0.5, 0.2, 0.3, 2.5), "whole months"),
    ],
)
def test_bad_declination_shares_are_refused(shares, message):
    prosecution = {
        "eligible": "all",
        "probability": {"value": 1.0, "unit": "probability", "source": "t"},
        "declined": _declined(*shares),
    }
    with pytest.raises(ValidationError, match=re.escape(message)):
        _policy(prosecution=prosecution)


def test_offers_carry_a_stipulated_sentence_or_floor():
    probability = {"value": 1.0, "unit": "probability", "source": "t"}
    offers = [
        {
            "name": "exact",
            "eligibility": {"aggravated_felony": "required", "source": "t", "assumption": True},
            "stipulated_sentence_months": {"value": 30, "unit": "months", "source": "t"},
            "offer_probability": probability,
            "acceptance_probability": probability,
        },
        {
            "name": "floor",
            "sentence_floor_months": {"value": 24, "unit": "months", "source": "t"},
            "sentence_cap_months": {"value": 60, "unit": "months", "source": "t"},
            "offer_probability": probability,
            "acceptance_probability": probability,
        },
    ]
    records = batch([AGGRAVATED_AFTER_UNREMOVED_FELONY, THREE_MISDEMEANORS])
    facts = record_facts(records, np.ones(2, np.int8), np.ones(2, np.int16))
    u = PolicyUniforms(np.zeros(2), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2))
    out = apply_policy(_policy(offers=offers), facts, u)
    assert out.offer.tolist() == [0, 1]
    assert out.stipulated_months.tolist() == [30, -1]
    assert out.sentence_floor_months.tolist() == [0, 24]
    assert out.sentence_cap_months.tolist() == [np.inf, 60]


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"stipulated_sentence_months": 30, "sentence_cap_months": 60}, "exact sentence"),
        ({"sentence_floor_months": 70, "sentence_cap_months": 60}, "a floor at most the cap"),
        ({"sentence_floor_months": 2.5}, "whole number"),
        ({"stipulated_sentence_months": 2.5}, "whole number"),
    ],
)
def test_contradictory_offer_terms_are_refused(terms, message):
    probability = {"value": 1.0, "unit": "probability", "source": "t"}
    offer = {
        "name": "x",
        "offer_probability": probability,
        "acceptance_probability": probability,
        **{k: {"value": v, "unit": "months", "source": "t"} for k, v in terms.items()},
    }
    with pytest.raises(ValidationError, match=message):
        _policy(offers=[offer])


def test_an_eligibility_assumption_needs_a_source():
    probability = {"value": 1.0, "unit": "probability", "source": "t"}
    offer = {
        "name": "x",
        "conviction": "1326(a)",
        "eligibility": {"max_prior_removals": 2, "assumption": True},
        "offer_probability": probability,
        "acceptance_probability": probability,
    }
    with pytest.raises(ValidationError, match="needs a source"):
        _policy(offers=[offer])


def _exact(judge, low, high, exact, maximum=240, early=0, floor=0.0, cap=np.inf, position=0.5):
    out = impose_sentences(
        judge,
        np.array([low]),
        np.array([high]),
        np.array([maximum]),
        np.array([cap], dtype=float),
        np.array([early]),
        JudgeUniforms(np.array([position]), np.array([0.99])),
        np.array([floor], dtype=float),
        np.array([exact], dtype=float),
    )
    return int(out.months[0]), int(out.position_category[0])


def test_a_stipulated_sentence_is_imposed_up_to_the_statutory_maximum():
    judge = _judge("top")
    # Rule 11(c)(1)(C): exactly 30 months whatever the range; the USSC class follows the range.
    assert _exact(judge, 70, 87, 30) == (30, GOVERNMENT_BELOW)
    assert _exact(judge, 24, 30, 30) == (30, WITHIN)
    assert _exact(judge, 24, 30, 27, early=4) == (27, EARLY_DISPOSITION)
    assert _exact(judge, 6, 12, 18) == (18, ABOVE)
    # Never above the statutory maximum of the conviction (§ 1326(a): 24 months).
    assert _exact(judge, 6, 12, 30, maximum=24) == (24, ABOVE)


def test_a_stipulated_floor_lifts_the_sentence():
    judge = _judge("bottom")
    # Bottom of 6-12 is 6; a 24-month floor lifts it above the range.
    assert _exact(judge, 6, 12, -1, floor=24) == (24, ABOVE)
    # A floor inside the range: within range.
    assert _exact(judge, 6, 12, -1, floor=9) == (9, WITHIN)
    # A floor below the chosen sentence changes nothing.
    assert _exact(judge, 30, 37, -1, floor=24) == (30, WITHIN)
    # Never above the statutory maximum.
    assert _exact(judge, 6, 12, -1, floor=30, maximum=24) == (24, ABOVE)
    # A floor lifting a capped sentence back into the range: within range.
    assert _exact(judge, 70, 87, -1, floor=72, cap=80) == (72, WITHIN)


def test_time_served_where_the_range_reaches_zero():
    judge = JudgeConfig.model_validate(
        {
            "range_position": {"distribution": "bottom", "source": "t"},
            "time_served_months": {"value": 3, "unit": "months", "source": "t", "assumption": True},
        }
    )
    # Bottom of 0-6 is 0: time served, 3 months, within the range.
    assert _sentence(judge, 0, 6) == (3, WITHIN)
    # Range 0-1: 3 months served lie above it.
    assert _sentence(judge, 0, 1) == (3, ABOVE)
    # A range that does not reach 0 is untouched.
    assert _sentence(judge, 1, 7) == (1, WITHIN)
    # A stipulated cap still binds (Rule 11(c)(1)(C)); the statutory maximum too.
    assert _sentence(judge, 0, 6, cap=2) == (2, WITHIN)
    assert _sentence(judge, 0, 6, maximum=2) == (2, WITHIN)
    # Without time served the bottom of 0-6 is 0 (the artifact issue 12 names).
    assert _sentence(_judge("bottom"), 0, 6) == (0, WITHIN)


def test_time_served_is_whole_months():
    with pytest.raises(ValidationError, match="whole number"):
        JudgeConfig.model_validate(
            {
                "range_position": {"distribution": "bottom", "source": "t"},
                "time_served_months": {"value": 2.5, "unit": "months", "source": "t"},
            }
        )

"""District policy and the judge on hand-made defendants and uniforms.

Each case states the rule it checks; the uniforms are chosen so that the answer can be read off
them (a uniform below a probability means the event happens, in every district alike).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

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

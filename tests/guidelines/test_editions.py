"""One test per edition boundary: the same record on each side of an amendment's effective date.

Each expectation is computed by hand from the amendment it names (docs/engine.md, guidelines.md).
"""

import pytest
from helpers import engine_summary


def prior(**overrides):
    base = {
        "kind": "other_felony",
        "felony": True,
        "aggravated_felony": False,
        "sentence_imposed_months": 24,
        "imposed_years_ago": 5,
        "released_years_ago": 4,
        "before_first_removal": True,
    }
    return {**base, **overrides}


def case(manual, *priors, **overrides):
    return {
        "manual": manual,
        "conviction": "1326(b)(2)",
        "acceptance": 0,
        "priors": list(priors),
        **overrides,
    }


def reentry_adjustments(result):
    return [(a["rule"], a["levels"]) for a in result["adjustments"] if "2L1.2" in a["rule"]]


def test_1996_to_1997_prior_illegal_reentry_felony():
    # 1991 text: +4 only for a felony "other than a felony involving violation of the immigration
    # laws"; Amend. 562 (Nov 1, 1997): "any other felony" +4.
    reentry = prior(kind="illegal_reentry")
    assert reentry_adjustments(engine_summary(case(1996, reentry))) == []
    assert reentry_adjustments(engine_summary(case(1997, reentry))) == [("§ 2L1.2(b)(1)(B)", 4)]


def test_1996_to_1997_three_misdemeanors():
    # Amend. 562 adds "three or more misdemeanor ... controlled-substance offenses" (+4).
    misdemeanors = [
        prior(
            kind="misdemeanor_drug",
            felony=False,
            sentence_imposed_months=1,
            imposed_years_ago=y,
            released_years_ago=None,
        )
        for y in (2, 3, 4)
    ]
    assert reentry_adjustments(engine_summary(case(1996, *misdemeanors))) == []
    assert reentry_adjustments(engine_summary(case(1997, *misdemeanors))) == [
        ("§ 2L1.2(b)(1)(B)", 4)
    ]


def test_2000_to_2001_short_drug_trafficking_aggravated_felony():
    # Amend. 632 (Nov 1, 2001): felony drug trafficking <= 13 months is +12, not +16.
    drug = prior(kind="drug_trafficking", aggravated_felony=True, sentence_imposed_months=12)
    assert reentry_adjustments(engine_summary(case(2000, drug))) == [("§ 2L1.2(b)(1)(A)", 16)]
    assert reentry_adjustments(engine_summary(case(2001, drug))) == [("§ 2L1.2(b)(1)(B)", 12)]


def test_2000_to_2001_non_aggravated_theft_and_aggravated_theft():
    # 2001 grades an aggravated felony that is not listed in (A) at +8 (C).
    theft = prior(aggravated_felony=True)
    assert reentry_adjustments(engine_summary(case(2000, theft))) == [("§ 2L1.2(b)(1)(A)", 16)]
    assert reentry_adjustments(engine_summary(case(2001, theft))) == [("§ 2L1.2(b)(1)(C)", 8)]


def test_2010_to_2011_old_drug_trafficking_prior_without_points():
    # Amend. 754 (Nov 1, 2011): (A) is +12 when the conviction receives no criminal history
    # points. A 36-month sentence imposed 20 and served out 18 years ago is outside § 4A1.2(e).
    old = prior(
        kind="drug_trafficking",
        aggravated_felony=True,
        sentence_imposed_months=36,
        imposed_years_ago=20,
        released_years_ago=18,
    )
    before, after = engine_summary(case(2010, old)), engine_summary(case(2011, old))
    assert before["criminal_history_points"] == after["criminal_history_points"] == 0
    assert reentry_adjustments(before) == [("§ 2L1.2(b)(1)(A)", 16)]
    assert reentry_adjustments(after) == [("§ 2L1.2(b)(1)(A)", 12)]


def test_2015_to_2016_cumulative_tiers():
    # Amend. 802 (Nov 1, 2016): (b)(1) reentry +4, (b)(2) before first removal by length,
    # (b)(3) after, cumulative. 2015: greatest single rule only.
    record = [
        prior(
            kind="drug_trafficking",
            aggravated_felony=True,
            sentence_imposed_months=30,
            imposed_years_ago=9,
            released_years_ago=7,
        ),
        prior(
            kind="illegal_reentry",
            sentence_imposed_months=18,
            imposed_years_ago=5,
            released_years_ago=4,
            before_first_removal=False,
        ),
        prior(
            kind="other_felony",
            sentence_imposed_months=6,
            imposed_years_ago=2,
            released_years_ago=1.5,
            before_first_removal=False,
        ),
    ]
    assert reentry_adjustments(engine_summary(case(2015, *record))) == [("§ 2L1.2(b)(1)(A)", 16)]
    assert reentry_adjustments(engine_summary(case(2016, *record))) == [
        ("§ 2L1.2(b)(1)(A)", 4),
        ("§ 2L1.2(b)(2)(B)", 8),
        ("§ 2L1.2(b)(3)(D)", 4),
    ]


def test_2017_to_2018_same_levels_on_these_inputs():
    # Amend. 809 (Nov 1, 2018) re-keys (b)(2)/(b)(3) on conduct; before_first_removal carries the
    # edition's question, so the levels agree.
    record = [prior(sentence_imposed_months=60), prior(before_first_removal=False)]
    expected = [("§ 2L1.2(b)(2)(A)", 10), ("§ 2L1.2(b)(3)(B)", 8)]
    assert reentry_adjustments(engine_summary(case(2017, *record))) == expected
    assert reentry_adjustments(engine_summary(case(2018, *record))) == expected


def test_2009_to_2010_recency_points_deleted():
    # Amend. 742 (Nov 1, 2010) struck § 4A1.1(e) recency: released 1 year ago -> +2 until 2009.
    recent = prior(released_years_ago=1)
    assert engine_summary(case(2009, recent))["criminal_history_points"] == 3 + 2
    assert engine_summary(case(2010, recent))["criminal_history_points"] == 3


def test_recency_is_one_point_with_status_points():
    recent = prior(released_years_ago=1)
    result = engine_summary(case(2009, recent, status="under_sentence"))
    assert result["criminal_history_points"] == 3 + 2 + 1


def test_2022_to_2023_status_points():
    # Amend. 821 Part A (Nov 1, 2023): status +1 only with 7 or more other points.
    two = [prior(), prior(imposed_years_ago=6)]  # 6 points
    three = [*two, prior(imposed_years_ago=7)]  # 9 points
    assert engine_summary(case(2022, *two, status="under_sentence"))["criminal_history_points"] == 8
    assert engine_summary(case(2023, *two, status="under_sentence"))["criminal_history_points"] == 6
    assert (
        engine_summary(case(2023, *three, status="under_sentence"))["criminal_history_points"] == 10
    )


def test_2022_to_2023_zero_point_offender():
    # Amend. 821 Part B: § 4C1.1 -2 for zero criminal history points; 8 - 2 - 2 = 4, I -> 0-6.
    before = engine_summary(case(2022, acceptance=2))
    after = engine_summary(case(2023, acceptance=2))
    assert before["total_offense_level"] == 6
    assert after["total_offense_level"] == 4
    assert after["adjustments"][-1] == {"rule": "§ 4C1.1", "levels": -2}
    unmet = engine_summary(case(2023, acceptance=2, zero_point_criteria_met=False))
    assert unmet["total_offense_level"] == 6


def test_2002_to_2003_early_disposition():
    # § 5K3.1 (App. C Amend. 651, eff. Oct 27, 2003): at most 4 levels after acceptance.
    with pytest.raises(ValueError, match=r"5K3\.1"):
        engine_summary(case(2002, acceptance=2, early_disposition_levels=4))
    result = engine_summary(
        case(
            2003,
            prior(aggravated_felony=True, kind="crime_of_violence"),
            acceptance=3,
            early_disposition_levels=4,
        )
    )
    # 8 + 16 - 3 - 4 = 17; one (a) sentence = 3 points, II -> 27-33.
    assert result["total_offense_level"] == 17
    assert result["adjustments"][-1] == {"rule": "§ 5K3.1", "levels": -4}
    assert result["guideline_range_months"] == [27, 33]


def test_2024_to_2025_early_disposition_relocated():
    # 2025 amendments moved the fast-track reduction to § 3F1.1 (secondary source; assumption).
    assert (
        engine_summary(case(2024, early_disposition_levels=2))["adjustments"][-1]["rule"]
        == "§ 5K3.1"
    )
    assert (
        engine_summary(case(2025, early_disposition_levels=2))["adjustments"][-1]["rule"]
        == "§ 3F1.1"
    )


def test_2009_to_2010_zones():
    # Three misdemeanor crimes of violence (2001 text (b)(1)(E), +4) minus 1 level of early
    # disposition: 8 + 4 - 1 = 11, category I -> 8-14: Zone C under Amend. 462 (1992),
    # Zone B under Amend. 738 (Nov 1, 2010). Probation-only sentences 11-13 years old earn no
    # points.
    misdemeanors = [
        prior(
            kind="misdemeanor_violent",
            felony=False,
            sentence_imposed_months=0,
            imposed_years_ago=y,
            released_years_ago=None,
        )
        for y in (11, 12, 13)
    ]
    for manual, zone in ((2009, "C"), (2010, "B")):
        result = engine_summary(
            case(manual, *misdemeanors, conviction="1326(a)", early_disposition_levels=1)
        )
        assert result["criminal_history_category"] == "I"
        assert result["total_offense_level"] == 11
        assert result["guideline_range_months"] == [8, 14]
        assert result["zone"] == zone

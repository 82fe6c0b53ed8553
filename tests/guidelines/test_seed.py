"""The founding opinion's numbers: United States v. Banuelos-Rodriguez, 215 F.3d 969 (9th Cir.
2000) (en banc), and the § 5G1.1 commentary examples."""

from helpers import engine_summary

from sim.guidelines.statutes import apply_5g1_1

AGGRAVATED_FELONY_SALE = {
    "kind": "drug_trafficking",
    "felony": True,
    "aggravated_felony": True,
    "sentence_imposed_months": 36,
    "imposed_years_ago": 8,
    "before_first_removal": True,
}
BANUELOS = {
    "manual": 1995,
    "offense_date": "1995-08-01",
    "conviction": "1326(b)(2)",
    "acceptance": 3,
    "criminal_history_category": "V",
    "priors": [AGGRAVATED_FELONY_SALE],
}


def test_banuelos_rodriguez_in_the_central_district():
    # "Base Offense (8) + Specific Offense Characteristics (16) - Acceptance of Responsibility (3)
    # = 21 ... category of V, the resulting sentencing range is 70 to 87 months" (at 972-73).
    result = engine_summary(BANUELOS)
    assert result["base_offense_level"] == 8
    assert result["adjustments"] == [
        {"rule": "§ 2L1.2(b)(2)", "levels": 16},
        {"rule": "§ 3E1.1", "levels": -3},
    ]
    assert result["total_offense_level"] == 21
    assert result["guideline_range_months"] == [70, 87]
    assert result["statutory_maximum_months"] == 240
    assert result["final_range_months"] == [70, 87]


def test_worst_offender_of_the_dissent():
    # "an offense level of 24 (base level 8 plus ... 16) and a criminal history of category of VI"
    # -> "as long as 125 months" (at 979).
    result = engine_summary({**BANUELOS, "acceptance": 0, "criminal_history_category": "VI"})
    assert result["total_offense_level"] == 24
    assert result["guideline_range_months"] == [100, 125]
    assert result["final_range_months"] == [100, 125]


def test_southern_district_deal_under_1326a_caps_at_24_months():
    # The S.D. Cal. offer: a plea under § 1326(a), "a statutory maximum sentence of two years".
    result = engine_summary({**BANUELOS, "conviction": "1326(a)"})
    assert result["guideline_range_months"] == [70, 87]
    assert result["statutory_maximum_months"] == 24
    assert result["final_range_months"] == [24, 24]


def test_flip_flop_plea_caps_at_30_months():
    # Majority fn. 2: a plea to § 1325 "carries a statutory maximum sentence of 30 months".
    result = engine_summary({**BANUELOS, "conviction": "1325-flip-flop"})
    assert result["statutory_maximum_months"] == 30
    assert result["final_range_months"] == [30, 30]


def test_section_5g1_1_commentary_examples():
    # USSG § 5G1.1 comment.: 51-63 with a 60-month maximum -> 51-60; with 48 -> 48.
    # apply_5g1_1 is the compiled function the engine's kernel calls.
    assert [apply_5g1_1(51, 63, 60), apply_5g1_1(51, 63, 48)] == [(51, 60), (48, 48)]


def test_section_5g1_1_on_a_real_case():
    # Offense level 8 + 10 (2018 § 2L1.2(b)(2)(A), a 60-month prior) = 18, category V -> 51-63;
    # § 1326(b)(1) before Sept 13, 1994 carried 5 years, so the range is truncated to 51-60.
    result = engine_summary(
        {
            "manual": 2018,
            "offense_date": "1994-06-01",
            "conviction": "1326(b)(1)",
            "criminal_history_category": "V",
            "acceptance": 0,
            "priors": [{**AGGRAVATED_FELONY_SALE, "sentence_imposed_months": 60}],
        }
    )
    assert result["total_offense_level"] == 18
    assert result["guideline_range_months"] == [51, 63]
    assert result["statutory_maximum_months"] == 60
    assert result["final_range_months"] == [51, 60]

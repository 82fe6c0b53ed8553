"""The worksheet a defender reads: wording, the section the edition in force prints, derived
aggravated-felony notes and warnings."""

from __future__ import annotations

import pytest

from sim.guidelines.casefile import CaseFile
from sim.guidelines.worksheet import build_worksheet


def lines(case: dict) -> list[str]:
    return build_worksheet(CaseFile.model_validate(case))["lines"]


def prior(**changes) -> dict:
    base = {
        "kind": "other_felony",
        "felony": True,
        "aggravated_felony": False,
        "sentence_imposed_months": 1,
        "imposed_years_ago": 1,
        "before_first_removal": True,
    }
    return {**base, **changes}


def test_one_month_one_year_is_singular():
    text = "\n".join(lines({"manual": 2018, "conviction": "1326(a)", "priors": [prior()]}))
    assert "1 month imposed 1 year ago" in text
    assert "1 months" not in text
    assert "1 years" not in text
    days = lines(
        {
            "manual": 2018,
            "conviction": "1326(a)",
            "priors": [
                prior(sentence_imposed_months=None, sentence_imposed_days=45, imposed_years_ago=2.5)
            ],
        }
    )
    assert any("45 days imposed 2.5 years ago" in line for line in days)


@pytest.mark.parametrize(
    ("manual", "label"),
    [(1995, "§ 4A1.2, comment. (n.3) (related cases)"), (2007, "§ 4A1.2(a)(2)")],
)
def test_single_sentences_cite_the_rule_in_force(manual, label):
    grouped = [prior(single_sentence_group=1), prior(single_sentence_group=1, consecutive=True)]
    text = lines({"manual": manual, "conviction": "1326(a)", "priors": grouped})
    assert any(line.startswith(f"{label} +0: prior 2") for line in text)
    assert any("(single sentence of 2 months)" in line for line in text)


@pytest.mark.parametrize(("manual", "item"), [(2009, "(f)"), (2010, "(e)"), (2023, "(d)")])
def test_crime_of_violence_point_carries_the_edition_s_letter(manual, item):
    violent = prior(kind="crime_of_violence", sentence_imposed_months=3, single_sentence_group=1)
    text = lines({"manual": manual, "conviction": "1326(a)", "priors": [violent, violent]})
    assert f"§ 4A1.1{item} +1: crime-of-violence sentences folded into a single sentence" in text


def test_derived_aggravated_felony_is_explained_and_flagged_for_review():
    robbery = prior(
        kind="crime_of_violence",
        aggravated_felony=None,
        sentence_imposed_months=36,
        imposed_years_ago=3,
    )
    text = lines(
        {
            "manual": 1995,
            "offense_date": "1995-08-01",
            "conviction": "1326(b)(1)",
            "priors": [robbery],
        }
    )
    note = text[-1]
    assert note.startswith("prior 1: Not an aggravated felony")
    assert "at least 5 years" in note
    assert "confirm with the categorical approach" in note
    given = lines(
        {
            "manual": 1995,
            "conviction": "1326(b)(1)",
            "priors": [{**robbery, "aggravated_felony": False}],
        }
    )
    assert not any("categorical approach" in line for line in given)


def test_a_1326b2_plea_without_an_aggravated_prior_is_flagged():
    text = lines({"manual": 2018, "conviction": "1326(b)(2)", "priors": [prior()]})
    assert text[2].startswith("Warning: convicted under 8 U.S.C. § 1326(b)(2), but no prior")
    fine = lines(
        {
            "manual": 2018,
            "conviction": "1326(b)(2)",
            "priors": [prior(kind="drug_trafficking", aggravated_felony=True)],
        }
    )
    assert not any(line.startswith("Warning") for line in fine)

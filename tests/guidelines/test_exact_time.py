"""Exact time at the lines the law draws: a total split into 2-30 consecutive terms lands on the
same side of 60 days, 13 months, two years and five years however it is split and ordered.

Each case is one single sentence of consecutive felony terms (2018 Manual), so its hand-computed
answer depends on the total alone: § 4A1.1(a) +3 above 13 months, (b) +2 from sixty days, else
(c) +1; § 2L1.2(b)(2)(A) from five years, (B) from two, (C) above 13 months, else (D). Engine and
scalar reference must both give it. Totals sit exactly on each line and one unit to either side.
"""

from fractions import Fraction

from helpers import engine_summary
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from sim.guidelines.reference import reference_worksheet

DAYS_PER_MONTH = Fraction(487, 16)  # docs/engine.md §3: a month is 365.25 / 12 days

#: (total, unit, hundredths?): months written with two decimals, days whole.
TOTALS = [
    *[(Fraction(m), "months") for m in (2, 13, 24, 60)],
    *[(Fraction(m) + d * Fraction(1, 100), "months") for m in (13, 24, 60) for d in (-1, 1)],
    *[(Fraction(d), "days") for d in (59, 60, 61, 395, 396, 730, 731, 1826, 1827)],
]


def expected(total_months: Fraction) -> tuple[int, dict]:
    """Criminal history points and the § 2L1.2(b)(2) adjustment for one sentence this long."""
    if total_months > 13:
        points = 3
    elif total_months >= 60 / DAYS_PER_MONTH:
        points = 2
    else:
        points = 1
    if total_months >= 60:
        rule, levels = "(A)", 10
    elif total_months >= 24:
        rule, levels = "(B)", 8
    elif total_months > 13:
        rule, levels = "(C)", 6
    else:
        rule, levels = "(D)", 4
    return points, {"rule": f"§ 2L1.2(b)(2){rule}", "levels": levels}


@st.composite
def split_sentences(draw):
    total, unit = draw(st.sampled_from(TOTALS))
    scale = 100 if unit == "months" else 1  # hundredths of a month, or whole days
    units = int(total * scale)
    parts = draw(st.integers(2, min(30, units)))
    cuts = sorted(draw(st.sets(st.integers(1, units - 1), min_size=parts - 1, max_size=parts - 1)))
    terms = [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]
    terms = draw(st.permutations(terms))
    key = "sentence_imposed_months" if unit == "months" else "sentence_imposed_days"
    priors = [
        {
            "kind": "other_felony",
            "felony": True,
            "aggravated_felony": False,
            key: (term / 100 if unit == "months" else term),
            "imposed_years_ago": 3,
            "released_years_ago": 2.5,
            "before_first_removal": True,
            "single_sentence_group": 7,
            "consecutive": True,
        }
        for term in terms
    ]
    months = total if unit == "months" else total / DAYS_PER_MONTH
    case = {"manual": 2018, "conviction": "1326(b)(1)", "acceptance": 2, "priors": priors}
    return case, months


@examples(300)
@given(split_sentences())
def test_split_totals_land_on_the_side_of_their_total(drawn):
    case, total_months = drawn
    points, adjustment = expected(total_months)
    for worksheet in (engine_summary(case), reference_worksheet(case)):
        assert worksheet["criminal_history_points"] == points
        assert worksheet["adjustments"][0] == adjustment

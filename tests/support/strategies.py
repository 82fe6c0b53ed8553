"""Hypothesis strategies for case files (docs/case-file.md).

``priors()`` draws lists of prior-conviction mappings and ``case_dicts()`` complete, valid case-file
mappings as ``yaml.safe_load`` would return them (``offense_date`` a ``datetime.date``). Values are
pushed towards the thresholds the rules turn on (sixty days, 13/24/60 months, 2/10/15 years,
Sept 13, 1994) and single-sentence groups use small ids so that groups actually form.
"""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

KINDS = (
    "drug_trafficking",
    "crime_of_violence",
    "firearms",
    "child_pornography",
    "national_security",
    "human_trafficking",
    "alien_smuggling",
    "other_felony",
    "illegal_reentry",
    "illegal_entry",
    "misdemeanor_violent",
    "misdemeanor_drug",
    "misdemeanor",
    "theft_or_burglary",
)
MISDEMEANOR_KINDS = ("misdemeanor_violent", "misdemeanor_drug", "misdemeanor")
CONVICTIONS = (
    "1326(a)",
    "1326(b)(1)",
    "1326(b)(2)",
    "1325(a)-first",
    "1325(a)-subsequent",
    "1325-flip-flop",
)
CATEGORIES = ("I", "II", "III", "IV", "V", "VI")

# Sixty days is 960 / 487 = 1.97125... months; four decimals fall on either side of it.
MONTH_THRESHOLDS = (
    0,
    0.5,
    1,
    1.97,
    1.9712,
    1.9713,
    1.98,
    2,
    12,
    12.99,
    13,
    13.01,
    14,
    23.99,
    24,
    24.5,
    59.99,
    60,
    61,
)
YEAR_THRESHOLDS = (0, 1, 1.99, 2, 2.01, 9.99, 10, 10.01, 11, 14.99, 15, 15.01, 16, 30)
#: Days at the thresholds: sixty days, 13 months (395.6875 days), two and five years.
DAY_THRESHOLDS = (0, 1, 59, 60, 61, 395, 396, 730, 731, 1826, 1827)
DATE_THRESHOLDS = (
    datetime.date(1988, 11, 18),
    datetime.date(1994, 9, 12),
    datetime.date(1994, 9, 13),
    datetime.date(1994, 9, 14),
)


def _two_decimals(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 2))


def sentence_months() -> st.SearchStrategy[float]:
    """Imprisonment imposed: 0, fractional, values at the thresholds, and large terms."""
    return st.one_of(
        st.just(0),
        st.sampled_from(MONTH_THRESHOLDS),
        _two_decimals(0, 72),
        st.integers(0, 120),
        st.integers(120, 600),
    )


def years_ago() -> st.SearchStrategy[float]:
    """Years before the instant offense, 0-30, often at the 2 / 10 / 15-year boundaries."""
    return st.one_of(
        st.sampled_from(YEAR_THRESHOLDS),
        st.integers(0, 30),
        _two_decimals(0, 30),
    )


def sentence_days() -> st.SearchStrategy[int]:
    """Imprisonment imposed in days, often at the thresholds."""
    return st.one_of(st.sampled_from(DAY_THRESHOLDS), st.integers(0, 2500))


@st.composite
def prior(draw, needs_first_removal: bool = True) -> dict:
    """One prior conviction, valid per the consistency rules of docs/case-file.md.

    ``needs_first_removal``: the Manual reads ``before_first_removal`` (2016 and later), so it is
    always given; otherwise it is sometimes left out.
    """
    kind = draw(st.sampled_from(KINDS))
    felony = False if kind in MISDEMEANOR_KINDS else draw(st.booleans())
    imposed = draw(years_ago())
    before_first_removal = draw(st.booleans())
    p = {
        "kind": kind,
        "felony": felony,
        "aggravated_felony": draw(st.booleans()) if felony else False,
        "imposed_years_ago": imposed,
    }
    if draw(st.integers(0, 3)) == 0:
        p["sentence_imposed_days"] = draw(sentence_days())
    else:
        p["sentence_imposed_months"] = draw(sentence_months())
    if needs_first_removal or draw(st.booleans()):
        p["before_first_removal"] = before_first_removal
    # released_years_ago: sometimes absent, otherwise at most imposed_years_ago.
    if draw(st.booleans()):
        candidates = [y for y in YEAR_THRESHOLDS if y <= imposed] + [imposed]
        released = draw(
            st.one_of(
                st.sampled_from(candidates),
                _two_decimals(0, imposed).map(lambda x: min(x, imposed)),
            )
        )
        p["released_years_ago"] = released
    # removed_after_conviction: must be true when before_first_removal is; optional (default true).
    removed = draw(st.sampled_from(("absent", True, False)))
    if before_first_removal and removed is False:
        removed = True
    if removed != "absent":
        p["removed_after_conviction"] = removed
    group = draw(st.one_of(st.none(), st.integers(1, 3)))
    if group is not None:
        p["single_sentence_group"] = group
    consecutive = draw(st.sampled_from(("absent", True, False)))
    if consecutive != "absent":
        p["consecutive"] = consecutive
    # foreign: rarely true (1 in 20), sometimes explicitly false, usually absent.
    foreign = draw(st.integers(0, 19))
    if foreign == 0:
        p["foreign"] = True
    elif foreign <= 3:
        p["foreign"] = False
    return p


def priors(needs_first_removal: bool = True) -> st.SearchStrategy[list[dict]]:
    """A list of 0-10 priors."""
    return st.lists(prior(needs_first_removal), min_size=0, max_size=10)


def offense_dates() -> st.SearchStrategy[datetime.date]:
    """Offense dates 1989-2026 (all on or after Nov 18, 1988), often around Sept 13, 1994."""
    return st.one_of(
        st.sampled_from(DATE_THRESHOLDS),
        st.dates(datetime.date(1994, 8, 1), datetime.date(1994, 10, 31)),
        st.dates(datetime.date(1989, 1, 1), datetime.date(2026, 12, 31)),
    )


@st.composite
def case_dicts(draw, manual: st.SearchStrategy[int] = st.integers(1995, 2025)) -> dict:  # noqa: B008
    """A complete, valid case-file mapping (docs/case-file.md)."""
    year = draw(manual)
    case: dict = {
        "manual": year,
        "conviction": draw(st.sampled_from(CONVICTIONS)),
        "acceptance": draw(st.sampled_from((0, 2, 3))),
        "early_disposition_levels": draw(st.integers(0, 4)) if year >= 2003 else 0,
        "status": draw(st.sampled_from(("none", "under_sentence"))),
    }
    # offense_date: optional (default Nov 1 of the manual year, always after Nov 18, 1988).
    if draw(st.booleans()):
        case["offense_date"] = draw(offense_dates())
    if draw(st.integers(0, 3)) == 0:
        case["criminal_history_category"] = draw(st.sampled_from(CATEGORIES))
    if draw(st.integers(0, 3)) == 0:
        case["criminal_history_points"] = draw(st.one_of(st.just(0), st.integers(0, 20)))
    if draw(st.integers(0, 2)) == 0:
        case["zero_point_criteria_met"] = draw(st.booleans())
    if draw(st.integers(0, 9)) == 0:
        case["name"] = "United States v. Generated"
    prior_list = draw(priors(needs_first_removal=year >= 2016))
    if prior_list or draw(st.booleans()):
        case["priors"] = prior_list
    return case

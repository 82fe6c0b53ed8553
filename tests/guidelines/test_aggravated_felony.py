"""8 U.S.C. § 1101(a)(43) as in force on the offense date: hand-checked oracles, each with its
source (docs/aggravated-felony.md), and the kernel against the per-prior explanation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from sim.guidelines.aggravated_felony import (
    ADAA_1988,
    AEDPA_1996,
    IIRIRA_1996,
    IMMACT_1990,
    INTCA_1994,
    READINGS,
    _calendar_ticks,
    classify_priors,
    explain_prior,
    law_in_force,
    period_label,
)
from sim.guidelines.durations import NEVER, calendar_ticks, days, months, years
from sim.guidelines.records import PRIOR_KINDS, Priors, Records, kind_code

D = dt.date
O_KINDS = ("illegal_reentry", "illegal_entry")


def ago(offense: dt.date, conviction: dt.date) -> int:
    """imposed_ago_ticks of a prior imposed on ``conviction``, as a case file gives it."""
    return calendar_ticks(conviction, offense)


def agg(kind, term, imposed_ago, offense, reading="statute", *, felony=True, basis=False, **kw):
    return explain_prior(kind, felony, term, imposed_ago, offense, basis, reading, **kw)[0]


def records(defendants) -> Records:
    """Records of ``[(offense_date or None, [prior dict, ...]), ...]``."""
    rows = [prior for _, priors in defendants for prior in priors]

    def col(name, dtype, default):
        return np.array([row.get(name, default) for row in rows], dtype=dtype)

    priors = Priors(
        kind=np.array([kind_code(row["kind"]) for row in rows], dtype=np.int8),
        felony=col("felony", np.bool_, True),
        aggravated_felony=np.zeros(len(rows), dtype=np.bool_),
        sentence_imposed_ticks=col("term", np.int64, 0),
        imposed_ago_ticks=col("ago", np.int64, 0),
        released_ago_ticks=col("released", np.int64, NEVER),
        before_first_removal=np.zeros(len(rows), dtype=np.bool_),
        removed_after_conviction=col("removed", np.bool_, False),
        foreign=col("foreign", np.bool_, False),
        single_sentence_group=np.full(len(rows), -1, dtype=np.int16),
        consecutive=np.zeros(len(rows), dtype=np.bool_),
    )
    n = len(defendants)
    counts = [len(priors) for _, priors in defendants]
    return Records(
        offense_date=np.array(
            [np.datetime64("NaT") if d is None else np.datetime64(d, "D") for d, _ in defendants],
            dtype="datetime64[D]",
        ),
        under_sentence=np.zeros(n, dtype=np.bool_),
        zero_point_criteria_met=np.zeros(n, dtype=np.bool_),
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        priors=priors,
    )


# --- crimes of violence: Immigration Act of 1990 (>= 5 years) [S: Tooby]; IIRIRA § 321(a)(3)
# ("at least one year") [V: 110 Stat. 3009-627/628] ---------------------------------------------


def test_crime_of_violence_36_months_is_aggravated_only_after_iirira():
    # The brief's oracle: 36 months, imposed 30 months before the offense.
    assert not agg("crime_of_violence", months(36), months(30), D(1995, 8, 1))
    assert agg("crime_of_violence", months(36), months(30), D(1996, 9, 30))


def test_five_year_term_boundary_before_iirira():
    offense, imposed = D(1995, 8, 1), ago(D(1995, 8, 1), D(1993, 2, 1))
    assert not agg("crime_of_violence", years(5) - 1, imposed, offense)
    assert agg("crime_of_violence", years(5), imposed, offense)


def test_one_year_term_boundary_from_iirira():
    offense, imposed = D(2000, 1, 1), years(3)
    assert not agg("crime_of_violence", years(1) - 1, imposed, offense)
    assert agg("crime_of_violence", years(1), imposed, offense)
    # IIRIRA's enactment day, Sept 30, 1996 [V]: the day before, one to four years is not enough.
    assert not agg("crime_of_violence", years(4), imposed, IIRIRA_1996 - dt.timedelta(1))
    assert agg("crime_of_violence", years(1), imposed, IIRIRA_1996)


def test_immigration_act_1990_boundaries():
    # Enacted Nov 29, 1990; reaches offenses committed on or after that day (§ 501(b)), Gomez-
    # Rodriguez (9th Cir. 1996) (en banc) [V]; offense taken as the conviction day (lag 0) [U].
    assert not agg("crime_of_violence", years(6), 0, D(1990, 11, 28))
    assert agg("crime_of_violence", years(6), 0, IMMACT_1990)
    day_before = days(1)  # convicted Nov 28, 1990
    assert not agg("crime_of_violence", years(6), day_before, IMMACT_1990)
    # Adkins (4th Cir. 1996) [S] measures the date against the § 1326 offense instead.
    assert agg("crime_of_violence", years(6), day_before, IMMACT_1990, "statute-adkins")
    # IIRIRA § 321(b): "regardless of whether the conviction was entered before" [V].
    assert agg("crime_of_violence", years(6), ago(D(1997, 1, 1), D(1980, 1, 1)), D(1997, 1, 1))


# --- theft and burglary: INTCA 1994 (>= 5 years) [S: Tooby]; IIRIRA (>= 1 year) [V] -----------


def test_theft_or_burglary_by_period():
    assert not agg("theft_or_burglary", years(6), 0, INTCA_1994 - dt.timedelta(1))
    assert agg("theft_or_burglary", years(6), 0, INTCA_1994)
    offense, imposed = D(1995, 8, 1), ago(D(1995, 8, 1), D(1995, 1, 10))
    assert not agg("theft_or_burglary", years(4), imposed, offense)
    assert not agg("theft_or_burglary", years(5) - 1, imposed, offense)
    assert agg("theft_or_burglary", years(5), imposed, offense)
    assert agg("theft_or_burglary", years(1), imposed, IIRIRA_1996)
    assert not agg("theft_or_burglary", years(1) - 1, imposed, IIRIRA_1996)


def test_intca_conviction_date_limit():
    # Assumption [U]: INTCA reached convictions entered on or after Oct 25, 1994.
    offense = D(1995, 8, 1)
    assert not agg("theft_or_burglary", years(6), ago(offense, D(1994, 10, 24)), offense)
    assert agg("theft_or_burglary", years(6), ago(offense, INTCA_1994), offense)


def test_misdemeanor_with_one_year_after_iirira():
    # United States v. Pacheco, 225 F.3d 148 (2d Cir. 2000): misdemeanors with a (suspended)
    # one-year term are (F)/(G) aggravated felonies; found in the U.S. Apr 4, 1999 [V].
    found = D(1999, 4, 4)
    assert agg("theft_or_burglary", years(1), years(3), found, felony=False)
    assert agg("misdemeanor_violent", years(1), years(3), found, felony=False)
    assert not agg("misdemeanor_violent", years(1), years(3), D(1996, 9, 29), felony=False)


# --- subparagraph (O): AEDPA, Apr 24, 1996 [S]; IIRIRA removes the conviction-date limit [V] ----


def test_subparagraph_o_from_aedpa():
    assert not agg("illegal_entry", months(6), 0, AEDPA_1996 - dt.timedelta(1), basis=True)
    assert agg("illegal_entry", months(6), 0, AEDPA_1996, basis=True)
    assert agg("illegal_reentry", months(24), 0, AEDPA_1996, basis=True)
    assert not agg("illegal_reentry", months(24), 0, AEDPA_1996, basis=True, felony=False)
    assert not agg("illegal_entry", months(6), 0, AEDPA_1996, basis=False)
    # Assumption [U]: AEDPA reached convictions entered on or after its enactment.
    assert not agg("illegal_entry", months(6), days(1), AEDPA_1996, basis=True)
    assert agg("illegal_entry", months(6), years(6), D(1997, 1, 1), basis=True)


# --- drug trafficking: ADAA 1988 [S: Tooby], whenever convicted [V: Matter of A-A-] -----------


def test_drug_trafficking_from_adaa():
    old = ago(ADAA_1988, D(1985, 3, 1))
    assert not agg("drug_trafficking", months(6), old, ADAA_1988 - dt.timedelta(1))
    assert agg("drug_trafficking", months(6), old, ADAA_1988)
    assert agg("drug_trafficking", 0, old, D(2010, 1, 1))  # no term required [S]
    assert not agg("drug_trafficking", months(6), old, D(2010, 1, 1), felony=False)  # [U]


def test_nothing_before_1988():
    for kind in PRIOR_KINDS:
        assert not agg(kind, years(20), years(1), D(1988, 11, 17), basis=True)


def test_never_aggravated_by_kind():
    for kind in ("other_felony", "misdemeanor", "misdemeanor_drug"):
        for reading in READINGS:
            assert not agg(kind, years(20), years(1), D(2020, 1, 1), reading)


# --- foreign convictions: 1990 Act, term completed within the previous 15 years [S] -----------


def test_foreign_window():
    kw = {"foreign": True}
    offense = D(2010, 1, 1)
    assert agg("drug_trafficking", years(1), years(20), offense, released_ago_ticks=years(15), **kw)
    assert not agg(
        "drug_trafficking", years(1), years(20), offense, released_ago_ticks=years(15) + 1, **kw
    )
    assert not agg("drug_trafficking", 0, years(2), offense, released_ago_ticks=NEVER, **kw)
    assert not agg(
        "drug_trafficking", years(1), years(2), D(1989, 6, 1), released_ago_ticks=1, **kw
    )


def test_adkins_foreign_1988_conviction():
    # United States v. Adkins, 102 F.3d 111 (4th Cir. 1996) [V facts]: South African cannabis
    # dealing, convicted Jan 27, 1988, 20 months; charged with § 1326 in July 1994 (the date used
    # here is an assumption). The Fourth Circuit counted it [S]; the Ninth Circuit's reading of
    # § 501(b) (Gomez-Rodriguez) would not.
    offense = D(1994, 7, 1)
    imposed = ago(offense, D(1988, 1, 27))
    kw = {"foreign": True, "released_ago_ticks": ago(offense, D(1989, 9, 27))}
    assert agg("drug_trafficking", months(20), imposed, offense, "statute-adkins", **kw)
    assert not agg("drug_trafficking", months(20), imposed, offense, "statute", **kw)


# --- alien smuggling and firearms: labelled assumptions --------------------------------------


def test_alien_smuggling_by_period():
    offense = D(1995, 8, 1)
    assert not agg("alien_smuggling", years(2), months(6), offense)  # default: not assumed [U]
    assert agg(
        "alien_smuggling", years(2), months(6), offense, smuggling_for_commercial_advantage=True
    )
    aedpa = D(1996, 6, 1)  # (N) with a term of at least 5 years [S]
    assert not agg("alien_smuggling", years(5) - 1, months(6), aedpa)
    assert agg("alien_smuggling", years(5), months(6), aedpa)
    assert agg("alien_smuggling", 0, years(10), D(1997, 1, 1))  # IIRIRA § 321(a)(8) [V]


def test_firearms_readings():
    # Trafficking: ADAA 1988 [S]; possession-type (E): INTCA 1994 [U]; Note 7 lists only
    # trafficking, and a § 922(g)(5) possession is not an aggravated felony under it:
    # United States v. Reyna-Espinosa, No. 96-40499 (5th Cir. July 11, 1997) [V: holding];
    # 12 months and a day; found Jan 1996; conviction date early 1995 (assumption).
    assert not agg("firearms", years(1), years(1), D(1989, 6, 1))
    assert agg("firearms", years(1), years(1), D(1989, 6, 1), firearms="trafficking")
    found, imposed, term = D(1996, 1, 15), ago(D(1996, 1, 15), D(1995, 1, 15)), years(1) + days(1)
    assert not agg("firearms", term, imposed, found, "guideline-1991")
    assert agg("firearms", term, imposed, found, "statute")
    assert agg("firearms", term, imposed, found, "guideline-1991", firearms="trafficking")


# --- the 1995 Manual: statute vs USSG § 2L1.2 comment. (n.7) (1991 text) [V] ------------------


def test_westcott_statute_and_guideline_differ():
    # United States v. Westcott, 966 F. Supp. 186 (S.D.N.Y. 1997) [V]: robbery, convicted May 17,
    # 1988, 5 1/2 to 11 years; reentry about March 1994: not an aggravated felon for § 1326(b)(2),
    # but the guideline's 16 levels apply.
    offense = D(1994, 3, 1)
    imposed = ago(offense, D(1988, 5, 17))
    assert not agg("crime_of_violence", months(66), imposed, offense, "statute")
    assert agg("crime_of_violence", months(66), imposed, offense, "guideline-1991")


def test_lazo_ortiz_and_the_offense_lag():
    # United States v. Lazo-Ortiz, 136 F.3d 1282 (11th Cir. 1998) [V]: manslaughter committed
    # Apr 19, 1990, convicted Mar 1, 1991, six years; found Apr 15, 1996; +16 under the 1995
    # Manual "irrespective of any difference" with the statute.
    found = D(1996, 4, 15)
    imposed = ago(found, D(1991, 3, 1))
    lag = calendar_ticks(D(1990, 4, 19), D(1991, 3, 1))
    assert agg("crime_of_violence", years(6), imposed, found, "guideline-1991")
    # Statute: the conviction-date proxy (lag 0) misses that the offense preceded Nov 29, 1990;
    # with the true lag, § 501(b) excludes it.
    assert agg("crime_of_violence", years(6), imposed, found, "statute")
    assert not agg("crime_of_violence", years(6), imposed, found, offense_lag_ticks=lag)
    # Exactly at the line: an offense on Nov 29, 1990 counts; one tick earlier does not.
    edge = calendar_ticks(IMMACT_1990, found) - imposed
    assert agg("crime_of_violence", years(6), imposed, found, offense_lag_ticks=edge)
    assert not agg("crime_of_violence", years(6), imposed, found, offense_lag_ticks=edge + 1)


def test_1995_readings_differ_on_theft():
    offense = D(1995, 8, 1)
    imposed = ago(offense, D(1995, 1, 10))
    assert agg("theft_or_burglary", years(6), imposed, offense, "statute")
    assert not agg("theft_or_burglary", years(6), imposed, offense, "guideline-1991")


def test_worked_example_robbery_three_years():
    # docs/aggravated-felony.md: a 1995 C.D. Cal. defendant with a 3-year robbery prior.
    offense, imposed = D(1995, 8, 1), ago(D(1995, 8, 1), D(1992, 6, 1))
    for reading in READINGS:
        assert not agg("crime_of_violence", years(3), imposed, offense, reading)
    assert agg("crime_of_violence", years(3), imposed, D(2025, 1, 1))


# --- labels, law numbers, errors ------------------------------------------------------------


def test_period_labels():
    assert "before the Anti-Drug Abuse Act" in period_label(D(1988, 11, 17))
    assert "as added by the Anti-Drug Abuse Act" in period_label(ADAA_1988)
    assert "Immigration Act of 1990" in period_label(IMMACT_1990)
    assert period_label(INTCA_1994) == (
        "8 U.S.C. § 1101(a)(43) as amended by INTCA 1994 (Pub. L. 103-416)"
    )
    assert "AEDPA" in period_label(AEDPA_1996)
    assert "IIRIRA § 321" in period_label(IIRIRA_1996)
    assert "comment. (n.7)" in period_label(D(1995, 8, 1), "guideline-1991")
    assert "Adkins" in period_label(D(1995, 8, 1), "statute-adkins")


def test_explanations_cite_the_subparagraph():
    ok, why = explain_prior("crime_of_violence", True, months(36), months(30), D(1995, 8, 1), False)
    assert not ok
    assert "§ 1101(a)(43)(F)" in why
    assert "at least 5 years; 3 years imposed" in why
    ok, why = explain_prior("illegal_entry", False, months(6), years(1), D(2001, 1, 1), True)
    assert ok
    assert "(O)" in why


def test_law_numbers():
    law = law_in_force(D(1995, 8, 1))
    cov = kind_code("crime_of_violence")
    assert law.defined[cov]
    assert law.min_term_ticks[cov] == years(5)
    assert law.earliest_conviction_day[cov] == (IMMACT_1990 - D(1970, 1, 1)).days
    assert not law.defined[kind_code("illegal_reentry")]
    assert law.in_force_from_day == (INTCA_1994 - D(1970, 1, 1)).days
    assert law.in_force_until_day == (AEDPA_1996 - D(1970, 1, 1)).days
    later = law_in_force(D(2020, 1, 1))
    assert later.min_term_ticks[cov] == years(1)
    assert later.needs_basis[kind_code("illegal_entry")]


def test_bad_arguments():
    with pytest.raises(ValueError, match="reading"):
        law_in_force(D(1995, 8, 1), "statute-9th")
    with pytest.raises(ValueError, match="firearms"):
        law_in_force(D(1995, 8, 1), firearms="possession")
    with pytest.raises(ValueError, match="prior kind"):
        explain_prior("robbery", True, 0, 0, D(1995, 8, 1), False)


# --- the kernel ------------------------------------------------------------------------------


@examples(200)
@given(st.dates(D(1900, 1, 1), D(2100, 12, 31)), st.dates(D(1900, 1, 1), D(2100, 12, 31)))
def test_calendar_count_matches_durations(a, b):
    earlier, later = min(a, b), max(a, b)
    epoch = D(1970, 1, 1)
    # The kernel helper as Python (same integer arithmetic); the compiled one is checked through
    # test_kernel_equals_explanation, whose explanations use durations.calendar_ticks.
    got = _calendar_ticks.py_func((earlier - epoch).days, (later - epoch).days)
    assert got == calendar_ticks(earlier, later)


def test_kernel_subparagraph_o_order_and_csr():
    later, old = years(2), years(5)
    cov = {"kind": "crime_of_violence", "term": years(3), "ago": old, "removed": True}
    reentry = {"kind": "illegal_reentry", "term": months(30), "ago": later}
    batch = records(
        [
            (D(2001, 1, 1), [cov, reentry]),  # basis earlier and removed: (O)
            (D(2001, 1, 1), [reentry]),  # another defendant's basis does not count
            (D(2001, 1, 1), [{**cov, "removed": False}, reentry]),  # not removed
            (D(2001, 1, 1), [{**cov, "ago": later}, reentry]),  # imposed together, not earlier
            (D(2001, 1, 1), [{**reentry, "ago": old, "removed": True}, reentry]),  # (O) not basis
            (None, [{"kind": "drug_trafficking", "term": 0, "ago": old}]),  # NaT: no date limit
        ]
    )
    got = classify_priors(batch, law_in_force(D(2001, 1, 1)))
    assert got.tolist() == [True, True, False, True, False, True, False, False, False, True]
    nat = records([(None, [{"kind": "crime_of_violence", "term": years(9), "ago": years(1)}])])
    assert not classify_priors(nat, law_in_force(D(1995, 8, 1)))[0]


BOUNDARY_DATES = (
    D(1988, 11, 17),
    ADAA_1988,
    D(1990, 11, 28),
    IMMACT_1990,
    D(1994, 10, 24),
    INTCA_1994,
    D(1996, 4, 23),
    AEDPA_1996,
    D(1996, 9, 29),
    IIRIRA_1996,
)
TERMS = (0, years(1) - 1, years(1), years(5) - 1, years(5))
AGOS = (0, days(1), years(1), years(6), years(10))

prior_strategy = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(PRIOR_KINDS),
        "felony": st.booleans(),
        "term": st.sampled_from(TERMS) | st.integers(0, years(10)),
        "ago": st.sampled_from(AGOS) | st.integers(0, years(30)),
        "released": st.sampled_from((NEVER, years(15), years(15) + 1)) | st.integers(0, years(20)),
        "removed": st.booleans(),
        "foreign": st.booleans(),
    }
)


@examples(100)
@given(
    offense=st.sampled_from(BOUNDARY_DATES) | st.dates(D(1986, 1, 1), D(2025, 12, 31)),
    defendants=st.lists(st.lists(prior_strategy, max_size=5), min_size=1, max_size=4),
    reading=st.sampled_from(READINGS),
    commercial=st.booleans(),
    firearms=st.sampled_from(("listed", "trafficking")),
    lag=st.sampled_from((0, days(316))),
)
def test_kernel_equals_explanation(offense, defendants, reading, commercial, firearms, lag):
    options = {
        "smuggling_for_commercial_advantage": commercial,
        "firearms": firearms,
        "offense_lag_ticks": lag,
    }
    law = law_in_force(offense, reading, **options)
    got = classify_priors(records([(offense, priors) for priors in defendants]), law)

    def explain(prior, basis):
        return explain_prior(
            prior["kind"],
            prior["felony"],
            prior["term"],
            prior["ago"],
            offense,
            basis,
            reading,
            foreign=prior["foreign"],
            released_ago_ticks=prior["released"],
            **options,
        )[0]

    want = []
    for priors in defendants:
        alone = [p["kind"] not in O_KINDS and explain(p, False) for p in priors]
        for j, prior in enumerate(priors):
            basis = any(
                alone[m] and other["removed"] and other["ago"] > prior["ago"]
                for m, other in enumerate(priors)
                if m != j
            )
            want.append(explain(prior, basis))
    assert got.tolist() == want

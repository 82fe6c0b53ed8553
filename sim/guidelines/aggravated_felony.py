"""8 U.S.C. § 1101(a)(43) "aggravated felony" as in force on the instant § 1326 offense date.

The definition grew Act by Act, and most Acts limited their additions to later convictions or
offenses. This module turns the law in force on one offense date into numbers
(:class:`AggravatedFelonyLaw`), classifies a batch of priors with a compiled kernel
(:func:`classify_priors`) and explains one prior in a line a defender reads
(:func:`explain_prior`). docs/aggravated-felony.md has the table by period with every source.

Marks: [V] primary text read (statute, opinion, Guidelines text as recorded in
shared/domain/guidelines.md); [S] secondary source only; [U] not verified: a labelled assumption.

Periods (instant offense date on or after the first day; each row adds to the one above):

* before 1988-11-18: the term does not exist [S: Tooby, *Evolution of the Definition of
  Aggravated Felony*]; nothing is aggravated.
* 1988-11-18, Anti-Drug Abuse Act of 1988 (Pub. L. 100-690): drug trafficking crimes and illicit
  firearms trafficking [S: Tooby], whenever the conviction [V: Matter of A-A-, 20 I&N Dec. 492
  (BIA 1992)]. No foreign convictions (the foreign clause came in 1990) [U].
* 1990-11-29, Immigration Act of 1990 (Pub. L. 101-649, § 501): crimes of violence with a term
  imposed of at least 5 years; foreign convictions whose term was completed within the previous
  15 years [S: Tooby]. § 501(b): only "offenses committed on or after" Nov 29, 1990 [V: United
  States v. Gomez-Rodriguez, 96 F.3d 1262 (9th Cir. 1996) (en banc)] -- reading ``"statute"``;
  the Fourth Circuit measured that date against the § 1326 offense instead [S: United States v.
  Adkins, 102 F.3d 111 (4th Cir. 1996)] -- reading ``"statute-adkins"``.
* 1994-10-25, INTCA (Pub. L. 103-416): theft/burglary with at least 5 years; child pornography;
  peonage, slavery and involuntary servitude; national security offenses; firearms offenses of
  subparagraph (E) [U] [S: Tooby for the rest]; alien smuggling "for the purpose of commercial
  advantage" [U: not found in a source read]; only convictions entered on or after Oct 25, 1994
  [U].
* 1996-04-24, AEDPA (Pub. L. 104-132): subparagraph (O), a § 1325(a) or § 1326 offense by an alien
  previously deported on the basis of an aggravated felony conviction [S: Tooby's quotation of
  (O)]; (N) alien smuggling with a term of at least 5 years [S: inferred from IIRIRA § 321(a)(3),
  (8) (V) and today's (N) (S)]; only convictions entered on or after Apr 24, 1996 [U].
* 1996-09-30, IIRIRA § 321 (Pub. L. 104-208, div. C): crimes of violence and theft/burglary with
  "at least one year"; (N) without a term [V: § 321(a)(3), (8)]; and "regardless of whether the
  conviction was entered before, on, or after" [V: § 321(b)]: no date limit on any category.

Reading ``"guideline-1991"``: USSG § 2L1.2 comment. (n.7), 1991 text (App. C, Amend. 375), in force
in the Nov 1991 to Nov 1996 Manuals [V: guidelines.md §2.2]: murder, drug trafficking, illicit
firearms trafficking, money laundering, crimes of violence with at least 5 years, foreign
convictions completed within 15 years, with no date limit (United States v. Lazo-Ortiz, 136 F.3d
1282 (11th Cir. 1998) [V]; United States v. Westcott, 966 F. Supp. 186 (S.D.N.Y. 1997) [V]); a
§ 922(g)(5) firearms possession is not on the list (United States v. Reyna-Espinosa,
No. 96-40499 (5th Cir. July 11, 1997) [V: holding]). From the Nov 1, 1997 Manual (Amend. 562) the
guideline uses the statute "without regard to the date of conviction" [V], which the
``"statute"`` reading gives for every offense date from Sept 30, 1996.

Default reading ``"statute"``: the function's contract is § 1101(a)(43) (what § 1326(b)(2)'s
maximum turns on, and what every Manual from Nov 1997 uses), and the default scenario is C.D. Cal.,
bound by the Ninth Circuit's Gomez-Rodriguez. A caller sentencing under a 1991-1996 Manual passes
``reading="guideline-1991"`` for § 2L1.2(b)(2): courts that decided the point applied Note 7.

Assumptions (each a keyword with a documented default; ranges in docs/aggravated-felony.md):

* A prior's conviction is its imposition, ``imposed_ago_ticks`` before the offense date, the
  duration counted by the calendar (whole months, then days: ``durations.calendar_ticks``, as case
  files give it); a prior given in whole days can land a day or two off at an effective-date line
  [U].
* ``offense_lag_ticks`` (default 0) [U]: time from a prior's offense to its conviction, used only
  for the 1990 Act's "offenses committed" limit (offense time = conviction time - lag).
* ``smuggling_for_commercial_advantage`` (default False) [U]: whether a 1994-96 alien smuggling
  prior was "for the purpose of commercial advantage"; not recorded, so not assumed.
* ``firearms`` (default ``"listed"``) [U]: a firearms prior is a possession-type offense of
  subparagraph (E) (aggravated from INTCA on); ``"trafficking"``: illicit firearms trafficking,
  aggravated from 1988 and under Note 7.
* A ``crime_of_violence`` is judged under the term-limited subparagraph (F); murder (no term since
  1988), rape and sexual abuse of a minor (no term since IIRIRA) are not told apart [U].
* Suspended terms count under the statute ("regardless of any suspension") but are not modelled:
  ``sentence_imposed_ticks`` excludes the suspended part [U], so short unsuspended terms understate.
* Foreign: "completed within the previous 15 years" is ``released_ago_ticks <= years(15)``
  (inclusive) [U]; never imprisoned (``NEVER``) is never aggravated [S: Tooby § 19.12].
* (O): another prior, aggravated under another subparagraph, imposed earlier, with
  ``removed_after_conviction``; that removal preceded the reentry conviction and was "on the basis
  of" it [U].
* Misdemeanors: IIRIRA's one-year (F) and (G) terms reach a misdemeanor with exactly one year
  (United States v. Pacheco, 225 F.3d 148 (2d Cir. 2000) [V]); drug trafficking needs a felony [U];
  ``misdemeanor``, ``misdemeanor_drug`` and ``other_felony`` are never aggravated by kind.

>>> import datetime
>>> from sim.guidelines.durations import months
>>> explain_prior("crime_of_violence", True, months(36), months(30), datetime.date(1995, 8, 1),
...               False)[0]
False
>>> explain_prior("crime_of_violence", True, months(36), months(30), datetime.date(1996, 9, 30),
...               False)[0]
True
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.durations import DAY, MONTH, NEVER, calendar_ticks, format_duration, years
from sim.guidelines.records import PRIOR_KINDS, Records

__all__ = [
    "ADAA_1988",
    "AEDPA_1996",
    "DEFAULT_READING",
    "FIREARMS_READINGS",
    "IIRIRA_1996",
    "IMMACT_1990",
    "INTCA_1994",
    "NO_LIMIT",
    "READINGS",
    "AggravatedFelonyLaw",
    "classify_priors",
    "explain_prior",
    "law_in_force",
    "period_label",
]

#: Effective dates (enactment) of the Acts that shaped § 1101(a)(43).
ADAA_1988 = datetime.date(1988, 11, 18)  # Pub. L. 100-690 [S: Tooby; V: Matter of A-A-]
IMMACT_1990 = datetime.date(1990, 11, 29)  # Pub. L. 101-649 [V: Gomez-Rodriguez]
INTCA_1994 = datetime.date(1994, 10, 25)  # Pub. L. 103-416 [V: 108 Stat. 4305 header]
AEDPA_1996 = datetime.date(1996, 4, 24)  # Pub. L. 104-132 [V: 110 Stat. 1214, as cited]
IIRIRA_1996 = datetime.date(1996, 9, 30)  # Pub. L. 104-208 [V: 110 Stat. 3009-628]

READINGS = ("statute", "statute-adkins", "guideline-1991")
DEFAULT_READING = "statute"
FIREARMS_READINGS = ("listed", "trafficking")

#: ``earliest_conviction_day`` of a rule without a date limit.
NO_LIMIT = -(2**62)
_NAT = np.iinfo(np.int64).min
_EPOCH = datetime.date(1970, 1, 1)
_N_KINDS = len(PRIOR_KINDS)
_K = {name: code for code, name in enumerate(PRIOR_KINDS)}

# Period index by instant offense date: 0 none, 1 ADAA, 2 IMMACT, 3 INTCA, 4 AEDPA, 5 IIRIRA.
_PERIOD_STARTS = (ADAA_1988, IMMACT_1990, INTCA_1994, AEDPA_1996, IIRIRA_1996)
_PERIOD_LABELS = (
    "no 'aggravated felony' in 8 U.S.C. § 1101(a) before the Anti-Drug Abuse Act of 1988 "
    "(Pub. L. 100-690, Nov. 18, 1988)",
    "8 U.S.C. § 1101(a)(43) as added by the Anti-Drug Abuse Act of 1988 (Pub. L. 100-690)",
    "8 U.S.C. § 1101(a)(43) as amended by the Immigration Act of 1990 (Pub. L. 101-649, § 501)",
    "8 U.S.C. § 1101(a)(43) as amended by INTCA 1994 (Pub. L. 103-416)",
    "8 U.S.C. § 1101(a)(43) as amended by AEDPA (Pub. L. 104-132, § 440(e))",
    "8 U.S.C. § 1101(a)(43) as amended by IIRIRA § 321 (Pub. L. 104-208, div. C)",
)
_GUIDELINE_LABEL = (
    "USSG § 2L1.2 comment. (n.7) (1991 text, App. C Amend. 375; Manuals of Nov 1991 to Nov 1996)"
)


class AggravatedFelonyLaw(NamedTuple):
    """The aggravated-felony law in force on one offense date, as numbers for a kernel.

    Per-kind arrays are indexed by kind code (:data:`~sim.guidelines.records.PRIOR_KINDS`).

    Attributes
    ----------
    defined : bool, the kind can be an aggravated felony at all
    min_term_ticks : int64, the term imposed must be at least this (0 = any, even none)
    earliest_conviction_day : int64, days since 1970-01-01: the conviction (imposition), less
        ``offense_lag_ticks``, must be on or after this day; :data:`NO_LIMIT` = any date
    offense_lag_ticks : int64, the assumed time from offense to conviction where an Act reaches
        offenses committed after a date (0 where it reaches convictions)
    requires_felony : bool, only a prior with ``felony`` true qualifies
    needs_basis : bool, subparagraph (O): needs an earlier aggravated prior followed by removal
    foreign_counted : a foreign conviction can qualify at all
    foreign_earliest_conviction_day, foreign_offense_lag_ticks : the same, for the foreign clause
    foreign_release_window_ticks : its term must have been completed within this
    period : index of the period (0 none, 1 ADAA 1988, ..., 5 IIRIRA)
    reading : index into :data:`READINGS`
    in_force_from_day, in_force_until_day : days since 1970-01-01 over which this law holds
        (``until`` exclusive); a batch's offense dates should fall in it
    """

    defined: np.ndarray
    min_term_ticks: np.ndarray
    earliest_conviction_day: np.ndarray
    offense_lag_ticks: np.ndarray
    requires_felony: np.ndarray
    needs_basis: np.ndarray
    foreign_counted: bool
    foreign_earliest_conviction_day: int
    foreign_offense_lag_ticks: int
    foreign_release_window_ticks: int
    period: int
    reading: int
    in_force_from_day: int
    in_force_until_day: int


class _Rule(NamedTuple):
    """How one kind qualifies in one period and reading."""

    min_term: int
    earliest: int  # days since 1970-01-01, or NO_LIMIT
    requires_felony: bool
    needs_basis: bool
    cite: str  # the subparagraph, e.g. "(F)"
    what: str  # the category in the statute's words, shortened
    mark: str  # [V]/[S]/[U] for the category and its term
    limit_why: str = ""  # the effective-date provision behind ``earliest``, with its mark
    lag: int = 0  # assumed offense-to-conviction ticks, for "offenses committed" limits


class _Law(NamedTuple):
    rules: dict[int, _Rule]
    foreign_counted: bool
    foreign_earliest: int
    foreign_lag: int
    foreign_mark: str
    foreign_limit_why: str
    period: int
    reading: int
    label: str


def _day(date: datetime.date) -> int:
    return (date - _EPOCH).days


def _period(offense_date: datetime.date) -> int:
    return sum(offense_date >= start for start in _PERIOD_STARTS)


def _check(reading: str, firearms: str, offense_lag_ticks: int) -> None:
    if reading not in READINGS:
        raise ValueError(f"reading {reading!r}: allowed: {', '.join(READINGS)}")
    if firearms not in FIREARMS_READINGS:
        raise ValueError(f"firearms {firearms!r}: allowed: {', '.join(FIREARMS_READINGS)}")
    if offense_lag_ticks < 0:
        raise ValueError(f"offense_lag_ticks {offense_lag_ticks}: allowed: 0 or more")


_IMMACT_WHY = (
    "the Immigration Act of 1990 § 501(b) reaches only offenses committed on or after "
    "1990-11-29 (United States v. Gomez-Rodriguez, 96 F.3d 1262 (9th Cir. 1996) (en banc)) [V]; "
    "offense date taken as conviction date less the assumed lag [U]"
)
_IMMACT_FOREIGN_WHY = (
    "foreign convictions came in with the Immigration Act of 1990, whose § 501(b) reaches only "
    "offenses committed on or after 1990-11-29 [V]; applying that limit to the foreign clause "
    "follows Gomez-Rodriguez (9th Cir.), while United States v. Adkins, 102 F.3d 111 (4th Cir. "
    "1996) counted a 1988 foreign conviction [S]; offense date taken as conviction date less the "
    "assumed lag [U]"
)
_INTCA_WHY = "INTCA 1994 is taken to reach only convictions entered on or after 1994-10-25 [U]"
_AEDPA_WHY = "AEDPA is taken to reach only convictions entered on or after 1996-04-24 [U]"


class _Limits(NamedTuple):
    """What the rules of one statutory period share: its date limits and terms."""

    period: int
    iirira: bool  # IIRIRA § 321 in force: no date limits, one-year terms
    immact: int  # earliest day of the 1990 Act's additions (offenses committed), or NO_LIMIT
    lag: int  # assumed offense-to-conviction ticks for ``immact`` (0 without that limit)
    intca: int  # earliest conviction day of INTCA's additions, or NO_LIMIT
    aedpa: int  # earliest conviction day of AEDPA's additions, or NO_LIMIT
    one_or_five: int  # the term of (F) and (G): one year from IIRIRA, five before
    term_mark: str  # the mark of that term

    def cite(self, letter: str) -> str:
        """``letter`` once the paragraph is lettered; "" (the unlettered text) before."""
        lettered = self.period >= 3  # INTCA 1994 wrote the paragraph as lettered subparagraphs [S]
        return letter if lettered else ""


def _limits(period: int, adkins: bool, lag: int) -> _Limits:
    """The date limits and terms of § 1101(a)(43) in ``period`` (1 or more)."""
    iirira = period >= 5
    # IIRIRA § 321(b): "regardless of whether the conviction was entered before, on, or after" [V].
    # Before it: the 1990 Act's "offenses committed on or after" limit [V] (Adkins: measured
    # against the § 1326 offense [S]); INTCA's and AEDPA's conviction limits [U].
    immact_limit = NO_LIMIT if (iirira or adkins) else _day(IMMACT_1990)
    return _Limits(
        period=period,
        iirira=iirira,
        immact=immact_limit,
        lag=0 if immact_limit == NO_LIMIT else lag,
        intca=NO_LIMIT if iirira else _day(INTCA_1994),
        aedpa=NO_LIMIT if iirira else _day(AEDPA_1996),
        one_or_five=years(1) if iirira else years(5),
        term_mark="[V]" if iirira else "[S]",
    )


def _drug_trafficking_rule(limits: _Limits) -> _Rule:
    """(B) drug trafficking, reached in every period."""
    # Drug trafficking: ADAA 1988 [S: Tooby]; whenever convicted [V: Matter of A-A-].
    return _Rule(
        0,
        NO_LIMIT,
        True,
        False,
        limits.cite("(B)"),
        "illicit trafficking in a controlled substance, "
        "including a drug trafficking crime (18 U.S.C. § 924(c))",
        "[S]",
    )


def _firearms_rule(limits: _Limits, firearms: str) -> _Rule | None:
    """A firearms prior under the ``firearms`` reading: (C) trafficking or (E) possession-type."""
    if firearms == "trafficking":  # ADAA 1988 [S: Tooby]; kind read as trafficking [U]
        return _Rule(
            0,
            NO_LIMIT,
            False,
            False,
            limits.cite("(C)"),
            "illicit trafficking in firearms or "
            "destructive devices; firearms prior read as trafficking (assumption)",
            "[S]",
        )
    if limits.period >= 3:  # INTCA 1994 subparagraph (E) [U]; kind read as an (E) offense [U]
        return _Rule(
            0,
            limits.intca,
            False,
            False,
            "(E)",
            "a firearms offense listed in subparagraph (E), "
            "e.g. 18 U.S.C. § 922(g); firearms prior read as possession-type (assumption)",
            "[U]",
            _INTCA_WHY,
        )
    return None


def _violence_rules(limits: _Limits) -> dict[int, _Rule]:
    """(F) crimes of violence, felony or misdemeanor, from the Immigration Act of 1990."""
    rule = _Rule(
        limits.one_or_five,
        limits.immact,
        False,
        False,
        limits.cite("(F)"),
        "a crime of violence (18 U.S.C. § 16)",
        limits.term_mark,
        _IMMACT_WHY,
        limits.lag,
    )
    return {_K[kind]: rule for kind in ("crime_of_violence", "misdemeanor_violent")}


def _intca_rules(limits: _Limits) -> dict[int, _Rule]:
    """The lettered additions of INTCA 1994: (G), (I), (K) and (L)."""
    intca = limits.intca
    return {
        _K["theft_or_burglary"]: _Rule(
            limits.one_or_five,
            intca,
            False,
            False,
            "(G)",
            "a theft offense (including receipt of stolen property) or burglary offense",
            limits.term_mark,
            _INTCA_WHY,
        ),
        _K["child_pornography"]: _Rule(
            0, intca, False, False, "(I)", "a child pornography offense", "[S]", _INTCA_WHY
        ),
        _K["human_trafficking"]: _Rule(
            0,
            intca,
            False,
            False,
            "(K)",
            "peonage, slavery or involuntary servitude",
            "[S]",
            _INTCA_WHY,
        ),
        _K["national_security"]: _Rule(
            0,
            intca,
            False,
            False,
            "(L)",
            "a national security offense (national defense "
            "information, classified information, sabotage, treason)",
            "[S]",
            _INTCA_WHY,
        ),
    }


def _smuggling_rule(limits: _Limits, commercial: bool) -> _Rule | None:
    """(N) alien smuggling, whose reach changed with each Act from INTCA 1994."""
    period, iirira = limits.period, limits.iirira
    if period == 3 and commercial:  # INTCA (N): "for the purpose of commercial advantage" [U]
        return _Rule(
            0,
            limits.intca,
            False,
            False,
            "(N)",
            "alien smuggling (8 U.S.C. § 1324(a)) for the "
            "purpose of commercial advantage, assumed though not recorded",
            "[U]",
            _INTCA_WHY,
        )
    if period == 4:  # AEDPA (N) with a term of at least 5 years [S], dated from INTCA [U]
        return _Rule(
            years(5),
            limits.intca,
            False,
            False,
            "(N)",
            "alien smuggling (8 U.S.C. § 1324(a)(1)(A) or (2))",
            "[S]",
            _INTCA_WHY,
        )
    if iirira:  # IIRIRA § 321(a)(8): no term; first-offense family exception not modelled [U]
        return _Rule(
            0,
            NO_LIMIT,
            False,
            False,
            "(N)",
            "alien smuggling (8 U.S.C. § 1324(a)(1)(A) or (2)); "
            "the first-offense family exception is not modelled",
            "[V]",
        )
    return None


def _reentry_rules(limits: _Limits) -> dict[int, _Rule]:
    """AEDPA's (O): § 1326 (a felony) and § 1325(a) after an aggravated-felony deportation."""
    return {
        _K[kind]: _Rule(
            0,
            limits.aedpa,
            felony,
            True,
            "(O)",
            "an offense under 8 U.S.C. § 1325(a) or "
            "§ 1326 by an alien previously deported on the basis of a conviction for an "
            "offense described in another subparagraph",
            "[S]",
            _AEDPA_WHY,
        )
        for kind, felony in (("illegal_reentry", True), ("illegal_entry", False))
    }


def _foreign_clause(limits: _Limits) -> tuple[bool, int, int, str, str]:
    """The foreign-conviction clause: (counted, limit day, its lag, mark, effective-date why)."""
    # foreign convictions: 1990 Act [S: Tooby]; dated like its other additions
    if limits.period >= 2:
        return True, limits.immact, limits.lag, "[S]", _IMMACT_FOREIGN_WHY
    return False, NO_LIMIT, 0, "[U]", ""


def _statute_rules(
    period: int, adkins: bool, commercial: bool, firearms: str, lag: int
) -> tuple[dict[int, _Rule], bool, int, int, str, str]:
    """Rules of § 1101(a)(43) in ``period``: (rules, foreign counted, foreign limit day, its lag,
    its mark, its effective-date provision)."""
    if period == 0:
        return {}, False, NO_LIMIT, 0, "[S]", ""
    limits = _limits(period, adkins, lag)
    rules = {_K["drug_trafficking"]: _drug_trafficking_rule(limits)}
    firearms_rule = _firearms_rule(limits, firearms)
    if firearms_rule is not None:
        rules[_K["firearms"]] = firearms_rule
    if period >= 2:  # Immigration Act of 1990: crimes of violence, >= 5 years [S: Tooby; V: G-R]
        rules.update(_violence_rules(limits))
    if period >= 3:  # INTCA 1994 [S: Tooby]
        rules.update(_intca_rules(limits))
    smuggling = _smuggling_rule(limits, commercial)
    if smuggling is not None:
        rules[_K["alien_smuggling"]] = smuggling
    if period >= 4:  # AEDPA (O) [S]
        rules.update(_reentry_rules(limits))
    return rules, *_foreign_clause(limits)


def _guideline_rules(firearms: str) -> tuple[dict[int, _Rule], bool, int, int, str, str]:
    """USSG § 2L1.2 comment. (n.7) (1991 text) [V: guidelines.md §2.2]; no date limits [V]."""
    rules = {
        _K["drug_trafficking"]: _Rule(
            0,
            NO_LIMIT,
            True,
            False,
            "n.7",
            "illicit trafficking in controlled substances, "
            "including drug trafficking crimes (18 U.S.C. § 924(c)(2))",
            "[V]",
        ),
    }
    for kind in ("crime_of_violence", "misdemeanor_violent"):
        rules[_K[kind]] = _Rule(
            years(5), NO_LIMIT, False, False, "n.7", "a crime of violence (18 U.S.C. § 16)", "[V]"
        )
    if firearms == "trafficking":
        rules[_K["firearms"]] = _Rule(
            0,
            NO_LIMIT,
            False,
            False,
            "n.7",
            "illicit trafficking in firearms or destructive "
            "devices; firearms prior read as trafficking (assumption)",
            "[V]",
        )
    return rules, True, NO_LIMIT, 0, "[V]", ""


def _law(
    offense_date: datetime.date,
    reading: str,
    smuggling_for_commercial_advantage: bool,
    firearms: str,
    offense_lag_ticks: int,
) -> _Law:
    _check(reading, firearms, offense_lag_ticks)
    period = _period(offense_date)
    if reading == "guideline-1991":
        rules, foreign, limit, lag, mark, why = _guideline_rules(firearms)
        label = _GUIDELINE_LABEL
    else:
        rules, foreign, limit, lag, mark, why = _statute_rules(
            period,
            reading == "statute-adkins",
            smuggling_for_commercial_advantage,
            firearms,
            int(offense_lag_ticks),
        )
        label = _PERIOD_LABELS[period]
        if reading == "statute-adkins" and period in (2, 3, 4):
            label += " (1990 effective date read as in United States v. Adkins (4th Cir. 1996))"
    return _Law(rules, foreign, limit, lag, mark, why, period, READINGS.index(reading), label)


def law_in_force(
    offense_date: datetime.date,
    reading: str = DEFAULT_READING,
    *,
    smuggling_for_commercial_advantage: bool = False,
    firearms: str = "listed",
    offense_lag_ticks: int = 0,
) -> AggravatedFelonyLaw:
    """The aggravated-felony law in force on ``offense_date`` (the instant offense), as numbers.

    >>> law = law_in_force(datetime.date(1995, 8, 1))
    >>> int(law.min_term_ticks[PRIOR_KINDS.index("crime_of_violence")]) == years(5)
    True
    >>> bool(law.needs_basis[PRIOR_KINDS.index("illegal_entry")])
    False
    """
    law = _law(
        offense_date, reading, smuggling_for_commercial_advantage, firearms, offense_lag_ticks
    )
    defined = np.zeros(_N_KINDS, dtype=np.bool_)
    min_term = np.zeros(_N_KINDS, dtype=np.int64)
    earliest = np.full(_N_KINDS, NO_LIMIT, dtype=np.int64)
    lag = np.zeros(_N_KINDS, dtype=np.int64)
    felony = np.zeros(_N_KINDS, dtype=np.bool_)
    basis = np.zeros(_N_KINDS, dtype=np.bool_)
    for kind, rule in law.rules.items():
        defined[kind] = True
        min_term[kind] = rule.min_term
        earliest[kind] = rule.earliest
        lag[kind] = rule.lag
        felony[kind] = rule.requires_felony
        basis[kind] = rule.needs_basis
    starts = (datetime.date(1, 1, 1), *_PERIOD_STARTS, datetime.date(9999, 12, 31))
    if reading == "guideline-1991":
        start, stop = starts[0], starts[-1]
    else:
        start, stop = starts[law.period], starts[law.period + 1]
    return AggravatedFelonyLaw(
        defined=defined,
        min_term_ticks=min_term,
        earliest_conviction_day=earliest,
        offense_lag_ticks=lag,
        requires_felony=felony,
        needs_basis=basis,
        foreign_counted=bool(law.foreign_counted),
        foreign_earliest_conviction_day=int(law.foreign_earliest),
        foreign_offense_lag_ticks=int(law.foreign_lag),
        foreign_release_window_ticks=int(years(15)),
        period=int(law.period),
        reading=int(law.reading),
        in_force_from_day=_day(start),
        in_force_until_day=_day(stop),
    )


def period_label(
    offense_date: datetime.date,
    reading: str = DEFAULT_READING,
    *,
    smuggling_for_commercial_advantage: bool = False,
    firearms: str = "listed",
    offense_lag_ticks: int = 0,
) -> str:
    """The text in force on ``offense_date`` under ``reading``.

    >>> period_label(datetime.date(1995, 8, 1))
    '8 U.S.C. § 1101(a)(43) as amended by INTCA 1994 (Pub. L. 103-416)'
    """
    return _law(
        offense_date, reading, smuggling_for_commercial_advantage, firearms, offense_lag_ticks
    ).label


@njit(cache=True)
def _civil(day):
    """(year, month, day) of ``day`` days since 1970-01-01 (proleptic Gregorian)."""
    z = day + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, doy - (153 * mp + 2) // 5 + 1


@njit(cache=True)
def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a (proleptic Gregorian) date."""
    y = year - (1 if month <= 2 else 0)
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


@njit(cache=True)
def _add_months(year, month, day, count):
    """Days since 1970-01-01 of the date ``count`` calendar months after the given one, its day
    clamped to the month's end."""
    m0 = month - 1 + count
    y, m = year + m0 // 12, m0 % 12 + 1
    length = _days_from_civil(y + m // 12, m % 12 + 1, 1) - _days_from_civil(y, m, 1)
    return _days_from_civil(y, m, min(day, length))


@njit(cache=True)
def _calendar_ticks(earlier, later):
    """Ticks from day ``earlier`` to day ``later`` (``earlier <= later``) as
    :func:`sim.guidelines.durations.calendar_ticks` counts them: whole calendar months, then days.
    Case files give ``imposed_ago_ticks`` this way, so a prior imposed on an Act's effective day is
    exactly that far back."""
    ey, em, ed = _civil(earlier)
    ly, lm, _ = _civil(later)
    count = (ly - ey) * 12 + lm - em
    shifted = _add_months(ey, em, ed, count)
    if shifted > later:
        count -= 1
        shifted = _add_months(ey, em, ed, count)
    return count * MONTH + (later - shifted) * DAY


@njit(cache=True)
def _window(earliest_day, lag, offense_day):
    """The most ticks before ``offense_day`` a prior may have been imposed and still fall on or
    after ``earliest_day`` (its offense ``lag`` ticks earlier), counted by the calendar: a prior
    qualifies when ``imposed_ago + lag <= calendar_ticks(earliest_day, offense_day)``. ``NEVER``
    without a limit, -1 when no prior can qualify."""
    if earliest_day == NO_LIMIT:
        return NEVER
    if offense_day == _NAT or offense_day < earliest_day:  # unknown date: a limit is not met
        return -1
    return _calendar_ticks(earliest_day, offense_day) - lag


@njit(cache=True)
def _windows(law, offense_day, windows):
    """Fill ``windows`` (one per kind, then the foreign clause's) for one offense date."""
    kinds = law.earliest_conviction_day.shape[0]
    for kind in range(kinds):
        windows[kind] = _window(
            law.earliest_conviction_day[kind], law.offense_lag_ticks[kind], offense_day
        )
    windows[kinds] = _window(
        law.foreign_earliest_conviction_day, law.foreign_offense_lag_ticks, offense_day
    )


class _Rules(NamedTuple):
    """The law's per-kind arrays and foreign-conviction numbers, as a kernel's locals."""

    defined: np.ndarray
    requires_felony: np.ndarray
    min_term_ticks: np.ndarray
    foreign_counted: bool
    foreign_release_window_ticks: int


@njit(cache=True, inline="always")
def _qualifies(kind, felony, term, ago, foreign, released, rules, windows):
    """A prior of these facts meets its kind's rule, (O)'s basis apart (``windows`` from
    :func:`_windows`; ``kind`` a valid code). Branch-free: the outcomes are unpredictable."""
    defined, requires_felony, min_term, foreign_counted, foreign_window = rules
    domestic_rule = (
        defined[kind]
        & (felony | (not requires_felony[kind]))
        & (term >= min_term[kind])
        & (ago <= windows[kind])
    )
    foreign_rule = (
        foreign_counted
        & (released != NEVER)
        & (released <= foreign_window)
        & (ago <= windows[defined.shape[0]])
    )
    return domestic_rule & ((not foreign) | foreign_rule)


@njit(cache=True)
def classify_priors(records: Records, law: AggravatedFelonyLaw) -> np.ndarray:
    """Whether each prior (CSR rows of ``records.priors``) is an aggravated felony under ``law``.

    ``law`` applies to every defendant; each prior's conviction date is its own defendant's offense
    date less ``imposed_ago_ticks``, counted by the calendar (whole months, then days) as case
    files count it; a NaT offense date fails every date-limited rule. Subparagraph (O) kinds need
    another prior of the same defendant that qualifies under another subparagraph, was imposed
    earlier (larger ``imposed_ago_ticks``) and was followed by removal
    (``removed_after_conviction``). The date limits are turned into bounds on ``imposed_ago``
    once per offense date (a batch usually has one).
    """
    # The arrays as locals: read from the tuples once, not at every access in the loops.
    priors = records.priors
    kinds, felony, term, ago = (
        priors.kind,
        priors.felony,
        priors.sentence_imposed_ticks,
        priors.imposed_ago_ticks,
    )
    released, foreign, removed = (
        priors.released_ago_ticks,
        priors.foreign,
        priors.removed_after_conviction,
    )
    needs_basis = law.needs_basis
    rules = _Rules(
        law.defined,
        law.requires_felony,
        law.min_term_ticks,
        law.foreign_counted,
        law.foreign_release_window_ticks,
    )
    days = records.offense_date.view(np.int64)
    offsets = records.prior_offsets
    if kinds.shape[0] and (kinds.min() < 0 or kinds.max() >= needs_basis.shape[0]):
        raise ValueError("a prior's kind code is outside the law's kinds")
    out = np.zeros(kinds.shape[0], dtype=np.bool_)
    windows = np.empty(law.defined.shape[0] + 1, dtype=np.int64)
    windows_day, known = _NAT, False
    for i in range(days.shape[0]):
        start, stop = offsets[i], offsets[i + 1]
        if start == stop:
            continue
        if not known or days[i] != windows_day:
            _windows(law, days[i], windows)
            windows_day, known = days[i], True
        basis_needed = False
        for j in range(start, stop):
            kind = kinds[j]
            own = _qualifies(
                kind, felony[j], term[j], ago[j], foreign[j], released[j], rules, windows
            )
            out[j] = own & (not needs_basis[kind])
            basis_needed |= needs_basis[kind]
        if not basis_needed:
            continue
        for j in range(start, stop):
            kind = kinds[j]
            if not needs_basis[kind]:
                continue
            if not _qualifies(
                kind, felony[j], term[j], ago[j], foreign[j], released[j], rules, windows
            ):
                continue
            for m in range(start, stop):
                if out[m] and not needs_basis[kinds[m]] and removed[m] and ago[m] > ago[j]:
                    out[j] = True
                    break
    return out


def _on_or_after_py(earliest_day: int, lag: int, offense: datetime.date, imposed_ago: int) -> bool:
    """:func:`_window`'s test for one prior, on :func:`~sim.guidelines.durations.calendar_ticks`."""
    if earliest_day == NO_LIMIT:
        return True
    earliest = _EPOCH + datetime.timedelta(days=earliest_day)
    return offense >= earliest and imposed_ago + lag <= calendar_ticks(earliest, offense)


def _term(ticks: int) -> str:
    return format_duration(ticks) if ticks else "no imprisonment"


def _unreached(kind: str, reading: str, source: str) -> str:
    """Why no category of the law in force reaches ``kind``."""
    name = kind.replace("_", " ")
    if kind in ("other_felony", "misdemeanor", "misdemeanor_drug"):
        return (
            f"Not an aggravated felony by kind: '{name}' is outside every "
            f"category this model classifies (assumption). {source} [U]."
        )
    mark = "[V]" if reading == "guideline-1991" else "[S]"
    return f"Not an aggravated felony: no category reaches '{name}'. {source} {mark}."


def _category(rule: _Rule) -> str:
    """The rule's category with its citation, ending in a comma, as the explanation quotes it."""
    if rule.cite == "n.7":
        return f"Note 7, {rule.what},"
    return f"§ 1101(a)(43){rule.cite or ' (unlettered text)'}, {rule.what},"


def _domestic_failure(
    rule: _Rule,
    what: str,
    felony: bool,
    sentence_imposed_ticks: int,
    imposed_ago_ticks: int,
    offense_date: datetime.date,
    source: str,
) -> str | None:
    """Why a prior fails its kind's felony, term or date requirement; None if it meets them."""
    if rule.requires_felony and not felony:
        return f"Not an aggravated felony: {what} needs a felony. {source} {rule.mark}."
    if sentence_imposed_ticks < rule.min_term:
        return (
            f"Not an aggravated felony: {what} needs a term of imprisonment of at "
            f"least {_term(rule.min_term)}; {_term(sentence_imposed_ticks)} imposed. "
            f"{source} {rule.mark}."
        )
    if not _on_or_after_py(rule.earliest, rule.lag, offense_date, imposed_ago_ticks):
        return f"Not an aggravated felony: {what} but {rule.limit_why}. {source}."
    return None


def _foreign_failure(
    law: _Law,
    what: str,
    imposed_ago_ticks: int,
    released_ago_ticks: int,
    offense_date: datetime.date,
    source: str,
) -> str | None:
    """Why a foreign prior fails the foreign-conviction clause; None if it meets it."""
    if not law.foreign_counted:
        return (
            f"Not an aggravated felony: foreign convictions are not reached. "
            f"{source} {law.foreign_mark}."
        )
    if released_ago_ticks == NEVER or released_ago_ticks > years(15):
        done = (
            "no term was served"
            if released_ago_ticks == NEVER
            else f"released {_term(released_ago_ticks)} before the offense"
        )
        return (
            f"Not an aggravated felony: a foreign conviction counts only if its "
            f"term of imprisonment was completed within the previous 15 years; "
            f"{done}. {source} {law.foreign_mark}."
        )
    if not _on_or_after_py(law.foreign_earliest, law.foreign_lag, offense_date, imposed_ago_ticks):
        why = f"for a foreign conviction, {law.foreign_limit_why}"
        return f"Not an aggravated felony: {what} but {why}. {source}."
    return None


def _basis_failure(rule: _Rule, what: str, deported: bool, source: str) -> str | None:
    """Why an (O) prior lacks its deportation basis; None if it has one or needs none."""
    if rule.needs_basis and not deported:
        return (
            f"Not an aggravated felony: {what} needs a deportation on the basis of an "
            f"earlier aggravated felony conviction; none recorded. {source} "
            f"{rule.mark}."
        )
    return None


def explain_prior(
    kind: str,
    felony: bool,
    sentence_imposed_ticks: int,
    imposed_ago_ticks: int,
    offense_date: datetime.date,
    previously_deported_after_aggravated: bool,
    reading: str = DEFAULT_READING,
    *,
    foreign: bool = False,
    released_ago_ticks: int = NEVER,
    smuggling_for_commercial_advantage: bool = False,
    firearms: str = "listed",
    offense_lag_ticks: int = 0,
) -> tuple[bool, str]:
    """Whether one prior is an aggravated felony on ``offense_date``, and one line saying why.

    ``previously_deported_after_aggravated``: for (O) kinds, the alien was deported on the basis
    of an earlier conviction that is an aggravated felony under another subparagraph.

    >>> from sim.guidelines.durations import months
    >>> ok, why = explain_prior("theft_or_burglary", True, months(36), months(6),
    ...                         datetime.date(2001, 1, 1), False)
    >>> ok, why.startswith("Aggravated felony")
    (True, True)
    """
    if kind not in _K:
        raise ValueError(f"prior kind {kind!r}: allowed: {', '.join(PRIOR_KINDS)}")
    law = _law(
        offense_date, reading, smuggling_for_commercial_advantage, firearms, offense_lag_ticks
    )
    source = f"{law.label}, in force on {offense_date.isoformat()}"
    if law.period == 0 and reading != "guideline-1991":
        return False, f"Not an aggravated felony: {source} [S]."
    rule = law.rules.get(_K[kind])
    if rule is None:
        return False, _unreached(kind, reading, source)
    what = _category(rule)
    # The first requirement the prior fails is the one the line gives.
    failure = _domestic_failure(
        rule, what, felony, sentence_imposed_ticks, imposed_ago_ticks, offense_date, source
    )
    if failure is None and foreign:
        failure = _foreign_failure(
            law, what, imposed_ago_ticks, released_ago_ticks, offense_date, source
        )
    if failure is None:
        failure = _basis_failure(rule, what, previously_deported_after_aggravated, source)
    if failure is not None:
        return False, failure
    term = f" {_term(sentence_imposed_ticks)} imposed." if rule.min_term else ""
    return True, f"Aggravated felony: {what[:-1]}.{term} {source} {rule.mark}."

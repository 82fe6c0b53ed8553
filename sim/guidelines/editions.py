"""The edition rulebook: everything that differs between Guidelines Manuals, as data, in one place.

A Manual year ``Y`` means the Guidelines Manual in force on November 1 of ``Y`` (amendments take
effect on November 1). :func:`edition` resolves a year once to an :class:`Edition` that holds every
edition-dependent switch and number: the § 2L1.2 text with each rule's levels and thresholds, the
Chapter Four item values, windows and labels, zones, acceptance, § 4C1.1 and early disposition.
The kernels receive these numbers; no other module decodes a Manual year. (The scalar reference,
``reference.py``, keeps its own literals on purpose: it is the independent check.)

The rulebook is a list of :class:`Revision`\\ s, each naming the amendments it carries and their
source (``../shared/domain/guidelines.md``, cited as *G* with its section): an edition is the
first revision with every later one up to its year applied in order. To encode the 2026 Manual,
append ``Revision(2026, ...)`` with what it changes (nothing, if nothing changed) and add corpus
cases (docs/engine.md §1 shows a worked example).

>>> e = edition(1995)
>>> e.reentry.name, e.criminal_history.recency_window_ticks == years(2)
('1991', True)
>>> e.early_disposition.max_levels, edition(2003).early_disposition.max_levels
(0, 4)
>>> edition(2018).reentry.characteristics[1].rules[2].label
'§ 2L1.2(b)(2)(C)'
>>> sorted({edition(y).reentry.name for y in range(FIRST_MANUAL, LAST_MANUAL + 1)})
['1991', '1997', '2001', '2011', '2016', '2018']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from sim.guidelines.durations import NEVER, days, format_duration, months, years

__all__ = [
    "FIRST_MANUAL",
    "LAST_MANUAL",
    "REVISIONS",
    "Acceptance",
    "Characteristic",
    "CriminalHistoryRules",
    "EarlyDisposition",
    "Edition",
    "ReentryRule",
    "ReentryText",
    "Revision",
    "ZeroPoint",
    "edition",
    "resolve",
]


# ---------------------------------------------------------------------------------------------
# § 2L1.2: each text as data. A kernel per text knows which prior a rule names (its structure);
# the levels, thresholds and counts it applies come from here.


@dataclass(frozen=True)
class ReentryRule:
    """One rule of a specific offense characteristic of § 2L1.2.

    ``levels`` apply; ``levels_without_points`` instead when the conviction receives no criminal
    history points (2011 text; equal to ``levels`` elsewhere). A sentence imposed meets the rule
    when it is at least ``min_sentence_ticks`` (0: none required), or exceeds it when
    ``min_exclusive`` ("exceeding one year and one month"), and is at most ``max_sentence_ticks``
    (``NEVER``: no limit). ``count`` > 0 makes it a count rule: that many qualifying sentences are
    needed.
    """

    label: str
    text: str
    levels: int
    levels_without_points: int | None = None
    min_sentence_ticks: int = 0
    min_exclusive: bool = False
    max_sentence_ticks: int = NEVER
    count: int = 0

    @property
    def per_prior(self) -> bool:
        """Whether one prior triggers it (rather than a count of sentences)."""
        return self.count == 0

    @property
    def without_points(self) -> int:
        return self.levels if self.levels_without_points is None else self.levels_without_points

    def describe(self) -> str:
        """The rule's text with its threshold written out."""
        return self.text.format(
            minimum=("exceeding " if self.min_exclusive else "of ")
            + format_duration(self.min_sentence_ticks)
            + ("" if self.min_exclusive else " or more"),
            maximum=format_duration(self.max_sentence_ticks)
            if self.max_sentence_ticks < NEVER
            else "",
            count=_COUNT_WORDS.get(self.count, str(self.count)),
        )


_COUNT_WORDS = {2: "two", 3: "three"}


@dataclass(frozen=True)
class Characteristic:
    """A specific offense characteristic: "apply the greatest" among its rules."""

    label: str
    rules: tuple[ReentryRule, ...]


@dataclass(frozen=True)
class ReentryText:
    """A text of § 2L1.2 (``name`` is the year of the amendment that wrote it)."""

    name: str
    source: str
    base_offense_level: int
    characteristics: tuple[Characteristic, ...]
    #: Which priors each rule names, i.e. which compiled kernel applies the numbers: the text whose
    #: structure this one shares ("1991", "1997", "2001" or "2016"). A new text with new numbers
    #: but an old structure needs no new kernel.
    structure: str
    #: (b)(2)/(b)(3) ask whether a conviction (2018: conduct) preceded the first removal order.
    uses_first_removal_order: bool = False
    #: The definition of "aggravated felony" the text uses (a reading of
    #: :mod:`sim.guidelines.aggravated_felony`): 8 U.S.C. § 1101(a)(43) as in force on the
    #: offense date, "without regard to the date of conviction" (Amend. 562, 1997), unless the
    #: text defines it itself.
    aggravated_felony_reading: str = "statute"

    def with_rule(self, label: str, **changes: object) -> ReentryText:
        """A copy with the rule labelled ``label`` changed (e.g. a new threshold).

        >>> text = TEXT_2018.with_rule("§ 2L1.2(b)(2)(C)", min_sentence_ticks=months(18),
        ...                            min_exclusive=False)
        >>> text.characteristics[1].rules[2].describe().endswith("imposed of 18 months or more")
        True
        """
        found = [r.label for c in self.characteristics for r in c.rules].count(label)
        if found != 1:
            raise ValueError(f"{label!r}: {found} rules have this label; allowed: exactly one")
        return replace(
            self,
            characteristics=tuple(
                replace(
                    c,
                    rules=tuple(replace(r, **changes) if r.label == label else r for r in c.rules),
                )
                for c in self.characteristics
            ),
        )

    @functools.cached_property
    def numbers(self) -> ReentryNumbers:
        """The numbers as arrays ``[characteristic, rule]`` for the compiled kernels."""
        shape = (len(self.characteristics), max(len(c.rules) for c in self.characteristics))

        def table(value) -> np.ndarray:
            out = np.zeros(shape, dtype=np.int64)
            for c, characteristic in enumerate(self.characteristics):
                for r, rule in enumerate(characteristic.rules):
                    out[c, r] = value(rule)
            out.setflags(write=False)
            return out

        return ReentryNumbers(
            base_offense_level=self.base_offense_level,
            levels=table(lambda rule: rule.levels),
            levels_without_points=table(lambda rule: rule.without_points),
            # The least sentence that meets the rule: "exceeding" is one tick more (exact).
            min_sentence_ticks=table(lambda rule: rule.min_sentence_ticks + rule.min_exclusive),
            max_sentence_ticks=table(lambda rule: rule.max_sentence_ticks),
            count=table(lambda rule: rule.count),
        )


class ReentryNumbers(NamedTuple):
    """A § 2L1.2 text's numbers for a kernel: arrays indexed ``[characteristic, rule]``."""

    base_offense_level: int
    levels: np.ndarray
    levels_without_points: np.ndarray
    min_sentence_ticks: np.ndarray
    max_sentence_ticks: np.ndarray
    count: np.ndarray


_BASE = 8  # § 2L1.2(a), every Manual since Jan 15, 1988 (App. C Amend. 38; G §2.1)

#: 1991 text (App. C Amends. 193, 375, 523), in force for the 1995 and 1996 Manuals; the seed
#: opinion quotes it (215 F.3d at 972). "If more than one applies, use the greater." (G §2.2)
TEXT_1991 = ReentryText(
    name="1991",
    source="USSG § 2L1.2 (Nov. 1, 1991), App. C Amends. 375 and 523; G §2.2",
    base_offense_level=_BASE,
    structure="1991",
    # Application Note 7 (1991 wording) defines "aggravated felony" itself; the courts that
    # decided the point applied it (Lazo-Ortiz, 136 F.3d 1282 (11th Cir. 1998); Westcott, 966 F.
    # Supp. 186 (S.D.N.Y. 1997)): docs/aggravated-felony.md.
    aggravated_felony_reading="guideline-1991",
    characteristics=(
        Characteristic(
            "§ 2L1.2(b)",
            (
                ReentryRule(
                    "§ 2L1.2(b)(2)", "deported after a conviction for an aggravated felony", 16
                ),
                ReentryRule(
                    "§ 2L1.2(b)(1)",
                    "deported after a conviction for a felony other than a felony involving "
                    "violation of the immigration laws",
                    4,
                ),
            ),
        ),
    ),
)

#: 1997 text (App. C Amend. 562, Nov 1, 1997): (b)(1)(A) +16, (B) +4 other felony or three
#: misdemeanor crimes of violence / controlled substance offenses. (G §2.1)
TEXT_1997 = ReentryText(
    name="1997",
    source="USSG § 2L1.2 (Nov. 1, 1997), App. C Amend. 562; G §2.1",
    base_offense_level=_BASE,
    structure="1997",
    characteristics=(
        Characteristic(
            "§ 2L1.2(b)(1)",
            (
                ReentryRule(
                    "§ 2L1.2(b)(1)(A)", "deported after a conviction for an aggravated felony", 16
                ),
                ReentryRule(
                    "§ 2L1.2(b)(1)(B)", "deported after a conviction for any other felony", 4
                ),
                ReentryRule(
                    "§ 2L1.2(b)(1)(B)",
                    "deported after {count} or more misdemeanor crimes of violence or misdemeanor "
                    "controlled substance offenses",
                    4,
                    count=3,
                ),
            ),
        ),
    ),
)


def _text_2001(name: str, source: str, points_tiers: bool) -> ReentryText:
    # App. C Amend. 632 (Nov 1, 2001), "Apply the Greatest"; Amend. 754 (Nov 1, 2011): (A) and (B)
    # four levels fewer when the conviction receives no criminal history points. (G §2.1, §2.3)
    thirteen = months(13)
    fewer = 4 if points_tiers else 0
    a_text = (
        "deported after a conviction for a felony drug trafficking offense with a sentence "
        "imposed {minimum}, crime of violence, firearms, child pornography, national security or "
        "terrorism, human trafficking or alien smuggling offense"
    )
    return ReentryText(
        name=name,
        source=source,
        base_offense_level=_BASE,
        structure="2001",
        characteristics=(
            Characteristic(
                "§ 2L1.2(b)(1)",
                (
                    ReentryRule(
                        "§ 2L1.2(b)(1)(A)",
                        a_text,
                        16,
                        16 - fewer,
                        min_sentence_ticks=thirteen,
                        min_exclusive=True,
                    ),
                    ReentryRule(
                        "§ 2L1.2(b)(1)(B)",
                        "deported after a conviction for a felony drug trafficking offense with "
                        "a sentence imposed of {maximum} or less",
                        12,
                        12 - fewer,
                        max_sentence_ticks=thirteen,
                    ),
                    ReentryRule(
                        "§ 2L1.2(b)(1)(C)",
                        "deported after a conviction for an aggravated felony",
                        8,
                    ),
                    ReentryRule(
                        "§ 2L1.2(b)(1)(D)", "deported after a conviction for any other felony", 4
                    ),
                    ReentryRule(
                        "§ 2L1.2(b)(1)(E)",
                        "deported after {count} or more convictions for misdemeanors that are "
                        "crimes of violence or drug trafficking offenses",
                        4,
                        count=3,
                    ),
                ),
            ),
        ),
    )


TEXT_2001 = _text_2001(
    "2001", "USSG § 2L1.2 (Nov. 1, 2001), App. C Amends. 632, 658; G §2.1", False
)
TEXT_2011 = _text_2001("2011", "USSG § 2L1.2 (Nov. 1, 2011), App. C Amend. 754; G §2.1, §2.3", True)


def _sentence_tiers(paragraph: str, when: str) -> Characteristic:
    # Amend. 802 (Nov 1, 2016): (b)(2) before, (b)(3) after the first order of removal, "Apply the
    # Greatest": five years or more +10, two years or more +8, exceeding one year and one month
    # +6, any other felony +4, three misdemeanor crimes of violence / drug trafficking +2. (G §2.4)
    felony = (
        f"{when} the first removal order: a felony (other than illegal reentry) with a sentence "
        "imposed {minimum}"
    )
    return Characteristic(
        f"§ 2L1.2{paragraph}",
        (
            ReentryRule(f"§ 2L1.2{paragraph}(A)", felony, 10, min_sentence_ticks=years(5)),
            ReentryRule(f"§ 2L1.2{paragraph}(B)", felony, 8, min_sentence_ticks=years(2)),
            ReentryRule(
                f"§ 2L1.2{paragraph}(C)",
                felony,
                6,
                min_sentence_ticks=months(13),
                min_exclusive=True,
            ),
            ReentryRule(
                f"§ 2L1.2{paragraph}(D)",
                f"{when} the first removal order: any other felony (other than illegal reentry)",
                4,
            ),
            ReentryRule(
                f"§ 2L1.2{paragraph}(E)",
                f"{when} the first removal order: {{count}} or more misdemeanor crimes of violence "
                "or drug trafficking offenses",
                2,
                count=3,
            ),
        ),
    )


def _text_2016(name: str, source: str) -> ReentryText:
    # (b)(1) "Apply the Greater": (A) a felony illegal reentry offense +4; (B) two or more
    # § 1325(a) misdemeanors +2. (b)(1), (b)(2) and (b)(3) are cumulative. (G §2.4)
    return ReentryText(
        name=name,
        source=source,
        base_offense_level=_BASE,
        structure="2016",
        uses_first_removal_order=True,
        characteristics=(
            Characteristic(
                "§ 2L1.2(b)(1)",
                (
                    ReentryRule(
                        "§ 2L1.2(b)(1)(A)",
                        "after a conviction for a felony that is an illegal reentry offense",
                        4,
                    ),
                    ReentryRule(
                        "§ 2L1.2(b)(1)(B)",
                        "after {count} or more convictions for misdemeanors under 8 U.S.C. "
                        "§ 1325(a)",
                        2,
                        count=2,
                    ),
                ),
            ),
            _sentence_tiers("(b)(2)", "before"),
            _sentence_tiers("(b)(3)", "after"),
        ),
    )


TEXT_2016 = _text_2016("2016", "USSG § 2L1.2 (Nov. 1, 2016), App. C Amend. 802; G §2.4")
#: Amend. 809 (Nov 1, 2018) keys (b)(2)/(b)(3) on when the criminal conduct occurred; on the
#: engine's inputs (``before_first_removal``) it computes as the 2016 text. (G §2.4)
TEXT_2018 = _text_2016("2018", "USSG § 2L1.2 (Nov. 1, 2018), App. C Amend. 809; G §2.4")


# ---------------------------------------------------------------------------------------------
# Chapter Four, Part A.


@dataclass(frozen=True)
class CriminalHistoryRules:
    """§ 4A1.1 and § 4A1.2 as one edition has them (G §3)."""

    source: str
    #: § 4A1.1(a) +3: "exceeding one year and one month" (a sentence longer than 13 months).
    item_a_exceeds_ticks: int = months(13)
    item_a_points: int = 3
    #: § 4A1.1(b) +2: "at least sixty days".
    item_b_at_least_ticks: int = days(60)
    item_b_points: int = 2
    item_c_points: int = 1
    #: § 4A1.1(c): "up to a total of 4 points for this item".
    item_c_cap: int = 4
    #: § 4A1.2(e)(1): over 13 months, imposed within (or served into) 15 years; (e)(2): 10 years.
    long_window_ticks: int = years(15)
    short_window_ticks: int = years(10)
    #: § 4A1.1(d) (1987-2022): 2 points; Amend. 821 (2023): 1 point, and only with 7 or more.
    status_points: int = 2
    status_min_other_points: int = 0
    status_item: str = "(d)"
    #: § 4A1.1(e) recency (Amend. 259, 1989; deleted by Amend. 742, 2010): released less than two
    #: years before; 2 points, 1 when status points were added. ``None``: no recency item.
    recency_window_ticks: int | None = years(2)
    recency_points: int = 2
    recency_points_with_status: int = 1
    recency_item: str = "(e)"
    #: § 4A1.1(f) (Amend. 382, 1991), (e) from 2010, (d) from 2023: crime-of-violence sentences
    #: folded into a single sentence, 1 point each, 3 at most.
    violent_item: str = "(f)"
    violent_cap: int = 3
    #: How several priors become one sentence: "related cases" (§ 4A1.2 n.3) before Amend. 709
    #: (Nov 1, 2007), the single-sentence rule of § 4A1.2(a)(2) after it. The engine applies one
    #: computation (a group's terms) to both; only the worksheet's citation differs. (G §3.2)
    single_sentence_label: str = "§ 4A1.2, comment. (n.3) (related cases)"

    @functools.cached_property
    def numbers(self) -> HistoryNumbers:
        """The numbers the criminal history kernel applies."""
        recency = self.recency_window_ticks
        return HistoryNumbers(
            item_a_exceeds_ticks=self.item_a_exceeds_ticks,
            item_a_points=self.item_a_points,
            item_b_at_least_ticks=self.item_b_at_least_ticks,
            item_b_points=self.item_b_points,
            item_c_points=self.item_c_points,
            item_c_cap=self.item_c_cap,
            long_window_ticks=self.long_window_ticks,
            short_window_ticks=self.short_window_ticks,
            status_points=self.status_points,
            status_min_other_points=self.status_min_other_points,
            recency_window_ticks=-1 if recency is None else recency,
            recency_points=self.recency_points,
            recency_points_with_status=self.recency_points_with_status,
            violent_cap=self.violent_cap,
        )


class HistoryNumbers(NamedTuple):
    """Chapter Four's numbers for the criminal history kernel (ticks and points)."""

    item_a_exceeds_ticks: int
    item_a_points: int
    item_b_at_least_ticks: int
    item_b_points: int
    item_c_points: int
    item_c_cap: int
    long_window_ticks: int
    short_window_ticks: int
    status_points: int
    status_min_other_points: int
    recency_window_ticks: int  # -1: no recency item
    recency_points: int
    recency_points_with_status: int
    violent_cap: int


CRIMINAL_HISTORY_1995 = CriminalHistoryRules(
    source="USSG § 4A1.1(a)-(f), § 4A1.2 (Nov. 1, 1995): 1987 text, Amends. 259, 382; G §3.1"
)
CRIMINAL_HISTORY_2007 = replace(
    CRIMINAL_HISTORY_1995,
    source="USSG § 4A1.1, § 4A1.2 (Nov. 1, 2007), App. C Amend. 709; G §3.2, §3.3",
    single_sentence_label="§ 4A1.2(a)(2)",
)
CRIMINAL_HISTORY_2010 = replace(
    CRIMINAL_HISTORY_2007,
    source="USSG § 4A1.1 (Nov. 1, 2010), App. C Amend. 742; G §3.3",
    recency_window_ticks=None,
    violent_item="(e)",
)
CRIMINAL_HISTORY_2023 = replace(
    CRIMINAL_HISTORY_2010,
    source="USSG § 4A1.1 (Nov. 1, 2023), App. C Amend. 821 Part A [S for the wording]; G §3.3",
    status_points=1,
    status_min_other_points=7,
    status_item="(e)",
    violent_item="(d)",
)


# ---------------------------------------------------------------------------------------------
# Chapters Three and Five.


@dataclass(frozen=True)
class Acceptance:
    """§ 3E1.1 (Amend. 459, Nov 1, 1992): −2; a third level when the offense level before (a) is
    at least ``third_level_min_offense_level``. (G §4)"""

    source: str
    third_level_min_offense_level: int = 16
    #: PROTECT Act § 401(g) (Apr 30, 2003): the third level only on the government's motion.
    third_level_on_motion: bool = False


@dataclass(frozen=True)
class ZeroPoint:
    """§ 4C1.1 (Amend. 821 Part B, Nov 1, 2023): −``levels`` for zero-point offenders. (G §3.3)"""

    source: str
    levels: int = 2


@dataclass(frozen=True)
class EarlyDisposition:
    """Early-disposition departure: at most ``max_levels`` on the government's motion. (G §5.1)"""

    source: str
    max_levels: int = 0
    section: str = "§ 5K3.1"


#: Zone ceilings: the greatest range minimum (months) of zones A, B and C; above is zone D.
#: 1992 definitions (App. C Amend. 462): A 0, B 1-6, C 8-10; 2010 (Amend. 738): A 0, B 1-9,
#: C 10-12. Minima between the printed bands (7, 11, 13, 14) occur in no table cell. (G §1.3)
ZONES_1992 = (0, 6, 10)
ZONES_2010 = (0, 9, 12)


# ---------------------------------------------------------------------------------------------
# Editions and the rulebook.


@dataclass(frozen=True)
class Edition:
    """The Guidelines Manual in force on November 1 of ``year``.

    Attributes
    ----------
    year : int
    sources : tuple of str
        The revisions that made it, oldest first, each with its amendments and source.
    reentry : ReentryText
    criminal_history : CriminalHistoryRules
    acceptance : Acceptance
    zero_point : ZeroPoint or None
        § 4C1.1, or None where it does not exist.
    early_disposition : EarlyDisposition
        ``max_levels`` 0 where no early-disposition departure exists.
    zone_ceilings : tuple of int
    """

    year: int
    sources: tuple[str, ...]
    reentry: ReentryText
    criminal_history: CriminalHistoryRules
    acceptance: Acceptance
    zero_point: ZeroPoint | None
    early_disposition: EarlyDisposition
    zone_ceilings: tuple[int, int, int]

    @property
    def effective(self) -> dt.date:
        """The day the edition took effect."""
        return dt.date(self.year, 11, 1)

    @property
    def default_offense_date(self) -> dt.date:
        """The offense date assumed when a case gives none (**assumption**: the day the edition
        took effect; docs/engine.md §2)."""
        return self.effective

    @functools.cached_property
    def numbers(self) -> EditionNumbers:
        """Everything the compiled kernels read, computed once per edition."""
        zero = self.zero_point
        ceilings = np.array(self.zone_ceilings, dtype=np.int64)
        ceilings.setflags(write=False)
        return EditionNumbers(
            history=self.criminal_history.numbers,
            reentry=self.reentry.numbers,
            third_level_min_offense_level=self.acceptance.third_level_min_offense_level,
            zero_point_levels=0 if zero is None else zero.levels,
            max_early_disposition_levels=self.early_disposition.max_levels,
            zone_ceilings=ceilings,
        )


class EditionNumbers(NamedTuple):
    """An edition's numbers for the kernels."""

    history: HistoryNumbers
    reentry: ReentryNumbers
    third_level_min_offense_level: int
    zero_point_levels: int
    max_early_disposition_levels: int
    zone_ceilings: np.ndarray


@dataclass(frozen=True)
class Revision:
    """What changed with the Manual of ``year``, and where it is written.

    Fields other than ``year`` and ``source`` replace the edition's part of the same name; ``None``
    keeps it (``zero_point`` is set by passing a :class:`ZeroPoint`).
    """

    year: int
    source: str
    reentry: ReentryText | None = None
    criminal_history: CriminalHistoryRules | None = None
    acceptance: Acceptance | None = None
    zero_point: ZeroPoint | None = None
    early_disposition: EarlyDisposition | None = None
    zone_ceilings: tuple[int, int, int] | None = None


#: The rulebook, oldest first. The first entry states every part; later ones only what changed.
REVISIONS: tuple[Revision, ...] = (
    Revision(
        1995,
        "Nov. 1, 1995 Manual, the seed opinion's (215 F.3d at 972 n.3)",
        reentry=TEXT_1991,
        criminal_history=CRIMINAL_HISTORY_1995,
        acceptance=Acceptance("USSG § 3E1.1, App. C Amend. 459 (Nov. 1, 1992); G §4"),
        early_disposition=EarlyDisposition(
            "none: USSG § 5K3.1 took effect Oct. 27, 2003 (App. C Amend. 651)"
        ),
        zone_ceilings=ZONES_1992,
    ),
    Revision(1997, "App. C Amend. 562: § 2L1.2 rewritten", reentry=TEXT_1997),
    Revision(2001, "App. C Amends. 632, 658: § 2L1.2 graded +16/+12/+8/+4/+4", reentry=TEXT_2001),
    Revision(
        2003,
        "App. C Amend. 651 (§ 5K3.1, eff. Oct. 27, 2003); PROTECT Act § 401(g) (§ 3E1.1(b) on "
        "the government's motion, eff. Apr. 30, 2003)",
        acceptance=Acceptance(
            "USSG § 3E1.1, Amend. 459; PROTECT Act § 401(g), Amend. 649; G §4",
            third_level_on_motion=True,
        ),
        early_disposition=EarlyDisposition(
            "USSG § 5K3.1, App. C Amend. 651; G §5.1", max_levels=4, section="§ 5K3.1"
        ),
    ),
    Revision(
        2007,
        "App. C Amend. 709: the single-sentence rule of § 4A1.2(a)(2) replaces related cases",
        criminal_history=CRIMINAL_HISTORY_2007,
    ),
    Revision(
        2010,
        "App. C Amend. 738 (zones) and Amend. 742 (recency points deleted; (f) becomes (e))",
        criminal_history=CRIMINAL_HISTORY_2010,
        zone_ceilings=ZONES_2010,
    ),
    Revision(2011, "App. C Amend. 754: § 2L1.2 (A)/(B) depend on points", reentry=TEXT_2011),
    Revision(2016, "App. C Amend. 802: § 2L1.2 restructured", reentry=TEXT_2016),
    Revision(2018, "App. C Amend. 809: § 2L1.2 keyed on conduct", reentry=TEXT_2018),
    Revision(
        2023,
        "App. C Amend. 821: status points (e) +1 only with 7 or more; § 4C1.1 zero-point offenders",
        criminal_history=CRIMINAL_HISTORY_2023,
        zero_point=ZeroPoint("USSG § 4C1.1, App. C Amend. 821 Part B; G §3.3"),
    ),
    Revision(
        2025,
        "2025 amendments: early disposition moved to § 3F1.1 (secondary source; assumption: the "
        "same 0-4 levels)",
        early_disposition=EarlyDisposition(
            "USSG § 3F1.1 (Nov. 1, 2025) [S: 90 Fed. Reg. 19798]; assumption: 0-4 levels; G §5.1",
            max_levels=4,
            section="§ 3F1.1",
        ),
    ),
)

FIRST_MANUAL = REVISIONS[0].year
#: The last edition encoded: the year of the last revision.
LAST_MANUAL = REVISIONS[-1].year


@functools.cache
def edition(year: int) -> Edition:
    """The Guidelines Manual in force on November 1 of ``year``.

    Raises
    ------
    ValueError
        A year before :data:`FIRST_MANUAL` or after :data:`LAST_MANUAL`.
    """
    return resolve(year, REVISIONS)


def resolve(year: int, revisions: tuple[Revision, ...]) -> Edition:
    """The edition of ``year`` under a rulebook ``revisions`` (oldest first; the first states
    every part). :func:`edition` is this with :data:`REVISIONS`, cached."""
    year = int(year)
    first, last = revisions[0].year, revisions[-1].year
    if not first <= year <= last:
        raise ValueError(f"manual {year} is not encoded; allowed: {first}-{last}")
    first = revisions[0]
    parts = {
        field.name: getattr(first, field.name)
        for field in dataclasses.fields(Revision)
        if field.name not in ("year", "source")
    }
    sources = [f"{first.year}: {first.source}"]
    for revision in revisions[1:]:
        if revision.year > year:
            break
        sources.append(f"{revision.year}: {revision.source}")
        for name in parts:
            value = getattr(revision, name)
            if value is not None:
                parts[name] = value
    return Edition(year=year, sources=tuple(sources), **parts)

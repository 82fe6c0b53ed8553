"""USSG § 2L1.2 (Unlawfully Entering or Remaining in the United States), every text 1995-2025.

Texts and the Manuals they govern (``../shared/domain/guidelines.md`` §2; docs/engine.md §4):

========  ==========  =====================================================================
variant   Manuals     source
========  ==========  =====================================================================
1991      1995-1996   App. C Amends. 375 (1991) and 523 (1995): +16 aggravated felony, else
                      +4 felony other than an immigration-law felony; "use the greater"
1997      1997-2000   Amend. 562: (b)(1)(A) +16 aggravated felony; (B) +4 other felony or
                      three misdemeanor crimes of violence / controlled-substance offenses
2001      2001-2010   Amends. 632, 658: (b)(1)(A)-(E) +16/+12/+8/+4/+4, "apply the greatest"
2011      2011-2015   Amend. 754: (A) +16 with criminal history points, else +12; (B) +12/+8
2016      2016-2017   Amend. 802: cumulative (b)(1), (b)(2), (b)(3) by sentence length
2018      2018-2025   Amend. 809: (b)(2)/(b)(3) keyed on conduct; same levels
========  ==========  =====================================================================

Within a specific offense characteristic only the greatest applicable rule counts; each rule is
scored ``levels * 32 + (31 - rule_index)`` so that the greatest level wins and, on a tie, the rule
printed first in the guideline does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.guidelines.criminal_history import CriminalHistory
from sim.guidelines.groups import SentenceGroups, segment_count, segment_first, segment_max
from sim.guidelines.records import IMMIGRATION_LAW_KINDS, PRIOR_KINDS, Defendants, kind_code

__all__ = [
    "BASE_OFFENSE_LEVEL",
    "OffenseCharacteristic",
    "ReentryOffenseLevel",
    "Rule",
    "compute_reentry_offense_level",
    "reentry_variant",
]

#: § 2L1.2(a), every Manual since Jan 15, 1988 (App. C Amend. 38).
BASE_OFFENSE_LEVEL = 8


@dataclass(frozen=True)
class Rule:
    """One rule of a specific offense characteristic, as the worksheet names it."""

    label: str
    text: str
    per_prior: bool = True


@dataclass(frozen=True)
class OffenseCharacteristic:
    """The outcome of one "apply the greatest" specific offense characteristic.

    ``levels``, ``rule_index`` (into ``rules``, -1 when none applies) and ``trigger_prior`` (global
    prior row that triggered it, -1 for none or for a count rule) have shape (n,).
    """

    rules: tuple[Rule, ...]
    levels: np.ndarray
    rule_index: np.ndarray
    trigger_prior: np.ndarray


@dataclass(frozen=True)
class ReentryOffenseLevel:
    """§ 2L1.2 offense level: base plus each specific offense characteristic, shape (n,)."""

    variant: str
    characteristics: tuple[OffenseCharacteristic, ...]
    offense_level: np.ndarray


def reentry_variant(manual: int) -> str:
    """The § 2L1.2 text in force on Nov 1 of ``manual``.

    >>> [reentry_variant(y) for y in (1995, 1997, 2001, 2011, 2016, 2018, 2025)]
    ['1991', '1997', '2001', '2011', '2016', '2018', '2018']
    """
    for start, variant in (
        (2018, "2018"),
        (2016, "2016"),
        (2011, "2011"),
        (2001, "2001"),
        (1997, "1997"),
    ):
        if manual >= start:
            return variant
    return "1991"


def _kind_in(kind: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    # A lookup table indexed by kind code: one gather instead of a set-membership search.
    table = np.zeros(len(PRIOR_KINDS), dtype=bool)
    table[[kind_code(name) for name in names]] = True
    return table[kind]


def _greatest(
    rules: tuple[Rule, ...], levels: list[np.ndarray], defendants: Defendants
) -> OffenseCharacteristic:
    """Apply the greatest rule; ``levels[r]`` is (p,) for per-prior rules, (n,) for count rules."""
    offsets = defendants.prior_offsets
    n, p = len(defendants), len(defendants.priors)
    prior_score = np.zeros(p, dtype=np.int64)
    defendant_score = np.zeros(n, dtype=np.int64)
    for index, (rule, level) in enumerate(zip(rules, levels, strict=True)):
        score = np.where(level > 0, level.astype(np.int64) * 32 + (31 - index), 0)
        if rule.per_prior:
            prior_score = np.maximum(prior_score, score)
        else:
            defendant_score = np.maximum(defendant_score, score)
    best = np.maximum(segment_max(prior_score, offsets), defendant_score)
    owner = defendants.prior_owner
    trigger = segment_first((prior_score > 0) & (prior_score == best[owner]), offsets)
    return OffenseCharacteristic(
        rules=rules,
        levels=(best // 32).astype(np.int64),
        rule_index=np.where(best > 0, 31 - best % 32, -1),
        trigger_prior=trigger,
    )


def _count_sentences(mask: np.ndarray, groups: SentenceGroups, n: int) -> np.ndarray:
    """Distinct sentences per defendant with a member in ``mask`` (convictions counted separately
    only when not one sentence: Amends. 658 (2003) and 709 (2007); assumed for 1997-2002)."""
    return segment_count(groups.any(mask), groups.group_owner, n)


def _misdemeanor_violent_or_trafficking(defendants: Defendants) -> np.ndarray:
    """Misdemeanor crimes of violence or drug trafficking offenses (2001 (b)(1)(E); 2016 (E))."""
    pr = defendants.priors
    return ~pr.felony & _kind_in(
        pr.kind, ("misdemeanor_violent", "crime_of_violence", "drug_trafficking")
    )


def _variant_1991(defendants: Defendants) -> tuple[OffenseCharacteristic, ...]:
    pr = defendants.priors
    eligible = pr.removed_after_conviction  # "previously was deported after a conviction"
    rules = (
        Rule("§ 2L1.2(b)(2)", "deported after a conviction for an aggravated felony"),
        Rule(
            "§ 2L1.2(b)(1)",
            "deported after a conviction for a felony other than a felony "
            "involving violation of the immigration laws",
        ),
    )
    levels = [
        np.where(eligible & pr.aggravated_felony, 16, 0),
        np.where(eligible & pr.felony & ~_kind_in(pr.kind, IMMIGRATION_LAW_KINDS), 4, 0),
    ]
    return (_greatest(rules, levels, defendants),)


def _variant_1997(
    defendants: Defendants, groups: SentenceGroups
) -> tuple[OffenseCharacteristic, ...]:
    pr = defendants.priors
    eligible = pr.removed_after_conviction  # deported, or remained after a removal order
    misdemeanor = (
        eligible
        & ~pr.felony
        & _kind_in(
            pr.kind,
            ("misdemeanor_violent", "misdemeanor_drug", "crime_of_violence", "drug_trafficking"),
        )
    )
    rules = (
        Rule("§ 2L1.2(b)(1)(A)", "deported after a conviction for an aggravated felony"),
        Rule("§ 2L1.2(b)(1)(B)", "deported after a conviction for any other felony"),
        Rule(
            "§ 2L1.2(b)(1)(B)",
            "deported after three or more misdemeanor crimes of violence or "
            "misdemeanor controlled substance offenses",
            per_prior=False,
        ),
    )
    levels = [
        np.where(eligible & pr.aggravated_felony, 16, 0),
        np.where(eligible & pr.felony, 4, 0),
        np.where(_count_sentences(misdemeanor, groups, len(defendants)) >= 3, 4, 0),
    ]
    return (_greatest(rules, levels, defendants),)


_SIXTEEN_LEVEL_KINDS = (
    "crime_of_violence",
    "firearms",
    "child_pornography",
    "national_security",
    "human_trafficking",
    "alien_smuggling",
)


def _variant_2001(
    defendants: Defendants, groups: SentenceGroups, history: CriminalHistory, points_tiers: bool
) -> tuple[OffenseCharacteristic, ...]:
    pr = defendants.priors
    eligible = pr.removed_after_conviction & pr.felony
    drug = pr.kind == kind_code("drug_trafficking")
    long_drug = drug & (pr.sentence_imposed_months > 13.0)  # "exceeded 13 months"
    tier_a = eligible & (long_drug | _kind_in(pr.kind, _SIXTEEN_LEVEL_KINDS))
    tier_b = eligible & drug & ~long_drug
    misdemeanor = pr.removed_after_conviction & _misdemeanor_violent_or_trafficking(defendants)
    if points_tiers:  # Amend. 754 (Nov 1, 2011)
        level_a = np.where(history.receives_points, 16, 12)
        level_b = np.where(history.receives_points, 12, 8)
        text_a, text_b = (
            "crime listed in (A) (12 levels when it receives no criminal history points)",
            "felony drug trafficking offense, sentence 13 months or less (8 levels when it "
            "receives no criminal history points)",
        )
    else:
        level_a, level_b = 16, 12
        text_a = (
            "felony drug trafficking offense with a sentence over 13 months, crime of "
            "violence, firearms, child pornography, national security or terrorism, human "
            "trafficking or alien smuggling offense"
        )
        text_b = "felony drug trafficking offense with a sentence of 13 months or less"
    rules = (
        Rule("§ 2L1.2(b)(1)(A)", "deported after a conviction for a " + text_a),
        Rule("§ 2L1.2(b)(1)(B)", "deported after a conviction for a " + text_b),
        Rule("§ 2L1.2(b)(1)(C)", "deported after a conviction for an aggravated felony"),
        Rule("§ 2L1.2(b)(1)(D)", "deported after a conviction for any other felony"),
        Rule(
            "§ 2L1.2(b)(1)(E)",
            "deported after three or more convictions for misdemeanors that "
            "are crimes of violence or drug trafficking offenses",
            per_prior=False,
        ),
    )
    levels = [
        np.where(tier_a, level_a, 0),
        np.where(tier_b, level_b, 0),
        np.where(pr.removed_after_conviction & pr.aggravated_felony, 8, 0),
        np.where(eligible, 4, 0),
        np.where(_count_sentences(misdemeanor, groups, len(defendants)) >= 3, 4, 0),
    ]
    return (_greatest(rules, levels, defendants),)


def _variant_2016(
    defendants: Defendants, groups: SentenceGroups, history: CriminalHistory
) -> tuple[OffenseCharacteristic, ...]:
    pr = defendants.priors
    n = len(defendants)
    counted = history.receives_points  # Note 3: only convictions that receive points
    reentry_offense = pr.felony & _kind_in(pr.kind, ("illegal_reentry", "illegal_entry"))
    misdemeanor_1325 = counted & ~pr.felony & (pr.kind == kind_code("illegal_entry"))
    first = (
        Rule(
            "§ 2L1.2(b)(1)(A)", "after a conviction for a felony that is an illegal reentry offense"
        ),
        Rule(
            "§ 2L1.2(b)(1)(B)",
            "after two or more convictions for misdemeanors under 8 U.S.C. § 1325(a)",
            per_prior=False,
        ),
    )
    characteristics = [
        _greatest(
            first,
            [
                np.where(counted & reentry_offense, 4, 0),
                np.where(_count_sentences(misdemeanor_1325, groups, n) >= 2, 2, 0),
            ],
            defendants,
        )
    ]
    # Sentence imposed: the single sentence's aggregate over members other than illegal reentry
    # offenses (United States v. Cuevas-Lopez, 934 F.3d 1056 (9th Cir. 2019); Note 4).
    tier_months = groups.aggregate_months(
        pr.sentence_imposed_months, pr.consecutive, include=~reentry_offense
    )[groups.prior_group]
    felony = counted & pr.felony & ~reentry_offense
    misdemeanor = counted & _misdemeanor_violent_or_trafficking(defendants)
    for paragraph, side in (
        ("(b)(2)", pr.before_first_removal),
        ("(b)(3)", ~pr.before_first_removal),
    ):
        when = "before" if paragraph == "(b)(2)" else "after"
        rules = tuple(
            Rule(
                f"§ 2L1.2{paragraph}({letter})",
                f"{when} the first removal order: {text}",
                per_prior=letter != "E",
            )
            for letter, text in (
                ("A", "a felony with a sentence imposed of five years or more"),
                ("B", "a felony with a sentence imposed of two years or more"),
                ("C", "a felony with a sentence imposed exceeding one year and one month"),
                ("D", "any other felony"),
                ("E", "three or more misdemeanor crimes of violence or drug trafficking offenses"),
            )
        )
        on_side = felony & side
        characteristics.append(
            _greatest(
                rules,
                [
                    np.where(on_side & (tier_months >= 60.0), 10, 0),
                    np.where(on_side & (tier_months >= 24.0), 8, 0),
                    np.where(on_side & (tier_months > 13.0), 6, 0),
                    np.where(on_side, 4, 0),
                    np.where(_count_sentences(misdemeanor & side, groups, n) >= 3, 2, 0),
                ],
                defendants,
            )
        )
    return tuple(characteristics)


def compute_reentry_offense_level(
    defendants: Defendants, manual: int, groups: SentenceGroups, history: CriminalHistory
) -> ReentryOffenseLevel:
    """§ 2L1.2 offense level (base 8 plus specific offense characteristics) for a batch.

    Parameters
    ----------
    defendants : Defendants
        Batch of ``n`` defendants.
    manual : int
        Edition year, 1995-2025.
    groups, history
        The priors' single sentences and criminal history (for "receives points").

    Returns
    -------
    ReentryOffenseLevel
        ``offense_level`` has shape (n,).
    """
    variant = reentry_variant(manual)
    if variant == "1991":
        characteristics = _variant_1991(defendants)
    elif variant == "1997":
        characteristics = _variant_1997(defendants, groups)
    elif variant in ("2001", "2011"):
        characteristics = _variant_2001(defendants, groups, history, points_tiers=variant == "2011")
    else:
        characteristics = _variant_2016(defendants, groups, history)
    level = BASE_OFFENSE_LEVEL + sum(c.levels for c in characteristics)
    return ReentryOffenseLevel(variant, characteristics, np.asarray(level, dtype=np.int64))

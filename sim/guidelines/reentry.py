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

Each text is one compiled kernel that walks every defendant's priors (CSR rows) once, scoring the
per-prior rules and counting the priors a count rule names; only when such a count reaches its
threshold with a member of a multi-prior single sentence among them are the sentences recounted,
one per sentence. Which prior kinds a rule names is decided in Python, as bit flags indexed by kind
code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.guidelines.criminal_history import CriminalHistory
from sim.guidelines.groups import SentenceGroups, pairwise_sum
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


# Bit flags of prior kinds, one table entry per kind code (``_KIND_FLAGS``).
_IMMIGRATION_LAW = 1  # 1991 (b)(1): "a felony involving violation of the immigration laws"
_MISDEMEANOR_1997 = 2  # 1997 (b)(1)(B): misdemeanor crimes of violence or controlled substances
_VIOLENT_OR_TRAFFICKING = 4  # 2001 (b)(1)(E), 2016 (b)(2)(E)/(b)(3)(E) misdemeanors
_SIXTEEN_LEVEL = 8  # 2001 (b)(1)(A) offenses other than drug trafficking
_DRUG_TRAFFICKING = 16
_ENTRY_OR_REENTRY = 32  # 2016 "illegal reentry offense" when a felony (Note 2)
_ILLEGAL_ENTRY = 64  # 8 U.S.C. § 1325(a)

_SIXTEEN_LEVEL_KINDS = (
    "crime_of_violence",
    "firearms",
    "child_pornography",
    "national_security",
    "human_trafficking",
    "alien_smuggling",
)


def _kind_flags() -> np.ndarray:
    table = np.zeros(len(PRIOR_KINDS), dtype=np.uint8)
    for flag, names in (
        (_IMMIGRATION_LAW, IMMIGRATION_LAW_KINDS),
        (
            _MISDEMEANOR_1997,
            ("misdemeanor_violent", "misdemeanor_drug", "crime_of_violence", "drug_trafficking"),
        ),
        (_VIOLENT_OR_TRAFFICKING, ("misdemeanor_violent", "crime_of_violence", "drug_trafficking")),
        (_SIXTEEN_LEVEL, _SIXTEEN_LEVEL_KINDS),
        (_DRUG_TRAFFICKING, ("drug_trafficking",)),
        (_ENTRY_OR_REENTRY, ("illegal_reentry", "illegal_entry")),
        (_ILLEGAL_ENTRY, ("illegal_entry",)),
    ):
        for name in names:
            table[kind_code(name)] |= flag
    table.setflags(write=False)
    return table


_KIND_FLAGS = _kind_flags()

_RULES_1991 = (
    Rule("§ 2L1.2(b)(2)", "deported after a conviction for an aggravated felony"),
    Rule(
        "§ 2L1.2(b)(1)",
        "deported after a conviction for a felony other than a felony "
        "involving violation of the immigration laws",
    ),
)

_RULES_1997 = (
    Rule("§ 2L1.2(b)(1)(A)", "deported after a conviction for an aggravated felony"),
    Rule("§ 2L1.2(b)(1)(B)", "deported after a conviction for any other felony"),
    Rule(
        "§ 2L1.2(b)(1)(B)",
        "deported after three or more misdemeanor crimes of violence or "
        "misdemeanor controlled substance offenses",
        per_prior=False,
    ),
)


def _rules_2001(text_a: str, text_b: str) -> tuple[Rule, ...]:
    return (
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


_RULES_2001 = _rules_2001(
    "felony drug trafficking offense with a sentence over 13 months, crime of "
    "violence, firearms, child pornography, national security or terrorism, human "
    "trafficking or alien smuggling offense",
    "felony drug trafficking offense with a sentence of 13 months or less",
)
# Amend. 754 (Nov 1, 2011): fewer levels when the conviction receives no criminal history points.
_RULES_2011 = _rules_2001(
    "crime listed in (A) (12 levels when it receives no criminal history points)",
    "felony drug trafficking offense, sentence 13 months or less (8 levels when it "
    "receives no criminal history points)",
)

_RULES_2016_B1 = (
    Rule("§ 2L1.2(b)(1)(A)", "after a conviction for a felony that is an illegal reentry offense"),
    Rule(
        "§ 2L1.2(b)(1)(B)",
        "after two or more convictions for misdemeanors under 8 U.S.C. § 1325(a)",
        per_prior=False,
    ),
)


def _rules_2016_sentence(paragraph: str) -> tuple[Rule, ...]:
    when = "before" if paragraph == "(b)(2)" else "after"
    return tuple(
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


_RULES_2016 = (_RULES_2016_B1, _rules_2016_sentence("(b)(2)"), _rules_2016_sentence("(b)(3)"))


@njit(cache=True)
def _score(applies, levels, rule):
    # Greatest level first; on a tie the rule printed first (lower index) wins.
    return levels * 32 + (31 - rule) if applies and levels > 0 else 0


@njit(cache=True)
def _settle(c, i, prior_best, first, count_score, levels, rule_index, trigger):
    """Write characteristic ``c`` of defendant ``i`` and return its levels.

    ``prior_best`` is the best per-prior score, reached first at row ``first`` (-1 when none);
    ``count_score`` the count rule's. The trigger is none when a count rule won.
    """
    best = max(prior_best, count_score)
    levels[c, i] = best >> 5
    rule_index[c, i] = 31 - (best & 31) if best > 0 else -1
    trigger[c, i] = first if best == prior_best else -1
    return best >> 5


@njit(cache=True)
def _sentence_count(j, applies, bit, single_sentence_group, prior_group, marks):
    """1 when ``applies`` and prior ``j`` is the first of its single sentence to meet the count
    rule ``bit``, else 0.

    Convictions count separately only when not one sentence (Amends. 658 (2003) and 709 (2007);
    assumed for 1997-2002).
    """
    if single_sentence_group[j] < 0 or not applies:
        return 1 if applies else 0
    g = prior_group[j]
    if marks[g] & bit:
        return 0
    marks[g] |= bit
    return 1


@njit(cache=True)
def _kernel_1991(
    offsets, kind, felony, aggravated, removed, kind_flags, levels, rule_index, trigger, total
):
    for i in range(len(offsets) - 1):
        best, first = 0, -1
        for j in range(offsets[i], offsets[i + 1]):
            eligible = removed[j]  # "previously was deported after a conviction"
            # (b)(2) +16: an aggravated felony.
            score = _score(eligible & aggravated[j], 16, 0)
            # (b)(1) +4: a felony other than a felony involving violation of the immigration laws.
            other = felony[j] & ((kind_flags[kind[j]] & _IMMIGRATION_LAW) == 0)
            score = max(score, _score(eligible & other, 4, 1))
            first = j if score > best else first
            best = max(best, score)
        total[i] = BASE_OFFENSE_LEVEL + _settle(0, i, best, first, 0, levels, rule_index, trigger)


@njit(cache=True)
def _misdemeanor(j, kind, felony, removed, kind_flags, listed):
    # A misdemeanor, followed by a removal, of a kind the text lists (flag ``listed``).
    return removed[j] & (not felony[j]) & ((kind_flags[kind[j]] & listed) != 0)


@njit(cache=True)
def _misdemeanor_sentences(
    lo, hi, kind, felony, removed, kind_flags, listed, single_sentence_group, prior_group, marks
):
    """Listed misdemeanors among priors ``lo:hi``, a single sentence counting once."""
    count = 0
    for j in range(lo, hi):
        misdemeanor = _misdemeanor(j, kind, felony, removed, kind_flags, listed)
        count += _sentence_count(j, misdemeanor, 1, single_sentence_group, prior_group, marks)
    return count


@njit(cache=True)
def _kernel_1997(
    offsets,
    kind,
    felony,
    aggravated,
    removed,
    single_sentence_group,
    prior_group,
    kind_flags,
    marks,
    levels,
    rule_index,
    trigger,
    total,
):
    for i in range(len(offsets) - 1):
        lo, hi = offsets[i], offsets[i + 1]
        best, first, misdemeanors, grouped = 0, -1, 0, False
        for j in range(lo, hi):
            eligible = removed[j]  # deported, or remained after a removal order
            score = _score(eligible & aggravated[j], 16, 0)  # (b)(1)(A) +16: aggravated felony
            score = max(score, _score(eligible & felony[j], 4, 1))  # (b)(1)(B) +4: other felony
            first = j if score > best else first
            best = max(best, score)
            # (b)(1)(B): misdemeanor crimes of violence or controlled substance offenses.
            misdemeanor = _misdemeanor(j, kind, felony, removed, kind_flags, _MISDEMEANOR_1997)
            misdemeanors += misdemeanor
            grouped |= misdemeanor & (single_sentence_group[j] >= 0)
        if grouped and misdemeanors >= 3:  # recount: one sentence counts once
            misdemeanors = _misdemeanor_sentences(
                lo,
                hi,
                kind,
                felony,
                removed,
                kind_flags,
                _MISDEMEANOR_1997,
                single_sentence_group,
                prior_group,
                marks,
            )
        count = _score(misdemeanors >= 3, 4, 2)  # (b)(1)(B): three or more misdemeanors
        total[i] = BASE_OFFENSE_LEVEL + _settle(
            0, i, best, first, count, levels, rule_index, trigger
        )


@njit(cache=True)
def _kernel_2001(
    offsets,
    kind,
    felony,
    aggravated,
    removed,
    months,
    receives_points,
    points_tiers,
    single_sentence_group,
    prior_group,
    kind_flags,
    marks,
    levels,
    rule_index,
    trigger,
    total,
):
    for i in range(len(offsets) - 1):
        lo, hi = offsets[i], offsets[i + 1]
        best, first, misdemeanors, grouped = 0, -1, 0, False
        for j in range(lo, hi):
            eligible = removed[j]
            flags = kind_flags[kind[j]]
            felony_prior = eligible & felony[j]
            # Amend. 754 (Nov 1, 2011): (A) 12 and (B) 8 levels when the conviction receives no
            # criminal history points.
            fewer = 4 if points_tiers and not receives_points[j] else 0
            drug = (flags & _DRUG_TRAFFICKING) != 0
            long_drug = drug & (months[j] > 13.0)  # "exceeded 13 months"
            sixteen = long_drug | ((flags & _SIXTEEN_LEVEL) != 0)
            score = _score(felony_prior & sixteen, 16 - fewer, 0)  # (b)(1)(A) +16
            score = max(score, _score(felony_prior & drug & (not long_drug), 12 - fewer, 1))  # (B)
            score = max(score, _score(eligible & aggravated[j], 8, 2))  # (C) aggravated felony
            score = max(score, _score(felony_prior, 4, 3))  # (D) +4: any other felony
            first = j if score > best else first
            best = max(best, score)
            # (E): misdemeanors that are crimes of violence or drug trafficking offenses.
            listed = _VIOLENT_OR_TRAFFICKING
            misdemeanor = _misdemeanor(j, kind, felony, removed, kind_flags, listed)
            misdemeanors += misdemeanor
            grouped |= misdemeanor & (single_sentence_group[j] >= 0)
        if grouped and misdemeanors >= 3:  # recount: one sentence counts once
            misdemeanors = _misdemeanor_sentences(
                lo,
                hi,
                kind,
                felony,
                removed,
                kind_flags,
                _VIOLENT_OR_TRAFFICKING,
                single_sentence_group,
                prior_group,
                marks,
            )
        count = _score(misdemeanors >= 3, 4, 4)  # (E): three or more misdemeanors
        total[i] = BASE_OFFENSE_LEVEL + _settle(
            0, i, best, first, count, levels, rule_index, trigger
        )


@njit(cache=True)
def _maximum(a, b):
    # np.maximum: a NaN operand wins.
    return a if a != a or a >= b else b


@njit(cache=True)
def _term(j, kind, felony, months, kind_flags):
    # Illegal reentry offenses do not count toward the sentence imposed (Note 4).
    reentry_offense = felony[j] and (kind_flags[kind[j]] & _ENTRY_OR_REENTRY) != 0
    return 0.0 if reentry_offense else months[j]


@njit(cache=True)
def _group_sentences(
    kind, felony, months, consecutive, single_sentence_group, prior_group, kind_flags, n_groups
):
    """Sentence imposed of each single sentence of more than one prior: ``head + tail + longest``.

    The aggregate over members other than illegal reentry offenses (United States v.
    Cuevas-Lopez, 934 F.3d 1056 (9th Cir. 2019); Note 4): consecutive terms add, the longest
    concurrent term counts (USSG § 4A1.2(a)(2)). Added in numpy's order, bit for bit: the first
    member (``head``) plus the others' sum (``tail``), pairwise beyond seven of them.
    """
    members = np.zeros(n_groups, dtype=np.int64)
    head, tail, longest = np.empty(n_groups), np.empty(n_groups), np.empty(n_groups)
    wide = False
    for j in range(len(months)):
        if single_sentence_group[j] < 0:
            continue
        g = prior_group[j]
        term = _term(j, kind, felony, months, kind_flags)
        added = term if consecutive[j] else 0.0
        overlapping = 0.0 if consecutive[j] else term
        if members[g] == 0:
            head[g], tail[g], longest[g] = added, -0.0, overlapping
        else:
            tail[g] += added
            longest[g] = _maximum(longest[g], overlapping)
        members[g] += 1
        wide |= members[g] > 8
    if wide:
        others = np.empty(len(months))
        for j in range(len(months)):
            if single_sentence_group[j] < 0 or members[prior_group[j]] <= 8:
                continue
            g = prior_group[j]  # j is its first member; the others follow in row order
            m, k = 0, j + 1
            while m < members[g] - 1:
                if single_sentence_group[k] >= 0 and prior_group[k] == g:
                    others[m] = (
                        _term(k, kind, felony, months, kind_flags) if consecutive[k] else 0.0
                    )
                    m += 1
                k += 1
            tail[g] = pairwise_sum(others, 0, m)
            members[g] = 1  # done
    return head, tail, longest


@njit(cache=True)
def _kernel_2016(
    offsets,
    kind,
    felony,
    months,
    consecutive,
    before_first_removal,
    receives_points,
    single_sentence_group,
    prior_group,
    kind_flags,
    marks,
    head,
    tail,
    longest,
    levels,
    rule_index,
    trigger,
    total,
):
    for i in range(len(offsets) - 1):
        lo, hi = offsets[i], offsets[i + 1]
        best0, best1, best2, first0, first1, first2 = 0, 0, 0, -1, -1, -1
        entries, before, after, grouped = 0, 0, 0, False
        for j in range(lo, hi):
            counted = receives_points[j]  # Note 3: only convictions that receive points count
            flags = kind_flags[kind[j]]
            reentry_offense = felony[j] & ((flags & _ENTRY_OR_REENTRY) != 0)
            # (b)(1)(A) +4: a felony that is an illegal reentry offense.
            score = _score(counted & reentry_offense, 4, 0)
            first0 = j if score > best0 else first0
            best0 = max(best0, score)

            # (b)(2) before, (b)(3) after the first removal order: other felonies by the
            # sentence imposed.
            other = counted & felony[j] & (not reentry_offense)
            single = single_sentence_group[j] < 0
            sentence = months[j]
            if not single:
                g = prior_group[j]
                sentence = head[g] + tail[g] + longest[g]
            if sentence >= 60.0:  # (A) +10: five years or more
                score = _score(other, 10, 0)
            elif sentence >= 24.0:  # (B) +8: two years or more
                score = _score(other, 8, 1)
            elif sentence > 13.0:  # (C) +6: exceeding one year and one month
                score = _score(other, 6, 2)
            else:  # (D) +4: any other felony
                score = _score(other, 4, 3)
            before_removal = before_first_removal[j]
            side1 = score if before_removal else 0
            side2 = 0 if before_removal else score
            first1 = j if side1 > best1 else first1
            best1 = max(best1, side1)
            first2 = j if side2 > best2 else first2
            best2 = max(best2, side2)

            # (b)(1)(B): misdemeanors under 8 U.S.C. § 1325(a); (b)(2)(E), (b)(3)(E):
            # misdemeanor crimes of violence or drug trafficking offenses.
            misdemeanor = counted & (not felony[j])
            violent = misdemeanor & ((flags & _VIOLENT_OR_TRAFFICKING) != 0)
            entries += misdemeanor & ((flags & _ILLEGAL_ENTRY) != 0)
            before += violent & before_removal
            after += violent & (not before_removal)
            grouped |= misdemeanor & (not single)
        if grouped and (entries >= 2 or before >= 3 or after >= 3):
            entries, before, after = 0, 0, 0  # recount: one sentence counts once
            for j in range(lo, hi):
                misdemeanor = receives_points[j] & (not felony[j])
                flags = kind_flags[kind[j]]
                violent = misdemeanor & ((flags & _VIOLENT_OR_TRAFFICKING) != 0)
                entry = misdemeanor & ((flags & _ILLEGAL_ENTRY) != 0)
                before_removal = before_first_removal[j]
                entries += _sentence_count(j, entry, 1, single_sentence_group, prior_group, marks)
                before += _sentence_count(
                    j, violent & before_removal, 2, single_sentence_group, prior_group, marks
                )
                after += _sentence_count(
                    j, violent & (not before_removal), 4, single_sentence_group, prior_group, marks
                )
        level = _settle(
            0, i, best0, first0, _score(entries >= 2, 2, 1), levels, rule_index, trigger
        )
        level += _settle(
            1, i, best1, first1, _score(before >= 3, 2, 4), levels, rule_index, trigger
        )
        level += _settle(2, i, best2, first2, _score(after >= 3, 2, 4), levels, rule_index, trigger)
        total[i] = BASE_OFFENSE_LEVEL + level


_RULES = {
    "1991": (_RULES_1991,),
    "1997": (_RULES_1997,),
    "2001": (_RULES_2001,),
    "2011": (_RULES_2011,),
    "2016": _RULES_2016,
    "2018": _RULES_2016,
}


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
    rules = _RULES[variant]
    n, pr = len(defendants), defendants.priors
    levels, rule_index, trigger = (np.empty((len(rules), n), dtype=np.int64) for _ in range(3))
    total = np.empty(n, dtype=np.int64)
    out = (levels, rule_index, trigger, total)
    rows = (defendants.prior_offsets, pr.kind, pr.felony)
    if variant == "1991":
        _kernel_1991(*rows, pr.aggravated_felony, pr.removed_after_conviction, _KIND_FLAGS, *out)
        return _result(variant, rules, out)
    # The last item: bits of the count rules already met, per single sentence.
    sentences = (
        pr.single_sentence_group,
        groups.prior_group,
        _KIND_FLAGS,
        np.zeros(len(groups), dtype=np.uint8),
    )
    if variant == "1997":
        _kernel_1997(*rows, pr.aggravated_felony, pr.removed_after_conviction, *sentences, *out)
    elif variant in ("2001", "2011"):
        _kernel_2001(
            *rows,
            pr.aggravated_felony,
            pr.removed_after_conviction,
            pr.sentence_imposed_months,
            history.receives_points,
            variant == "2011",
            *sentences,
            *out,
        )
    else:
        head_tail_longest = _group_sentences(
            pr.kind,
            pr.felony,
            pr.sentence_imposed_months,
            pr.consecutive,
            pr.single_sentence_group,
            groups.prior_group,
            _KIND_FLAGS,
            len(groups),
        )
        _kernel_2016(
            *rows,
            pr.sentence_imposed_months,
            pr.consecutive,
            pr.before_first_removal,
            history.receives_points,
            *sentences,
            *head_tail_longest,
            *out,
        )
    return _result(variant, rules, out)


def _result(variant: str, rules: tuple, out: tuple[np.ndarray, ...]) -> ReentryOffenseLevel:
    levels, rule_index, trigger, total = out
    characteristics = tuple(
        OffenseCharacteristic(r, levels[c], rule_index[c], trigger[c]) for c, r in enumerate(rules)
    )
    return ReentryOffenseLevel(variant, characteristics, total)

"""USSG § 2L1.2 (Unlawfully Entering or Remaining in the United States), every text 1995-2025.

The texts, their rules, levels and thresholds are data in the edition rulebook
(:mod:`sim.guidelines.editions`); this module applies them. Each text is one compiled kernel that
knows which priors a rule names (the text's structure) and reads every level, sentence threshold
and count from the rulebook's :class:`~sim.guidelines.editions.ReentryNumbers`:

========  ==========  =====================================================================
text      Manuals     structure
========  ==========  =====================================================================
1991      1995-1996   greater of (b)(2) aggravated felony, (b)(1) a felony other than an
                      immigration-law felony
1997      1997-2000   greater of (b)(1)(A) aggravated felony, (B) another felony or a count of
                      misdemeanor crimes of violence / controlled-substance offenses
2001      2001-2010   greatest of (b)(1)(A) enumerated felonies and long drug terms, (B) short
                      drug terms, (C) aggravated felony, (D) other felony, (E) misdemeanors
2011      2011-2015   as 2001; (A) and (B) fewer levels without criminal history points
2016      2016-2017   cumulative (b)(1) reentry felony / § 1325(a) misdemeanors, (b)(2) and
2018      2018-2025   (b)(3) other felonies by sentence before / after the first removal order
========  ==========  =====================================================================

Within a specific offense characteristic only the greatest applicable rule counts; each rule is
scored ``levels * 32 + (31 - rule_index)`` so that the greatest level wins and, on a tie, the rule
printed first in the guideline does.

Each kernel walks every defendant's priors (CSR rows) once, scoring the per-prior rules and
counting the priors a count rule names; only when such a count reaches its threshold with a member
of a multi-prior single sentence among them are the sentences recounted, one per sentence. Which
prior kinds a rule names is decided in Python, as bit flags indexed by kind code.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.criminal_history import CriminalHistory
from sim.guidelines.editions import ReentryText
from sim.guidelines.groups import SentenceGroups
from sim.guidelines.records import IMMIGRATION_LAW_KINDS, PRIOR_KINDS, Records, kind_code

__all__ = ["ReentryOffenseLevel", "compute_reentry_offense_level"]


class ReentryOffenseLevel(NamedTuple):
    """§ 2L1.2 offense level: base plus each specific offense characteristic.

    ``levels``, ``rule_index`` (into the characteristic's rules, -1 when none applies) and
    ``trigger_prior`` (global prior row that triggered it, -1 for none or for a count rule) have
    shape (characteristics, n); ``offense_level`` has shape (n,).
    """

    levels: np.ndarray
    rule_index: np.ndarray
    trigger_prior: np.ndarray
    offense_level: np.ndarray

    @property
    def enhancement_levels(self) -> np.ndarray:
        """§ 2L1.2(b) levels applied in all, shape (n,)."""
        return self.levels.sum(axis=0)


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


class _Inputs(NamedTuple):
    """What every § 2L1.2 kernel reads."""

    offsets: np.ndarray
    priors: object  # Priors
    prior_group: np.ndarray
    receives_points: np.ndarray
    kind_flags: np.ndarray
    #: Per single sentence: bits of the count rules already met (scratch, zeroed).
    marks: np.ndarray
    #: Per single sentence: its sentence imposed without illegal reentry offenses (2016 Note 4).
    sentence_ticks: np.ndarray


@njit(cache=True)
def _score(applies, levels, rule):
    # Greatest level first; on a tie the rule printed first (lower index) wins.
    return levels * 32 + (31 - rule) if applies and levels > 0 else 0


@njit(cache=True)
def _settle(c, i, prior_best, first, count_score, out):
    """Write characteristic ``c`` of defendant ``i`` and return its levels.

    ``prior_best`` is the best per-prior score, reached first at row ``first`` (-1 when none);
    ``count_score`` the count rule's. The trigger is none when a count rule won.
    """
    best = max(prior_best, count_score)
    out.levels[c, i] = best >> 5
    out.rule_index[c, i] = 31 - (best & 31) if best > 0 else -1
    out.trigger_prior[c, i] = first if best == prior_best else -1
    return best >> 5


@njit(cache=True)
def _sentence_count(j, applies, bit, x):
    """1 when ``applies`` and prior ``j`` is the first of its single sentence to meet the count
    rule ``bit``, else 0.

    Convictions count separately only when not one sentence (Amends. 658 (2003) and 709 (2007);
    assumed for 1997-2002).
    """
    if x.priors.single_sentence_group[j] < 0 or not applies:
        return 1 if applies else 0
    g = x.prior_group[j]
    if x.marks[g] & bit:
        return 0
    x.marks[g] |= bit
    return 1


@njit(cache=True)
def _misdemeanor(j, x, listed):
    # A misdemeanor, followed by a removal, of a kind the text lists (flag ``listed``).
    pr = x.priors
    return (
        pr.removed_after_conviction[j]
        & (not pr.felony[j])
        & ((x.kind_flags[pr.kind[j]] & listed) != 0)
    )


@njit(cache=True)
def _misdemeanor_sentences(lo, hi, x, listed):
    """Listed misdemeanors among priors ``lo:hi``, a single sentence counting once."""
    count = 0
    for j in range(lo, hi):
        count += _sentence_count(j, _misdemeanor(j, x, listed), 1, x)
    return count


@njit(cache=True)
def _kernel_1991(x, numbers, out):
    levels = numbers.levels
    pr = x.priors
    for i in range(len(x.offsets) - 1):
        best, first = 0, -1
        for j in range(x.offsets[i], x.offsets[i + 1]):
            eligible = pr.removed_after_conviction[j]  # "previously was deported after"
            # (b)(2): an aggravated felony.
            score = _score(eligible & pr.aggravated_felony[j], levels[0, 0], 0)
            # (b)(1): a felony other than a felony involving violation of the immigration laws.
            other = pr.felony[j] & ((x.kind_flags[pr.kind[j]] & _IMMIGRATION_LAW) == 0)
            score = max(score, _score(eligible & other, levels[0, 1], 1))
            first = j if score > best else first
            best = max(best, score)
        out.offense_level[i] = numbers.base_offense_level + _settle(0, i, best, first, 0, out)


@njit(cache=True)
def _kernel_1997(x, numbers, out):
    levels, needed = numbers.levels, numbers.count[0, 2]
    pr = x.priors
    for i in range(len(x.offsets) - 1):
        lo, hi = x.offsets[i], x.offsets[i + 1]
        best, first, misdemeanors, grouped = 0, -1, 0, False
        for j in range(lo, hi):
            eligible = pr.removed_after_conviction[j]  # deported, or remained after an order
            score = _score(eligible & pr.aggravated_felony[j], levels[0, 0], 0)  # (b)(1)(A)
            score = max(score, _score(eligible & pr.felony[j], levels[0, 1], 1))  # (B) felony
            first = j if score > best else first
            best = max(best, score)
            # (b)(1)(B): misdemeanor crimes of violence or controlled substance offenses.
            misdemeanor = _misdemeanor(j, x, _MISDEMEANOR_1997)
            misdemeanors += misdemeanor
            grouped |= misdemeanor & (pr.single_sentence_group[j] >= 0)
        if grouped and misdemeanors >= needed:  # recount: one sentence counts once
            misdemeanors = _misdemeanor_sentences(lo, hi, x, _MISDEMEANOR_1997)
        count = _score(misdemeanors >= needed, levels[0, 2], 2)
        out.offense_level[i] = numbers.base_offense_level + _settle(0, i, best, first, count, out)


@njit(cache=True)
def _kernel_2001(x, numbers, out):
    """The 2001 and 2011 texts: the 2011 text's fewer levels for a conviction without criminal
    history points are ``levels_without_points`` (equal to ``levels`` in 2001)."""
    levels, fewer, needed = numbers.levels, numbers.levels_without_points, numbers.count[0, 4]
    long_drug_min, short_drug_max = (
        numbers.min_sentence_ticks[0, 0],
        numbers.max_sentence_ticks[0, 1],
    )
    pr = x.priors
    for i in range(len(x.offsets) - 1):
        lo, hi = x.offsets[i], x.offsets[i + 1]
        best, first, misdemeanors, grouped = 0, -1, 0, False
        for j in range(lo, hi):
            eligible = pr.removed_after_conviction[j]
            flags = x.kind_flags[pr.kind[j]]
            felony_prior = eligible & pr.felony[j]
            scored = x.receives_points[j]
            drug = (flags & _DRUG_TRAFFICKING) != 0
            term = pr.sentence_imposed_ticks[j]  # the conviction's own sentence imposed
            long_drug = drug & (term >= long_drug_min)
            short_drug = drug & (term <= short_drug_max)
            sixteen = long_drug | ((flags & _SIXTEEN_LEVEL) != 0)
            a = levels[0, 0] if scored else fewer[0, 0]
            b = levels[0, 1] if scored else fewer[0, 1]
            score = _score(felony_prior & sixteen, a, 0)  # (b)(1)(A)
            score = max(score, _score(felony_prior & short_drug, b, 1))  # (B)
            score = max(score, _score(eligible & pr.aggravated_felony[j], levels[0, 2], 2))  # (C)
            score = max(score, _score(felony_prior, levels[0, 3], 3))  # (D) any other felony
            first = j if score > best else first
            best = max(best, score)
            # (E): misdemeanors that are crimes of violence or drug trafficking offenses.
            misdemeanor = _misdemeanor(j, x, _VIOLENT_OR_TRAFFICKING)
            misdemeanors += misdemeanor
            grouped |= misdemeanor & (pr.single_sentence_group[j] >= 0)
        if grouped and misdemeanors >= needed:  # recount: one sentence counts once
            misdemeanors = _misdemeanor_sentences(lo, hi, x, _VIOLENT_OR_TRAFFICKING)
        count = _score(misdemeanors >= needed, levels[0, 4], 4)
        out.offense_level[i] = numbers.base_offense_level + _settle(0, i, best, first, count, out)


@njit(cache=True)
def _group_sentences(x, single_count):
    """Sentence imposed of each single sentence of several priors, without its illegal reentry
    offenses (United States v. Cuevas-Lopez, 934 F.3d 1056 (9th Cir. 2019); Note 4): consecutive
    terms add, the longest concurrent term counts (USSG § 4A1.2(a)(2)). Exact integer ticks."""
    pr = x.priors
    added = np.zeros(len(x.sentence_ticks), dtype=np.int64)
    for j in range(len(pr.kind)):
        g = x.prior_group[j]
        if g < single_count:
            continue
        reentry_offense = pr.felony[j] and (x.kind_flags[pr.kind[j]] & _ENTRY_OR_REENTRY) != 0
        term = 0 if reentry_offense else pr.sentence_imposed_ticks[j]
        if pr.consecutive[j]:
            added[g] += term
        else:
            x.sentence_ticks[g] = max(x.sentence_ticks[g], term)
    for g in range(single_count, len(added)):
        x.sentence_ticks[g] += added[g]


@njit(cache=True)
def _tier(sentence, numbers, c):
    """The first of rules (A)-(D) of characteristic ``c`` whose sentence bounds hold (-1: none)."""
    for r in range(4):
        if numbers.min_sentence_ticks[c, r] <= sentence <= numbers.max_sentence_ticks[c, r]:
            return r
    return -1


@njit(cache=True)
def _kernel_2016(x, numbers, single_count, out):
    levels, count = numbers.levels, numbers.count
    pr = x.priors
    _group_sentences(x, single_count)
    for i in range(len(x.offsets) - 1):
        lo, hi = x.offsets[i], x.offsets[i + 1]
        best0, best1, best2, first0, first1, first2 = 0, 0, 0, -1, -1, -1
        entries, before, after, grouped = 0, 0, 0, False
        for j in range(lo, hi):
            counted = x.receives_points[j]  # Note 3: only convictions that receive points count
            flags = x.kind_flags[pr.kind[j]]
            felony = pr.felony[j]
            reentry_offense = felony & ((flags & _ENTRY_OR_REENTRY) != 0)
            # (b)(1)(A): a felony that is an illegal reentry offense.
            score = _score(counted & reentry_offense, levels[0, 0], 0)
            first0 = j if score > best0 else first0
            best0 = max(best0, score)

            # (b)(2) before, (b)(3) after the first removal order: other felonies by the
            # sentence imposed (a single sentence's aggregate).
            other = counted & felony & (not reentry_offense)
            single = pr.single_sentence_group[j] < 0
            sentence = (
                pr.sentence_imposed_ticks[j] if single else x.sentence_ticks[x.prior_group[j]]
            )
            before_removal = pr.before_first_removal[j]
            c = 1 if before_removal else 2
            r = _tier(sentence, numbers, c)
            score = _score(other & (r >= 0), levels[c, r], r) if r >= 0 else 0
            side1 = score if before_removal else 0
            side2 = 0 if before_removal else score
            first1 = j if side1 > best1 else first1
            best1 = max(best1, side1)
            first2 = j if side2 > best2 else first2
            best2 = max(best2, side2)

            # (b)(1)(B): misdemeanors under 8 U.S.C. § 1325(a); (b)(2)(E), (b)(3)(E):
            # misdemeanor crimes of violence or drug trafficking offenses.
            misdemeanor = counted & (not felony)
            violent = misdemeanor & ((flags & _VIOLENT_OR_TRAFFICKING) != 0)
            entries += misdemeanor & ((flags & _ILLEGAL_ENTRY) != 0)
            before += violent & before_removal
            after += violent & (not before_removal)
            grouped |= misdemeanor & (not single)
        if grouped and (entries >= count[0, 1] or before >= count[1, 4] or after >= count[2, 4]):
            entries, before, after = 0, 0, 0  # recount: one sentence counts once
            for j in range(lo, hi):
                misdemeanor = x.receives_points[j] & (not pr.felony[j])
                flags = x.kind_flags[pr.kind[j]]
                violent = misdemeanor & ((flags & _VIOLENT_OR_TRAFFICKING) != 0)
                entry = misdemeanor & ((flags & _ILLEGAL_ENTRY) != 0)
                before_removal = pr.before_first_removal[j]
                entries += _sentence_count(j, entry, 1, x)
                before += _sentence_count(j, violent & before_removal, 2, x)
                after += _sentence_count(j, violent & (not before_removal), 4, x)
        level = _settle(0, i, best0, first0, _score(entries >= count[0, 1], levels[0, 1], 1), out)
        level += _settle(1, i, best1, first1, _score(before >= count[1, 4], levels[1, 4], 4), out)
        level += _settle(2, i, best2, first2, _score(after >= count[2, 4], levels[2, 4], 4), out)
        out.offense_level[i] = numbers.base_offense_level + level


def compute_reentry_offense_level(
    records: Records, text: ReentryText, groups: SentenceGroups, history: CriminalHistory
) -> ReentryOffenseLevel:
    """§ 2L1.2 offense level (base plus specific offense characteristics) for a batch.

    Parameters
    ----------
    records : Records
        Batch of ``n`` defendants.
    text : ReentryText
        The edition's § 2L1.2 (``edition(year).reentry``).
    groups, history
        The priors' single sentences and criminal history (for "receives points").

    Returns
    -------
    ReentryOffenseLevel
        ``offense_level`` has shape (n,).
    """
    n = records.size
    characteristics = len(text.characteristics)
    out = ReentryOffenseLevel(
        *(np.empty((characteristics, n), dtype=np.int64) for _ in range(3)),
        offense_level=np.empty(n, dtype=np.int64),
    )
    # Scratch per single sentence, only where the text needs it: count-rule marks, and (2016)
    # each sentence's aggregate term.
    counts = any(rule.count for c in text.characteristics for rule in c.rules)
    x = _Inputs(
        offsets=records.prior_offsets,
        priors=records.priors,
        prior_group=groups.prior_group,
        receives_points=history.receives_points,
        kind_flags=_KIND_FLAGS,
        marks=np.zeros(groups.size if counts else 0, dtype=np.uint8),
        sentence_ticks=np.zeros(groups.size if text.structure == "2016" else 0, np.int64),
    )
    numbers = text.numbers
    if text.structure == "1991":
        _kernel_1991(x, numbers, out)
    elif text.structure == "1997":
        _kernel_1997(x, numbers, out)
    elif text.structure == "2001":
        _kernel_2001(x, numbers, out)
    elif text.structure == "2016":
        _kernel_2016(x, numbers, groups.single_count, out)
    else:
        raise ValueError(f"§ 2L1.2 text {text.name!r}: no kernel for structure {text.structure!r}")
    return out

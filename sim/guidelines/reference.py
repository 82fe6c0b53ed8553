"""Scalar reference worksheet: a test-only cross-check of the guidelines engine.

This module is deliberately independent of the vectorized engine in ``sim/guidelines/``: it imports
nothing from ``sim``, uses only the standard library, and re-implements ``docs/engine.md`` rule by
rule, one small function per rule, with plain loops over the priors of a single case. It exists so
that the tests can compare the two implementations on generated cases; it is not used by the CLI or
the simulation. Input is one case-file mapping as parsed from YAML (``docs/case-file.md``), assumed
valid; optional keys may be absent and take their documented defaults.

The seed case, United States v. Banuelos-Rodriguez, 215 F.3d 969 (9th Cir. 2000) (en banc):
1995 Manual, 8 + 16 - 3 = 21, category V, 70-87 months.

>>> case = {
...     "manual": 1995,
...     "conviction": "1326(b)(2)",
...     "acceptance": 3,
...     "early_disposition_levels": 0,
...     "criminal_history_category": "V",
...     "status": "none",
...     "priors": [
...         {
...             "kind": "drug_trafficking",
...             "felony": True,
...             "aggravated_felony": True,
...             "sentence_imposed_months": 36,
...             "imposed_years_ago": 8,
...             "released_years_ago": 2,
...             "before_first_removal": True,
...         }
...     ],
... }
>>> ws = reference_worksheet(case)
>>> ws["base_offense_level"], ws["total_offense_level"], ws["guideline_range_months"]
(8, 21, [70, 87])
>>> ws["adjustments"]
[{'rule': '§ 2L1.2(b)(2)', 'levels': 16}, {'rule': '§ 3E1.1', 'levels': -3}]
>>> ws["criminal_history_points"], ws["criminal_history_category"]
(3, 'V')
>>> ws["statutory_maximum_months"], ws["final_range_months"], ws["zone"]
(240, [70, 87], 'D')

A 72-month drug-trafficking prior before the first removal under the 2018 text (2025 Manual), the
computed category (3 points -> II), and a § 1326(a) plea whose 24-month maximum truncates the
range (§ 5G1.1); a two-level fast-track reduction would be labelled § 3F1.1 in 2025:

>>> prior2 = dict(case["priors"][0], sentence_imposed_months=72)
>>> case2 = dict(case, manual=2025, conviction="1326(a)")
>>> case2["priors"] = [prior2]
>>> del case2["criminal_history_category"]
>>> ws2 = reference_worksheet(case2)
>>> [(a["rule"], a["levels"]) for a in ws2["adjustments"]]
[('§ 2L1.2(b)(2)(A)', 10), ('§ 3E1.1', -3)]
>>> ws2["total_offense_level"], ws2["criminal_history_category"], ws2["guideline_range_months"]
(15, 'II', [21, 27])
>>> ws2["statutory_maximum_months"], ws2["final_range_months"], ws2["zone"]
(24, [21, 24], 'D')
>>> reference_worksheet(dict(case2, early_disposition_levels=2))["adjustments"][-1]
{'rule': '§ 3F1.1', 'levels': -2}

A first § 1325(a) offense: no guideline applies (USSG § 1B1.9), any sentence up to 6 months:

>>> ws3 = reference_worksheet({"manual": 2010, "conviction": "1325(a)-first", "acceptance": 2})
>>> ws3["total_offense_level"], ws3["guideline_range_months"], ws3["final_range_months"]
(None, None, [0, 6])
"""

from __future__ import annotations

import calendar
import datetime
from fractions import Fraction

# ---------------------------------------------------------------------------------------------
# Sentencing Table (USSG Ch. 5 Pt. A), months as (min, max); max None = life imprisonment.
# Identical for every Manual 1995-2025: only App. C Amends. 270 (1989), 462 (1992) and 738 (2010,
# zones only) ever touched it (shared/domain/guidelines.md §1.2, §1.4). Row = offense level 1-43,
# column = criminal history category I-VI. Level 43 is "life" in every column: (None, None).
# ---------------------------------------------------------------------------------------------
LIFE = None
SENTENCING_TABLE: tuple[tuple[tuple[int | None, int | None], ...], ...] = (
    # I           II          III         IV          V           VI
    ((0, 6), (0, 6), (0, 6), (0, 6), (0, 6), (0, 6)),  # 1
    ((0, 6), (0, 6), (0, 6), (0, 6), (0, 6), (1, 7)),  # 2
    ((0, 6), (0, 6), (0, 6), (0, 6), (2, 8), (3, 9)),  # 3
    ((0, 6), (0, 6), (0, 6), (2, 8), (4, 10), (6, 12)),  # 4
    ((0, 6), (0, 6), (1, 7), (4, 10), (6, 12), (9, 15)),  # 5
    ((0, 6), (1, 7), (2, 8), (6, 12), (9, 15), (12, 18)),  # 6
    ((0, 6), (2, 8), (4, 10), (8, 14), (12, 18), (15, 21)),  # 7
    ((0, 6), (4, 10), (6, 12), (10, 16), (15, 21), (18, 24)),  # 8
    ((4, 10), (6, 12), (8, 14), (12, 18), (18, 24), (21, 27)),  # 9
    ((6, 12), (8, 14), (10, 16), (15, 21), (21, 27), (24, 30)),  # 10
    ((8, 14), (10, 16), (12, 18), (18, 24), (24, 30), (27, 33)),  # 11
    ((10, 16), (12, 18), (15, 21), (21, 27), (27, 33), (30, 37)),  # 12
    ((12, 18), (15, 21), (18, 24), (24, 30), (30, 37), (33, 41)),  # 13
    ((15, 21), (18, 24), (21, 27), (27, 33), (33, 41), (37, 46)),  # 14
    ((18, 24), (21, 27), (24, 30), (30, 37), (37, 46), (41, 51)),  # 15
    ((21, 27), (24, 30), (27, 33), (33, 41), (41, 51), (46, 57)),  # 16
    ((24, 30), (27, 33), (30, 37), (37, 46), (46, 57), (51, 63)),  # 17
    ((27, 33), (30, 37), (33, 41), (41, 51), (51, 63), (57, 71)),  # 18
    ((30, 37), (33, 41), (37, 46), (46, 57), (57, 71), (63, 78)),  # 19
    ((33, 41), (37, 46), (41, 51), (51, 63), (63, 78), (70, 87)),  # 20
    ((37, 46), (41, 51), (46, 57), (57, 71), (70, 87), (77, 96)),  # 21
    ((41, 51), (46, 57), (51, 63), (63, 78), (77, 96), (84, 105)),  # 22
    ((46, 57), (51, 63), (57, 71), (70, 87), (84, 105), (92, 115)),  # 23
    ((51, 63), (57, 71), (63, 78), (77, 96), (92, 115), (100, 125)),  # 24
    ((57, 71), (63, 78), (70, 87), (84, 105), (100, 125), (110, 137)),  # 25
    ((63, 78), (70, 87), (78, 97), (92, 115), (110, 137), (120, 150)),  # 26
    ((70, 87), (78, 97), (87, 108), (100, 125), (120, 150), (130, 162)),  # 27
    ((78, 97), (87, 108), (97, 121), (110, 137), (130, 162), (140, 175)),  # 28
    ((87, 108), (97, 121), (108, 135), (121, 151), (140, 175), (151, 188)),  # 29
    ((97, 121), (108, 135), (121, 151), (135, 168), (151, 188), (168, 210)),  # 30
    ((108, 135), (121, 151), (135, 168), (151, 188), (168, 210), (188, 235)),  # 31
    ((121, 151), (135, 168), (151, 188), (168, 210), (188, 235), (210, 262)),  # 32
    ((135, 168), (151, 188), (168, 210), (188, 235), (210, 262), (235, 293)),  # 33
    ((151, 188), (168, 210), (188, 235), (210, 262), (235, 293), (262, 327)),  # 34
    ((168, 210), (188, 235), (210, 262), (235, 293), (262, 327), (292, 365)),  # 35
    ((188, 235), (210, 262), (235, 293), (262, 327), (292, 365), (324, 405)),  # 36
    ((210, 262), (235, 293), (262, 327), (292, 365), (324, 405), (360, LIFE)),  # 37
    ((235, 293), (262, 327), (292, 365), (324, 405), (360, LIFE), (360, LIFE)),  # 38
    ((262, 327), (292, 365), (324, 405), (360, LIFE), (360, LIFE), (360, LIFE)),  # 39
    ((292, 365), (324, 405), (360, LIFE), (360, LIFE), (360, LIFE), (360, LIFE)),  # 40
    ((324, 405), (360, LIFE), (360, LIFE), (360, LIFE), (360, LIFE), (360, LIFE)),  # 41
    ((360, LIFE), (360, LIFE), (360, LIFE), (360, LIFE), (360, LIFE), (360, LIFE)),  # 42
    ((LIFE, LIFE), (LIFE, LIFE), (LIFE, LIFE), (LIFE, LIFE), (LIFE, LIFE), (LIFE, LIFE)),  # 43
)

CATEGORIES = ("I", "II", "III", "IV", "V", "VI")

# Time is exact: rational numbers of months and years (docs/engine.md §3, Units). A month is
# 365.25 / 12 = 487 / 16 days, so "sixty days" is 960 / 487 months.
DAYS_PER_MONTH = Fraction(487, 16)
SIXTY_DAYS_MONTHS = 60 / DAYS_PER_MONTH

# Offense kinds (docs/case-file.md; docs/engine.md §4).
IMMIGRATION_LAW_KINDS = ("illegal_reentry", "illegal_entry", "alien_smuggling")  # 1991 text
ENUMERATED_16_KINDS = (  # 2001-2015 (b)(1)(A), besides drug trafficking > 13 months
    "crime_of_violence",
    "firearms",
    "child_pornography",
    "national_security",
    "human_trafficking",
    "alien_smuggling",
)


# ---------------------------------------------------------------------------------------------
# Case-file defaults (docs/case-file.md)
# ---------------------------------------------------------------------------------------------
def _exact(value) -> Fraction:
    # The decimal the user wrote (YAML and JSON give the nearest double, whose repr it is).
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _calendar_years(earlier: datetime.date, later: datetime.date) -> Fraction:
    # Whole calendar months from the earlier date (the day clamped to the month's end), then the
    # remaining days: the same date 15 years before is exactly 15 years before.
    def shifted(months: int) -> datetime.date:
        total = earlier.month - 1 + months
        year, month = earlier.year + total // 12, total % 12 + 1
        return datetime.date(year, month, min(earlier.day, calendar.monthrange(year, month)[1]))

    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    while shifted(months) > later:
        months -= 1
    days = (later - shifted(months)).days
    return (months + days / DAYS_PER_MONTH) / 12


def _years_ago(prior: dict, years_key: str, date_key: str, offense_date) -> Fraction | None:
    if prior.get(date_key) is not None:
        return _calendar_years(prior[date_key], offense_date)
    if prior.get(years_key) is not None:
        return _exact(prior[years_key])
    return None


def _prior_with_defaults(prior: dict, offense_date: datetime.date) -> dict:
    # Optional prior keys: released absent (None), single_sentence_group absent (its own
    # sentence), consecutive false, removed_after_conviction true, foreign false,
    # before_first_removal false (read only from 2016). The term: months, or days; times: years
    # ago, or dates. aggravated_felony must be given (the reference does not classify).
    if prior.get("sentence_imposed_days") is not None:
        months = _exact(prior["sentence_imposed_days"]) / DAYS_PER_MONTH
    else:
        months = _exact(prior.get("sentence_imposed_months") or 0)
    return {
        "kind": prior["kind"],
        "felony": bool(prior["felony"]),
        "aggravated_felony": bool(prior["aggravated_felony"]),
        "months": months,
        "imposed": _years_ago(prior, "imposed_years_ago", "imposed_on", offense_date),
        "released": _years_ago(prior, "released_years_ago", "released_on", offense_date),
        "before_first_removal": bool(prior.get("before_first_removal", False)),
        "group": prior.get("single_sentence_group"),
        "consecutive": bool(prior.get("consecutive", False)),
        "removed_after_conviction": bool(prior.get("removed_after_conviction", True)),
        "foreign": bool(prior.get("foreign", False)),
    }


# ---------------------------------------------------------------------------------------------
# Criminal history (USSG Ch. 4 Pt. A; docs/engine.md §3)
# ---------------------------------------------------------------------------------------------
def _single_sentences(priors: list[dict]) -> list[list[dict]]:
    # § 4A1.2 n.3 "related cases" (1995) / § 4A1.2(a)(2) single-sentence rule (Amend. 709, 2007):
    # priors sharing a single_sentence_group id are one prior sentence; a prior without an id is
    # its own sentence. Order of first appearance is kept.
    groups: list[list[dict]] = []
    by_id: dict[object, list[dict]] = {}
    for p in priors:
        if p["group"] is None:
            groups.append([p])
        elif p["group"] in by_id:
            by_id[p["group"]].append(p)
        else:
            by_id[p["group"]] = [p]
            groups.append(by_id[p["group"]])
    return groups


def _aggregate_months(members: list[dict]) -> Fraction:
    # § 4A1.2 n.3 / (a)(2): the aggregate of consecutive terms plus the longest concurrent term.
    consecutive = 0
    longest_concurrent = 0
    for p in members:
        if p["consecutive"]:
            consecutive += p["months"]
        else:
            longest_concurrent = max(longest_concurrent, p["months"])
    return consecutive + longest_concurrent


def _sentence_summary(members: list[dict]) -> dict:
    # A group's length is its aggregate; its imposed/released times are its members' most recent
    # (smallest) values; it is foreign only when every member is (docs/engine.md §3, Sentences).
    imposed = min(p["imposed"] for p in members)
    released_values = [p["released"] for p in members if p["released"] is not None]
    released = min(released_values) if released_values else None
    foreign = all(p["foreign"] for p in members)
    return {
        "members": members,
        "months": _aggregate_months(members),
        "imposed": imposed,
        "released": released,
        "foreign": foreign,
    }


def _item_a_b_c(sentence: dict) -> tuple[str | None, int]:
    # § 4A1.1(a)-(c) with the time periods of § 4A1.2(e); foreign sentences earn none (§ 4A1.2(h)).
    # Returns the item earned ("a", "b", "c" or None) and its points before the (c) cap.
    if sentence["foreign"]:
        return None, 0
    months = sentence["months"]
    imposed = sentence["imposed"]
    released = sentence["released"]
    if months > 13:
        # (a) +3: more than one year and one month, imposed within 15 years, or released within
        # 15 years (incarcerated during the 15-year period), § 4A1.2(e)(1).
        if imposed <= 15 or (released is not None and released <= 15):
            return "a", 3
        return None, 0
    if imposed > 10:
        # § 4A1.2(e)(2): any other sentence counts only if imposed within 10 years.
        return None, 0
    if months >= SIXTY_DAYS_MONTHS:
        return "b", 2  # (b) +2: at least sixty days, not counted in (a)
    return "c", 1  # (c) +1: any other sentence (capped below at 4 in total)


def _status_points(manual: int, status: str, other_points: int) -> int:
    # § 4A1.1(d) through the 2022 Manual: +2 if under a criminal justice sentence.
    # Amend. 821 (Nov 1, 2023), item (e): +1 only when the other items total 7 or more.
    if status != "under_sentence":
        return 0
    if manual <= 2022:
        return 2
    return 1 if other_points >= 7 else 0


def _recency_points(manual: int, sentences: list[dict], status_points: int) -> int:
    # § 4A1.1(e), 1995-2009 Manuals only (deleted by Amend. 742, Nov 1, 2010): +2 if the instant
    # offense began less than two years after release on a counted (a) or (b) sentence; +1 instead
    # when status points were added under (d).
    if manual >= 2010:
        return 0
    for s in sentences:
        if s["item"] in ("a", "b") and s["released"] is not None and s["released"] < 2:
            return 1 if status_points > 0 else 2
    return 0


def _crime_of_violence_points(sentences: list[dict]) -> int:
    # § 4A1.1(f) 1995-2009 (Amend. 382; "single sentence" wording Amend. 709), (e) 2010-2022
    # (Amend. 742), (d) 2023- (Amend. 821): +1 for each felony crime-of-violence member of a
    # counted single sentence beyond the first (the group's points are attributed to a violent
    # member - Assumption), at most 3 points. Foreign members earn no points (§ 4A1.2(h)).
    points = 0
    for s in sentences:
        if s["item"] is None:
            continue
        violent = 0
        for p in s["members"]:
            if p["felony"] and p["kind"] == "crime_of_violence" and not p["foreign"]:
                violent += 1
        points += max(0, violent - 1)
    return min(points, 3)


def _criminal_history(manual: int, status: str, priors: list[dict]) -> tuple[int, list[dict]]:
    # Sum of § 4A1.1 items; returns the computed points and the single sentences (each with the
    # item it earned, so that § 2L1.2 can ask which convictions "receive points").
    sentences = [_sentence_summary(g) for g in _single_sentences(priors)]
    a_points = b_points = c_points = 0
    for s in sentences:
        s["item"], points = _item_a_b_c(s)
        if s["item"] == "a":
            a_points += points
        elif s["item"] == "b":
            b_points += points
        elif s["item"] == "c":
            c_points += points
    c_points = min(c_points, 4)  # § 4A1.1(c): up to a total of 4 points for this item
    violence = _crime_of_violence_points(sentences)
    # Recency is an "other item" only through 2009 and status depends on other items only from
    # 2023, so the two never interact in the same edition.
    other_pre_recency = a_points + b_points + c_points + violence
    status_points = _status_points(manual, status, other_pre_recency)
    recency = _recency_points(manual, sentences, status_points)
    return other_pre_recency + recency + status_points, sentences


def _category_from_points(points: int) -> str:
    # Sentencing Table column headings: 0-1 I, 2-3 II, 4-6 III, 7-9 IV, 10-12 V, 13+ VI.
    if points <= 1:
        return "I"
    if points <= 3:
        return "II"
    if points <= 6:
        return "III"
    if points <= 9:
        return "IV"
    if points <= 12:
        return "V"
    return "VI"


def _receives_points(prior: dict, sentence: dict) -> bool:
    # A conviction "receives criminal history points" when its single sentence earned (a), (b) or
    # (c) points before the (c) cap (Assumption: the cap is ignored) and it is not itself foreign.
    return sentence["item"] is not None and not prior["foreign"]


# ---------------------------------------------------------------------------------------------
# § 2L1.2 specific offense characteristics by edition (docs/engine.md §4)
# ---------------------------------------------------------------------------------------------
def _text_of_2l12(manual: int) -> str:
    # Amends. 375/523 (1991 text) 1995-96; 562 (1997); 632/658 (2001); 754 (2011); 802 (2016);
    # 809 (2018).
    if manual <= 1996:
        return "1991"
    if manual <= 2000:
        return "1997"
    if manual <= 2010:
        return "2001"
    if manual <= 2015:
        return "2011"
    if manual <= 2017:
        return "2016"
    return "2018"


def _is_misdemeanor_violent_or_drug_trafficking(p: dict) -> bool:
    # 2001 (b)(1)(E) / 2016 (b)(2)(E), (b)(3)(E): misdemeanor crimes of violence or drug
    # trafficking offenses (a misdemeanor is a prior with felony: false).
    if p["felony"]:
        return False
    return p["kind"] in ("misdemeanor_violent", "crime_of_violence", "drug_trafficking")


def _is_1997_misdemeanor(p: dict) -> bool:
    # 1997 (b)(1)(B)(ii): misdemeanor crimes of violence or misdemeanor controlled-substance
    # offenses (Amend. 562).
    if p["felony"]:
        return False
    return p["kind"] in (
        "misdemeanor_violent",
        "misdemeanor_drug",
        "crime_of_violence",
        "drug_trafficking",
    )


def _count_sentences(sentences: list[dict], qualifies) -> int:
    # Misdemeanor-count rules count distinct sentences, not convictions (Amends. 658, 709;
    # Assumption for 1997-2002): a single sentence counts once if any member qualifies.
    count = 0
    for s in sentences:
        for p in s["members"]:
            if qualifies(p):
                count += 1
                break
    return count


def _soc_1991(sentences: list[dict]) -> list[tuple[str, int]]:
    # 1991 text (Amend. 375, as in the 1995 Manual), "use the greater": (b)(2) +16 deported after
    # an aggravated felony; (b)(1) +4 after a felony other than an immigration-law felony.
    eligible = [p for s in sentences for p in s["members"] if p["removed_after_conviction"]]
    if any(p["aggravated_felony"] for p in eligible):
        return [("§ 2L1.2(b)(2)", 16)]
    if any(p["felony"] and p["kind"] not in IMMIGRATION_LAW_KINDS for p in eligible):
        return [("§ 2L1.2(b)(1)", 4)]
    return []


def _soc_1997(sentences: list[dict]) -> list[tuple[str, int]]:
    # 1997 text (Amend. 562), "greater of": (b)(1)(A) +16 aggravated felony; (b)(1)(B) +4 any other
    # felony or three or more misdemeanor crimes of violence / controlled-substance offenses.
    eligible = [p for s in sentences for p in s["members"] if p["removed_after_conviction"]]
    if any(p["aggravated_felony"] for p in eligible):
        return [("§ 2L1.2(b)(1)(A)", 16)]
    if any(p["felony"] for p in eligible):
        return [("§ 2L1.2(b)(1)(B)", 4)]
    misdemeanors = _count_sentences(
        sentences, lambda p: p["removed_after_conviction"] and _is_1997_misdemeanor(p)
    )
    if misdemeanors >= 3:
        return [("§ 2L1.2(b)(1)(B)", 4)]
    return []


def _soc_2001_2011(sentences: list[dict], points_dependent: bool) -> list[tuple[str, int]]:
    # 2001 text (Amend. 632; "for profit" struck by Amend. 658 - Assumption: met for 2001-02),
    # "apply the greatest": (A) +16, (B) +12, (C) +8, (D) +4, (E) +4.
    # 2011 text (Amend. 754): (A) +16 if the conviction receives criminal history points, else
    # +12; (B) +12 with points, else +8; (C)-(E) regardless of points.
    # Ties between letters are reported under the earliest letter.
    candidates: list[tuple[str, int]] = []
    for s in sentences:
        for p in s["members"]:
            if not (p["removed_after_conviction"] and p["felony"]):
                continue
            with_points = _receives_points(p, s) or not points_dependent
            if (p["kind"] == "drug_trafficking" and p["months"] > 13) or (
                p["kind"] in ENUMERATED_16_KINDS
            ):
                candidates.append(("§ 2L1.2(b)(1)(A)", 16 if with_points else 12))
            if p["kind"] == "drug_trafficking" and p["months"] <= 13:
                candidates.append(("§ 2L1.2(b)(1)(B)", 12 if with_points else 8))
            if p["aggravated_felony"]:
                candidates.append(("§ 2L1.2(b)(1)(C)", 8))
            candidates.append(("§ 2L1.2(b)(1)(D)", 4))
    misdemeanors = _count_sentences(
        sentences,
        lambda p: p["removed_after_conviction"] and _is_misdemeanor_violent_or_drug_trafficking(p),
    )
    if misdemeanors >= 3:
        candidates.append(("§ 2L1.2(b)(1)(E)", 4))
    if not candidates:
        return []
    best = max(levels for _, levels in candidates)
    return [min((rule, levels) for rule, levels in candidates if levels == best)]


def _is_illegal_reentry_offense(p: dict) -> bool:
    # 2016 text (Amend. 802): § 1253 or § 1326, or a second or subsequent § 1325(a) - a felony
    # illegal_reentry or felony illegal_entry.
    return p["felony"] and p["kind"] in ("illegal_reentry", "illegal_entry")


def _tier_2016(sentences: list[dict], before_first_removal: bool, label: str):
    # 2016/2018 (b)(2) (before_first_removal) and (b)(3) (after), "apply the greatest": felony
    # (other than an illegal reentry offense) with sentence imposed >= 5 years +10, >= 2 years +8,
    # > 13 months +6, any other +4; three or more misdemeanor crimes of violence or drug
    # trafficking offenses (distinct sentences) +2. The sentence imposed is the single sentence's
    # aggregate over its members that are not illegal reentry offenses (Cuevas-Lopez; Note 4).
    best: tuple[str, int] | None = None
    misdemeanor_sentences = 0
    for s in sentences:
        non_reentry = [p for p in s["members"] if not _is_illegal_reentry_offense(p)]
        months = _aggregate_months(non_reentry)
        has_misdemeanor = False
        for p in non_reentry:
            if not _receives_points(p, s) or p["before_first_removal"] != before_first_removal:
                continue
            if p["felony"]:
                if months >= 60:
                    tier = ("(A)", 10)
                elif months >= 24:
                    tier = ("(B)", 8)
                elif months > 13:
                    tier = ("(C)", 6)
                else:
                    tier = ("(D)", 4)
                if best is None or tier[1] > best[1]:
                    best = tier
            elif _is_misdemeanor_violent_or_drug_trafficking(p):
                has_misdemeanor = True
        if has_misdemeanor:
            misdemeanor_sentences += 1
    if best is None and misdemeanor_sentences >= 3:
        best = ("(E)", 2)
    if best is None:
        return []
    return [(label + best[0], best[1])]


def _soc_2016(sentences: list[dict]) -> list[tuple[str, int]]:
    # 2016 (Amend. 802) / 2018 (Amend. 809) texts: (b)(1), (b)(2) and (b)(3) are cumulative; only
    # convictions that receive criminal history points count. The 2018 "criminal conduct" wording
    # is carried by before_first_removal, so both texts compute alike.
    socs: list[tuple[str, int]] = []
    # (b)(1) "apply the greater": (A) +4 an illegal reentry offense; (B) +2 two or more
    # misdemeanor § 1325(a) convictions (distinct sentences).
    reentry = False
    for s in sentences:
        for p in s["members"]:
            if _receives_points(p, s) and _is_illegal_reentry_offense(p):
                reentry = True
    if reentry:
        socs.append(("§ 2L1.2(b)(1)(A)", 4))
    else:
        entries = 0
        for s in sentences:
            for p in s["members"]:
                if _receives_points(p, s) and p["kind"] == "illegal_entry" and not p["felony"]:
                    entries += 1
                    break
        if entries >= 2:
            socs.append(("§ 2L1.2(b)(1)(B)", 2))
    socs += _tier_2016(sentences, True, "§ 2L1.2(b)(2)")
    socs += _tier_2016(sentences, False, "§ 2L1.2(b)(3)")
    return socs


def _specific_offense_characteristics(manual: int, sentences: list[dict]):
    text = _text_of_2l12(manual)
    if text == "1991":
        return _soc_1991(sentences)
    if text == "1997":
        return _soc_1997(sentences)
    if text == "2001":
        return _soc_2001_2011(sentences, points_dependent=False)
    if text == "2011":
        return _soc_2001_2011(sentences, points_dependent=True)
    return _soc_2016(sentences)


# ---------------------------------------------------------------------------------------------
# Chapter Three / Four / Five adjustments (docs/engine.md §2)
# ---------------------------------------------------------------------------------------------
def _acceptance(acceptance: int, level_before: int) -> int:
    # § 3E1.1 (Amend. 459, 1992; PROTECT Act § 401(g) from Apr 30, 2003: third level on government
    # motion, which acceptance: 3 represents): -2; -3 only if the level before (a) is >= 16.
    if acceptance == 0:
        return 0
    if acceptance == 3 and level_before >= 16:
        return -3
    return -2


def _zero_point_offender(manual: int, points: int, criteria_met: bool) -> int:
    # § 4C1.1 (Amend. 821, Nov 1, 2023): -2 for zero criminal history points when the other
    # criteria are met (Assumption: taken as met unless the case says otherwise).
    if manual >= 2023 and points == 0 and criteria_met:
        return -2
    return 0


def _early_disposition(manual: int, levels: int) -> tuple[str, int]:
    # § 5K3.1 (Amend. 651, eff. Oct 27, 2003) for the 2003-2024 Manuals; § 3F1.1 for 2025
    # (Assumption, secondary source). No early-disposition reduction before the 2003 Manual.
    if manual < 2003:
        return "§ 5K3.1", 0
    return ("§ 3F1.1" if manual >= 2025 else "§ 5K3.1"), -levels


def _statutory_maximum(conviction: str, offense_date: datetime.date) -> int:
    # 8 U.S.C. § 1326(a) 24; (b)(1) 60 / 120 and (b)(2) 180 / 240 before / from Sept 13, 1994
    # (Pub. L. 100-690 § 7345; Pub. L. 103-322 § 130001(b)); § 1325(a) 6 (first) / 24
    # (subsequent); flip-flop 6 + 24 = 30 (§ 5G1.2(d)).
    violent_crime_act = offense_date >= datetime.date(1994, 9, 13)
    if conviction == "1326(b)(1)":
        return 120 if violent_crime_act else 60
    if conviction == "1326(b)(2)":
        return 240 if violent_crime_act else 180
    return {
        "1326(a)": 24,
        "1325(a)-first": 6,
        "1325(a)-subsequent": 24,
        "1325-flip-flop": 30,
    }[conviction]


def _apply_5g1_1(guideline: tuple[int | None, int | None], maximum: int) -> list[int]:
    # § 5G1.1: a statutory maximum below the guideline minimum becomes the guideline sentence; a
    # maximum inside the range truncates it; a life top is above every statutory maximum.
    low, high = guideline
    if low is None or maximum < low:  # low is None only for level 43 ("life")
        return [maximum, maximum]
    if high is None or maximum < high:
        return [low, maximum]
    return [low, high]


def _zone(manual: int, minimum: int) -> str:
    # Zones from the (final) range minimum: 1992 definitions (Amend. 462) for Manuals <= 2009,
    # 2010 definitions (Amend. 738, Nov 1, 2010) from 2010.
    if minimum == 0:
        return "A"
    if manual <= 2009:
        if minimum <= 6:
            return "B"
        return "C" if minimum <= 10 else "D"
    if minimum <= 9:
        return "B"
    return "C" if minimum <= 12 else "D"


# ---------------------------------------------------------------------------------------------
# The worksheet (docs/engine.md §2, order of computation)
# ---------------------------------------------------------------------------------------------
def reference_worksheet(case: dict) -> dict:
    """Compute one case's worksheet from a case-file mapping, rule by rule."""
    manual = case["manual"]
    conviction = case["conviction"]
    offense_date = case.get("offense_date") or datetime.date(manual, 11, 1)  # Assumption default
    priors = [_prior_with_defaults(p, offense_date) for p in (case.get("priors") or [])]

    computed_points, sentences = _criminal_history(manual, case.get("status", "none"), priors)
    points = case.get("criminal_history_points")
    if points is None:
        points = computed_points
    category = case.get("criminal_history_category") or _category_from_points(points)
    statutory_maximum = _statutory_maximum(conviction, offense_date)

    worksheet = {
        "base_offense_level": None,
        "adjustments": [],
        "total_offense_level": None,
        "criminal_history_points": points,
        "criminal_history_category": category,
        "guideline_range_months": None,
        "statutory_maximum_months": statutory_maximum,
        "final_range_months": [0, statutory_maximum],
        "zone": None,
    }
    if conviction == "1325(a)-first":
        # Class B misdemeanor: no guideline applies (USSG § 1B1.9); any sentence up to 6 months.
        return worksheet

    base = 8  # § 2L1.2(a), every edition since Amend. 38 (1988)
    adjustments = list(_specific_offense_characteristics(manual, sentences))
    level = base + sum(levels for _, levels in adjustments)
    adjustments.append(("§ 3E1.1", _acceptance(case.get("acceptance", 0), level)))
    adjustments.append(
        ("§ 4C1.1", _zero_point_offender(manual, points, case.get("zero_point_criteria_met", True)))
    )
    adjustments.append(_early_disposition(manual, case.get("early_disposition_levels", 0)))
    total = base + sum(levels for _, levels in adjustments)
    total = min(max(total, 1), 43)  # Sentencing Table commentary n.2

    low, high = SENTENCING_TABLE[total - 1][CATEGORIES.index(category)]
    final = _apply_5g1_1((low, high), statutory_maximum)
    worksheet.update(
        base_offense_level=base,
        adjustments=[{"rule": rule, "levels": levels} for rule, levels in adjustments if levels],
        total_offense_level=total,
        guideline_range_months=[low, high],
        final_range_months=final,
        zone=_zone(manual, final[0]),
    )
    return worksheet

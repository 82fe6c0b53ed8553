"""PSR-style worksheet for one case: every rule that moved the sentence, with its section.

The worksheet is read off the vectorized engine's output for a batch of one, so ``sim calc`` shows
exactly what the simulation computes.
"""

from __future__ import annotations

from typing import Any

from sim.guidelines.adjustments import early_disposition_label
from sim.guidelines.casefile import CaseFile, PriorConviction, case_to_defendants
from sim.guidelines.criminal_history import ITEM_A, ITEM_B, ITEM_C
from sim.guidelines.engine import GuidelineResult, compute_guidelines
from sim.guidelines.records import CONVICTIONS
from sim.guidelines.reentry import BASE_OFFENSE_LEVEL, reentry_variant
from sim.guidelines.statutes import STATUTES
from sim.guidelines.table import CATEGORY_NAMES, LIFE_MONTHS, ZONE_NAMES, format_months

__all__ = ["build_worksheet", "format_worksheet"]

_MINUS = "\u2212"
_DASH = "\u2013"


def _signed(levels: int) -> str:
    return f"+{levels}" if levels >= 0 else f"{_MINUS}{-levels}"


def _range_text(low: int, high: int) -> str:
    if low == high:
        return f"{format_months(low)} months"
    return f"{format_months(low)}{_DASH}{format_months(high)} months"


def _range_json(low: int, high: int) -> list[int | None]:
    return [None if low >= LIFE_MONTHS else int(low), None if high >= LIFE_MONTHS else int(high)]


def _describe_prior(number: int, prior: PriorConviction) -> str:
    felony = "felony" if prior.felony else "misdemeanor"
    aggravated = ", aggravated felony" if prior.aggravated_felony else ""
    foreign = ", foreign" if prior.foreign else ""
    return (
        f"prior {number}: {prior.kind} ({felony}{aggravated}{foreign}), "
        f"{prior.sentence_imposed_months:g} months imposed {prior.imposed_years_ago:g} years ago"
    )


def _reentry_lines(case: CaseFile, result: GuidelineResult) -> list[dict[str, Any]]:
    adjustments = []
    for characteristic in result.reentry.characteristics:
        levels = int(characteristic.levels[0])
        if levels == 0:
            continue
        rule = characteristic.rules[int(characteristic.rule_index[0])]
        trigger = int(characteristic.trigger_prior[0])
        reason = rule.text
        if trigger >= 0:
            reason += f" ({_describe_prior(trigger + 1, case.priors[trigger])})"
        adjustments.append({"rule": rule.label, "levels": levels, "reason": reason})
    return adjustments


def _acceptance_reason(case: CaseFile, chapter_two_level: int, reduction: int) -> str:
    reason = "(a) clearly demonstrates acceptance of responsibility " + _signed(-2)
    if reduction == 3:
        motion = " on the government's motion" if case.manual >= 2003 else ""
        reason += f"; (b) {_signed(-1)}{motion}: offense level {chapter_two_level} is 16 or more"
    elif case.acceptance == 3:
        reason += f"; (b) unavailable: offense level {chapter_two_level} is below 16"
    return reason


def _history_lines(case: CaseFile, result: GuidelineResult) -> list[dict[str, Any]]:
    history = result.history
    lines: list[dict[str, Any]] = []
    first_of_group: dict[int, int] = {}
    item_names = {ITEM_A: ("§ 4A1.1(a)", 3), ITEM_B: ("§ 4A1.1(b)", 2), ITEM_C: ("§ 4A1.1(c)", 1)}
    for index, prior in enumerate(case.priors):
        group = int(history.groups.prior_group[index])
        described = _describe_prior(index + 1, prior)
        if group in first_of_group:
            lines.append(
                {
                    "rule": "§ 4A1.2(a)(2)",
                    "points": 0,
                    "reason": (f"{described}: one sentence with prior {first_of_group[group] + 1}"),
                }
            )
            continue
        first_of_group[group] = index
        item = int(history.sentence_item[group])
        months = float(history.sentence_months[group])
        single = (
            f" (single sentence of {months:g} months)"
            if months != prior.sentence_imposed_months
            else ""
        )
        if item in item_names:
            rule, points = item_names[item]
            lines.append({"rule": rule, "points": points, "reason": described + single})
        elif prior.foreign:
            lines.append(
                {
                    "rule": "§ 4A1.2(h)",
                    "points": 0,
                    "reason": f"{described}: foreign sentences are not counted",
                }
            )
        else:
            lines.append(
                {
                    "rule": "§ 4A1.2(e)",
                    "points": 0,
                    "reason": f"{described}{single}: outside the applicable time period",
                }
            )
    counted_c = sum(1 for line in lines if line["rule"] == "§ 4A1.1(c)")
    if counted_c > int(history.points_c[0]):
        lines.append(
            {
                "rule": "§ 4A1.1(c)",
                "points": int(history.points_c[0]) - counted_c,
                "reason": "item (c) is capped at 4 points",
            }
        )
    violent_item = "(f)" if case.manual <= 2009 else ("(e)" if case.manual <= 2022 else "(d)")
    status_item = "(e)" if case.manual >= 2023 else "(d)"
    for rule, points, reason in (
        (
            f"§ 4A1.1{violent_item}",
            int(history.violent_single_sentence_points[0]),
            "crime-of-violence sentences folded into a single sentence",
        ),
        (
            f"§ 4A1.1{status_item}",
            int(history.status_points[0]),
            "offense committed while under a criminal justice sentence",
        ),
        (
            "§ 4A1.1(e)",
            int(history.recency_points[0]),
            "offense committed less than two years after release from an (a) or (b) sentence",
        ),
    ):
        if points:
            lines.append({"rule": rule, "points": points, "reason": reason})
    return lines


def build_worksheet(case: CaseFile) -> dict[str, Any]:
    """Compute a case and return its worksheet as a JSON-ready mapping.

    Keys: ``manual``, ``name``, ``conviction``, ``offense_date``, ``base_offense_level``,
    ``adjustments`` (``{rule, levels, reason}``), ``total_offense_level``,
    ``criminal_history_points``, ``criminal_history_category``, ``criminal_history`` (one entry per
    prior and item), ``guideline_range_months`` (``[min, max]``, ``None`` for life),
    ``statutory_maximum_months``, ``statutory_citation``, ``final_range_months``, ``zone``,
    ``lines`` (the worksheet as text lines).
    """
    result = compute_guidelines(case_to_defendants([case]), case.manual)
    applies = bool(result.guideline_applies[0])
    statute = STATUTES[CONVICTIONS.index(case.conviction)]
    offense_date = case.offense_date.isoformat() if case.offense_date else f"{case.manual}-11-01"
    chapter_two = int(result.reentry.offense_level[0])

    adjustments: list[dict[str, Any]] = []
    if applies:
        adjustments += _reentry_lines(case, result)
        for rule, reduction, reason in (
            (
                "§ 3E1.1",
                int(result.acceptance_reduction[0]),
                _acceptance_reason(case, chapter_two, int(result.acceptance_reduction[0])),
            ),
            (
                "§ 4C1.1",
                int(result.zero_point_reduction[0]),
                "zero-point offender (assumption: the other criteria of Amend. 821 Part B are met)",
            ),
            (
                early_disposition_label(case.manual),
                int(result.early_disposition_reduction[0]),
                "early disposition program, on the government's motion",
            ),
        ):
            if reduction:
                adjustments.append({"rule": rule, "levels": -reduction, "reason": reason})

    points = int(result.criminal_history_points[0])
    category = CATEGORY_NAMES[int(result.criminal_history_category[0])]
    computed_points = int(result.history.points[0])
    worksheet: dict[str, Any] = {
        "manual": case.manual,
        "name": case.name,
        "conviction": case.conviction,
        "offense_date": offense_date,
        "offense_date_assumed": case.offense_date is None,
        "guideline_applies": applies,
        "section_2l1_2_text": reentry_variant(case.manual) if applies else None,
        "base_offense_level": BASE_OFFENSE_LEVEL if applies else None,
        "adjustments": adjustments,
        "total_offense_level": int(result.total_offense_level[0]) if applies else None,
        "criminal_history_points": points,
        "criminal_history_points_computed": computed_points,
        "criminal_history_category": category,
        "criminal_history_category_overridden": case.criminal_history_category is not None,
        "criminal_history": _history_lines(case, result),
        "guideline_range_months": (
            _range_json(int(result.guideline_min_months[0]), int(result.guideline_max_months[0]))
            if applies
            else None
        ),
        "statutory_maximum_months": int(result.statutory_maximum_months[0]),
        "statutory_citation": statute.citation,
        "final_range_months": _range_json(
            int(result.final_min_months[0]), int(result.final_max_months[0])
        ),
        "zone": ZONE_NAMES[int(result.zone[0])] or None,
    }
    worksheet["lines"] = format_worksheet(worksheet, result)
    return worksheet


def format_worksheet(worksheet: dict[str, Any], result: GuidelineResult) -> list[str]:
    """The worksheet as text lines, one per rule."""
    w = worksheet
    date_note = " (assumed: Nov 1 of the Manual year)" if w["offense_date_assumed"] else ""
    lines = [
        f"Guidelines worksheet: November 1, {w['manual']} Guidelines Manual"
        + (f" ({w['name']})" if w["name"] else ""),
        f"Conviction: {w['statutory_citation']}; offense date {w['offense_date']}{date_note}",
        "",
    ]
    if w["guideline_applies"]:
        lines.append(f"§ 2L1.2(a) base offense level {w['base_offense_level']}")
        for a in w["adjustments"]:
            lines.append(f"{a['rule']} {_signed(a['levels'])}: {a['reason']}")
        lines.append(f"Total offense level {w['total_offense_level']}")
    else:
        lines.append("No guideline applies: a Class B misdemeanor (USSG § 1B1.9)")
    lines.append("")
    for entry in w["criminal_history"]:
        lines.append(f"{entry['rule']} {_signed(entry['points'])}: {entry['reason']}")
    if w["criminal_history_points"] != w["criminal_history_points_computed"]:
        lines.append(
            f"Criminal history points {w['criminal_history_points']} (given in the case file; "
            f"computed from the priors: {w['criminal_history_points_computed']})"
        )
    overridden = " (given in the case file)" if w["criminal_history_category_overridden"] else ""
    lines.append(
        f"Criminal history category {w['criminal_history_category']} "
        f"({w['criminal_history_points']} points){overridden}"
    )
    lines.append("")
    if w["guideline_applies"]:
        low, high = int(result.guideline_min_months[0]), int(result.guideline_max_months[0])
        lines.append(f"Guideline range {_range_text(low, high)} (Zone {w['zone']})")
    lines.append(
        f"Statutory maximum {w['statutory_maximum_months']} months ({w['statutory_citation']})"
    )
    final_low, final_high = int(result.final_min_months[0]), int(result.final_max_months[0])
    if w["guideline_applies"]:
        guideline_min = int(result.guideline_min_months[0])
        if w["statutory_maximum_months"] < guideline_min:
            lines.append(
                "§ 5G1.1(a): the statutory maximum is below the range; it is the guideline sentence"
            )
        elif final_high != int(result.guideline_max_months[0]):
            lines.append("§ 5G1.1(c): the range is truncated at the statutory maximum")
    lines.append(f"Final range {_range_text(final_low, final_high)}")
    return lines

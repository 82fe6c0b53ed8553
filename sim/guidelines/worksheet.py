"""PSR-style worksheet for one case: every rule that moved the sentence, with its section.

The worksheet is read off the vectorized engine's output for a batch of one, so ``sim calc`` shows
exactly what the simulation computes; every section label comes from the edition rulebook.
"""

from __future__ import annotations

from typing import Any

from sim.guidelines import aggravated_felony as aggravated
from sim.guidelines.casefile import CaseFile, PriorConviction, case_dispositions, case_to_records
from sim.guidelines.criminal_history import ITEM_A, ITEM_B, ITEM_C
from sim.guidelines.durations import format_duration, format_years, plural
from sim.guidelines.editions import Edition, edition
from sim.guidelines.engine import GuidelineResult, RecordAssessment, compute_guidelines
from sim.guidelines.statutes import statute
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


def _describe_prior(number: int, prior: PriorConviction, case: CaseFile, aggravated: bool) -> str:
    kind = prior.offense or prior.kind.replace("_", " ")
    qualities = ["felony" if prior.felony else "misdemeanor"]
    if aggravated:
        qualities.append("aggravated felony")
    if prior.foreign:
        qualities.append("foreign")
    # The term in the unit the case file gave it in.
    if not prior.sentence_ticks:
        sentence, verb = "no imprisonment", "sentenced"
    elif prior.sentence_imposed_days is not None:
        sentence, verb = plural(prior.sentence_imposed_days, "day"), "imposed"
    else:
        sentence, verb = plural(prior.sentence_imposed_months, "month"), "imposed"
    when = (
        f"on {prior.imposed_on}"
        if prior.imposed_on is not None
        else f"{format_years(prior.imposed_ago_ticks(case.date))} ago"
    )
    return f"prior {number}: {kind} ({', '.join(qualities)}), {sentence} {verb} {when}"


def _reentry_lines(
    case: CaseFile, ed: Edition, assessment: RecordAssessment, flags: list[bool]
) -> list[dict[str, Any]]:
    adjustments = []
    reentry = assessment.reentry
    for c, characteristic in enumerate(ed.reentry.characteristics):
        levels = int(reentry.levels[c, 0])
        if levels == 0:
            continue
        rule = characteristic.rules[int(reentry.rule_index[c, 0])]
        trigger = int(reentry.trigger_prior[c, 0])
        reason = rule.describe()
        if trigger >= 0:
            prior = case.priors[trigger]
            reason += f" ({_describe_prior(trigger + 1, prior, case, flags[trigger])})"
        adjustments.append({"rule": rule.label, "levels": levels, "reason": reason})
    return adjustments


def _acceptance_reason(ed: Edition, case: CaseFile, chapter_two_level: int, reduction: int) -> str:
    reason = "(a) clearly demonstrates acceptance of responsibility " + _signed(-2)
    minimum = ed.acceptance.third_level_min_offense_level
    if reduction == 3:
        motion = " on the government's motion" if ed.acceptance.third_level_on_motion else ""
        reason += (
            f"; (b) {_signed(-1)}{motion}: offense level {chapter_two_level} is {minimum} or more"
        )
    elif case.acceptance == 3:
        reason += f"; (b) unavailable: offense level {chapter_two_level} is below {minimum}"
    return reason


def _history_lines(
    case: CaseFile, ed: Edition, assessment: RecordAssessment, flags: list[bool]
) -> list[dict[str, Any]]:
    history, rules = assessment.history, ed.criminal_history
    lines: list[dict[str, Any]] = []
    first_of_group: dict[int, int] = {}
    item_names = {
        ITEM_A: ("§ 4A1.1(a)", rules.item_a_points),
        ITEM_B: ("§ 4A1.1(b)", rules.item_b_points),
        ITEM_C: ("§ 4A1.1(c)", rules.item_c_points),
    }
    for index, prior in enumerate(case.priors):
        group = int(assessment.groups.prior_group[index])
        described = _describe_prior(index + 1, prior, case, flags[index])
        if group in first_of_group:
            lines.append(
                {
                    "rule": rules.single_sentence_label,
                    "points": 0,
                    "reason": f"{described}: one sentence with prior {first_of_group[group] + 1}",
                }
            )
            continue
        first_of_group[group] = index
        item = int(history.sentence_item[group])
        length = int(history.sentence_ticks[group])
        single = (
            f" (single sentence of {format_duration(length, units=('month', 'day'))})"
            if length != prior.sentence_ticks
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
    counted_c = sum(line["points"] for line in lines if line["rule"] == "§ 4A1.1(c)")
    if counted_c > int(history.points_c[0]):
        lines.append(
            {
                "rule": "§ 4A1.1(c)",
                "points": int(history.points_c[0]) - counted_c,
                "reason": f"item (c) is capped at {rules.item_c_cap} points",
            }
        )
    for rule, points, reason in (
        (
            f"§ 4A1.1{rules.violent_item}",
            int(history.violent_single_sentence_points[0]),
            "crime-of-violence sentences folded into a single sentence",
        ),
        (
            f"§ 4A1.1{rules.status_item}",
            int(history.status_points[0]),
            "offense committed while under a criminal justice sentence",
        ),
        (
            f"§ 4A1.1{rules.recency_item}",
            int(history.recency_points[0]),
            "offense committed less than two years after release from an (a) or (b) sentence",
        ),
    ):
        if points:
            lines.append({"rule": rule, "points": points, "reason": reason})
    return lines


def _aggravated_notes(case: CaseFile, flags: list[bool]) -> list[str]:
    """One line per prior whose aggravated-felony status was derived, and why."""
    notes = []
    for index, prior in enumerate(case.priors):
        if prior.aggravated_felony is not None:
            continue
        _, why = aggravated.explain_prior(
            prior.kind,
            prior.felony,
            prior.sentence_ticks,
            prior.imposed_ago_ticks(case.date),
            case.date,
            _previously_deported_after_aggravated(case, index, flags),
            case.reading,
            foreign=prior.foreign,
            released_ago_ticks=prior.released_ago_ticks(case.date),
        )
        notes.append(
            f"prior {index + 1}: {why.rstrip('.')}. Derived from the kind, term and dates given "
            "(aggravated_felony was left out); confirm with the categorical approach"
        )
    return notes


def _previously_deported_after_aggravated(case: CaseFile, index: int, flags: list[bool]) -> bool:
    """Whether another prior, imposed earlier and followed by a removal, is an aggravated felony
    (the assumption of subparagraph (O), docs/aggravated-felony.md)."""
    own = case.priors[index].imposed_ago_ticks(case.date)
    return any(
        flags[k] and other.removed_after_conviction and other.imposed_ago_ticks(case.date) > own
        for k, other in enumerate(case.priors)
        if k != index
    )


def _warnings(case: CaseFile, flags: list[bool]) -> list[str]:
    """Facts the conviction presupposes that the priors listed do not show."""
    eligible = [p.removed_after_conviction for p in case.priors]
    if case.conviction == "1326(b)(2)" and not any(
        flag and removed for flag, removed in zip(flags, eligible, strict=True)
    ):
        return [
            "Warning: convicted under 8 U.S.C. § 1326(b)(2), but no prior listed is an "
            "aggravated felony followed by a removal"
        ]
    if case.conviction == "1326(b)(1)" and not any(
        p.felony and p.removed_after_conviction for p in case.priors
    ):
        return [
            "Warning: convicted under 8 U.S.C. § 1326(b)(1), but no prior listed is a felony "
            "followed by a removal (or the misdemeanors (b)(1) names)"
        ]
    return []


def build_worksheet(case: CaseFile) -> dict[str, Any]:
    """Compute a case and return its worksheet as a JSON-ready mapping.

    Keys: ``manual``, ``name``, ``conviction``, ``offense_date``, ``base_offense_level``,
    ``adjustments`` (``{rule, levels, reason}``), ``total_offense_level``,
    ``criminal_history_points``, ``criminal_history_category``, ``criminal_history`` (one entry per
    prior and item), ``guideline_range_months`` (``[min, max]``, ``None`` for life),
    ``statutory_maximum_months``, ``statutory_citation``, ``final_range_months``, ``zone``,
    ``aggravated_felony_notes``, ``warnings``, ``lines`` (the worksheet as text lines).
    """
    ed = edition(case.manual)
    records = case_to_records([case])
    assessment, result = compute_guidelines(records, case_dispositions([case]), ed)
    flags = [bool(v) for v in records.priors.aggravated_felony]
    applies = bool(result.guideline_applies[0])
    chapter_two = int(assessment.reentry.offense_level[0])

    adjustments: list[dict[str, Any]] = []
    if applies:
        adjustments += _reentry_lines(case, ed, assessment, flags)
        for rule, reduction, reason in (
            (
                "§ 3E1.1",
                int(result.acceptance_reduction[0]),
                _acceptance_reason(ed, case, chapter_two, int(result.acceptance_reduction[0])),
            ),
            (
                "§ 4C1.1",
                int(result.zero_point_reduction[0]),
                "zero-point offender (assumption: the other criteria of Amend. 821 Part B are met)",
            ),
            (
                ed.early_disposition.section,
                int(result.early_disposition_reduction[0]),
                "early disposition program, on the government's motion",
            ),
        ):
            if reduction:
                adjustments.append({"rule": rule, "levels": -reduction, "reason": reason})

    worksheet: dict[str, Any] = {
        "manual": case.manual,
        "name": case.name,
        "conviction": case.conviction,
        "offense_date": case.date.isoformat(),
        "offense_date_assumed": case.offense_date is None,
        "guideline_applies": applies,
        "section_2l1_2_text": ed.reentry.name if applies else None,
        "base_offense_level": ed.reentry.base_offense_level if applies else None,
        "adjustments": adjustments,
        "total_offense_level": int(result.total_offense_level[0]) if applies else None,
        "criminal_history_points": int(assessment.criminal_history_points[0]),
        "criminal_history_points_computed": int(assessment.history.points[0]),
        "criminal_history_category": CATEGORY_NAMES[int(assessment.criminal_history_category[0])],
        "criminal_history_category_overridden": case.criminal_history_category is not None,
        "criminal_history": _history_lines(case, ed, assessment, flags),
        "guideline_range_months": (
            _range_json(int(result.guideline_min_months[0]), int(result.guideline_max_months[0]))
            if applies
            else None
        ),
        "statutory_maximum_months": int(result.statutory_maximum_months[0]),
        "statutory_citation": statute(case.conviction).citation,
        "final_range_months": _range_json(
            int(result.final_min_months[0]), int(result.final_max_months[0])
        ),
        "zone": ZONE_NAMES[int(result.zone[0])] or None,
        "aggravated_felony_notes": _aggravated_notes(case, flags),
        "warnings": _warnings(case, flags),
    }
    worksheet["lines"] = format_worksheet(worksheet, result)
    return worksheet


def format_worksheet(worksheet: dict[str, Any], result: GuidelineResult) -> list[str]:
    """The worksheet as text lines, one per rule."""
    w = worksheet
    date_note = " (assumed: the day the Manual took effect)" if w["offense_date_assumed"] else ""
    lines = [
        f"Guidelines worksheet: November 1, {w['manual']} Guidelines Manual"
        + (f" ({w['name']})" if w["name"] else ""),
        f"Conviction: {w['statutory_citation']}; offense date {w['offense_date']}{date_note}",
        *w["warnings"],
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
    points = w["criminal_history_points"]
    lines.append(
        f"Criminal history category {w['criminal_history_category']} "
        f"({points} {'point' if points == 1 else 'points'}){overridden}"
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
    if w["aggravated_felony_notes"]:
        lines += ["", *w["aggravated_felony_notes"]]
    return lines

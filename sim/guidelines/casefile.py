"""Case files: the YAML/JSON contract of ``sim calc`` (docs/case-file.md), as strict models.

A defender writes what the presentence report says: terms in months (decimals allowed) or days,
times as years ago or as dates. Every problem in a file is reported at once, each naming its
field; contradictions name both fields.

>>> case = CaseFile.model_validate({"manual": 1995, "conviction": "1326(b)(2)", "acceptance": 3})
>>> case_to_records([case]).size
1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.guidelines import aggravated_felony as aggravated
from sim.guidelines import durations
from sim.guidelines.editions import FIRST_MANUAL, LAST_MANUAL, edition
from sim.guidelines.records import (
    CONVICTIONS,
    NO_GROUP,
    NO_OVERRIDE,
    PRIOR_KINDS,
    Dispositions,
    Priors,
    Records,
    conviction_code,
    kind_code,
)
from sim.guidelines.statutes import ADAA_1988, statutory_maximum
from sim.guidelines.table import CATEGORY_NAMES
from sim.inputs import Date, load_mapping, problems_error, validate_model

__all__ = [
    "CaseFile",
    "PriorConviction",
    "case_dispositions",
    "case_to_records",
    "load_case",
    "prior_problems",
]

# The allowed values are the engine's own code tables, so the two cannot drift apart.
PriorKind = Literal[PRIOR_KINDS]
Conviction = Literal[CONVICTIONS]
Category = Literal["I", "II", "III", "IV", "V", "VI"]
MISDEMEANOR_KINDS = ("misdemeanor", "misdemeanor_violent", "misdemeanor_drug")


def _exact(unit: str):
    convert = getattr(durations, unit)

    def check(value: float) -> float:
        convert(value)  # ValueError: more than four decimals, too long
        return value

    return AfterValidator(check)


Months = Annotated[float, Field(ge=0, allow_inf_nan=False), _exact("months")]
Days = Annotated[float, Field(ge=0, allow_inf_nan=False), _exact("days")]
Years = Annotated[float, Field(ge=0, allow_inf_nan=False), _exact("years")]


class PriorConviction(BaseModel):
    """One prior conviction (docs/case-file.md). Consistency across fields is checked by
    :func:`prior_problems`, which the case file and the scenario's profiles call."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: PriorKind
    felony: bool
    offense: str | None = None
    aggravated_felony: bool | None = None
    sentence_imposed_months: Months | None = None
    sentence_imposed_days: Days | None = None
    imposed_years_ago: Years | None = None
    imposed_on: Date | None = None
    released_years_ago: Years | None = None
    released_on: Date | None = None
    before_first_removal: bool | None = None
    single_sentence_group: Annotated[int, Field(ge=0, le=32_767)] | None = None
    consecutive: bool = False
    removed_after_conviction: bool = True
    foreign: bool = False

    @property
    def sentence_ticks(self) -> int:
        """The term imposed, exactly (0 when no imprisonment)."""
        if self.sentence_imposed_days is not None:
            return durations.days(self.sentence_imposed_days)
        return durations.months(self.sentence_imposed_months or 0)

    def imposed_ago_ticks(self, offense_date: dt.date) -> int:
        """Time from imposition to the instant offense."""
        if self.imposed_on is not None:
            return durations.calendar_ticks(self.imposed_on, offense_date)
        return durations.years(self.imposed_years_ago or 0)

    def released_ago_ticks(self, offense_date: dt.date) -> int:
        """Time from release to the instant offense; ``NEVER`` when not released."""
        if self.released_on is not None:
            return durations.calendar_ticks(self.released_on, offense_date)
        if self.released_years_ago is not None:
            return durations.years(self.released_years_ago)
        return durations.NEVER


def _one_of(prior: Mapping[str, Any], names: tuple[str, str], required: bool) -> list[str]:
    given = [name for name in names if prior.get(name) is not None]
    if len(given) > 1:
        return [f"given together with {names[1]}; allowed: one of the two"]
    if required and not given:
        return [f"required (or {names[1]} instead)"]
    return []


def _ticks_or_none(prior: Mapping[str, Any], unit_fields, offense_date) -> int | None:
    """A time given as either field, in ticks, or None where missing or malformed."""
    try:
        for name, convert in unit_fields:
            value = _date(prior.get(name))
            if value is None:
                continue
            if isinstance(value, dt.date):
                if not isinstance(offense_date, dt.date) or value > offense_date:
                    return None
                return convert(value, offense_date)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return convert(value)
    except ValueError:
        return None
    return None


def prior_problems(
    prior: Mapping[str, Any], manual: object, offense_date: object
) -> list[tuple[str, str]]:
    """Contradictions within one prior (raw mapping, any types): ``(field, message)`` pairs.

    Each rule is checked only when its fields are well formed, so that a type error elsewhere does
    not hide it: every problem of a file is reported at once.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(prior, Mapping):
        return problems
    for names, required in (
        (("sentence_imposed_months", "sentence_imposed_days"), True),
        (("imposed_years_ago", "imposed_on"), True),
        (("released_years_ago", "released_on"), False),
    ):
        problems += [(names[0], message) for message in _one_of(prior, names, required)]
    for name in ("imposed_on", "released_on"):
        value = _date(prior.get(name))
        if isinstance(value, dt.date):
            if not isinstance(offense_date, dt.date):
                problems.append((name, f"{value}: a date needs the case's offense_date"))
            elif value > offense_date:
                problems.append((name, f"{value} is after the offense date {offense_date}"))
    kind, felony = prior.get("kind"), prior.get("felony")
    if kind in MISDEMEANOR_KINDS and felony is True:
        problems.append(("felony", f"true contradicts kind: {kind} (a misdemeanor); fix one"))
    imposed = _ticks_or_none(
        prior,
        (("imposed_years_ago", durations.years), ("imposed_on", durations.calendar_ticks)),
        offense_date,
    )
    released = _ticks_or_none(
        prior,
        (("released_years_ago", durations.years), ("released_on", durations.calendar_ticks)),
        offense_date,
    )
    if imposed is not None and released is not None and released > imposed:
        problems.append(
            (
                "released_years_ago",
                "release cannot come before imposition: the prior was released "
                f"{durations.format_years(released)} ago but imposed "
                f"{durations.format_years(imposed)} ago (released_years_ago/released_on vs "
                "imposed_years_ago/imposed_on)",
            )
        )
    if prior.get("before_first_removal") is True and prior.get("removed_after_conviction") is False:
        problems.append(
            (
                "before_first_removal",
                "true contradicts removed_after_conviction: false (a conviction before the "
                "first removal was followed by that removal)",
            )
        )
    if (
        isinstance(manual, int)
        and FIRST_MANUAL <= manual <= LAST_MANUAL
        and edition(manual).reentry.uses_first_removal_order
        and prior.get("before_first_removal") is None
    ):
        problems.append(
            (
                "before_first_removal",
                f"required under the {manual} Manual: its § 2L1.2(b)(2) and (b)(3) ask whether "
                "the conviction (2018 and later: the conduct) came before the first removal "
                "order; allowed: true or false",
            )
        )
    return problems


class CaseFile(BaseModel):
    """A defendant to be sentenced by ``sim calc`` (docs/case-file.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    manual: Annotated[int, Field(ge=FIRST_MANUAL, le=LAST_MANUAL)]
    offense_date: Date | None = None
    conviction: Conviction
    acceptance: Literal[0, 2, 3] = 0
    early_disposition_levels: Annotated[int, Field(ge=0, le=4)] = 0
    criminal_history_category: Category | None = None
    criminal_history_points: Annotated[int, Field(ge=0, le=1000)] | None = None
    status: Literal["none", "under_sentence"] = "none"
    zero_point_criteria_met: bool = True
    name: str | None = None
    notes: str | None = None
    aggravated_felony_reading: Literal[aggravated.READINGS] | None = None
    priors: list[PriorConviction] = Field(default_factory=list)

    @property
    def reading(self) -> str:
        """The definition omitted ``aggravated_felony`` flags are derived under: the case's, or
        the one the edition's § 2L1.2 uses."""
        return (
            self.aggravated_felony_reading or edition(self.manual).reentry.aggravated_felony_reading
        )

    @property
    def date(self) -> dt.date:
        """The offense date, or the edition's default (an assumption the worksheet states)."""
        return self.offense_date or edition(self.manual).default_offense_date

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: Any) -> CaseFile:
        """Field errors and cross-field contradictions, all in one ValidationError."""
        extra = _case_problems(data) if isinstance(data, Mapping) else []
        try:
            case = handler(data)
        except ValidationError as error:
            raise problems_error(cls.__name__, extra, error.errors()) from None
        if extra:
            raise problems_error(cls.__name__, extra)
        return case


def _date(value: object) -> object:
    """A date given as text (Python callers) read as a date; anything else as it is."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _case_problems(data: Mapping[str, Any]) -> list[tuple[tuple, Any, str]]:
    manual = data.get("manual")
    offense_date = _date(data.get("offense_date"))
    if isinstance(manual, int) and FIRST_MANUAL <= manual <= LAST_MANUAL and offense_date is None:
        offense_date = edition(manual).default_offense_date
    found: list[tuple[tuple, object, str]] = []
    priors = data.get("priors")
    if isinstance(priors, list):
        for k, prior in enumerate(priors):
            for name, message in prior_problems(prior, manual, offense_date):
                value = prior.get(name) if isinstance(prior, Mapping) else None
                found.append((("priors", k, name), value, message))
    levels = data.get("early_disposition_levels")
    if (
        isinstance(manual, int)
        and FIRST_MANUAL <= manual <= LAST_MANUAL
        and isinstance(levels, int)
    ):
        rule = edition(manual).early_disposition
        if 0 < levels <= 4 and levels > rule.max_levels:
            found.append(
                (
                    ("early_disposition_levels",),
                    levels,
                    f"not available under the {manual} Manual ({rule.source}); allowed: 0",
                )
            )
    conviction = data.get("conviction")
    if (
        conviction in CONVICTIONS
        and isinstance(offense_date, dt.date)
        and statutory_maximum(conviction, offense_date) is None
    ):
        found.append(
            (
                ("conviction",),
                conviction,
                f"did not exist on the offense date {offense_date}: 8 U.S.C. § 1326(b) took "
                f"effect {ADAA_1988:%b %-d, %Y}; allowed: 1326(a) or a later offense_date",
            )
        )
    return found


def load_case(path: str | Path) -> CaseFile:
    """Read and validate a case file.

    Raises
    ------
    sim.inputs.InputError
        With one line per problem naming the file, the field, the value and what is allowed.
    """
    data, is_json = load_mapping(path)
    return validate_model(CaseFile, data, path, json_mode=is_json, reference="docs/case-file.md")


def case_to_records(cases: Sequence[CaseFile]) -> Records:
    """Struct-of-arrays records of validated cases (all under the same Manual).

    Priors whose ``aggravated_felony`` is omitted are classified by
    :mod:`sim.guidelines.aggravated_felony` under the law in force on the case's offense date, in
    the case's reading.
    """
    priors = [(case, prior) for case in cases for prior in case.priors]
    counts = [len(case.priors) for case in cases]

    def column(values: list, dtype: type | str) -> np.ndarray:
        return np.array(values, dtype=dtype)

    def optional(value: int | None, absent: int) -> int:
        return absent if value is None else value

    prior_arrays = Priors(
        kind=column([kind_code(p.kind) for _, p in priors], np.int8),
        felony=column([p.felony for _, p in priors], bool),
        aggravated_felony=column([bool(p.aggravated_felony) for _, p in priors], bool),
        sentence_imposed_ticks=column([p.sentence_ticks for _, p in priors], np.int64),
        imposed_ago_ticks=column([p.imposed_ago_ticks(c.date) for c, p in priors], np.int64),
        released_ago_ticks=column([p.released_ago_ticks(c.date) for c, p in priors], np.int64),
        before_first_removal=column([bool(p.before_first_removal) for _, p in priors], bool),
        removed_after_conviction=column([p.removed_after_conviction for _, p in priors], bool),
        foreign=column([p.foreign for _, p in priors], bool),
        single_sentence_group=column(
            [optional(p.single_sentence_group, NO_GROUP) for _, p in priors], np.int16
        ),
        consecutive=column([p.consecutive for _, p in priors], bool),
    )
    categories = [c.criminal_history_category for c in cases]
    records = Records(
        offense_date=np.array([np.datetime64(c.date, "D") for c in cases], dtype="datetime64[D]"),
        under_sentence=column([c.status == "under_sentence" for c in cases], bool),
        zero_point_criteria_met=column([c.zero_point_criteria_met for c in cases], bool),
        criminal_history_points_override=column(
            [optional(c.criminal_history_points, NO_OVERRIDE) for c in cases], np.int16
        ),
        criminal_history_category_override=column(
            [NO_OVERRIDE if name is None else CATEGORY_NAMES.index(name) for name in categories],
            np.int8,
        ),
        prior_offsets=np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64),
        priors=prior_arrays,
    )
    omitted = np.array([p.aggravated_felony is None for _, p in priors], dtype=bool)
    if omitted.any():
        derived = _derived_aggravated_felony(cases, records)
        prior_arrays.aggravated_felony[omitted] = derived[omitted]
    return records


def _derived_aggravated_felony(cases: Sequence[CaseFile], records: Records) -> np.ndarray:
    """§ 1101(a)(43) as in force on each case's offense date, for every prior."""
    out = np.zeros(len(records.priors.kind), dtype=bool)
    for i, case in enumerate(cases):
        lo, hi = int(records.prior_offsets[i]), int(records.prior_offsets[i + 1])
        if lo == hi:
            continue
        law = aggravated.law_in_force(case.date, case.reading)
        out[lo:hi] = aggravated.classify_priors(records.block(i, i + 1), law)
    return out


def case_dispositions(cases: Sequence[CaseFile]) -> Dispositions:
    """The cases' own conviction, acceptance and early-disposition levels."""
    return Dispositions(
        conviction=np.array([conviction_code(c.conviction) for c in cases], dtype=np.int8),
        acceptance_levels=np.array([c.acceptance for c in cases], dtype=np.int8),
        early_disposition_levels=np.array(
            [c.early_disposition_levels for c in cases], dtype=np.int8
        ),
    )

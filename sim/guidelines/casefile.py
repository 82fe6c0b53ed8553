"""Case files: the YAML/JSON contract of ``sim calc`` (docs/case-file.md), as strict models.

>>> case = CaseFile.model_validate({"manual": 1995, "conviction": "1326(b)(2)", "acceptance": 3})
>>> len(case_to_defendants([case]))
1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.guidelines.adjustments import EARLY_DISPOSITION_FIRST_MANUAL
from sim.guidelines.engine import FIRST_MANUAL, LAST_MANUAL
from sim.guidelines.records import (
    CONVICTIONS,
    NO_GROUP,
    NO_OVERRIDE,
    PRIOR_KINDS,
    Defendants,
    Priors,
    conviction_code,
    kind_code,
)
from sim.guidelines.statutes import ADAA_1988
from sim.guidelines.table import CATEGORY_NAMES
from sim.inputs import load_mapping, validate_model

__all__ = ["CaseFile", "PriorConviction", "case_to_defendants", "load_case"]

# The allowed values are the engine's own code tables, so the two cannot drift apart.
PriorKind = Literal[PRIOR_KINDS]
Conviction = Literal[CONVICTIONS]
Category = Literal["I", "II", "III", "IV", "V", "VI"]
Months = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Years = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class PriorConviction(BaseModel):
    """One prior conviction (docs/case-file.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: PriorKind
    felony: bool
    aggravated_felony: bool
    sentence_imposed_months: Months
    imposed_years_ago: Years
    released_years_ago: Years | None = None
    before_first_removal: bool
    single_sentence_group: Annotated[int, Field(ge=0, le=32_767)] | None = None
    consecutive: bool = False
    removed_after_conviction: bool = True
    foreign: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> PriorConviction:
        if self.aggravated_felony and not self.felony:
            raise ValueError("aggravated_felony: true needs felony: true (8 U.S.C. § 1101(a)(43))")
        if self.released_years_ago is not None and self.released_years_ago > self.imposed_years_ago:
            raise ValueError(
                f"released_years_ago ({self.released_years_ago}) cannot exceed imposed_years_ago "
                f"({self.imposed_years_ago}): release follows imposition"
            )
        if self.before_first_removal and not self.removed_after_conviction:
            raise ValueError(
                "before_first_removal: true needs removed_after_conviction: true (the first "
                "removal followed the conviction)"
            )
        return self


class CaseFile(BaseModel):
    """A defendant to be sentenced by ``sim calc`` (docs/case-file.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    manual: Annotated[int, Field(ge=FIRST_MANUAL, le=LAST_MANUAL)]
    offense_date: Annotated[dt.date, Field(strict=False)] | None = None
    conviction: Conviction
    acceptance: Literal[0, 2, 3] = 0
    early_disposition_levels: Annotated[int, Field(ge=0, le=4)] = 0
    criminal_history_category: Category | None = None
    criminal_history_points: Annotated[int, Field(ge=0, le=1000)] | None = None
    status: Literal["none", "under_sentence"] = "none"
    zero_point_criteria_met: bool = True
    name: str | None = None
    notes: str | None = None
    priors: list[PriorConviction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CaseFile:
        if self.early_disposition_levels and self.manual < EARLY_DISPOSITION_FIRST_MANUAL:
            raise ValueError(
                f"early_disposition_levels: {self.early_disposition_levels} is not available under "
                f"the {self.manual} Manual: USSG § 5K3.1 took effect Oct 27, 2003 (App. C Amend. "
                f"651); allowed: 0"
            )
        if (
            self.conviction.startswith("1326(b)")
            and self.offense_date is not None
            and np.datetime64(self.offense_date) < ADAA_1988
        ):
            raise ValueError(
                f"conviction {self.conviction} with offense_date {self.offense_date}: 8 U.S.C. "
                f"§ 1326(b) took effect Nov 18, 1988; allowed: 1326(a) or a later offense date"
            )
        return self


def load_case(path: str | Path) -> CaseFile:
    """Read and validate a case file.

    Raises
    ------
    sim.inputs.InputError
        With one line per problem naming the file, the field, the value and what is allowed.
    """
    data, is_json = load_mapping(path)
    return validate_model(CaseFile, data, path, json_mode=is_json)


def case_to_defendants(cases: Sequence[CaseFile]) -> Defendants:
    """Struct-of-arrays batch of validated cases (their ``manual`` is not part of the batch)."""
    priors = [prior for case in cases for prior in case.priors]
    counts = [len(case.priors) for case in cases]

    def column(name: str, dtype: type | str) -> np.ndarray:
        return np.array([getattr(prior, name) for prior in priors], dtype=dtype)

    prior_arrays = Priors(
        kind=np.array([kind_code(p.kind) for p in priors], dtype=np.int8),
        felony=column("felony", bool),
        aggravated_felony=column("aggravated_felony", bool),
        sentence_imposed_months=column("sentence_imposed_months", np.float64),
        imposed_years_ago=column("imposed_years_ago", np.float64),
        released_years_ago=np.array(
            [np.nan if p.released_years_ago is None else p.released_years_ago for p in priors],
            dtype=np.float64,
        ),
        before_first_removal=column("before_first_removal", bool),
        removed_after_conviction=column("removed_after_conviction", bool),
        foreign=column("foreign", bool),
        single_sentence_group=np.array(
            [
                NO_GROUP if p.single_sentence_group is None else p.single_sentence_group
                for p in priors
            ],
            dtype=np.int16,
        ),
        consecutive=column("consecutive", bool),
    )
    return Defendants(
        conviction=np.array([conviction_code(c.conviction) for c in cases], dtype=np.int8),
        offense_date=np.array(
            [
                np.datetime64("NaT")
                if c.offense_date is None
                else np.datetime64(c.offense_date, "D")
                for c in cases
            ],
            dtype="datetime64[D]",
        ),
        acceptance_levels=np.array([c.acceptance for c in cases], dtype=np.int8),
        early_disposition_levels=np.array(
            [c.early_disposition_levels for c in cases], dtype=np.int8
        ),
        under_sentence=np.array([c.status == "under_sentence" for c in cases], dtype=bool),
        zero_point_criteria_met=np.array([c.zero_point_criteria_met for c in cases], dtype=bool),
        criminal_history_points_override=np.array(
            [
                NO_OVERRIDE if c.criminal_history_points is None else c.criminal_history_points
                for c in cases
            ],
            dtype=np.int16,
        ),
        criminal_history_category_override=np.array(
            [
                NO_OVERRIDE
                if c.criminal_history_category is None
                else CATEGORY_NAMES.index(c.criminal_history_category)
                for c in cases
            ],
            dtype=np.int8,
        ),
        prior_offsets=np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64),
        priors=prior_arrays,
    )

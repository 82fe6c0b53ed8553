"""Named profiles: the real defendants a study reports by name (e.g. Banuelos-Rodriguez).

A profile is a population of one record: the pipeline (:mod:`sim.run.pipeline`) sentences it
``profile_draws`` times per replication in every district, with its own keyed streams, so that its
sentences vary only with the policy and judge decisions. Absent a deal he pleads as recorded
(always with his acceptance levels, or never).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, NamedTuple

import numpy as np
from pydantic import Field, model_validator

from sim.guidelines.casefile import CaseFile, Category, PriorConviction, case_to_records
from sim.guidelines.editions import edition
from sim.guidelines.engine import assess, dispose
from sim.guidelines.records import Dispositions, Records
from sim.model.parameters import StrictModel
from sim.model.policy import record_facts, statutory_charge

__all__ = ["NoDealRange", "ProfileRecord", "no_deal_range", "profile_pleas", "profile_records"]


class ProfileRecord(StrictModel):
    """A named defendant reported in every run (e.g. Banuelos-Rodriguez).

    ``acceptance`` is what he receives when he pleads without a deal (0: he goes to trial absent
    a deal); offers reach him as the district's policy says.
    """

    description: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    acceptance: Literal[0, 2, 3]
    criminal_history_category: Category | None = None
    criminal_history_points: Annotated[int, Field(ge=0, le=1000)] | None = None
    status: Literal["none", "under_sentence"] = "none"
    prior_removals: Annotated[int, Field(ge=1, le=1000)]
    priors: list[PriorConviction] = Field(default_factory=list)
    expected: str = ""
    #: What of the record the source does not give (terms, dates, removals), labelled so that
    #: ``sim run --json`` lists it with the assumptions.
    assumed: str = ""
    assumption: bool = False

    @model_validator(mode="after")
    def _says_what_is_assumed(self) -> ProfileRecord:
        if self.assumption and not self.assumed.strip():
            raise ValueError("assumption: true needs `assumed`: what of the record is assumed")
        return self


def _record(profile: ProfileRecord, manual: int, offense_date: dt.date) -> Records:
    case = CaseFile(
        manual=manual,
        offense_date=offense_date,
        conviction="1326(a)",
        acceptance=profile.acceptance,
        criminal_history_category=profile.criminal_history_category,
        criminal_history_points=profile.criminal_history_points,
        status=profile.status,
        priors=profile.priors,
    )
    return case_to_records([case])


def profile_records(
    profile: ProfileRecord, manual: int, offense_date: dt.date, copies: int
) -> tuple[Records, np.ndarray]:
    """The profile's record ``copies`` times, and his prior removals: a population step."""
    record = _record(profile, manual, offense_date)
    return record.take(np.zeros(copies, dtype=np.int64)), np.full(copies, profile.prior_removals)


def profile_pleas(profile: ProfileRecord) -> tuple[float, int]:
    """His no-deal plea: (probability, acceptance levels) replacing each district's."""
    return (1.0 if profile.acceptance else 0.0), profile.acceptance


class NoDealRange(NamedTuple):
    """His ranges under the statutory charge, pleading as recorded, with no offer (months)."""

    final_range: tuple[int, int]
    guideline_range: tuple[int, int]
    statutory_maximum: int


def no_deal_range(profile: ProfileRecord, manual: int, offense_date: dt.date) -> NoDealRange:
    """The guideline and final ranges a district without a deal would apply to him."""
    record = _record(profile, manual, offense_date)
    assessment = assess(record, edition(manual))
    facts = record_facts(
        record, assessment.criminal_history_category, np.array([profile.prior_removals])
    )
    result = dispose(
        assessment,
        Dispositions(
            statutory_charge(facts),
            np.array([profile.acceptance], dtype=np.int8),
            np.zeros(1, dtype=np.int8),
        ),
    )
    return NoDealRange(
        (int(result.final_min_months[0]), int(result.final_max_months[0])),
        (int(result.guideline_min_months[0]), int(result.guideline_max_months[0])),
        int(result.statutory_maximum_months[0]),
    )

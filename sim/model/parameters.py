"""Documented parameters: every number in a scenario carries its unit and its source.

A scenario's numbers are written as ``{value, unit, source}`` mappings; a number that no source
supports must say so with ``assumption: true`` (and the ``source`` then says whose guess it is and
why). Reports list every assumption so a reader sees which conclusions rest on which guess.

Every value is finite and within the bounds of its kind (:data:`Probability` 0-1, months 0-1,200,
counts and means 0-1,000, ...), so that no number can reach the arithmetic as NaN, infinity or a
magnitude that overflows it.

>>> p = Parameter.model_validate({"value": 0.4, "unit": "share", "source": "USSC 2015"})
>>> p.value, p.assumption
(0.4, False)
>>> from pydantic import ValidationError
>>> try:
...     Months.model_validate({"value": float("nan"), "unit": "months", "source": "x"})
... except ValidationError as error:
...     print(error.errors()[0]["msg"])
Input should be a finite number
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Count",
    "Dispersion",
    "Factor",
    "Months",
    "Parameter",
    "Probability",
    "StrictModel",
    "Weight",
    "Years",
]

#: The largest magnitude any documented number may have.
_LARGEST = 1e9


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys and type coercions are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Parameter(StrictModel):
    """A number with its unit, source and assumption label: finite, at most 10⁹ in magnitude."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=-_LARGEST, le=_LARGEST)]
    unit: Annotated[str, Field(min_length=1, max_length=200)]
    source: Annotated[str, Field(min_length=1, max_length=2000)]
    assumption: bool = False


class Probability(Parameter):
    """A probability or share, in [0, 1]."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)]
    unit: Annotated[str, Field(min_length=1, max_length=200)] = "probability"


class Months(Parameter):
    """A length of time in months, 0 to 1,200 (a hundred years)."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1200.0)]


class Years(Parameter):
    """A length of time in years, 0 to 100."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=100.0)]


class Count(Parameter):
    """A count or the mean of one (removals, convictions), 0 to 1,000."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1000.0)]


class Dispersion(Parameter):
    """A shape parameter (negative binomial dispersion), above 0 and at most 1,000."""

    value: Annotated[float, Field(allow_inf_nan=False, gt=0.0, le=1000.0)]


class Weight(Parameter):
    """A non-negative weight (a caseload), at most 10⁹."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=_LARGEST)]


class Factor(Parameter):
    """A multiplicative share of a sentence (a departure's size), 0 to 10."""

    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=10.0)]

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

import math
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "Count",
    "Dispersion",
    "Distribution",
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


_Bound = Annotated[float, Field(allow_inf_nan=False, ge=-_LARGEST, le=_LARGEST)]


class Distribution(StrictModel):
    """What is believed about an assumed number, for sweeps (``sim sweep``, docs/sensitivity.md):
    ``uniform`` on [low, high], ``triangular`` with its ``mode``, or ``beta(a, b)`` stretched to
    [low, high]. A bare ``range: [low, high]`` is the uniform one."""

    kind: Literal["uniform", "triangular", "beta"]
    low: _Bound
    high: _Bound
    mode: _Bound | None = None
    a: Annotated[float, Field(allow_inf_nan=False, gt=0.0, le=1000.0)] | None = None
    b: Annotated[float, Field(allow_inf_nan=False, gt=0.0, le=1000.0)] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        if not self.low < self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        if self.kind == "triangular" and (
            self.mode is None or not self.low <= self.mode <= self.high
        ):
            raise ValueError("a triangular distribution needs a mode between low and high")
        if self.kind == "beta" and (self.a is None or self.b is None):
            raise ValueError("a beta distribution needs its shape parameters a and b")
        if self.kind != "triangular" and self.mode is not None:
            raise ValueError(f"mode is for triangular distributions, not {self.kind}")
        if self.kind != "beta" and (self.a is not None or self.b is not None):
            raise ValueError(f"a and b are for beta distributions, not {self.kind}")
        return self

    def quantile(self, u: float) -> float:
        """The value at probability ``u`` in [0, 1] (maps a uniform design onto the belief)."""
        low, high = self.low, self.high
        if self.kind == "uniform":
            return low + u * (high - low)
        if self.kind == "triangular":
            assert self.mode is not None
            c = (self.mode - low) / (high - low)
            x = math.sqrt(u * c) if u < c else 1 - math.sqrt((1 - u) * (1 - c))
            return low + x * (high - low)
        from scipy.stats import beta  # only a beta belief needs scipy

        return low + float(beta.ppf(u, self.a, self.b)) * (high - low)


def _as_tuple(value: object) -> object:
    """A YAML list as a tuple (frozen models are hashed; their fields must be too)."""
    return tuple(value) if isinstance(value, list) else value


class Parameter(StrictModel):
    """A number with its unit, source and assumption label: finite, at most 10⁹ in magnitude.

    An assumption may say how far it could plausibly be off: ``range: [low, high]`` (a uniform
    belief) or a ``distribution``, with ``range_source`` the one-line reason for it. Sweeps
    (``sim sweep``) and ``sim run --assumption-interval`` draw from it; the value stays the
    scenario's point estimate (every shipped value lies inside its range; a test in
    tests/analysis/test_sensitivity.py checks it).
    """

    value: Annotated[float, Field(allow_inf_nan=False, ge=-_LARGEST, le=_LARGEST)]
    unit: Annotated[str, Field(min_length=1, max_length=200)]
    source: Annotated[str, Field(min_length=1, max_length=2000)]
    assumption: bool = False
    range: Annotated[tuple[_Bound, _Bound], BeforeValidator(_as_tuple)] | None = None
    distribution: Distribution | None = None
    range_source: Annotated[str, Field(min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _belief(self) -> Parameter:
        if self.range is not None and self.distribution is not None:
            raise ValueError("give range or distribution, not both")
        belief = self.belief
        if belief is None:
            return self
        # The value may lie outside it: a scenario that extends another and changes the value
        # (or a test, or a calibration) need not restate the range. Sweeps draw from the range.
        field = type(self).model_fields["value"]
        for end in (belief.low, belief.high):
            for constraint in field.metadata:
                ok = all(
                    getattr(constraint, name, None) is None or test(end, getattr(constraint, name))
                    for name, test in (
                        ("ge", float.__ge__),
                        ("gt", float.__gt__),
                        ("le", float.__le__),
                        ("lt", float.__lt__),
                    )
                )
                if not ok:
                    raise ValueError(
                        f"range end {end:g} is not allowed for this parameter ({constraint})"
                    )
        return self

    @property
    def belief(self) -> Distribution | None:
        """The declared ``distribution``, or the uniform one of ``range``; None when neither."""
        if self.distribution is not None:
            return self.distribution
        if self.range is None:
            return None
        low, high = self.range
        if not low < high:
            raise ValueError(f"range [{low:g}, {high:g}]: low must be below high")
        return Distribution(kind="uniform", low=low, high=high)


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

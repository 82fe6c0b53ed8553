"""Documented parameters: every number in a scenario carries its unit and its source.

A scenario's numbers are written as ``{value, unit, source}`` mappings; a number that no source
supports must say so with ``assumption: true`` (and the ``source`` then says whose guess it is and
why). Reports list every assumption so a reader sees which conclusions rest on which guess.

>>> p = Parameter.model_validate({"value": 0.4, "unit": "share", "source": "USSC 2015"})
>>> p.value, p.assumption
(0.4, False)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Parameter", "Probability", "StrictModel"]


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys and type coercions are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Parameter(StrictModel):
    """A number with its unit, source and assumption label."""

    value: float
    unit: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    assumption: bool = False


class Probability(Parameter):
    """A :class:`Parameter` that is a probability or share, in [0, 1]."""

    value: Annotated[float, Field(ge=0.0, le=1.0)]
    unit: Annotated[str, Field(min_length=1)] = "probability"

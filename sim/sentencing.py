"""The sentencing judge: where the sentence lands, and its USSC position category.

The judge starts from the final range (the guideline range after § 5G1.1), picks a point in it,
may depart or vary, and is bound by a stipulated cap (Rule 11(c)(1)(C)) and the statutory maximum.
Sentences are whole months.

Position categories follow the U.S. Sentencing Commission's sourcebook classes: within range,
§ 5K3.1 early disposition, other government-sponsored below range (here: a stipulated cap below the
range), non-government-sponsored below range, above range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy.special import betaincinv

from sim.parameters import Parameter, Probability, StrictModel

__all__ = [
    "POSITION_CATEGORIES",
    "Departures",
    "JudgeConfig",
    "JudgeUniforms",
    "RangePosition",
    "Sentences",
    "impose_sentences",
]

#: USSC position categories, in code order.
POSITION_CATEGORIES = (
    "within_range",
    "early_disposition_5k3_1",
    "other_government_below",
    "non_government_below",
    "above_range",
)
WITHIN, EARLY_DISPOSITION, GOVERNMENT_BELOW, NON_GOVERNMENT_BELOW, ABOVE = range(5)


class RangePosition(StrictModel):
    """Where in the final range the judge lands, as a distribution of the position p in [0, 1].

    ``bottom`` p = 0; ``middle`` the midpoint (rounded down); ``top`` p = 1; ``uniform`` every whole
    month of the range equally likely; ``beta`` p ~ Beta(a, b), months = min + round(p (max - min)).
    """

    distribution: Literal["bottom", "middle", "top", "uniform", "beta"]
    a: Annotated[float, Field(gt=0)] | None = None
    b: Annotated[float, Field(gt=0)] | None = None
    source: Annotated[str, Field(min_length=1)]
    assumption: bool = False

    @model_validator(mode="after")
    def _beta_parameters(self) -> RangePosition:
        if (self.distribution == "beta") != (self.a is not None and self.b is not None):
            raise ValueError("a and b are required for distribution beta, and only for it")
        return self


class Departures(StrictModel):
    """Departure and variance rates (advisory-era scenarios); zero by default."""

    non_government_below_rate: Probability | None = None
    non_government_below_fraction: Parameter | None = None
    above_rate: Probability | None = None
    above_fraction: Parameter | None = None

    @model_validator(mode="after")
    def _pairs(self) -> Departures:
        for rate, size in (
            ("non_government_below_rate", "non_government_below_fraction"),
            ("above_rate", "above_fraction"),
        ):
            if (getattr(self, rate) is None) != (getattr(self, size) is None):
                raise ValueError(f"{rate} and {size} go together")
        below, above = self.rates()
        if below + above > 1:
            raise ValueError(f"non_government_below_rate + above_rate = {below + above} exceeds 1")
        fraction = self.non_government_below_fraction
        if fraction is not None and not 0 <= fraction.value <= 1:
            raise ValueError(f"non_government_below_fraction {fraction.value} is outside [0, 1]")
        if self.above_fraction is not None and self.above_fraction.value < 0:
            raise ValueError(f"above_fraction {self.above_fraction.value} is below zero")
        return self

    def rates(self) -> tuple[float, float]:
        """(below rate, above rate)."""
        below = self.non_government_below_rate.value if self.non_government_below_rate else 0.0
        above = self.above_rate.value if self.above_rate else 0.0
        return below, above


class JudgeConfig(StrictModel):
    """How judges sentence within and around the final range."""

    range_position: RangePosition
    departures: Departures = Field(default_factory=Departures)


@dataclass(frozen=True)
class JudgeUniforms:
    """Uniforms of the judge's decisions, shape (n,), shared by every district."""

    position: np.ndarray
    departure: np.ndarray


@dataclass(frozen=True)
class Sentences:
    """Imposed sentences (arrays of shape (n,))."""

    months: np.ndarray  # int32 whole months
    position_category: np.ndarray  # int8 index into POSITION_CATEGORIES


def _position(config: RangePosition, u: np.ndarray) -> np.ndarray:
    if config.distribution == "bottom":
        return np.zeros_like(u)
    if config.distribution == "top":
        return np.ones_like(u)
    if config.distribution == "middle":
        return np.full_like(u, 0.5)
    if config.distribution == "beta":
        return betaincinv(config.a, config.b, u)
    return u  # uniform: handled as whole months below


def impose_sentences(
    config: JudgeConfig,
    final_min_months: np.ndarray,
    final_max_months: np.ndarray,
    statutory_max_months: np.ndarray,
    sentence_cap_months: np.ndarray,
    early_disposition_levels: np.ndarray,
    u: JudgeUniforms,
) -> Sentences:
    """Sentences in whole months and their position categories.

    Parameters
    ----------
    config : JudgeConfig
    final_min_months, final_max_months : ndarray of int, shape (n,)
        The final range (after § 5G1.1).
    statutory_max_months : ndarray of int, shape (n,)
    sentence_cap_months : ndarray of float, shape (n,)
        A stipulated cap from a plea agreement, ``inf`` for none.
    early_disposition_levels : ndarray of int, shape (n,)
        § 5K3.1 levels granted (they make a within-range sentence a § 5K3.1 one).
    u : JudgeUniforms

    Returns
    -------
    Sentences
    """
    low = final_min_months.astype(np.int64)
    high = final_max_months.astype(np.int64)
    width = high - low
    position = _position(config.range_position, u.position)
    if config.range_position.distribution == "uniform":
        months = low + np.minimum(np.floor(position * (width + 1)).astype(np.int64), width)
    elif config.range_position.distribution == "middle":
        months = (low + high) // 2
    else:
        months = low + np.rint(position * width).astype(np.int64)

    below_rate, above_rate = config.departures.rates()
    category = np.where(early_disposition_levels > 0, EARLY_DISPOSITION, WITHIN).astype(np.int8)
    if below_rate:
        fraction = config.departures.non_government_below_fraction.value
        below = u.departure < below_rate
        months = np.where(below, np.floor(low * (1.0 - fraction)).astype(np.int64), months)
        category[below & (months < low)] = NON_GOVERNMENT_BELOW
    if above_rate:
        fraction = config.departures.above_fraction.value
        above = (u.departure >= below_rate) & (u.departure < below_rate + above_rate)
        months = np.where(above, np.ceil(high * (1.0 + fraction)).astype(np.int64), months)
        months = np.minimum(months, statutory_max_months)
        category[above & (months > high)] = ABOVE

    capped = months > sentence_cap_months
    months = np.where(capped, np.floor(np.minimum(sentence_cap_months, 1e9)), months).astype(
        np.int64
    )
    category[capped & (months < low)] = GOVERNMENT_BELOW
    return Sentences(months.astype(np.int32), category)

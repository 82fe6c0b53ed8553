"""The sentencing judge: where the sentence lands, and its USSC position category.

The judge starts from the final range (the guideline range after § 5G1.1), picks a point in it,
may depart or vary, gives at least time served where the range reaches 0 (a labelled parameter),
and is bound by a stipulated cap or floor (Rule 11(c)(1)(C)) and the statutory maximum. An exact
stipulated sentence (Fed. R. Crim. P. 11(c)(1)(C)) replaces all of that: the court that accepts
the plea imposes it, never above the statutory maximum of the conviction. Sentences are whole
months.

Position categories follow the U.S. Sentencing Commission's sourcebook classes: within range,
§ 5K3.1 early disposition, other government-sponsored below range (here: a stipulated cap or an
exact stipulated sentence below the range), non-government-sponsored below range, above range (a
departure or variance above it, or a stipulated floor, exact sentence or time served above it).
"""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator
from scipy.special import betaincinv

from sim.model.parameters import Factor, Months, Probability, StrictModel

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
    a: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None
    b: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None
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
    non_government_below_fraction: Factor | None = None
    above_rate: Probability | None = None
    above_fraction: Factor | None = None

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
    #: Where the final range reaches 0 and the chosen sentence is below it, the sentence is time
    #: served: detained § 1326 defendants are in custody from arrest to sentencing, and a judge
    #: does not impose less than the months already served (whole months; none by default).
    time_served_months: Months | None = None

    @model_validator(mode="after")
    def _whole_months(self) -> JudgeConfig:
        served = self.time_served_months
        if served is not None and served.value != int(served.value):
            raise ValueError(
                f"time_served_months {served.value:g} is not a whole number; allowed: whole "
                "months (sentences are imposed in whole months)"
            )
        return self


class JudgeUniforms(NamedTuple):
    """Uniforms of the judge's decisions, shape (n,), shared by every district."""

    position: np.ndarray
    departure: np.ndarray


class Sentences(NamedTuple):
    """Imposed sentences (arrays of shape (n,))."""

    months: np.ndarray  # int32 whole months
    position_category: np.ndarray  # int8 index into POSITION_CATEGORIES


# How the range position becomes months: p fixed (bottom 0, top 1) or drawn (beta), then
# min + round(p (max - min)); uniform whole months; the midpoint rounded down.
_FIXED, _DRAWN, _UNIFORM, _MIDDLE = range(4)
_MODES = {"bottom": _FIXED, "top": _FIXED, "beta": _DRAWN, "uniform": _UNIFORM, "middle": _MIDDLE}
_FIXED_POSITION = {"bottom": 0.0, "top": 1.0}


class _Ranges(NamedTuple):
    final_min_months: np.ndarray
    final_max_months: np.ndarray
    statutory_max_months: np.ndarray
    sentence_cap_months: np.ndarray
    early_disposition_levels: np.ndarray
    position: np.ndarray  # the position uniform, or its beta quantile
    departure: np.ndarray  # the departure uniform
    sentence_floor_months: np.ndarray  # 0 = no floor
    stipulated_months: np.ndarray  # < 0 = no exact stipulated sentence


class _JudgeRules(NamedTuple):
    mode: int
    fixed_position: float
    departs_below: bool
    below_rate: float
    below_factor: float
    departs_above: bool
    above_end: float  # below_rate + above_rate
    above_factor: float
    time_served: int  # months; 0 = none


@njit(cache=True)
def _sentence_kernel(x, rules, out):
    # Tuples unpacked into locals once: an array read through a tuple in the loop is reloaded
    # after every store.
    final_min, final_max, statutory_max, sentence_cap, early_levels, position, departure = x[:7]
    sentence_floor, stipulated = x[7:]
    mode, fixed_position, departs_below, below_rate, below_factor = rules[:5]
    departs_above, above_end, above_factor, time_served = rules[5:]
    months_out, category_out = out
    for i in range(len(months_out)):
        low = np.int64(final_min[i])
        high = np.int64(final_max[i])
        exact = stipulated[i]
        if exact >= 0:
            # An exact stipulated sentence (Fed. R. Crim. P. 11(c)(1)(C)) binds the court that
            # accepts the plea; no sentence exceeds the conviction's statutory maximum. Outside
            # the range it is government-sponsored below range, or above range (USSC classes).
            months = min(np.int64(np.floor(min(exact, 1e9))), np.int64(statutory_max[i]))
            if months < low:
                category = GOVERNMENT_BELOW
            elif months > high:
                category = ABOVE
            else:
                category = EARLY_DISPOSITION if early_levels[i] > 0 else WITHIN
            months_out[i] = months
            category_out[i] = category
            continue
        width = high - low
        if mode == _UNIFORM:  # every whole month of the range equally likely
            months = low + min(np.int64(np.floor(position[i] * (width + 1))), width)
        elif mode == _MIDDLE:
            months = (low + high) // 2
        else:
            p = position[i] if mode == _DRAWN else fixed_position
            months = low + np.int64(np.rint(p * width))

        # A § 5K3.1 motion makes a within-range sentence an early-disposition one.
        category = EARLY_DISPOSITION if early_levels[i] > 0 else WITHIN
        u = departure[i]
        if departs_below and u < below_rate:
            months = np.int64(np.floor(low * below_factor))
            if months < low:
                category = NON_GOVERNMENT_BELOW
        if departs_above:
            above = u >= below_rate and u < above_end
            # Clipped to the statutory maximum before the cast, so no factor can overflow int64.
            if above:
                months = np.int64(np.ceil(min(high * above_factor, statutory_max[i])))
            months = min(months, np.int64(statutory_max[i]))
            if above and months > high:
                category = ABOVE

        # Where the range reaches 0, a detained defendant gets at least time served.
        if low == 0 and months < time_served:
            months = min(np.int64(time_served), np.int64(statutory_max[i]))
            if months > high:
                category = ABOVE

        # A stipulated cap (Rule 11(c)(1)(C)) binds the judge.
        cap = sentence_cap[i]
        if months > cap:
            months = np.int64(np.floor(min(cap, 1e9)))
            if months < low:
                category = GOVERNMENT_BELOW
        # So does a stipulated floor, up to the statutory maximum: a sentence it lifts into the
        # range is within it, above the range above range.
        lowest = min(np.int64(np.ceil(min(sentence_floor[i], 1e9))), np.int64(statutory_max[i]))
        if months < lowest:
            months = lowest
            if months > high:
                category = ABOVE
            elif months >= low:
                category = EARLY_DISPOSITION if early_levels[i] > 0 else WITHIN
        months_out[i] = months
        category_out[i] = category


def impose_sentences(
    config: JudgeConfig,
    final_min_months: np.ndarray,
    final_max_months: np.ndarray,
    statutory_max_months: np.ndarray,
    sentence_cap_months: np.ndarray,
    early_disposition_levels: np.ndarray,
    u: JudgeUniforms,
    sentence_floor_months: np.ndarray | None = None,
    stipulated_months: np.ndarray | None = None,
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
    sentence_floor_months : ndarray of float, shape (n,), optional
        A stipulated floor, 0 for none (the default).
    stipulated_months : ndarray of float, shape (n,), optional
        An exact stipulated sentence, negative for none (the default).

    Returns
    -------
    Sentences
    """
    distribution = config.range_position.distribution
    position = u.position
    if distribution == "beta":  # scipy's inverse, vectorized, outside the kernel
        position = betaincinv(config.range_position.a, config.range_position.b, position)
    departures = config.departures
    below_rate, above_rate = departures.rates()
    below_fraction = departures.non_government_below_fraction
    above_fraction = departures.above_fraction
    n = len(final_min_months)
    if sentence_floor_months is None:
        sentence_floor_months = np.zeros(n)
    if stipulated_months is None:
        stipulated_months = np.full(n, -1.0)
    arrays = (
        final_max_months,
        statutory_max_months,
        sentence_cap_months,
        early_disposition_levels,
        sentence_floor_months,
        stipulated_months,
    )
    if any(len(a) != n for a in (*arrays, u.position, u.departure)):  # the kernel checks no bounds
        raise ValueError(f"every array must have the length of final_min_months ({n})")
    out = Sentences(np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int8))
    rules = _JudgeRules(
        mode=_MODES[distribution],
        fixed_position=_FIXED_POSITION.get(distribution, 0.0),
        departs_below=bool(below_rate),
        below_rate=below_rate,
        below_factor=1.0 - below_fraction.value if below_rate else 1.0,
        departs_above=bool(above_rate),
        above_end=below_rate + above_rate,
        above_factor=1.0 + above_fraction.value if above_rate else 1.0,
        time_served=0
        if config.time_served_months is None
        else int(config.time_served_months.value),
    )
    ranges = _Ranges(
        final_min_months,
        final_max_months,
        statutory_max_months,
        sentence_cap_months,
        early_disposition_levels,
        position,
        u.departure,
        sentence_floor_months,
        stipulated_months,
    )
    _sentence_kernel(ranges, rules, out)
    return out

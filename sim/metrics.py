"""Study metrics from integer tallies, each with its Monte Carlo standard error.

Every figure is computed once per replication; the reported estimate is the mean of the
replications' values and its Monte Carlo standard error (MCSE) is their standard deviation over
√R (replications are independent by construction of the streams). With R < 2 there is no error
estimate and the MCSE is reported as ``None``.

Quantiles of whole-month sentences use the inverse of the empirical distribution function
(Hyndman & Fan type 1): the smallest month m with at least a share q of sentences at or below m.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "histogram_mean",
    "histogram_quantile",
    "over_replications",
    "profile_summary",
    "study_summary",
]


def histogram_mean(histogram: np.ndarray) -> np.ndarray:
    """Mean month of histograms over the last axis (NaN where empty).

    >>> float(histogram_mean(np.array([1, 0, 3])))  # one 0, three 2s
    1.5
    """
    months = np.arange(histogram.shape[-1])
    total = histogram.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (histogram * months).sum(axis=-1) / total


def histogram_quantile(histogram: np.ndarray, q: float) -> np.ndarray:
    """Type-1 quantile of histograms over the last axis (NaN where empty).

    >>> int(histogram_quantile(np.array([1, 0, 3]), 0.5))
    2
    >>> int(histogram_quantile(np.array([2, 0, 2]), 0.5))  # half the sentences are 0 months
    0
    """
    cumulative = np.cumsum(histogram, axis=-1)
    total = cumulative[..., -1:]
    position = (cumulative >= q * total).argmax(axis=-1).astype(float)
    return np.where(total[..., 0] > 0, position, np.nan)


def over_replications(values: np.ndarray) -> dict[str, Any]:
    """Mean over replications (axis 0), its MCSE and a 95% t interval.

    >>> over_replications(np.array([1.0, 2.0, 3.0]))["mcse"]
    0.5773502691896258
    """
    values = np.asarray(values, dtype=float)
    r = values.shape[0]
    estimate = np.nanmean(values, axis=0) if np.isfinite(values).any() else np.nan
    if r < 2:
        return {"estimate": _number(estimate), "mcse": None, "ci95": None}
    mcse = np.nanstd(values, axis=0, ddof=1) / math.sqrt(r)
    half = stats.t.ppf(0.975, r - 1) * mcse
    return {
        "estimate": _number(estimate),
        "mcse": _number(mcse),
        "ci95": [_number(estimate - half), _number(estimate + half)],
    }


def _number(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _view(prosecuted: np.ndarray, defendants: np.ndarray, histogram: np.ndarray) -> dict[str, Any]:
    with np.errstate(invalid="ignore", divide="ignore"):
        share = prosecuted / defendants
    imprisoned = histogram[..., 1:].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        imprisonment = imprisoned / histogram.sum(axis=-1)
    return {
        "prosecuted_share": over_replications(share),
        "mean_months": over_replications(histogram_mean(histogram)),
        "median_months": over_replications(histogram_quantile(histogram, 0.5)),
        "p90_months": over_replications(histogram_quantile(histogram, 0.9)),
        "imprisonment_share": over_replications(imprisonment),
    }


def study_summary(result) -> dict[str, Any]:
    """Per-district figures of a :class:`sim.runner.StudyResult`, both views.

    Returns ``{CODE: {"counterfactual": {...}, "as_arrested": {...}, "position_shares": {...}}}``
    where each figure is ``{"estimate", "mcse", "ci95"}``. Months are among prosecuted defendants.
    """
    from sim.sentencing import POSITION_CATEGORIES

    tally = result.tally
    districts: dict[str, Any] = {}
    for d, code in enumerate(result.scenario.district_codes):
        counterfactual = _view(
            tally.counterfactual_prosecuted[:, d],
            tally.defendants,
            tally.counterfactual_histogram[:, d],
        )
        as_arrested = _view(
            tally.as_arrested_prosecuted[:, d],
            tally.as_arrested_defendants[:, d],
            tally.as_arrested_histogram[:, d],
        )
        as_arrested["arrest_share"] = over_replications(
            tally.as_arrested_defendants[:, d] / tally.defendants
        )
        positions = tally.counterfactual_positions[:, d]
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = positions / positions.sum(axis=-1, keepdims=True)
        districts[code] = {
            "name": result.scenario.districts[code].name,
            "counterfactual": counterfactual,
            "as_arrested": as_arrested,
            "position_shares": {
                category: over_replications(shares[:, k])
                for k, category in enumerate(POSITION_CATEGORIES)
            },
        }
    return districts


def profile_summary(result) -> dict[str, Any]:
    """Per-profile, per-district figures: no-deal range, prosecution, months, deals taken."""
    profiles: dict[str, Any] = {}
    for name, tally in result.profiles.items():
        draws = result.scenario.study.profile_draws
        by_district: dict[str, Any] = {}
        for d, code in enumerate(result.scenario.district_codes):
            histogram = tally.histogram[:, d]
            pooled = histogram.sum(axis=0)
            sentenced = np.flatnonzero(pooled)
            offers = result.scenario.districts[code].offers
            taken = tally.offers[:, d].sum(axis=0)
            prosecuted_total = max(int(tally.prosecuted[:, d].sum()), 1)
            deal_shares = {
                offer.name: float(taken[k]) / prosecuted_total for k, offer in enumerate(offers)
            }
            deal_shares["no_deal"] = float(taken[-1]) / prosecuted_total
            low, high = (int(v) for v in tally.no_deal_final_range[d])
            by_district[code] = {
                "final_range_months": [low, high],
                "guideline_range_months": [int(v) for v in tally.no_deal_guideline_range[d]],
                "statutory_maximum_months": int(tally.statutory_maximum_months[d]),
                "prosecuted_share": over_replications(tally.prosecuted[:, d] / draws),
                "mean_months": over_replications(histogram_mean(histogram)),
                "min_months": int(sentenced[0]) if len(sentenced) else None,
                "max_months": int(sentenced[-1]) if len(sentenced) else None,
                "deal_shares": deal_shares,
            }
        profiles[name] = by_district
    return profiles

"""Study metrics as small pure functions of integer tallies, and the Monte Carlo standard error.

Each function here computes one metric of one replication from histograms or sums (Gini, Theil,
Wasserstein and Kolmogorov–Smirnov distances, variance shares, the selection-vs-policy split), or
turns one value per replication into an :class:`Estimate` (:func:`over_replications`). The
typed figures of a run are assembled from them in :mod:`sim.analysis.measures`.

Every figure is computed once per replication; the reported estimate is the mean of the
replications' values and its Monte Carlo standard error (MCSE) is their standard deviation over
√R (replications are independent by construction of the streams). With R < 2 there is no error
estimate and the MCSE is reported as ``None``.

Quantiles of whole-month sentences use the inverse of the empirical distribution function
(Hyndman & Fan type 1): the smallest month m with at least a share q of sentences at or below m.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy.special import stdtrit

__all__ = [
    "Estimate",
    "balanced_histograms",
    "gini_from_histogram",
    "histogram_mean",
    "histogram_quantile",
    "ks_from_histograms",
    "over_replications",
    "selection_vs_policy",
    "theil_decomposition",
    "variance_shares",
    "wasserstein_from_histograms",
]


class Estimate(NamedTuple):
    """A figure over replications: the mean of the replications' values, its Monte Carlo
    standard error and a 95% t interval (``mcse`` and ``ci95`` are None with fewer than two
    replications; any part is None where the value is undefined, e.g. an empty district)."""

    estimate: float | None
    mcse: float | None
    ci95: tuple[float | None, float | None] | None


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


def over_replications(values: np.ndarray) -> Estimate:
    """Mean over replications, its MCSE and a 95% t interval.

    Parameters
    ----------
    values : numpy.ndarray
        One value per replication (NaN where undefined; NaNs are left out of the mean).

    Returns
    -------
    Estimate
        ``estimate`` = mean, ``mcse`` = standard deviation / √R, ``ci95`` = mean ± t(0.975, R−1)
        x MCSE, over the R replications where the value is defined; ``mcse`` and ``ci95`` are
        None when R < 2.

    Examples
    --------
    >>> over_replications(np.array([1.0, 2.0, 3.0])).mcse
    0.5773502691896258
    """
    values = np.asarray(values, dtype=float)
    # Replications where the figure is undefined (NaN: e.g. nobody prosecuted) are left out of
    # the mean, the standard deviation and the count alike.
    count = np.isfinite(values).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN, quietly
        estimate = np.nanmean(values, axis=0)
        if np.all(count < 2):
            return Estimate(_number(estimate), None, None)
        mcse = np.nanstd(values, axis=0, ddof=1) / np.sqrt(count)
        # The t quantile (scipy.stats.t.ppf's own function, without its import cost).
        half = stdtrit(count - 1, 0.975) * mcse
    return Estimate(
        _number(estimate), _number(mcse), (_number(estimate - half), _number(estimate + half))
    )


def _number(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def gini_from_histogram(histogram: np.ndarray) -> float:
    """Gini coefficient of whole-month outcomes given as a histogram (index = months).

    G = Σ_i Σ_j |y_i − y_j| / (2 n² μ), computed exactly from the sorted cumulative counts;
    0 when every outcome is equal, NaN when there are none or all are zero.

    >>> round(gini_from_histogram(np.array([1, 0, 0, 1])), 12)  # values 0 and 3
    0.5
    """
    counts = np.asarray(histogram, dtype=float)
    n = counts.sum()
    months = np.arange(len(counts), dtype=float)
    total = (counts * months).sum()
    if n == 0 or total == 0:
        return float("nan")
    # Σ_i Σ_j |y_i − y_j| = 2 Σ_k y_k c_k (2 F_k − c_k − n) with F_k the cumulative count.
    cumulative = np.cumsum(counts)
    pair_sum = 2.0 * (months * counts * (2.0 * cumulative - counts - n)).sum()
    return float(pair_sum / (2.0 * n * n * (total / n)))


def theil_decomposition(histograms: np.ndarray) -> dict[str, float]:
    """Theil T index of grouped outcomes, split into between- and within-group parts.

    ``histograms[g, m]`` counts group ``g``'s outcomes of ``m`` months. With s_g = N_g μ_g / (N μ),

    T = (1/N) Σ_i (y_i/μ) ln(y_i/μ),  T_between = Σ_g s_g ln(μ_g/μ),  T_within = Σ_g s_g T_g,

    and T = T_between + T_within exactly. Zero-month outcomes contribute 0 (the limit of
    x ln x as x → 0); a group whose every outcome is 0 has s_g = 0 and contributes nothing.

    >>> d = theil_decomposition(np.array([[5, 0], [0, 5]]))  # all 0 months vs all 1 month
    >>> bool(np.isclose(d["between"], np.log(2))), d["within"]
    (True, 0.0)
    """
    counts = np.asarray(histograms, dtype=float)
    months = np.arange(counts.shape[-1], dtype=float)
    n_g = counts.sum(axis=-1)
    total_g = (counts * months).sum(axis=-1)
    n, total = n_g.sum(), total_g.sum()
    if n == 0 or total == 0:
        return {"total": float("nan"), "between": float("nan"), "within": float("nan")}

    def theil(row_counts: np.ndarray, mean: float) -> float:
        # (1/N) Σ (y/μ) ln(y/μ) with 0 ln 0 = 0.
        ratio = months[1:] / mean
        return float((row_counts[..., 1:] * ratio * np.log(ratio)).sum() / row_counts.sum())

    mean = total / n
    share = total_g / total
    between = within = 0.0
    for g in np.flatnonzero(total_g > 0):  # loop over districts, not defendants
        mean_g = total_g[g] / n_g[g]
        between += share[g] * np.log(mean_g / mean)
        within += share[g] * theil(counts[g], mean_g)
    total_theil = theil(counts.sum(axis=0), mean)
    return {"total": total_theil, "between": float(between), "within": float(within)}


def wasserstein_from_histograms(a: np.ndarray, b: np.ndarray) -> float:
    """Wasserstein-1 distance (months) between two whole-month distributions.

    W1 = Σ_m |F_a(m) − F_b(m)| for unit-spaced support (the area between the CDFs).

    >>> wasserstein_from_histograms(np.array([1, 0, 0]), np.array([0, 0, 1]))
    2.0
    """
    fa = np.cumsum(a) / np.sum(a)
    fb = np.cumsum(b) / np.sum(b)
    return float(np.abs(fa - fb)[:-1].sum())


def ks_from_histograms(a: np.ndarray, b: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance sup_m |F_a(m) − F_b(m)| of two whole-month distributions.

    >>> ks_from_histograms(np.array([1, 1, 0]), np.array([0, 1, 1]))
    0.5
    """
    fa = np.cumsum(a) / np.sum(a)
    fb = np.cumsum(b) / np.sum(b)
    return float(np.abs(fa - fb).max())


def variance_shares(
    district_totals: np.ndarray,
    defendant_total_squares: int,
    cell_counts: np.ndarray,
    cell_totals: np.ndarray,
    total: int,
    total_squares: int,
    defendants: int,
) -> dict[str, float]:
    """Exact variance decomposition of outcomes Y[i, d] on the balanced counterfactual design.

    Every defendant i = 1..N is sentenced in every district d = 1..D (declined = 0 months), so
    the design is balanced and the total sum of squares splits exactly (two-way ANOVA without
    replication)::

        SS_total    = Σ Y²          − C,     C = (Σ Y)² / (N D)
        SS_district = Σ_d Y_·d² / N − C
        SS_record   = Σ_i Y_i·² / D − C
        SS_interaction = SS_total − SS_district − SS_record

    Shapley values of R² over the two factors (district, record) split the interaction equally:
    ``district = (SS_district + SS_interaction / 2) / SS_total`` and likewise for the record.
    The record's share is split again by a Shapley decomposition of the defendant totals Y_i·
    over criminal history category (C) and § 2L1.2 enhancement (E), using saturated cell-mean
    models: R²_C, R²_E, R²_CE from the between-cell sums of squares, with

        φ_C = ½ [R²_C + (R²_CE − R²_E)],  φ_E = ½ [R²_E + (R²_CE − R²_C)],
        other record = 1 − R²_CE,

    each multiplied by the record's Shapley share. All shares sum to 1.

    Parameters
    ----------
    district_totals : (D,) Σ_i Y[i, d]
    defendant_total_squares : Σ_i (Σ_d Y[i, d])²
    cell_counts, cell_totals : (C, E) defendants and Σ Y_i· per (category, enhancement) cell
    total, total_squares : Σ Y and Σ Y² over all (i, d)
    defendants : N
    """
    d = len(district_totals)
    n = defendants
    correction = total * total / (n * d)
    ss_total = total_squares - correction
    ss_district = float(np.sum(np.asarray(district_totals, dtype=float) ** 2)) / n - correction
    ss_record = defendant_total_squares / d - correction
    ss_interaction = ss_total - ss_district - ss_record
    if ss_total <= 0:
        nan = float("nan")
        return dict.fromkeys(_VARIANCE_KEYS, nan)

    def between(counts: np.ndarray, totals: np.ndarray) -> float:
        counts = np.asarray(counts, dtype=float)
        totals = np.asarray(totals, dtype=float)
        occupied = counts > 0
        return float((totals[occupied] ** 2 / counts[occupied]).sum() / d - correction)

    r2_c = (
        between(cell_counts.sum(axis=1), cell_totals.sum(axis=1)) / ss_record
        if ss_record > 0
        else 0.0
    )
    r2_e = (
        between(cell_counts.sum(axis=0), cell_totals.sum(axis=0)) / ss_record
        if ss_record > 0
        else 0.0
    )
    r2_ce = between(cell_counts, cell_totals) / ss_record if ss_record > 0 else 0.0
    record_share = (ss_record + ss_interaction / 2) / ss_total
    return {
        "district": (ss_district + ss_interaction / 2) / ss_total,
        "criminal_history_category": record_share * 0.5 * (r2_c + r2_ce - r2_e),
        "section_2l1_2_enhancement": record_share * 0.5 * (r2_e + r2_ce - r2_c),
        "other_record": record_share * (1.0 - r2_ce),
        "district_main_effect": ss_district / ss_total,
        "record_main_effect": ss_record / ss_total,
        "district_record_interaction": ss_interaction / ss_total,
    }


_VARIANCE_KEYS = (
    "district",
    "criminal_history_category",
    "section_2l1_2_enhancement",
    "other_record",
    "district_main_effect",
    "record_main_effect",
    "district_record_interaction",
)


def selection_vs_policy(
    selected_count: np.ndarray, selected_sums: np.ndarray, a: int, b: int
) -> dict[str, float]:
    """Split the as-arrested gap in mean sentences between districts a and b, exactly.

    S_a: defendants arrested and sentenced in a; Y_b(i): i's counterfactual months in b (0 when
    b would decline him); μ_b(S_a) = mean of Y_b over S_a. The observed gap

        μ_a(S_a) − μ_b(S_b) = treatment + composition,
        treatment   = ½ {[μ_a(S_a) − μ_b(S_a)] + [μ_a(S_b) − μ_b(S_b)]}   (what a and b do to the
                      same defendants, averaged over both caseloads)
        composition = ½ {[μ_a(S_a) − μ_a(S_b)] + [μ_b(S_a) − μ_b(S_b)]}   (who each prosecutes)

    ``selected_count[a]`` = |S_a|, ``selected_sums[a, b]`` = Σ_{i ∈ S_a} Y_b(i).
    """
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where a district arrests nobody
        mean = (
            np.asarray(selected_sums, dtype=float)
            / np.asarray(selected_count, dtype=float)[:, None]
        )
    observed = mean[a, a] - mean[b, b]
    treatment = 0.5 * ((mean[a, a] - mean[a, b]) + (mean[b, a] - mean[b, b]))
    composition = 0.5 * ((mean[a, a] - mean[b, a]) + (mean[a, b] - mean[b, b]))
    return {
        "observed_gap_months": float(observed),
        "treatment_months": float(treatment),
        "composition_months": float(composition),
    }


def balanced_histograms(tally) -> np.ndarray:
    """(R, D, M+1) histograms of Y = months, 0 for a declined defendant (every defendant)."""
    histograms = tally.counterfactual_histogram.copy()
    histograms[:, :, 0] += tally.defendants[:, None] - tally.counterfactual_prosecuted
    return histograms

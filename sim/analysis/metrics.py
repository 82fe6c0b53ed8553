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
    "gini_from_histogram",
    "histogram_mean",
    "histogram_quantile",
    "ks_from_histograms",
    "over_replications",
    "profile_summary",
    "selection_vs_policy",
    "study_summary",
    "theil_decomposition",
    "variance_shares",
    "wasserstein_from_histograms",
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
    mean = np.asarray(selected_sums, dtype=float) / np.asarray(selected_count, dtype=float)[:, None]
    observed = mean[a, a] - mean[b, b]
    treatment = 0.5 * ((mean[a, a] - mean[a, b]) + (mean[b, a] - mean[b, b]))
    composition = 0.5 * ((mean[a, a] - mean[b, a]) + (mean[a, b] - mean[b, b]))
    return {
        "observed_gap_months": float(observed),
        "treatment_months": float(treatment),
        "composition_months": float(composition),
    }


def _shares(counts: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / counts.sum(axis=-1, keepdims=True)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(numerator, dtype=float) / np.asarray(denominator, dtype=float)


def _view(
    prosecuted: np.ndarray,
    defendants: np.ndarray,
    histogram: np.ndarray,
    positions: np.ndarray,
    percent: np.ndarray,
    percent_count: np.ndarray,
) -> dict[str, Any]:
    """Per-district figures of one view, each over replications (axis 0)."""
    from sim.model.judge import POSITION_CATEGORIES
    from sim.run.tally import PERCENT_SCALE

    quantiles = {f"p{int(q * 100)}_months": q for q in (0.1, 0.25, 0.75, 0.9)}
    figures = {
        "prosecuted_share": over_replications(_ratio(prosecuted, defendants)),
        "imprisonment_share": over_replications(
            _ratio(histogram[..., 1:].sum(axis=-1), histogram.sum(axis=-1))
        ),
        "mean_months": over_replications(histogram_mean(histogram)),
        "median_months": over_replications(histogram_quantile(histogram, 0.5)),
        **{
            name: over_replications(histogram_quantile(histogram, q))
            for name, q in quantiles.items()
        },
        # USSC inter-district measure: mean percent difference between the sentence and the
        # guideline minimum (after § 5G1.1), over sentences whose minimum is above 0.
        "mean_percent_from_guideline_minimum": over_replications(
            _ratio(percent, percent_count) / PERCENT_SCALE
        ),
    }
    shares = _shares(positions)
    figures["position_shares"] = {
        category: over_replications(shares[:, k]) for k, category in enumerate(POSITION_CATEGORIES)
    }
    return figures


def balanced_histograms(tally) -> np.ndarray:
    """(R, D, M+1) histograms of Y = months, 0 for a declined defendant (every defendant)."""
    histograms = tally.counterfactual_histogram.copy()
    histograms[:, :, 0] += tally.defendants[:, None] - tally.counterfactual_prosecuted
    return histograms


def district_summary(result) -> dict[str, Any]:
    """Per-district figures of a :class:`sim.run.runner.StudyResult`, both views.

    ``{CODE: {"name", "counterfactual": {...}, "as_arrested": {...}}}``; months are among the
    defendants each district prosecutes; every figure is ``{"estimate", "mcse", "ci95"}``.
    """
    tally = result.tally
    districts: dict[str, Any] = {}
    for d, code in enumerate(result.scenario.district_codes):
        counterfactual = _view(
            tally.counterfactual_prosecuted[:, d],
            tally.defendants,
            tally.counterfactual_histogram[:, d],
            tally.counterfactual_positions[:, d],
            tally.counterfactual_percent[:, d],
            tally.counterfactual_percent_count[:, d],
        )
        as_arrested = _view(
            tally.as_arrested_prosecuted[:, d],
            tally.as_arrested_defendants[:, d],
            tally.as_arrested_histogram[:, d],
            tally.as_arrested_positions[:, d],
            tally.as_arrested_percent[:, d],
            tally.as_arrested_percent_count[:, d],
        )
        as_arrested["arrest_share"] = over_replications(
            _ratio(tally.as_arrested_defendants[:, d], tally.defendants)
        )
        districts[code] = {
            "name": result.scenario.districts[code].name,
            "counterfactual": counterfactual,
            "as_arrested": as_arrested,
        }
    return districts


def _difference_figures(histogram: np.ndarray, sums: np.ndarray | None) -> dict[str, Any]:
    """Figures of a paired-difference histogram (R, 2M+1), index m ↔ difference m − M."""
    from sim.run.tally import MAX_MONTHS

    offset = MAX_MONTHS
    n = histogram.sum(axis=-1)
    differences = np.arange(histogram.shape[-1]) - offset
    mean = _ratio((histogram * differences).sum(axis=-1), n)
    median = histogram_quantile(histogram, 0.5) - offset
    apart = histogram[:, np.abs(differences) > 12].sum(axis=-1)
    figures = {
        "defendants": over_replications(n),
        "mean_difference_months": over_replications(mean),
        "median_difference_months": over_replications(median),
        "share_differing_over_12_months": over_replications(_ratio(apart, n)),
    }
    if sums is not None:
        figures["ratio_of_means"] = over_replications(_ratio(sums[:, 0], sums[:, 1]))
    return figures


def pairwise_summary(tally, codes: list[str]) -> list[dict[str, Any]]:
    """Paired counterfactual gaps for every district pair: the same defendants in both districts.

    ``all_defendants``: every defendant, a declined one counting 0 months (what each district's
    policy does to the whole arrested population); ``both_prosecuted``: defendants both districts
    prosecute. Differences are district_a − district_b in months.
    """
    from sim.run.tally import district_pairs

    balanced = balanced_histograms(tally)
    pairs = []
    for p, (a, b) in enumerate(district_pairs(len(codes))):
        all_sums = np.stack(
            [
                (balanced[:, a] * np.arange(balanced.shape[-1])).sum(axis=-1),
                (balanced[:, b] * np.arange(balanced.shape[-1])).sum(axis=-1),
            ],
            axis=-1,
        )
        pairs.append(
            {
                "district_a": codes[a],
                "district_b": codes[b],
                "all_defendants": _difference_figures(tally.pair_difference[:, p], all_sums),
                "both_prosecuted": _difference_figures(
                    tally.pair_both_difference[:, p], tally.pair_both_sums[:, p]
                ),
            }
        )
    return pairs


def range_summary(tally) -> dict[str, Any]:
    """Per-defendant cross-district range max_d Y − min_d Y (months)."""
    result = {}
    for name, histogram in (
        ("all_defendants", tally.range_histogram),
        ("prosecuted_everywhere", tally.range_both_histogram),
    ):
        n = histogram.sum(axis=-1)
        result[name] = {
            "defendants": over_replications(n),
            "mean_months": over_replications(histogram_mean(histogram)),
            "median_months": over_replications(histogram_quantile(histogram, 0.5)),
            "share_over_12_months": over_replications(_ratio(histogram[:, 13:].sum(axis=-1), n)),
        }
    return result


def variance_summary(tally) -> dict[str, Any]:
    """:func:`variance_shares` per replication, over replications."""
    balanced = balanced_histograms(tally)
    months = np.arange(balanced.shape[-1], dtype=np.int64)
    per_replication = []
    for r in range(tally.replications):
        district_totals = (balanced[r] * months).sum(axis=-1)
        per_replication.append(
            variance_shares(
                district_totals=district_totals,
                defendant_total_squares=int(tally.defendant_total_squares[r]),
                cell_counts=tally.cell_counts[r],
                cell_totals=tally.cell_totals[r],
                total=int(district_totals.sum()),
                total_squares=int((balanced[r] * months * months).sum()),
                defendants=int(tally.defendants[r]),
            )
        )
    return {
        key: over_replications(np.array([shares[key] for shares in per_replication]))
        for key in _VARIANCE_KEYS
    }


def selection_summary(tally, codes: list[str]) -> list[dict[str, Any]]:
    """:func:`selection_vs_policy` for every district pair, over replications."""
    from sim.run.tally import district_pairs

    rows = []
    for a, b in district_pairs(len(codes)):
        per_replication = [
            selection_vs_policy(tally.as_arrested_prosecuted[r], tally.selected_sums[r], a, b)
            for r in range(tally.replications)
        ]
        rows.append(
            {
                "district_a": codes[a],
                "district_b": codes[b],
                **{
                    key: over_replications(np.array([row[key] for row in per_replication]))
                    for key in per_replication[0]
                },
            }
        )
    return rows


def inequality_summary(tally, codes: list[str]) -> dict[str, Any]:
    """Gini, Theil T (between/within districts) and pairwise W1 / KS distances.

    All on the balanced counterfactual design: Y = months, 0 for a declined defendant, every
    defendant in every district (so the districts' populations are identical and the between-
    district Theil part measures policy alone). Zero-month outcomes enter the Gini as zeros and
    the Theil index with 0 ln 0 = 0.
    """
    from sim.run.tally import district_pairs

    balanced = balanced_histograms(tally)
    r_count = tally.replications
    gini = [gini_from_histogram(balanced[r].sum(axis=0)) for r in range(r_count)]
    theil = [theil_decomposition(balanced[r]) for r in range(r_count)]
    distances = []
    for a, b in district_pairs(len(codes)):
        pairs = [(balanced[r, a], balanced[r, b]) for r in range(r_count)]
        distances.append(
            {
                "district_a": codes[a],
                "district_b": codes[b],
                "wasserstein_months": over_replications(
                    np.array([wasserstein_from_histograms(*pair) for pair in pairs])
                ),
                "kolmogorov_smirnov": over_replications(
                    np.array([ks_from_histograms(*pair) for pair in pairs])
                ),
            }
        )
    return {
        "gini": over_replications(np.array(gini)),
        "theil_total": over_replications(np.array([t["total"] for t in theil])),
        "theil_between": over_replications(np.array([t["between"] for t in theil])),
        "theil_within": over_replications(np.array([t["within"] for t in theil])),
        "distances": distances,
    }


def study_summary(result) -> dict[str, Any]:
    """Every metric of a run: districts, pairwise gaps, ranges, variance shares, selection vs
    policy, inequality."""
    codes = result.scenario.district_codes
    tally = result.tally
    return {
        "districts": district_summary(result),
        "pairwise": pairwise_summary(tally, codes),
        "cross_district_range": range_summary(tally),
        "variance_shares": variance_summary(tally),
        "selection_vs_policy": selection_summary(tally, codes),
        "inequality": inequality_summary(tally, codes),
    }


def profile_summary(result) -> dict[str, Any]:
    """Per-profile figures: in each district his no-deal range, prosecution, months and deals
    taken; and paired gaps between districts (the same man, draw by draw)."""
    codes = result.scenario.district_codes
    profiles: dict[str, Any] = {}
    for name, profile in result.profiles.items():
        tally = profile.tally
        by_district: dict[str, Any] = {}
        for d, code in enumerate(codes):
            histogram = tally.counterfactual_histogram[:, d]
            pooled = histogram.sum(axis=0)
            sentenced = np.flatnonzero(pooled)
            taken = profile.offers[:, d].sum(axis=0)
            prosecuted_total = max(int(tally.counterfactual_prosecuted[:, d].sum()), 1)
            deal_shares = {
                offer.name: float(taken[k]) / prosecuted_total
                for k, offer in enumerate(result.scenario.districts[code].offers)
            }
            deal_shares["no_deal"] = float(taken[-1]) / prosecuted_total
            low, high = (int(v) for v in profile.no_deal_final_range[d])
            by_district[code] = {
                "final_range_months": [low, high],
                "guideline_range_months": [int(v) for v in profile.no_deal_guideline_range[d]],
                "statutory_maximum_months": int(profile.statutory_maximum_months[d]),
                "prosecuted_share": over_replications(
                    _ratio(tally.counterfactual_prosecuted[:, d], tally.defendants)
                ),
                "mean_months": over_replications(histogram_mean(histogram)),
                "min_months": int(sentenced[0]) if len(sentenced) else None,
                "max_months": int(sentenced[-1]) if len(sentenced) else None,
                "deal_shares": deal_shares,
            }
        profiles[name] = {"districts": by_district, "pairwise": pairwise_summary(tally, codes)}
    return profiles

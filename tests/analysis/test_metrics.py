"""Disparity metrics: hand-computed oracles, identities, scipy cross-checks, CRN invariants."""

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.analysis.measures import pair_figures
from sim.analysis.metrics import (
    Estimate,
    gini_from_histogram,
    ks_from_histograms,
    over_replications,
    selection_vs_policy,
    theil_decomposition,
    variance_shares,
    wasserstein_from_histograms,
)
from sim.analysis.results import analyse
from sim.model.scenario import DEFAULT_SCENARIO, Scenario, resolve_scenario_mapping
from sim.run.runner import run_study
from sim.run.tally import MAX_MONTHS, BlockOutcome, StudyTally, tally_block

BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)
histograms = st.lists(st.integers(0, 6), min_size=2, max_size=30).filter(lambda h: sum(h) > 0)


def samples(histogram):
    return np.repeat(np.arange(len(histogram)), histogram)


# --- inequality ---------------------------------------------------------------------------


def test_theil_two_districts_all_zero_and_all_ten_months():
    # Between = ln 2, within = 0: the zero-month district has income share 0 (0 ln 0 = 0).
    zero, ten = np.zeros(11, dtype=int), np.zeros(11, dtype=int)
    zero[0], ten[10] = 50, 50
    parts = theil_decomposition(np.stack([zero, ten]))
    assert parts["between"] == pytest.approx(math.log(2), abs=1e-12)
    assert parts["within"] == 0.0
    assert parts["total"] == pytest.approx(math.log(2), abs=1e-12)


@given(st.lists(histograms, min_size=2, max_size=4))
def test_theil_between_plus_within_is_total_and_matches_direct_formula(groups):
    width = max(len(g) for g in groups)
    matrix = np.array([g + [0] * (width - len(g)) for g in groups])
    if matrix[:, 1:].sum() == 0:
        return
    parts = theil_decomposition(matrix)
    values = samples(matrix.sum(axis=0)).astype(float)
    mean = values.mean()
    positive = values[values > 0] / mean
    direct = (positive * np.log(positive)).sum() / len(values)
    assert parts["total"] == pytest.approx(direct, rel=1e-9, abs=1e-12)
    assert parts["between"] + parts["within"] == pytest.approx(parts["total"], rel=1e-9, abs=1e-12)


@given(histograms)
def test_gini_matches_the_pairwise_definition(histogram):
    values = samples(histogram).astype(float)
    if values.sum() == 0:
        assert math.isnan(gini_from_histogram(np.array(histogram)))
        return
    direct = np.abs(values[:, None] - values[None, :]).sum() / (
        2 * len(values) ** 2 * values.mean()
    )
    assert gini_from_histogram(np.array(histogram)) == pytest.approx(direct, rel=1e-9, abs=1e-12)


@given(histograms, histograms)
def test_wasserstein_and_ks_match_scipy(a, b):
    width = max(len(a), len(b))
    ha, hb = np.array(a + [0] * (width - len(a))), np.array(b + [0] * (width - len(b)))
    xa, xb = samples(ha), samples(hb)
    assert wasserstein_from_histograms(ha, hb) == pytest.approx(
        stats.wasserstein_distance(xa, xb), rel=1e-9, abs=1e-12
    )
    assert ks_from_histograms(ha, hb) == pytest.approx(
        stats.ks_2samp(xa, xb).statistic, rel=1e-9, abs=1e-12
    )


# --- variance shares ----------------------------------------------------------------------


def _shares_of(y, category, enhancement):
    """variance_shares from a full outcome matrix y[i, d] (the tallies' sufficient statistics)."""
    totals = y.sum(axis=1)
    counts = np.zeros((6, 49), dtype=np.int64)
    cell_totals = np.zeros((6, 49), dtype=np.int64)
    np.add.at(counts, (category - 1, enhancement), 1)
    np.add.at(cell_totals, (category - 1, enhancement), totals)
    return variance_shares(
        district_totals=y.sum(axis=0),
        defendant_total_squares=int((totals**2).sum()),
        cell_counts=counts,
        cell_totals=cell_totals,
        total=int(y.sum()),
        total_squares=int((y**2).sum()),
        defendants=y.shape[0],
    )


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_variance_shares_sum_to_one_and_match_least_squares(seed):
    rng = np.random.default_rng(seed)
    n, d = 60, 3
    category = rng.integers(1, 7, n)
    enhancement = rng.choice([0, 4, 16], n)
    y = rng.integers(0, 100, (n, d))
    shares = _shares_of(y, category, enhancement)
    assert sum(
        shares[k]
        for k in (
            "district",
            "criminal_history_category",
            "section_2l1_2_enhancement",
            "other_record",
        )
    ) == pytest.approx(1.0)
    assert (
        shares["district_main_effect"]
        + shares["record_main_effect"]
        + shares["district_record_interaction"]
    ) == pytest.approx(1.0)

    # Cross-check the main effects with least-squares R² on the long table.
    flat = y.ravel().astype(float)
    district = np.tile(np.arange(d), n)
    defendant = np.repeat(np.arange(n), d)

    def r_squared(*factors):
        columns = [np.ones_like(flat)]
        for factor in factors:
            levels = np.unique(factor)
            columns += [(factor == level).astype(float) for level in levels[1:]]
        x = np.column_stack(columns)
        fitted = x @ np.linalg.lstsq(x, flat, rcond=None)[0]
        return 1 - ((flat - fitted) ** 2).sum() / ((flat - flat.mean()) ** 2).sum()

    assert shares["district_main_effect"] == pytest.approx(r_squared(district), abs=1e-9)
    assert shares["record_main_effect"] == pytest.approx(r_squared(defendant), abs=1e-9)


def test_variance_shares_when_only_the_district_matters():
    y = np.tile(np.array([10, 30, 50]), (40, 1))
    shares = _shares_of(y, np.full(40, 3), np.zeros(40, dtype=int))
    assert shares["district"] == pytest.approx(1.0)
    assert shares["criminal_history_category"] == pytest.approx(0.0, abs=1e-12)
    assert shares["other_record"] == pytest.approx(0.0, abs=1e-12)


def test_variance_shares_when_only_the_category_matters():
    category = np.repeat(np.arange(1, 7), 10)
    y = np.repeat((category * 12)[:, None], 4, axis=1)
    shares = _shares_of(y, category, np.zeros(60, dtype=int))
    assert shares["criminal_history_category"] == pytest.approx(1.0)
    assert shares["district"] == pytest.approx(0.0, abs=1e-12)


# --- paired gaps and selection --------------------------------------------------------------


def _outcome(months, prosecuted=None, arrest=None):
    months = np.asarray(months, dtype=np.int32)
    n, d = months.shape
    return BlockOutcome(
        prosecuted=np.ones((n, d), bool) if prosecuted is None else np.asarray(prosecuted),
        months=months,
        position_category=np.zeros((n, d), np.int8),
        offer=np.full((n, d), -1, np.int8),
        final_min_months=months,
        criminal_history_category=np.full(n, 3),
        enhancement_levels=np.zeros(n, dtype=np.int64),
        arrest_district=np.zeros(n, dtype=np.int64) if arrest is None else np.asarray(arrest),
    )


@pytest.mark.parametrize("k", [0, 1, 7, 36])
def test_constant_shift_gives_a_paired_gap_of_exactly_k(k):
    rng = np.random.default_rng(k)
    base = rng.integers(0, 200, 500)
    tally = StudyTally.empty(1, 2)
    tally.add(0, tally_block(_outcome(np.column_stack([base + k, base]))))
    pair = pair_figures(tally, ["A", "B"])[0].all_defendants
    assert pair.mean_difference_months.estimate == k
    assert pair.median_difference_months.estimate == k
    assert pair.share_differing_over_12_months.estimate == (1.0 if k > 12 else 0.0)
    assert pair.ratio_of_means.estimate == pytest.approx((base.mean() + k) / base.mean())


def test_identical_policies_give_exactly_zero_paired_gaps():
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": 2, "defendants": 8_000, "profile_draws": 100})
    summary = analyse(run_study(Scenario.model_validate(data))).summary
    for pair in summary["pairwise"]:
        if "CAC" in (pair["district_a"], pair["district_b"]):
            assert pair["mean_difference_months"] > 0  # C.D. Cal. differs
            continue
        for variant in ("all_defendants", "both_prosecuted"):
            assert pair[variant]["mean_difference_months"] == 0.0
            assert pair[variant]["share_differing_over_12_months"] == 0.0
        assert pair["mcse_months"] == 0.0


def test_selection_vs_policy_hand_computed():
    # S_a: two defendants with Y_a = 10, 20 and Y_b = 4, 6; S_b: one with Y_a = 30, Y_b = 12.
    count = np.array([2, 1])
    sums = np.array([[30, 10], [30, 12]])
    split = selection_vs_policy(count, sums, 0, 1)
    assert split["observed_gap_months"] == pytest.approx(15 - 12)
    assert split["treatment_months"] == pytest.approx(0.5 * ((15 - 5) + (30 - 12)))
    assert split["composition_months"] == pytest.approx(0.5 * ((15 - 30) + (5 - 12)))
    assert split["treatment_months"] + split["composition_months"] == pytest.approx(3.0)


def test_selection_vs_policy_from_a_block():
    months = [[10, 4], [20, 6], [30, 12], [0, 8]]
    prosecuted = [[True, True], [True, True], [True, True], [False, True]]
    tally = tally_block(_outcome(months, prosecuted, arrest=[0, 0, 1, 0]))
    split = selection_vs_policy(tally.as_arrested_prosecuted[0], tally.selected_sums[0], 0, 1)
    # S_a = {0, 1} (defendant 3 is declined in a); S_b = {2}.
    assert split["observed_gap_months"] == pytest.approx(15 - 12)
    assert split["treatment_months"] == pytest.approx(14.0)


def test_every_sentence_length_fits_the_tally():
    with pytest.raises(ValueError, match="MAX_MONTHS"):
        tally_block(_outcome([[MAX_MONTHS + 1, 0]]))


# --- uncertainty ----------------------------------------------------------------------------


def test_over_replications_formula():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    figure = over_replications(values)
    mcse = values.std(ddof=1) / 2
    assert figure.mcse == pytest.approx(mcse)
    half = stats.t.ppf(0.975, 3) * mcse
    assert list(figure.ci95) == pytest.approx([3.5 - half, 3.5 + half])


def test_undefined_replications_are_left_out_of_mean_mcse_and_count():
    with_gaps = over_replications(np.array([1.0, np.nan, 2.0, 3.0, np.nan]))
    assert with_gaps == over_replications(np.array([1.0, 2.0, 3.0]))
    assert over_replications(np.array([np.nan, 4.0])) == Estimate(4.0, None, None)
    assert over_replications(np.array([np.nan, np.nan])) == Estimate(None, None, None)


@pytest.mark.slow
def test_mcse_shrinks_as_one_over_root_r():
    # MCSE(16) / MCSE(256) should be √(256/16) = 4. Each MCSE is a sample standard deviation
    # whose relative standard error is about 1/√(2(R−1)) (0.18 at R = 16, 0.044 at R = 256), so
    # log(ratio) has a standard error of about 0.19: three of them allow 4·e^(±0.57) = 2.3–7.1,
    # which still rules out 1/R (16) and no shrinkage (1).
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": 256, "defendants": 1_000, "profile_draws": 10})
    tally = run_study(Scenario.model_validate(data)).tally
    first = type(tally)(*(column[:16] for column in tally))
    codes = ["CAC", "CAS", "CAE", "CAN"]
    small = pair_figures(first, codes)[0].all_defendants.mean_difference_months.mcse
    large = pair_figures(tally, codes)[0].all_defendants.mean_difference_months.mcse
    assert 2.3 < small / large < 7.1

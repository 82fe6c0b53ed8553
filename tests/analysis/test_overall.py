"""Issue 12's figures: the headline gap, the overall as-arrested aggregate and the validation of
published figures. Hand-computed oracles on tiny tallies, identities and a statistical check on
a run, and the summary paths a scenario's ``validation`` may name."""

import copy
import math
import re

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.analysis.measures import (
    HEADLINE_DEFINITION,
    enhancement_levels,
    headline_figures,
    overall_figures,
)
from sim.analysis.metrics import histogram_mean
from sim.analysis.results import analyse
from sim.analysis.summary import figure_index, validation_entries
from sim.analysis.validation import check_validation, summary_paths
from sim.inputs import InputError
from sim.model.judge import POSITION_CATEGORIES
from sim.model.scenario import (
    DEFAULT_SCENARIO,
    PublishedFigure,
    Scenario,
    load_scenario,
    resolve_scenario_mapping,
)
from sim.run.runner import StudyResult, run_study
from sim.run.tally import MAX_MONTHS, StudyTally

BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)  # CAC, CAS, CAE, CAN; the 1995 Manual


def scenario(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return Scenario.model_validate(data)


# --- the headline gap: a hand-computed tally -------------------------------------------------


def headline_tally():
    """Two replications of 10 defendants, four districts (every pair tallied, CAC-CAS first).

    Among those CAC and CAS both prosecute: replication 0, two 10-month and two −2-month
    differences (mean 4); replication 1, one of +6 (mean 6). CAC prosecutes 6 then 5 of 10,
    CAS 10 and 9."""
    t = StudyTally.empty(2, 4)
    t.defendants[:] = 10
    t.pair_both_difference[0, 0, MAX_MONTHS + 10] = 2
    t.pair_both_difference[0, 0, MAX_MONTHS - 2] = 2
    t.pair_both_difference[1, 0, MAX_MONTHS + 6] = 1
    t.counterfactual_prosecuted[:, 0] = [6, 5]
    t.counterfactual_prosecuted[:, 1] = [10, 9]
    # CAE − CAN (the last pair): −3 and −5 months among those both prosecute.
    t.pair_both_difference[0, 5, MAX_MONTHS - 3] = 1
    t.pair_both_difference[1, 5, MAX_MONTHS - 5] = 1
    return t


def test_the_headline_gap_of_a_hand_computed_tally():
    headline = headline_figures(StudyResult(scenario(), headline_tally(), {}))
    assert (headline.district_from, headline.district_to) == ("CAC", "CAS")
    assert headline.definition == HEADLINE_DEFINITION.format(a="CAC", b="CAS")
    gap = headline.gap_months
    # Replications 4 and 6: mean 5, MCSE sd/√2 = √2/√2 = 1, interval 5 ± t(0.975, 1).
    assert gap.estimate == pytest.approx(5.0)
    assert gap.mcse == pytest.approx(1.0)
    half = stats.t.ppf(0.975, 1)
    assert gap.ci95 == pytest.approx((5.0 - half, 5.0 + half))
    # Both prosecute 4 then 1 of 10.
    assert headline.both_prosecuted_share.estimate == pytest.approx(0.25)
    assert headline.declined_share["CAC"].estimate == pytest.approx(0.45)
    assert headline.declined_share["CAS"].estimate == pytest.approx(0.05)
    assert list(headline.declined_share) == ["CAC", "CAS"]


def test_a_headline_pair_tallied_the_other_way_round_turns_its_sign():
    tally = headline_tally()
    headline = headline_figures(
        StudyResult(scenario(headline={"from": "CAS", "to": "CAC"}), tally, {})
    )
    assert (headline.district_from, headline.district_to) == ("CAS", "CAC")
    assert headline.gap_months.estimate == pytest.approx(-5.0)
    assert headline.gap_months.mcse == pytest.approx(1.0)
    assert list(headline.declined_share) == ["CAS", "CAC"]
    later = headline_figures(
        StudyResult(scenario(headline={"from": "CAN", "to": "CAE"}), tally, {})
    )
    assert later.gap_months.estimate == pytest.approx(4.0)  # −(−3 − 5) / 2


def test_each_headline_district_defaults_to_the_first_the_other_does_not_name():
    assert scenario().headline_pair == (0, 1)
    assert scenario(headline={"to": "CAC"}).headline_pair == (1, 0)
    assert scenario(headline={"from": "CAE"}).headline_pair == (2, 0)
    one = copy.deepcopy(BASE)
    one["districts"] = {"CAS": one["districts"]["CAS"]}
    alone = Scenario.model_validate(one)
    assert alone.headline_pair is None
    assert headline_figures(StudyResult(alone, StudyTally.empty(1, 1), {})) is None


@pytest.mark.parametrize(
    ("headline", "study", "message"),
    [
        ({"from": "CAX"}, {}, "headline.from: 'CAX': not a listed district; allowed: a listed"),
        ({"from": "CAS", "to": "CAS"}, {}, "two different listed districts"),
        ({"from": "CAS", "to": "CAE"}, {"pairs": "reference"}, "a pair with CAC, or study.pairs"),
        ({"form": "CAS"}, {}, "headline.form"),
    ],
)
def test_a_bad_headline_pair_is_an_error_at_its_field(tmp_path, headline, study, message):
    path = tmp_path / "s.yaml"
    data = {"extends": str(DEFAULT_SCENARIO), "headline": headline}
    if study:
        data["study"] = study
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=re.escape(message)):
        load_scenario(path)


# --- the overall aggregate: a hand-computed tally --------------------------------------------


def overall_tally():
    """One replication... two: 20 defendants each, four districts; only CAC and CAS arrest.

    Replication 0: CAC sentences 0, 10, 10 months; CAS 20, 200 (one over 120 months).
    Replication 1: CAC sentences 4; CAS 6, 6, 8."""
    t = StudyTally.empty(2, 4)
    t.defendants[:] = 20
    for r, district, months in [
        (0, 0, [0, 10, 10]),
        (0, 1, [20, 200]),
        (1, 0, [4]),
        (1, 1, [6, 6, 8]),
    ]:
        for m in months:
            t.as_arrested_histogram[r, district, m] += 1
        t.as_arrested_prosecuted[r, district] = len(months)
    # Positions: replication 0 all within range but the 200 (above); replication 1: one § 5K3.1.
    t.as_arrested_positions[0, :, 0] = [3, 1, 0, 0]
    t.as_arrested_positions[0, 1, 4] = 1
    t.as_arrested_positions[1, :, 0] = [1, 2, 0, 0]
    t.as_arrested_positions[1, 1, 1] = 1
    # By § 2L1.2(b) level. Replication 0: +0 the 0 and 10 and 10 (within), +16 the 20 (within)
    # and 200 (not). Replication 1: +4 all four (4, 6, 6, 8), three within.
    t.as_arrested_enhancement_counts[0, [0, 16]] = [3, 2]
    t.as_arrested_enhancement_months[0, [0, 16]] = [20, 220]
    t.as_arrested_enhancement_within[0, [0, 16]] = [3, 1]
    t.as_arrested_enhancement_counts[1, 4] = 4
    t.as_arrested_enhancement_months[1, 4] = 24
    t.as_arrested_enhancement_within[1, 4] = 3
    return t


def test_the_overall_figures_of_a_hand_computed_tally():
    overall = overall_figures(StudyResult(scenario(), overall_tally(), {}))
    # Replication 0: 5 sentenced of 20, mean 240 / 5 = 48, median 10, 4 of 5 imprisoned, 4 of
    # 5 at most 120 months. Replication 1: 4 of 20, mean 6, median 6, all imprisoned.
    assert overall.prosecuted_share.estimate == pytest.approx((5 / 20 + 4 / 20) / 2)
    assert overall.mean_months.estimate == pytest.approx((48 + 6) / 2)
    assert overall.mean_months.mcse == pytest.approx(np.std([48, 6], ddof=1) / math.sqrt(2))
    assert overall.median_months.estimate == pytest.approx((10 + 6) / 2)
    assert overall.imprisonment_share.estimate == pytest.approx((4 / 5 + 1) / 2)
    assert overall.share_at_most_120_months.estimate == pytest.approx((4 / 5 + 1) / 2)
    shares = overall.position_shares
    assert list(shares) == list(POSITION_CATEGORIES)
    assert shares["within_range"].estimate == pytest.approx((4 / 5 + 3 / 4) / 2)
    assert shares["above_range"].estimate == pytest.approx((1 / 5 + 0) / 2)
    assert shares["early_disposition_5k3_1"].estimate == pytest.approx((0 + 1 / 4) / 2)
    # The 1995 Manual's levels, each present in some replication.
    assert list(overall.by_enhancement) == ["0", "4", "16"]
    zero, four, sixteen = (overall.by_enhancement[k] for k in ("0", "4", "16"))
    assert zero.share.estimate == pytest.approx((3 / 5 + 0) / 2)
    assert sixteen.share.estimate == pytest.approx((2 / 5 + 0) / 2)
    assert four.share.estimate == pytest.approx((0 + 1) / 2)
    # A level no one reached in a replication has no mean there: the mean is over the others.
    assert sixteen.mean_months.estimate == pytest.approx(110)
    assert sixteen.mean_months.mcse is None  # defined in one replication only
    assert zero.mean_months.estimate == pytest.approx(20 / 3)
    assert four.mean_months.estimate == pytest.approx(6)
    assert sixteen.within_range_share.estimate == pytest.approx(0.5)
    assert four.within_range_share.estimate == pytest.approx(0.75)


def test_enhancement_levels_are_every_total_the_text_can_apply():
    assert enhancement_levels(1995) == [0, 4, 16]
    assert enhancement_levels(1997) == [0, 4, 16]
    assert enhancement_levels(2012) == [0, 4, 8, 12, 16]
    # 2016 text: (b)(1) 0/2/4, (b)(2) and (b)(3) 0/4/6/8/10 each, summed: 0 to 24.
    levels = enhancement_levels(2018)
    assert levels[0] == 0
    assert levels[-1] == 24
    assert {2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22} <= set(levels)


# --- a run: identities, and a statistical check -------------------------------------------------


@pytest.fixture(scope="module")
def results():
    data = copy.deepcopy(BASE)
    data["study"].update({"replications": 8, "defendants": 3_000, "profile_draws": 50})
    data["validation"] = [
        {"name": "overall.mean_months", "value": 18, "source": "a test figure"},
        {"name": "headline.gap_months", "value": 10, "source": "another"},
        {"name": "overall.by_enhancement.16.within_range_share", "value": 0.5, "source": "x"},
    ]
    return analyse(run_study(Scenario.model_validate(data)))


def test_the_headline_is_the_both_prosecuted_gap_of_its_pair(results):
    assert results.headline.gap_months == results.pairwise[0].both_prosecuted.mean_difference_months
    cac = results.districts["CAC"].prosecuted_share
    declined = results.headline.declined_share["CAC"]
    assert declined.estimate == pytest.approx(1 - cac.estimate)
    assert declined.mcse == pytest.approx(cac.mcse)
    t = results.study.tally
    both = t.pair_both_difference[:, 0].sum(axis=-1)
    assert results.headline.both_prosecuted_share.estimate == pytest.approx(
        np.mean(both / t.defendants)
    )
    # The gap is the difference of the two districts' mean months over the same defendants.
    sums = t.pair_both_sums[:, 0]
    assert results.headline.gap_months.estimate == pytest.approx(
        np.mean((sums[:, 0] - sums[:, 1]) / both)
    )


def test_the_overall_figures_add_up_per_replication(results):
    t = results.study.tally
    counts = t.as_arrested_enhancement_counts
    pooled = t.as_arrested_histogram.sum(axis=1)
    # The levels hold every sentenced defendant and every month of the pooled histogram.
    assert (counts.sum(axis=1) == pooled.sum(axis=1)).all()
    assert (
        t.as_arrested_enhancement_months.sum(axis=1)
        == (pooled * np.arange(MAX_MONTHS + 1)).sum(axis=1)
    ).all()
    within = t.as_arrested_positions.sum(axis=1)[:, POSITION_CATEGORIES.index("within_range")]
    assert (t.as_arrested_enhancement_within.sum(axis=1) == within).all()
    overall = results.overall
    assert sum(f.share.estimate for f in overall.by_enhancement.values()) == pytest.approx(1)
    assert sum(s.estimate for s in overall.position_shares.values()) == pytest.approx(1)
    assert overall.mean_months.estimate == pytest.approx(np.mean(histogram_mean(pooled)))


def test_the_overall_mean_is_the_caseload_weighted_counterfactual_mean(results):
    """Arrest is independent of the record, so each district's as-arrested defendants are a
    random sample of the population: the pooled as-arrested figures estimate the caseload-
    weighted combination of the counterfactual ones (within 4 standard errors)."""
    t, scenario = results.study.tally, results.study.scenario
    weights = np.array([d.caseload_weight.value for d in scenario.districts.values()])
    weights = weights / weights.sum()
    prosecuted = t.counterfactual_prosecuted / t.defendants[:, None]  # (R, D)
    histograms = t.counterfactual_histogram
    means = histogram_mean(histograms)
    imprisoned = histograms[..., 1:].sum(axis=-1) / histograms.sum(axis=-1)
    pooled = t.as_arrested_histogram.sum(axis=1)
    overall_mean = histogram_mean(pooled)
    overall_imprisoned = pooled[:, 1:].sum(axis=1) / pooled.sum(axis=1)
    mass = (weights * prosecuted).sum(axis=1)
    for observed, by_district in ((overall_mean, means), (overall_imprisoned, imprisoned)):
        expected = (weights * prosecuted * by_district).sum(axis=1) / mass
        difference = observed - expected
        error = difference.std(ddof=1) / math.sqrt(len(difference))
        assert abs(difference.mean()) <= 4 * error, (difference.mean(), error)
    # Not the unweighted mean of the districts (C.D. Cal.'s long sentences weigh 275 of 2,343).
    assert abs(results.overall.mean_months.estimate - np.mean(means)) > 4 * (
        results.overall.mean_months.mcse
    )


# --- validation: paths into the summary ----------------------------------------------------------


def test_validation_entries_put_the_published_figure_beside_the_simulated_one(results):
    entries = results.summary["validation"]
    assert [e["name"] for e in entries] == [
        "overall.mean_months",
        "headline.gap_months",
        "overall.by_enhancement.16.within_range_share",
    ]
    first = entries[0]
    overall = results.overall.mean_months
    assert first["simulated"] == {"estimate": overall.estimate, "mcse": overall.mcse}
    assert first["published"] == 18
    assert first["difference"] == pytest.approx(overall.estimate - 18)
    assert first["source"] == "a test figure"
    assert entries[1]["simulated"]["estimate"] == results.headline.gap_months.estimate
    within = results.overall.by_enhancement["16"].within_range_share
    assert entries[2]["simulated"]["mcse"] == within.mcse
    table = results.to_df("validation")
    assert list(table["name"]) == [e["name"] for e in entries]
    assert list(table["difference"]) == pytest.approx([e["difference"] for e in entries])


def test_figure_paths_reach_every_estimate_of_the_summary(results):
    index = figure_index(results.summary)
    assert index["overall.mean_months"] == (
        results.overall.mean_months.estimate,
        results.overall.mean_months.mcse,
    )
    cac = results.districts["CAC"].as_arrested.position_shares["within_range"]
    assert index["districts.CAC.as_arrested.position_shares.within_range"] == cac[:2]
    both = results.pairwise[0].both_prosecuted.mean_difference_months
    assert index["pairwise[0].both_prosecuted.mean_difference_months"] == both[:2]
    assert index["headline.declined_share.CAC"][0] == results.headline.declined_share["CAC"][0]
    assert "profiles.banuelos-rodriguez.CAS.mean_months" in index
    assert "variance_shares.district" in index
    # Neither their errors nor intervals nor text are figures; nor is the validation itself.
    assert not any(p.endswith(("_mcse", "_ci95")) for p in index)
    assert not any(p.startswith(("validation", "assumptions", "conventions")) for p in index)
    # A run's summary has exactly the paths its scenario's empty run has.
    assert list(index) == summary_paths(results.study.scenario)


def test_an_unknown_name_is_an_error():
    summary = {"overall": {"mean_months": 1.0, "mean_months_mcse": 0.1}}
    message = "validation[0].name: 'overall.mean': not a figure"
    with pytest.raises(InputError, match=re.escape(message)):
        validation_entries(summary, [PublishedFigure(name="overall.mean", value=1, source="s")])


def test_validation_names_are_checked_against_the_summary_with_close_matches():
    names = [
        "overall.mean_months",
        "overall.mean_month",
        "districts.CAX.mean_months",
        "nonsense",
        "overall.by_enhancement.8.share",  # no +8 under the 1995 Manual
    ]
    bad = scenario(validation=[{"name": n, "value": 1, "source": "s"} for n in names])
    with pytest.raises(InputError) as caught:
        check_validation(bad, "my.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 4  # all at once, the good name not among them
    assert lines[0].startswith("my.yaml: validation[1].name: 'overall.mean_month': not a figure")
    assert "close matches: overall.mean_months" in lines[0]
    assert "districts.CAC.mean_months" in lines[1]
    assert "the summary's entries are headline, districts" in lines[2]
    assert "overall.by_enhancement.16.share" in lines[3]
    check_validation(scenario(validation=[{"name": names[0], "value": 1, "source": "s"}]), "x")


def test_summary_paths_follow_the_scenario():
    paths = summary_paths(scenario(manual=2012))
    assert "overall.by_enhancement.8.mean_months" in paths
    assert "headline.gap_months" in paths
    # Every district against CAC only: 3 pairs, in the population's gaps and each of the two
    # profiles'.
    reference = scenario(study={**BASE["study"], "pairs": "reference"})
    assert (
        sum(
            p.endswith("].both_prosecuted.mean_difference_months") for p in summary_paths(reference)
        )
        == 3 * 3
    )

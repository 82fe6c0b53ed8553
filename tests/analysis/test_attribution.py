"""``sim attribute``: the Shapley function on games whose values are known by hand (additive,
two-player, majority, symmetric players, efficiency), then a real small study: the values sum to
the gap replication by replication, the gap is ``sim run``'s own headline, a lever that acts the
same in A and B gets exactly 0, and the command line end to end with bad input (exit 2, one line
per problem, nothing run)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from typer.testing import CliRunner

from sim.analysis.attribution import (
    MEASURES,
    attribute,
    attribution_problems,
    attribution_scenario,
    attribution_summary,
    levers_of,
    shapley_values,
    shapley_weights,
)
from sim.analysis.results import analyse
from sim.cli import app
from sim.inputs import InputError
from sim.model.scenario import DEFAULT_SCENARIO, load_scenario
from sim.output.figures.attribution import waterfall
from sim.run.runner import run_study

STUDY = {"defendants": 3000, "replications": 3}
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _game(levers: int, worth) -> np.ndarray:
    """v(S) for every mask S of ``levers`` players, from ``worth(set of players)``."""
    return np.array(
        [worth({i for i in range(levers) if mask >> i & 1}) for mask in range(1 << levers)],
        dtype=float,
    )


# --- the Shapley function --------------------------------------------------------------------


def test_weights_of_each_coalition_size_sum_to_one_over_orders():
    # Σ_s C(L−1, s) s!(L−s−1)!/L! = 1: each player's marginal contributions are averaged.
    for levers in range(1, 9):
        weights = shapley_weights(levers)
        total = sum(math.comb(levers - 1, s) * w for s, w in enumerate(weights))
        assert total == pytest.approx(1.0, abs=1e-15)


def test_additive_game_gives_each_player_its_own_worth():
    worths = [3.0, -1.5, 0.25, 7.0]
    values = shapley_values(_game(4, lambda s: sum(worths[i] for i in s)))
    np.testing.assert_allclose(values, worths, rtol=0, atol=1e-14)  # weights are rounded


def test_two_player_game_by_hand():
    # v(1) = 1, v(2) = 0, v(12) = 3: φ1 = (1 + (3 − 0)) / 2 = 2, φ2 = (0 + (3 − 1)) / 2 = 1.
    assert shapley_values(np.array([0.0, 1.0, 0.0, 3.0])).tolist() == [2.0, 1.0]


def test_majority_game_splits_equally():
    # Three players; a coalition of two or more is worth 1: each gets 1/3.
    values = shapley_values(_game(3, lambda s: float(len(s) >= 2)))
    np.testing.assert_allclose(values, [1 / 3] * 3, rtol=0, atol=1e-15)


def test_symmetric_players_get_equal_values_and_a_null_player_zero():
    rng = np.random.default_rng(7)
    table = rng.normal(size=(3, 8))  # worth by (|S ∩ {0, 1}|, S ∩ {2, 3, 4})

    def worth(players):
        rest = sum(1 << (i - 2) for i in players if i >= 2)
        return table[len(players & {0, 1}), rest]

    values = shapley_values(_game(5, worth))
    assert values[0] == pytest.approx(values[1], abs=1e-14)
    assert values[0] != pytest.approx(0.0)  # the test can fail: the players matter
    null = shapley_values(_game(3, lambda s: float(len(s & {0, 1}) ** 2)))
    assert null[2] == 0.0  # player 2 never changes the worth: exactly 0


def test_efficiency_on_random_games_and_leading_axes():
    rng = np.random.default_rng(11)
    for levers in range(1, 9):
        games = rng.normal(size=(4, 1 << levers))
        values = shapley_values(games)
        assert values.shape == (4, levers)
        np.testing.assert_allclose(values.sum(axis=1), games[:, -1] - games[:, 0], atol=1e-12)


@pytest.mark.parametrize("size", [0, 1, 3, 6])
def test_a_game_not_over_every_subset_is_refused(size):
    with pytest.raises(ValueError, match="2\\*\\*L"):
        shapley_values(np.zeros(size))


# --- levers and the synthetic study --------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(None, STUDY)[0]


def test_levers_of_the_default_pair(scenario):
    levers = {lever.name: lever for lever in levers_of(scenario, "CAC", "CAS")}
    assert list(levers) == [
        "prosecution",
        "declination",
        "offers[0]",
        "offers[1]",
        "plea",
        "judge",
    ]
    assert [n for n, lever in levers.items() if not lever.differs] == ["plea", "judge"]
    assert levers["offers[0]"].setting_from == "(none)"
    assert "charge bargain to 1326(a)" in levers["offers[0]"].setting_to
    assert "cap 60 months" in levers["offers[1]"].setting_to


def test_subsets_acting_alike_share_one_district(scenario):
    synthetic, index = attribution_scenario(scenario, "CAC", "CAS")
    # Plea and judge act the same in C.D. and S.D.: 64 subsets, 2^4 distinct policies.
    assert len(index) == 64
    assert len(synthetic.districts) == 16
    assert index[0] == 0  # the empty subset is A itself, the district every pair is against
    assert synthetic.district_pairs == tuple((0, d) for d in range(1, 16))
    first = synthetic.districts[synthetic.district_codes[0]]
    # A's policy: C.D.'s rule, and S.D.'s offers in their positions, never extended.
    assert first.prosecution == scenario.districts["CAC"].prosecution
    assert [o.offer_probability.value for o in first.offers] == [0.0, 0.0]
    every = synthetic.districts[synthetic.district_codes[index[-1]]]
    assert every.offers == scenario.districts["CAS"].offers
    assert every.prosecution == scenario.districts["CAS"].prosecution


# --- a real small study ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def attributed(scenario):
    return attribute(scenario, "CAC", "CAS")


@pytest.mark.slow
def test_shapley_values_sum_to_the_gap_exactly(attributed):
    for measured in attributed.measures.values():
        assert measured.replications_used == STUDY["replications"]
        per_replication = np.stack([v.per_replication for v in measured.levers], axis=1)
        # Each replication's values sum to that replication's gap (v of the full subset), so
        # their mean is the mean gap.
        assert per_replication.sum(axis=1).mean() == pytest.approx(
            measured.subset_gaps[-1].estimate, abs=1e-12
        )
        assert measured.shapley_sum == pytest.approx(measured.total_gap.estimate, abs=1e-12)
        # The waterfall ends at B's mean.
        end = measured.mean_from.estimate - measured.shapley_sum
        assert end == pytest.approx(measured.mean_to.estimate, abs=1e-9)


@pytest.mark.slow
def test_the_gap_is_sim_runs_own(scenario, attributed):
    # The same seed, defendants and uniforms: A and B are sentenced as in a run of the scenario.
    results = analyse(run_study(scenario.model_copy(update={"profiles": {}})))
    both = attributed.measures["both_prosecuted"]
    assert both.total_gap.estimate == pytest.approx(results.headline.gap_months.estimate, abs=1e-12)
    assert both.total_gap.mcse == pytest.approx(results.headline.gap_months.mcse, abs=1e-12)
    pair = next(p for p in results.pairwise if (p.district_a, p.district_b) == ("CAC", "CAS"))
    everyone = attributed.measures["all_defendants"]
    assert everyone.total_gap.estimate == pytest.approx(
        pair.all_defendants.mean_difference_months.estimate, abs=1e-12
    )


@pytest.mark.slow
def test_a_lever_the_same_in_both_districts_gets_exactly_zero(attributed):
    for measured in attributed.measures.values():
        values = {v.lever.name: v for v in measured.levers}
        for name in ("plea", "judge"):
            assert np.all(values[name].per_replication == 0.0)
            assert values[name].shapley.estimate == 0.0
        # The declination split differs, but a declined defendant's § 1326 months are 0 in
        # both measures whatever becomes of him: exactly 0 too.
        assert np.all(values["declination"].per_replication == 0.0)
        # The fast-track deal is most of the gap, in the direction of the gap.
        assert values["offers[0]"].shapley.estimate > 0.5 * measured.total_gap.estimate > 0


@pytest.mark.slow
def test_prosecution_rule_matters_only_to_the_all_defendants_measure(attributed):
    # C.D. prosecutes felons only, S.D. everyone: among defendants both prosecute (C.D.'s
    # felons) the wider rule compares no one new, so its value is exactly 0 there; counting
    # declined defendants as 0 months, S.D.'s wider rule raises its mean (a negative value).
    both = {v.lever.name: v for v in attributed.measures["both_prosecuted"].levers}
    everyone = {v.lever.name: v for v in attributed.measures["all_defendants"].levers}
    assert both["prosecution"].shapley.estimate == 0.0
    assert everyone["prosecution"].shapley.estimate < 0


@pytest.mark.slow
def test_all_defendants_attribution_turns_sign_when_the_districts_swap(scenario, attributed):
    # Over every defendant, v(S) is a difference of means, so the game B → A is the dual of
    # A → B with its sign turned (B with A's levers T is A with B's levers N − T), and the dual
    # has the same Shapley values: each lever's value turns sign, replication by replication.
    backwards = attribute(scenario, "CAS", "CAC").measures["all_defendants"]
    forwards = attributed.measures["all_defendants"]
    for there, back in zip(forwards.levers, backwards.levers, strict=True):
        assert there.lever.name == back.lever.name
        np.testing.assert_allclose(back.per_replication, -there.per_replication, atol=1e-12)


@pytest.mark.slow
def test_the_same_for_any_block_size_and_worker_count(scenario, attributed):
    small_blocks = scenario.model_copy(
        update={"study": scenario.study.model_copy(update={"block_size": 1_000})}
    )
    again = attribute(small_blocks, "CAC", "CAS", workers=2)
    assert attribution_summary(again) == attribution_summary(attributed)


@pytest.mark.slow
def test_identical_districts_have_no_gap_and_every_value_zero(scenario):
    attribution = attribute(scenario, "CAE", "CAN")  # the same policy (anchors)
    assert attribution.districts_simulated == 1
    for measured in attribution.measures.values():
        assert measured.total_gap.estimate == 0.0
        assert all(v.shapley.estimate == 0.0 for v in measured.levers)


def test_summary_shape(attributed):
    summary = attribution_summary(attributed)
    assert summary["measure"] == "both_prosecuted"
    assert set(summary["measures"]) == set(MEASURES)
    assert summary["subsets"] == 64
    assert summary["districts_simulated"] == 16
    lever = summary["levers"]["offers[0]"]
    assert {"shapley_months", "mcse_months", "differs", "from", "to"} <= set(lever)
    assert len(summary["measures"]["all_defendants"]["subset_gaps"]) == 64
    assert summary["measures"]["all_defendants"]["subset_gaps"][0]["gap_months"] == 0.0
    # The extreme orders, from the game itself: first = v({i}), last = v(all) − v(all − {i}).
    gaps = [g["gap_months"] for g in summary["measures"]["both_prosecuted"]["subset_gaps"]]
    cap = summary["levers"]["offers[1]"]
    assert cap["switched_first_months"] == gaps[0b001000]
    assert cap["switched_last_months"] == gaps[0b111111] - gaps[0b110111]
    assert summary["levers"]["declination"]["switched_last_months"] == 0.0
    # The cap overlaps the § 1326(a) deal (whoever takes the deal never needs the cap): it
    # matters most alone, least last, and its Shapley value lies between.
    assert cap["switched_first_months"] > cap["shapley_months"] > cap["switched_last_months"]
    with pytest.raises(InputError, match="allowed: both_prosecuted, all_defendants"):
        attribution_summary(attributed, "median")


def test_bad_districts_are_all_reported(scenario):
    problems = dict(attribution_problems(scenario, "XYZ", "CAS"))
    assert "--from" in problems
    assert "not a listed district" in problems["--from"]
    assert attribution_problems(scenario, "CAC", "CAC")[0][0] == "--to"
    assert [p[0] for p in attribution_problems(scenario, None, None)] == ["--from", "--to"]
    with pytest.raises(InputError):
        attribute(scenario, "CAC", "CAC")


@pytest.mark.slow
def test_eight_offer_positions_make_the_largest_game(scenario):
    # 4 levers + one per offer position (at most 8, sim.model.policy.MAX_OFFERS): 12 levers,
    # 4,096 subsets, built without running.
    district = scenario.districts["CAS"]
    offers = [district.offers[k % 2].model_copy() for k in range(8)]
    crowded = scenario.model_copy(
        update={
            "districts": {
                **scenario.districts,
                "CAS": district.model_copy(update={"offers": offers}),
            }
        }
    )
    assert attribution_problems(crowded, "CAC", "CAS") == []
    synthetic, index = attribution_scenario(crowded, "CAC", "CAS")
    assert len(index) == 4096
    # plea and judge are the same: 2^10 distinct policies, one per subset of the others.
    assert len(synthetic.districts) == 1024


def test_the_synthetic_block_keeps_a_piece_small(scenario):
    synthetic, _ = attribution_scenario(scenario, "CAC", "CAS")
    assert synthetic.study.block_size == scenario.study.block_size  # 16 districts: unchanged
    wide = scenario.model_copy(
        update={"study": scenario.study.model_copy(update={"block_size": 10_000_000})}
    )
    synthetic, _ = attribution_scenario(wide, "CAC", "CAS")
    assert synthetic.study.block_size == 12_800_000 // 16


def _with_cac_offers(scenario, offers):
    district = scenario.districts["CAC"].model_copy(update={"offers": offers})
    return scenario.model_copy(update={"districts": {**scenario.districts, "CAC": district}})


@pytest.fixture(scope="module")
def capped(scenario):
    """C.D. with its own first offer: a 36-month cap (no charge bargain), offered half as often
    as S.D.'s § 1326(a) deal, in the same position."""
    deal = scenario.districts["CAS"].offers[0]
    cap = deal.offer_probability.model_copy(update={"value": 36.0, "unit": "months"})
    offer = deal.model_copy(
        update={
            "name": "cap-36",
            "conviction": None,
            "sentence_cap_months": cap,
            "offer_probability": deal.offer_probability.model_copy(update={"value": 0.45}),
        }
    )
    return _with_cac_offers(scenario, [offer])


def test_split_offers_makes_a_lever_of_each_group_of_terms_that_differs(capped):
    names = [lever.name for lever in levers_of(capped, "CAC", "CAS", split_offers=True)]
    assert names == [
        "prosecution",
        "declination",
        "offers[0].reach",
        "offers[0].charge",
        "offers[0].sentence",
        "offers[1]",  # C.D. has no second offer: one lever, as without --split-offers
        "plea",
        "judge",
    ]
    whole = [lever.name for lever in levers_of(capped, "CAC", "CAS")]
    assert whole == ["prosecution", "declination", "offers[0]", "offers[1]", "plea", "judge"]


@pytest.mark.slow
def test_split_offers_keeps_the_endpoints_and_efficiency(capped):
    whole = attribute(capped, "CAC", "CAS")
    split = attribute(capped, "CAC", "CAS", split_offers=True)
    # 2^6 differing levers; the subset with neither the cap (A's, switched to B's none) nor the
    # charge bargain (A's none) leaves an offer without terms: kept, a plea at its levels.
    assert split.subsets == 256
    assert split.districts_simulated == 64
    for name, measured in split.measures.items():
        # The same A and B: the same gap, to the last digit, and the values sum to it.
        assert measured.total_gap.estimate == whole.measures[name].total_gap.estimate
        assert measured.shapley_sum == pytest.approx(measured.total_gap.estimate, abs=1e-12)


def test_split_offers_refuses_more_levers_than_allowed(scenario):
    # Two positions both districts fill with offers differing in reach, charge and sentence:
    # 4 + 2 x 3 = 10 levers are allowed; eight positions (4 + 8 x 3 = 28) are not.
    deal, top = scenario.districts["CAS"].offers
    swapped = [top.model_copy(update={"name": "x"}), deal.model_copy(update={"name": "y"})]
    swapped = _with_cac_offers(scenario, swapped)
    assert len(levers_of(swapped, "CAC", "CAS", split_offers=True)) == 10
    assert attribution_problems(swapped, "CAC", "CAS", split_offers=True) == []
    many = scenario.districts["CAS"].model_copy(update={"offers": [deal, top] * 4})
    crowded = _with_cac_offers(scenario, [top, deal] * 4)
    crowded = crowded.model_copy(update={"districts": {**crowded.districts, "CAS": many}})
    problems = attribution_problems(crowded, "CAC", "CAS", split_offers=True)
    assert problems == [
        (
            "--split-offers",
            "28 levers (268,435,456 subsets); allowed: at most 14 (without --split-offers, one "
            "lever per offer position)",
        )
    ]
    assert attribution_problems(crowded, "CAC", "CAS") == []  # 12 levers, one per position


# --- the waterfall ---------------------------------------------------------------------------


def test_waterfall_draws_into_the_given_axes():
    table = pd.DataFrame(
        {
            "lever": ["a", "b", "c"],
            "shapley_months": [5.0, -1.0, 0.0],
            "mcse_months": [0.1, 0.2, np.nan],
        }
    )
    ax = Figure().add_subplot()
    assert waterfall(table, 20.0, 16.0, "CAC", "CAS", ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["CAC mean", "a", "b", "c", "CAS mean"]
    assert isinstance(waterfall(table, 20.0, 16.0, "CAC", "CAS"), Axes)
    with pytest.raises(ValueError, match="missing column"):
        waterfall(table.drop(columns="mcse_months"), 20.0, 16.0, "CAC", "CAS")


# --- the command line ------------------------------------------------------------------------

SMALL = ["--defendants", "2000", "--replications", "2"]


@pytest.mark.slow
def test_cli_json_and_out(tmp_path):
    out = tmp_path / "attribution"
    result = invoke("attribute", "--from", "CAC", "--to", "CAS", *SMALL, "--json", "--out", out)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["from"] == "CAC"
    assert printed["to"] == "CAS"
    total = sum(v["shapley_months"] for v in printed["levers"].values())
    assert total == pytest.approx(printed["total_gap_months"], abs=1e-12)
    assert printed["levers"]["plea"]["shapley_months"] == 0.0
    assert sorted(p.name for p in out.iterdir()) == [
        "attribution.json",
        "levers.csv",
        "waterfall.pdf",
        "waterfall.png",
        "waterfall.svg",
    ]
    written = json.loads((out / "attribution.json").read_text())
    assert written["levers"] == printed["levers"]
    table = pd.read_csv(out / "levers.csv")
    assert len(table) == 2 * len(printed["levers"])
    # The table as printed for people.
    result = invoke("attribute", "--from", "CAC", "--to", "CAS", *SMALL)
    assert result.exit_code == 0, result.output
    assert "offers[0]" in result.stdout
    assert "Σ Shapley" in result.stdout


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (["--from", "XYZ", "--to", "CAS"], ["error: --from: XYZ: not a listed district"]),
        (["--from", "CAC", "--to", "CAC"], ["error: --to: CAC is also --from"]),
        (
            ["--from", "ZZ", "--to", "QQ"],
            ["error: --from: ZZ: not a listed district", "--to: QQ: not a listed district"],
        ),
        (["--to", "CAS"], ["error: --from: required"]),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_each(args, lines):
    result = invoke("attribute", *args, "--defendants", "100", "--replications", "1")
    assert result.exit_code == 2
    assert result.stdout == ""
    printed = result.stderr.strip().splitlines()
    assert len(printed) == len(lines)
    for line, start in zip(printed, lines, strict=True):
        assert line.startswith(start)
        assert "Traceback" not in line


def test_cli_out_that_exists_is_refused_before_any_work(tmp_path):
    result = invoke("attribute", "--from", "CAC", "--to", "CAS", "--out", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --out:")
    assert "exists" in result.stderr


@pytest.mark.slow
def test_cli_a_measure_nobody_defines_is_reported_undefined(tmp_path):
    # C.D. prosecutes nobody: no defendant both districts prosecute, so that measure is
    # undefined (printed as –, null in JSON, no chart); over every defendant it is defined.
    config = tmp_path / "nobody.yaml"
    config.write_text(
        f"extends: {DEFAULT_SCENARIO}\n"
        "districts:\n"
        "  CAC:\n"
        "    prosecution:\n"
        "      eligible: felony\n"
        "      probability: {value: 0.0, unit: probability, source: test}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = invoke("attribute", config, "--from", "CAC", "--to", "CAS", *SMALL, "--out", out)
    assert result.exit_code == 0, result.output
    assert "gap – months" in result.stdout
    written = json.loads((out / "attribution.json").read_text())
    assert written["total_gap_months"] is None
    assert written["levers"]["offers[0]"]["shapley_months"] is None
    everyone = written["measures"]["all_defendants"]
    assert everyone["shapley_sum_months"] == pytest.approx(everyone["total_gap_months"], abs=1e-12)
    assert sorted(p.name for p in out.iterdir()) == ["attribution.json", "levers.csv"]

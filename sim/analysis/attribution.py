"""Lever attribution: which part of district B's policy makes the gap between A and B
(``sim attribute CONFIG --from A --to B``; docs/attribution.md).

A district's policy is cut into **levers** (:func:`levers_of`): the prosecution rule (who is
eligible and with what probability), the declination split (what becomes of a declined
defendant), each offer position (the whole offer: who gets it, how often, and its terms: charge
bargain, cap, floor, stipulated sentence, early-disposition and acceptance levels; with
``split_offers``, a position both districts fill is split into the groups of its terms that
differ, :data:`OFFER_TERMS`), the no-deal plea behaviour (``plea_probability``,
``plea_acceptance_levels``) and the judge (the district's own, else the scenario's). Offers are
matched by position, because the position carries an offer's uniforms and its precedence. For
every subset S of the L levers, a synthetic district has A's
policy with the levers in S taken from B. All 2^L synthetic districts run as the districts of
**one** study of the same seed, so every defendant and every uniform is the same in all of them
(common random numbers, :mod:`sim.run.streams`): the population is generated once, and synthetic
district ∅ is A and district {all levers} is B exactly as ``sim run`` sentences them. Subsets
whose policies act the same (sources and names aside) are simulated once.

The **game** is v(S) = the paired gap of A to the synthetic district S (A − S, months), per
replication; v(∅) = 0 and v(all) = the A − B gap. The **Shapley value** of lever i
(:func:`shapley_values`) is its marginal contribution averaged over every order in which the
levers could be switched; by efficiency the values of one replication sum to that replication's
gap, so their means over replications sum to the reported gap (to floating-point rounding of
the same sums), and each value's Monte Carlo standard error is the standard deviation of its
per-replication values over √R (:func:`sim.analysis.metrics.over_replications`). A lever whose
setting acts the same in A and B is a null player: its value is exactly 0.

Two measures (:data:`MEASURES`): ``both_prosecuted`` (the headline's: the mean paired difference
among defendants both districts prosecute; the set of such defendants changes as the
prosecution lever is switched, so part of that lever's value is who is compared) and
``all_defendants`` (every defendant, a declined one counted as 0 months; here each v(S) is a
difference of two means, so the waterfall runs from A's mean to B's over the same defendants).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.analysis.metrics import Estimate, over_replications
from sim.inputs import InputError, printable
from sim.model.judge import JudgeConfig
from sim.model.policy import DistrictPolicy, Offer
from sim.model.scenario import Scenario
from sim.run.runner import check_fits, run_study
from sim.run.tally import MAX_MONTHS, StudyTally

__all__ = [
    "MAX_LEVERS",
    "MEASURES",
    "OFFER_TERMS",
    "Attribution",
    "Lever",
    "LeverValue",
    "MeasureAttribution",
    "attribute",
    "attribution_problems",
    "attribution_scenario",
    "attribution_summary",
    "levers_of",
    "shapley_values",
    "shapley_weights",
]

#: The paired-gap measures, by name: what each averages over.
MEASURES: dict[str, str] = {
    "both_prosecuted": (
        "mean paired difference {a} − S in months among defendants both {a} and the synthetic "
        "district S prosecute (the headline's measure, sim run's headline.gap_months for S = {b})"
    ),
    "all_defendants": (
        "mean paired difference {a} − S in months over every defendant, a declined defendant "
        "counted as 0 months (a difference of the two districts' means over the same defendants)"
    ),
}

#: Levers a game may have: 2^14 = 16,384 subsets. One lever per offer position makes at most
#: 4 + 8 (sim.model.policy.MAX_OFFERS); ``split_offers`` can make more.
MAX_LEVERS = 14

#: Defendant-districts a processing block of the synthetic study may hold at once.
_PIECE_CELLS = 12_800_000

#: Fields that document a setting without changing what it does (ignored when comparing).
_COSMETIC = frozenset({"source", "assumption", "description", "name", "unit"})


def shapley_weights(levers: int) -> np.ndarray:
    """The Shapley weight of a coalition of each size s = 0 … L−1 that a lever joins:
    s! (L − s − 1)! / L!.

    >>> shapley_weights(2).tolist()
    [0.5, 0.5]
    """
    factorial = math.factorial
    return np.array(
        [factorial(s) * factorial(levers - s - 1) / factorial(levers) for s in range(levers)]
    )


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Shapley values of a game given by its value on every coalition.

    Parameters
    ----------
    values : numpy.ndarray, shape (..., 2**L)
        ``values[..., S]``: the worth of coalition S, bit i of S set when player i is in it;
        leading axes are separate games (e.g. replications).

    Returns
    -------
    numpy.ndarray, shape (..., L)
        φ_i = Σ_{S ∌ i} |S|! (L − |S| − 1)! / L! · (v(S ∪ {i}) − v(S)). By efficiency
        Σ_i φ_i = v(all) − v(∅) (to floating-point rounding).

    Raises
    ------
    ValueError
        The last axis is not a power of two of at least 2.

    Examples
    --------
    An additive game: each player's value is its own worth.

    >>> shapley_values(np.array([0.0, 1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0]
    """
    values = np.asarray(values, dtype=float)
    size = values.shape[-1]
    levers = size.bit_length() - 1
    if size < 2 or size != 1 << levers:
        raise ValueError(f"{size} coalition values; allowed: 2**L for L >= 1")
    masks = np.arange(size)
    sizes = np.array([bin(int(m)).count("1") for m in masks])
    weights = shapley_weights(levers)
    out = np.empty((*values.shape[:-1], levers))
    for i in range(levers):
        without = masks[(masks >> i) & 1 == 0]
        marginal = values[..., without | (1 << i)] - values[..., without]
        out[..., i] = marginal @ weights[sizes[without]]
    return out


# ---------------------------------------------------------------------------------------------
# Levers


@dataclass(frozen=True)
class Lever:
    """One lever of a district's policy: its name, what it covers, and A's and B's settings."""

    name: str
    description: str
    #: A's and B's settings, in one line each (``(none)`` for an offer a district lacks).
    setting_from: str
    setting_to: str
    #: Whether the two settings act differently (documentation fields aside).
    differs: bool


def _behaviour(value: Any) -> Any:
    """What a setting does: its dump without sources, names and other documentation."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Mapping):
        return {k: _behaviour(v) for k, v in value.items() if k not in _COSMETIC}
    if isinstance(value, list | tuple):
        return [_behaviour(v) for v in value]
    return value


def _null_offer(offer: Offer) -> Offer:
    """An offer in ``offer``'s position that is never extended (a district without an offer at
    that position): the first offer a defendant is eligible for, extended and accepted applies
    (sim.model.policy), so one never extended changes nothing."""
    never = offer.offer_probability.model_copy(update={"value": 0.0})
    return offer.model_copy(update={"name": "(none)", "offer_probability": never})


#: An offer's terms, grouped into the sub-levers ``--split-offers`` makes of an offer position
#: both districts have: who gets it and how often, the charge bargain, the sentence terms, the
#: early-disposition levels and the acceptance levels.
OFFER_TERMS: dict[str, tuple[str, ...]] = {
    "reach": ("eligibility", "offer_probability", "acceptance_probability"),
    "charge": ("conviction",),
    "sentence": ("sentence_cap_months", "sentence_floor_months", "stipulated_sentence_months"),
    "early_disposition": ("early_disposition_levels",),
    "acceptance": ("acceptance_levels",),
}


def _terms(offer: Offer, group: str) -> tuple[Any, ...]:
    return tuple(getattr(offer, field) for field in OFFER_TERMS[group])


def _offer_groups(first: DistrictPolicy, second: DistrictPolicy, split: bool) -> list[list[str]]:
    """Per offer position, its levers' groups: ``[]`` for the whole offer, else the term groups
    that differ (only where ``split`` and both districts have an offer there and some group
    differs: a group the same in both would be a null player)."""
    layout = []
    for k in range(max(len(first.offers), len(second.offers))):
        groups: list[str] = []
        if split and k < len(first.offers) and k < len(second.offers):
            a, b = first.offers[k], second.offers[k]
            groups = [
                g for g in OFFER_TERMS if _behaviour(_terms(a, g)) != _behaviour(_terms(b, g))
            ]
        layout.append(groups)
    return layout


def _parts(
    policy: DistrictPolicy, judge: JudgeConfig, layout: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """A policy cut into its levers' settings: offers by position (None where it has none),
    split into term groups as ``layout`` says (:func:`_offer_groups`)."""
    prosecution = policy.prosecution
    parts: dict[str, Any] = {
        "prosecution": (prosecution.eligible, prosecution.probability),
        "declination": prosecution.declined,
    }
    for k, groups in enumerate(layout):
        offer = policy.offers[k] if k < len(policy.offers) else None
        if not groups:
            parts[f"offers[{k}]"] = offer
        for group in groups:
            parts[f"offers[{k}].{group}"] = _terms(offer, group)
    parts["plea"] = (policy.plea_probability, policy.plea_acceptance_levels)
    parts["judge"] = policy.judge or judge
    return parts


def _both_parts(
    scenario: Scenario, a: str, b: str, split_offers: bool
) -> tuple[dict[str, Any], dict[str, Any], list[list[str]]]:
    first, second = scenario.districts[a], scenario.districts[b]
    layout = _offer_groups(first, second, split_offers)
    return _parts(first, scenario.judge, layout), _parts(second, scenario.judge, layout), layout


def _describe(name: str, setting: Any) -> str:
    """One line saying what a lever's setting is."""
    if name == "prosecution":
        eligible, probability = setting
        return f"eligible: {eligible}, probability {probability.value:g}"
    if name == "declination":
        return (
            f"removal {setting.administrative_removal.value:g}, state referral "
            f"{setting.state_referral.value:g}, § 1325 {setting.section_1325.value:g} "
            f"({setting.section_1325_months.value:g} months)"
        )
    if name.startswith("offers[") and "." in name:
        return _describe_terms(name.rpartition(".")[2], setting)
    if name.startswith("offers["):
        if setting is None:
            return "(none)"
        terms = []
        if setting.conviction is not None:
            terms.append(f"charge bargain to {setting.conviction}")
        for field, label in (
            ("sentence_cap_months", "cap"),
            ("sentence_floor_months", "floor"),
            ("stipulated_sentence_months", "stipulated"),
        ):
            if (term := getattr(setting, field)) is not None:
                terms.append(f"{label} {term.value:g} months")
        levels = setting.early_disposition_levels
        if any(levels.values()) if isinstance(levels, dict) else levels > 0:
            terms.append(f"early-disposition levels {levels}")
        return (
            f"{setting.name}: {', '.join(terms)}; offered {setting.offer_probability.value:g}, "
            f"accepted {setting.acceptance_probability.value:g}"
        )
    if name == "plea":
        probability, levels = setting
        return f"no-deal plea probability {probability.value:g}, {levels} acceptance levels"
    below, above = setting.departures.rates()
    served = setting.time_served_months
    return (
        f"range position {setting.range_position.distribution}, departures below {below:g} / "
        f"above {above:g}, time served {'none' if served is None else f'{served.value:g}'}"
    )


def _describe_terms(group: str, setting: tuple[Any, ...]) -> str:
    """One line saying what a group of an offer's terms is."""
    if group == "reach":
        eligibility, offered, accepted = setting
        rule = ", ".join(f"{k} {v}" for k, v in eligibility.conditions.items()) or "everyone"
        return f"eligible: {rule}; offered {offered.value:g}, accepted {accepted.value:g}"
    if group == "charge":
        return "no charge bargain" if setting[0] is None else f"charge bargain to {setting[0]}"
    if group == "sentence":
        terms = [
            f"{label} {term.value:g} months"
            for label, term in zip(("cap", "floor", "stipulated"), setting, strict=True)
            if term is not None
        ]
        return ", ".join(terms) or "no sentence term"
    if group == "early_disposition":
        return f"early-disposition levels {setting[0]}"
    return f"{setting[0]} acceptance levels"


_DESCRIPTIONS = {
    "prosecution": "prosecution rule: who is eligible (prosecution.eligible) and the probability",
    "declination": "what becomes of a declined defendant (prosecution.declined)",
    "plea": "no-deal plea behaviour (plea_probability, plea_acceptance_levels)",
    "judge": "the judge (the district's own judge, else the scenario's)",
}


def _offer_description(name: str) -> str:
    k = int(name[7 : name.index("]")])
    if "." in name:
        group = name.rpartition(".")[2]
        return f"offer {k + 1} (offers[{k}]), {group}: {', '.join(OFFER_TERMS[group])}"
    return (
        f"offer {k + 1} (offers[{k}]): who gets it, how often, and its terms (charge bargain, "
        "cap, floor, stipulated sentence, early-disposition and acceptance levels); a district "
        "without it never extends it"
    )


def levers_of(scenario: Scenario, a: str, b: str, *, split_offers: bool = False) -> list[Lever]:
    """The levers of districts ``a`` and ``b`` of ``scenario``, in a fixed order: prosecution,
    declination, each offer position (with ``split_offers``, a position both districts have is
    split into the groups of its terms that differ, :data:`OFFER_TERMS`), plea, judge."""
    parts_a, parts_b, _ = _both_parts(scenario, a, b, split_offers)
    levers = []
    for name in parts_a:
        description = _DESCRIPTIONS.get(name) or _offer_description(name)
        levers.append(
            Lever(
                name=name,
                description=description,
                setting_from=_describe(name, parts_a[name]),
                setting_to=_describe(name, parts_b[name]),
                differs=_behaviour(parts_a[name]) != _behaviour(parts_b[name]),
            )
        )
    return levers


def _policy(
    first: DistrictPolicy,
    parts_a: Mapping[str, Any],
    parts_b: Mapping[str, Any],
    layout: Sequence[Sequence[str]],
    mask: int,
) -> DistrictPolicy:
    """A's policy with the levers in ``mask`` (bit i: ``names[i]``) taken from B.

    Assembled with ``model_copy`` from validated parts of A and B; :func:`attribution_scenario`
    validates each distinct result again as a ``DistrictPolicy``. (The scenario-level rules
    check each offer against the Manual, which A and B share.)"""
    names = list(parts_a)
    chosen = {name: (parts_b if mask >> i & 1 else parts_a)[name] for i, name in enumerate(names)}
    eligible, probability = chosen["prosecution"]
    prosecution = first.prosecution.model_copy(
        update={"eligible": eligible, "probability": probability, "declined": chosen["declination"]}
    )
    offers = []
    for k, groups in enumerate(layout):
        if groups:  # A's offer with the chosen groups of terms (both districts have one here)
            update: dict[str, Any] = {}
            for group in groups:
                update |= dict(zip(OFFER_TERMS[group], chosen[f"offers[{k}].{group}"], strict=True))
            offers.append(first.offers[k].model_copy(update=update))
            continue
        name = f"offers[{k}]"
        offer = chosen[name]
        if offer is None:  # the chosen side lacks it: never extended, in the other's position
            offer = _null_offer(parts_a[name] if parts_a[name] is not None else parts_b[name])
        offers.append(offer)
    plea_probability, plea_levels = chosen["plea"]
    return first.model_copy(
        update={
            "prosecution": prosecution,
            "offers": offers,
            "plea_probability": plea_probability,
            "plea_acceptance_levels": plea_levels,
            "judge": chosen["judge"],
        }
    )


def _validated(policy: DistrictPolicy) -> DistrictPolicy:
    """``policy`` validated like any district of a scenario file, so that a combination of levers
    that broke a rule of ``DistrictPolicy`` is refused, not simulated; except one rule. With
    ``split_offers`` an offer may lose every term (A's charge bargain switched to B's none):
    the rule that an offer must change something catches a scenario author's slip, but here the
    offer is a counterfactual with a meaning (accepting it is a plea at its acceptance levels,
    sim.model.policy), so it is kept."""
    try:
        return DistrictPolicy.model_validate(policy.model_dump(by_alias=True))
    except ValidationError as error:
        if all("changes nothing" in e["msg"] for e in error.errors(include_url=False)):
            return policy
        raise


def attribution_scenario(
    scenario: Scenario, a: str, b: str, *, split_offers: bool = False
) -> tuple[Scenario, np.ndarray]:
    """The study whose districts are the 2^L synthetic districts of the A → B game (levers as
    :func:`levers_of` makes them).

    Returns
    -------
    (Scenario, numpy.ndarray)
        The study (first district: A's own policy; ``study.pairs: reference``, so every
        district's paired gaps are tallied against it; no profiles, headline or validation),
        and for each subset mask 0 … 2^L − 1 the index of the district that sentences it
        (subsets whose policies act the same share one district). Its block size is cut
        so that a block of every district stays near 12.8 million defendant-districts.
    """
    first = scenario.districts[a]
    parts_a, parts_b, layout = _both_parts(scenario, a, b, split_offers)
    names = list(parts_a)
    weight = first.caseload_weight.model_copy(update={"value": 1.0})  # as-arrested view: unused
    districts: dict[str, DistrictPolicy] = {}
    seen: dict[str, int] = {}
    index = np.empty(1 << len(names), dtype=np.int64)
    for mask in range(1 << len(names)):
        policy = _policy(first, parts_a, parts_b, layout, mask)
        key = repr(_behaviour(policy.model_copy(update={"caseload_weight": weight})))
        if key not in seen:
            seen[key] = len(districts)
            label = "".join("1" if mask >> i & 1 else "0" for i in range(len(names)))
            named = policy.model_copy(
                update={"caseload_weight": weight, "name": f"{a} with levers {label} from {b}"}
            )
            districts[f"{a}+{label}"] = _validated(named)
        index[mask] = seen[key]
    # Each piece holds every defendant's outcome in every district: the block is cut so that a
    # piece stays near 12.8 million defendant-districts (about 200 MB); results do not depend
    # on the block size (sim/run/runner.py).
    block = max(1_000, min(scenario.study.block_size, _PIECE_CELLS // len(districts)))
    study = scenario.study.model_copy(update={"pairs": "reference", "block_size": block})
    synthetic = scenario.model_copy(
        update={
            "districts": districts,
            "study": study,
            "profiles": {},
            "headline": None,
            "validation": [],
        }
    )
    return synthetic, index


# ---------------------------------------------------------------------------------------------
# The attribution


@dataclass(frozen=True)
class LeverValue:
    """A lever's Shapley value over replications (months)."""

    lever: Lever
    shapley: Estimate
    #: Per replication (the replications used), summing over levers to the replication's gap.
    per_replication: np.ndarray


@dataclass(frozen=True)
class MeasureAttribution:
    """The attribution of one measure's gap."""

    measure: str
    definition: str
    total_gap: Estimate
    #: A's and B's mean months over the defendants the measure compares (for the waterfall:
    #: ``mean_from − Σ shapley = mean_to``).
    mean_from: Estimate
    mean_to: Estimate
    levers: list[LeverValue]
    #: v(S) over replications, per subset mask.
    subset_gaps: list[Estimate]
    #: Replications in which every v(S) is defined (a measure over no defendant is not).
    replications_used: int

    @property
    def shapley_sum(self) -> float | None:
        """Σ of the levers' Shapley values (equal to the total gap to rounding); None when no
        replication defines every v(S) (e.g. A prosecutes nobody: no defendant both
        prosecute)."""
        if self.replications_used == 0:
            return None
        return float(sum(value.shapley.estimate for value in self.levers))


@dataclass(frozen=True)
class Attribution:
    """The attribution of the A → B gap, both measures, from one study."""

    district_from: str
    district_to: str
    split_offers: bool
    levers: list[Lever]
    subsets: int
    districts_simulated: int
    seed: int
    defendants: int
    replications: int
    measures: dict[str, MeasureAttribution]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(numerator, dtype=float) / np.asarray(denominator, dtype=float)


def _games(tally: StudyTally, index: np.ndarray) -> dict[str, tuple[np.ndarray, ...]]:
    """Per measure: v (R, 2^L), A's and S's means (R, 2^L), from the pairs (0, d) of
    ``tally`` (pair p = d − 1; district 0 against itself is the zero gap)."""
    differences = np.arange(2 * MAX_MONTHS + 1) - MAX_MONTHS
    months = np.arange(MAX_MONTHS + 1)
    replications, districts = tally.counterfactual_prosecuted.shape
    # All defendants, declined = 0 (sim.analysis.metrics.balanced_histograms).
    balanced = tally.counterfactual_histogram.copy()
    balanced[:, :, 0] += tally.defendants[:, None] - tally.counterfactual_prosecuted
    means = _ratio((balanced * months).sum(axis=-1), tally.defendants[:, None])  # (R, D)
    gap_all = np.zeros((replications, districts))
    gap_both = np.zeros((replications, districts))
    from_both = np.empty((replications, districts))
    to_both = np.empty((replications, districts))
    # District 0 against itself: everyone it prosecutes, the zero gap.
    own = tally.counterfactual_prosecuted[:, 0]
    own_mean = _ratio((tally.counterfactual_histogram[:, 0] * months).sum(axis=-1), own)
    from_both[:, 0] = to_both[:, 0] = own_mean
    gap_both[:, 0] = np.where(own > 0, 0.0, np.nan)
    if districts > 1:
        # Σ (Y_A − Y_S) / n, as sim.analysis.measures computes the pairwise and headline gaps.
        hist_all = tally.pair_difference
        gap_all[:, 1:] = _ratio((hist_all * differences).sum(axis=-1), hist_all.sum(axis=-1))
        hist_both = tally.pair_both_difference
        both = hist_both.sum(axis=-1)
        gap_both[:, 1:] = _ratio((hist_both * differences).sum(axis=-1), both)
        from_both[:, 1:] = _ratio(tally.pair_both_sums[..., 0], both)
        to_both[:, 1:] = _ratio(tally.pair_both_sums[..., 1], both)
    return {
        "both_prosecuted": (gap_both[:, index], from_both[:, index], to_both[:, index]),
        "all_defendants": (
            gap_all[:, index],
            np.repeat(means[:, [0]], len(index), axis=1),
            means[:, index],
        ),
    }


def _measure(
    name: str, a: str, b: str, levers: list[Lever], games: tuple[np.ndarray, ...]
) -> MeasureAttribution:
    gaps, means_from, means_to = games
    defined = np.all(np.isfinite(gaps), axis=1)
    used = gaps[defined]
    values = shapley_values(used) if len(used) else np.empty((0, len(levers)))
    full = gaps.shape[1] - 1
    return MeasureAttribution(
        measure=name,
        definition=MEASURES[name].format(a=a, b=b),
        total_gap=over_replications(used[:, full]),
        mean_from=over_replications(means_from[defined, full]),
        mean_to=over_replications(means_to[defined, full]),
        levers=[
            LeverValue(lever, over_replications(values[:, i]), values[:, i])
            for i, lever in enumerate(levers)
        ],
        subset_gaps=[over_replications(used[:, s]) for s in range(gaps.shape[1])],
        replications_used=int(defined.sum()),
    )


def attribution_problems(
    scenario: Scenario, a: str | None, b: str | None, *, split_offers: bool = False
) -> list[tuple[str, str]]:
    """What is wrong with ``--from`` and ``--to``: each a listed district, the two different,
    and at most :data:`MAX_LEVERS` levers (which only ``split_offers`` can exceed)."""
    codes = scenario.district_codes
    allowed = f"allowed: a district of scenario {scenario.scenario!r} ({', '.join(codes[:12])}"
    allowed += ", …)" if len(codes) > 12 else ")"
    problems = []
    for option, code in (("--from", a), ("--to", b)):
        if code is None:
            problems.append((option, f"required; {allowed}"))
        elif code not in scenario.districts:
            problems.append((option, f"{printable(code, 40)}: not a listed district; {allowed}"))
    if not problems and a == b:
        problems.append(
            (
                "--to",
                f"{printable(b, 40)} is also --from: nothing to attribute; allowed: another "
                "district",
            )
        )
    if not problems:
        count = len(levers_of(scenario, a, b, split_offers=split_offers))
        if count > MAX_LEVERS:
            problems.append(
                (
                    "--split-offers",
                    f"{count} levers ({2**count:,} subsets); allowed: at most {MAX_LEVERS} "
                    "(without --split-offers, one lever per offer position)",
                )
            )
    return problems


def attribute(
    scenario: Scenario,
    a: str,
    b: str,
    *,
    split_offers: bool = False,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Attribution:
    """Attribute the paired gap A − B to the levers of B's policy by Shapley values.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario; its ``study`` settings (seed, defendants, replications) are the
        study's.
    a, b : str
        District codes (``--from`` and ``--to``).
    split_offers : bool
        Split each offer position both districts have into the groups of its terms that differ
        (:data:`OFFER_TERMS`) rather than one lever per position.
    workers : int
    progress : callable, optional
        ``progress(done, total)`` in defendants.

    Returns
    -------
    Attribution

    Raises
    ------
    InputError
        ``a`` or ``b`` not a listed district, the two the same, more than :data:`MAX_LEVERS`
        levers, or the study's tallies over its synthetic districts would not fit the memory
        budget.
    """
    if problems := attribution_problems(scenario, a, b, split_offers=split_offers):
        raise InputError("bad attribution", problems=problems)
    levers = levers_of(scenario, a, b, split_offers=split_offers)
    synthetic, index = attribution_scenario(scenario, a, b, split_offers=split_offers)
    try:
        check_fits(synthetic)
    except InputError as error:
        raise InputError(
            f"the {len(index):,} subsets of {len(levers)} levers run as "
            f"{len(synthetic.districts)} synthetic districts: {error.detail}",
            field="replications",
        ) from None
    study = run_study(synthetic, workers=workers, progress=progress)
    games = _games(study.tally, index)
    return Attribution(
        district_from=a,
        district_to=b,
        split_offers=split_offers,
        levers=levers,
        subsets=len(index),
        districts_simulated=len(synthetic.districts),
        seed=scenario.study.seed,
        defendants=scenario.study.defendants,
        replications=scenario.study.replications,
        measures={name: _measure(name, a, b, levers, games[name]) for name in MEASURES},
    )


# ---------------------------------------------------------------------------------------------
# The summary (what ``sim attribute --json`` prints)


def _difference(high: float | None, low: float | None) -> float | None:
    return None if high is None or low is None else high - low


def _measure_summary(attribution: Attribution, measured: MeasureAttribution) -> dict[str, Any]:
    names = [lever.name for lever in attribution.levers]
    gaps = [gap.estimate for gap in measured.subset_gaps]
    full = len(gaps) - 1
    return {
        "definition": measured.definition,
        "total_gap_months": measured.total_gap.estimate,
        "total_gap_mcse_months": measured.total_gap.mcse,
        "shapley_sum_months": measured.shapley_sum,
        "mean_from_months": measured.mean_from.estimate,
        "mean_to_months": measured.mean_to.estimate,
        "replications_used": measured.replications_used,
        "levers": {
            value.lever.name: {
                "shapley_months": value.shapley.estimate,
                "mcse_months": value.shapley.mcse,
                "ci95_months": None if value.shapley.ci95 is None else list(value.shapley.ci95),
                "share_of_gap": (
                    value.shapley.estimate / measured.total_gap.estimate
                    if measured.total_gap.estimate
                    else None
                ),
                # The two extreme orders, whose spread around the Shapley value shows how much
                # the lever interacts with the others: switched first (alone, into A) and last
                # (the others already B's).
                "switched_first_months": gaps[1 << i],
                "switched_last_months": _difference(gaps[full], gaps[full ^ 1 << i]),
            }
            for i, value in enumerate(measured.levers)
        },
        "subset_gaps": [
            {
                "from_to": [names[i] for i in range(len(names)) if mask >> i & 1],
                "gap_months": gap.estimate,
                "mcse_months": gap.mcse,
            }
            for mask, gap in enumerate(measured.subset_gaps)
        ],
    }


def attribution_summary(
    attribution: Attribution, measure: str = "both_prosecuted"
) -> dict[str, Any]:
    """The attribution as JSON-ready data (``sim attribute --json``).

    The top level holds ``measure``'s figures: ``total_gap_months`` and, per lever,
    ``shapley_months`` and ``mcse_months`` (with its interval, share of the gap, A's and B's
    settings); ``measures`` holds both measures in full, with every subset's gap v(S).
    """
    if measure not in MEASURES:
        raise InputError(f"{measure!r}; allowed: {', '.join(MEASURES)}", field="measure")
    measures = {
        name: _measure_summary(attribution, measured)
        for name, measured in attribution.measures.items()
    }
    chosen = measures[measure]
    levers = {
        lever.name: {
            **chosen["levers"][lever.name],
            "differs": lever.differs,
            "from": lever.setting_from,
            "to": lever.setting_to,
            "description": lever.description,
        }
        for lever in attribution.levers
    }
    return {
        "from": attribution.district_from,
        "to": attribution.district_to,
        "measure": measure,
        "split_offers": attribution.split_offers,
        "definition": chosen["definition"],
        "total_gap_months": chosen["total_gap_months"],
        "total_gap_mcse_months": chosen["total_gap_mcse_months"],
        "shapley_sum_months": chosen["shapley_sum_months"],
        "mean_from_months": chosen["mean_from_months"],
        "mean_to_months": chosen["mean_to_months"],
        "levers": levers,
        "method": (
            "Shapley values over all 2^L subsets of levers switched from the --from district's "
            "policy to the --to district's; every subset a synthetic district of one study "
            "(same seed, defendants and uniforms: common random numbers); MCSE = standard "
            "deviation of the per-replication values (each an exact decomposition of that "
            "replication's gap) over √R"
        ),
        "subsets": attribution.subsets,
        "districts_simulated": attribution.districts_simulated,
        "seed": attribution.seed,
        "defendants": attribution.defendants,
        "replications": attribution.replications,
        "measures": measures,
    }

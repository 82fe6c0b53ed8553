"""The typed figures of a run, assembled once from its tallies by the metric functions.

Every figure over replications is an :class:`~sim.analysis.metrics.Estimate` (estimate, MCSE,
95% interval); the records below group them as the study reports them: per district (both
views), per district pair (paired gaps), the cross-district range, variance shares, selection vs
policy, inequality, the named profiles, the headline gap (:data:`HEADLINE_DEFINITION`) and the
overall as-arrested aggregate. :class:`Measures` holds all of them for one run;
:class:`sim.analysis.results.Results` adds its summary and tables.

Field order is report order: the JSON summary and the tables list figures in the order of the
fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sim.analysis.metrics import (
    Estimate,
    balanced_histograms,
    gini_from_histogram,
    histogram_mean,
    histogram_quantile,
    ks_from_histograms,
    over_replications,
    selection_vs_policy,
    theil_decomposition,
    variance_shares,
    wasserstein_from_histograms,
)
from sim.guidelines.editions import edition
from sim.model.judge import POSITION_CATEGORIES
from sim.run.runner import ProfileTally, StudyResult
from sim.run.tally import MAX_MONTHS, PERCENT_SCALE, StudyTally, district_pairs

__all__ = [
    "HEADLINE_DEFINITION",
    "ArrestedFigures",
    "CrossDistrictRange",
    "DeclinedFigures",
    "Distance",
    "District",
    "DistrictFigures",
    "EnhancementFigures",
    "GapFigures",
    "Headline",
    "Inequality",
    "Measures",
    "OverallFigures",
    "Pair",
    "Profile",
    "ProfileDistrict",
    "RangeFigures",
    "SelectionSplit",
    "UndefinedSelectionSplit",
    "VarianceShares",
    "declined_figures",
    "district_figures",
    "enhancement_levels",
    "estimates",
    "headline_figures",
    "inequality_figures",
    "overall_figures",
    "pair_figures",
    "profile_figures",
    "range_figures",
    "selection_figures",
    "undefined_selection",
    "variance_figures",
]


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictFigures:
    """One view of a district: months are among the defendants it prosecutes.

    ``mean_percent_from_guideline_minimum`` is the USSC's inter-district measure: the mean
    percent difference between the sentence and the guideline minimum (after § 5G1.1), over
    sentences whose minimum is above 0. ``position_shares`` maps each position category
    (:data:`sim.model.judge.POSITION_CATEGORIES`) to its share of sentences.
    """

    prosecuted_share: Estimate
    imprisonment_share: Estimate
    mean_months: Estimate
    median_months: Estimate
    p10_months: Estimate
    p25_months: Estimate
    p75_months: Estimate
    p90_months: Estimate
    mean_percent_from_guideline_minimum: Estimate
    position_shares: Mapping[str, Estimate]


@dataclass(frozen=True)
class ArrestedFigures(DistrictFigures):
    """The as-arrested view: defendants the caseload mix assigns to the district, and their
    share of all defendants (``arrest_share``)."""

    arrest_share: Estimate


@dataclass(frozen=True)
class District(DistrictFigures):
    """A district: its own figures are the counterfactual view (every defendant sentenced in
    every district); ``as_arrested`` is what court statistics would observe."""

    code: str
    name: str
    as_arrested: ArrestedFigures


@dataclass(frozen=True)
class GapFigures:
    """Paired differences district_a − district_b (months) over the same defendants."""

    defendants: Estimate
    mean_difference_months: Estimate
    median_difference_months: Estimate
    share_differing_over_12_months: Estimate
    ratio_of_means: Estimate


@dataclass(frozen=True)
class Pair:
    """A district pair's paired gaps: ``all_defendants`` (a declined defendant counting 0
    months) and ``both_prosecuted`` (defendants both districts prosecute)."""

    district_a: str
    district_b: str
    all_defendants: GapFigures
    both_prosecuted: GapFigures


@dataclass(frozen=True)
class RangeFigures:
    """Per-defendant cross-district range max_d Y − min_d Y (months)."""

    defendants: Estimate
    mean_months: Estimate
    median_months: Estimate
    share_over_12_months: Estimate


@dataclass(frozen=True)
class CrossDistrictRange:
    """The range over every defendant (declined = 0) and over those prosecuted everywhere."""

    all_defendants: RangeFigures
    prosecuted_everywhere: RangeFigures


@dataclass(frozen=True)
class VarianceShares:
    """Shares of sentence variance (:func:`sim.analysis.metrics.variance_shares`): the Shapley
    shares (the first four sum to 1) and the two-way ANOVA parts (the last three sum to 1)."""

    district: Estimate
    criminal_history_category: Estimate
    section_2l1_2_enhancement: Estimate
    other_record: Estimate
    district_main_effect: Estimate
    record_main_effect: Estimate
    district_record_interaction: Estimate


@dataclass(frozen=True)
class SelectionSplit:
    """The as-arrested gap between two districts = treatment + composition
    (:func:`sim.analysis.metrics.selection_vs_policy`)."""

    district_a: str
    district_b: str
    observed_gap_months: Estimate
    treatment_months: Estimate
    composition_months: Estimate


@dataclass(frozen=True)
class UndefinedSelectionSplit(SelectionSplit):
    """A pair one of whose districts sentences a population of its own as arrested
    (``districts.X.population``): its arrested defendants are not the counterfactual
    population's, so the observed gap (from the as-arrested means) cannot be split into
    treatment and composition; both are None, and ``undefined_because`` says why."""

    undefined_because: str


def undefined_selection(split: SelectionSplit, tally: StudyTally, a: int, b: int, own: str):
    """``split`` of districts ``a`` and ``b`` made undefined because district ``own`` has a
    population of its own: the observed gap from the as-arrested histograms, no split."""
    means = histogram_mean(tally.as_arrested_histogram[:, [a, b]])  # (R, 2)
    none = Estimate(None, None, None)
    return UndefinedSelectionSplit(
        district_a=split.district_a,
        district_b=split.district_b,
        observed_gap_months=over_replications(means[:, 0] - means[:, 1]),
        treatment_months=none,
        composition_months=none,
        undefined_because=(
            f"{own} sentences its own population as arrested (districts.{own}.population): its "
            "arrested defendants are not the population every district sentences in the "
            "counterfactual view, so the gap cannot be split into treatment and composition"
        ),
    )


@dataclass(frozen=True)
class Distance:
    """Distances between two districts' balanced sentence distributions."""

    district_a: str
    district_b: str
    wasserstein_months: Estimate
    kolmogorov_smirnov: Estimate


@dataclass(frozen=True)
class Inequality:
    """Gini and Theil T (between and within districts) of the balanced design, and the pairwise
    distances."""

    gini: Estimate
    theil_total: Estimate
    theil_between: Estimate
    theil_within: Estimate
    distances: tuple[Distance, ...]


@dataclass(frozen=True)
class ProfileDistrict:
    """A named profile in one district: his no-deal ranges, prosecution, months and the deals
    taken (share of prosecuted draws per offer, and ``no_deal``)."""

    final_range_months: tuple[int, int]
    guideline_range_months: tuple[int, int]
    statutory_maximum_months: int
    prosecuted_share: Estimate
    mean_months: Estimate
    min_months: int | None
    max_months: int | None
    deal_shares: Mapping[str, float]


@dataclass(frozen=True)
class Profile:
    """A named profile in every district, and his paired gaps (the same man, draw by draw)."""

    name: str
    districts: Mapping[str, ProfileDistrict]
    pairwise: tuple[Pair, ...]


#: The headline gap's definition, one sentence (``{a}`` and ``{b}``: the two district codes).
HEADLINE_DEFINITION = (
    "The mean difference in months between the sentences the same defendant receives in {a} "
    "and in {b} ({a} minus {b}), among the defendants both districts prosecute; a defendant "
    "either district declines is not counted as 0 months but in that district's declined share."
)


@dataclass(frozen=True)
class Headline:
    """The headline gap (:data:`HEADLINE_DEFINITION`): district ``district_from`` minus
    ``district_to`` among defendants both prosecute, the share of defendants both prosecute,
    and each district's declined share (of every defendant, counterfactual view) beside it."""

    district_from: str
    district_to: str
    definition: str
    gap_months: Estimate
    both_prosecuted_share: Estimate
    declined_share: Mapping[str, Estimate]


@dataclass(frozen=True)
class EnhancementFigures:
    """Sentenced defendants at one § 2L1.2(b) level, as arrested, every district pooled: their
    share of all sentenced, mean months, and share sentenced within the guideline range."""

    share: Estimate
    mean_months: Estimate
    within_range_share: Estimate


@dataclass(frozen=True)
class OverallFigures:
    """The as-arrested, caseload-weighted aggregate over every district (what national
    sentencing statistics observe): months among sentenced defendants, each arrested in one
    district by the caseload mix. ``prosecuted_share`` is of every defendant;
    ``imprisonment_share`` counts sentences above 0 months; ``position_shares`` by USSC position
    category; ``by_enhancement`` by the § 2L1.2(b) levels applied (the cumulative total under
    the 2016 text), keyed by the levels as text, every level the Manual's § 2L1.2 can apply."""

    prosecuted_share: Estimate
    mean_months: Estimate
    median_months: Estimate
    imprisonment_share: Estimate
    share_at_most_120_months: Estimate
    position_shares: Mapping[str, Estimate]
    by_enhancement: Mapping[str, EnhancementFigures]


@dataclass(frozen=True, eq=False)
class Measures:
    """Every typed figure of one run (:class:`sim.analysis.results.Results` is built of these).

    ``study`` is the run they were computed from (its scenario and tallies).
    """

    study: StudyResult
    districts: Mapping[str, District]
    pairwise: tuple[Pair, ...]
    cross_district_range: CrossDistrictRange
    variance_shares: VarianceShares
    selection_vs_policy: tuple[SelectionSplit, ...]
    inequality: Inequality
    profiles: Mapping[str, Profile]
    headline: Headline | None
    overall: OverallFigures

    @property
    def headline_mcse(self) -> float:
        """The largest MCSE among the headline figures (months): the headline gap, each
        district's mean months and each pair's mean paired difference (all defendants);
        infinite while any is unknown."""
        errors = [] if self.headline is None else [self.headline.gap_months.mcse]
        errors += [district.mean_months.mcse for district in self.districts.values()]
        errors += [pair.all_defendants.mean_difference_months.mcse for pair in self.pairwise]
        known = [e for e in errors if e is not None]
        return max(known) if len(known) == len(errors) and known else float("inf")

    def __post_init__(self) -> None:
        # Selection vs policy needs each district's arrested defendants to be the common
        # population's; a district with a population of its own makes its pairs undefined.
        scenario = self.study.scenario
        own = scenario.own_populations
        if not own:
            return
        codes = scenario.district_codes
        splits = []
        for split in self.selection_vs_policy:
            a, b = codes.index(split.district_a), codes.index(split.district_b)
            if a in own or b in own:
                code = codes[a] if a in own else codes[b]
                split = undefined_selection(split, self.study.tally, a, b, code)
            splits.append(split)
        object.__setattr__(self, "selection_vs_policy", tuple(splits))


def estimates(record: Any) -> Iterator[tuple[str, Estimate]]:
    """A record's estimates in field order, as (name, Estimate).

    A mapping of estimates (e.g. ``position_shares``) gives ``"field:key"`` names; fields of
    other kinds (codes, names, nested records, whole months) are left out.

    Parameters
    ----------
    record : dataclass instance
        One of this module's records.

    Yields
    ------
    tuple of (str, Estimate)
    """
    for field in fields(record):
        value = getattr(record, field.name)
        if isinstance(value, Estimate):
            yield field.name, value
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, Estimate):
                    yield f"{field.name}:{key}", item


# --- assembly from tallies -----------------------------------------------------------------


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(numerator, dtype=float) / np.asarray(denominator, dtype=float)


def _view_figures(
    prosecuted: np.ndarray,
    defendants: np.ndarray,
    histogram: np.ndarray,
    positions: np.ndarray,
    percent: np.ndarray,
    percent_count: np.ndarray,
) -> dict[str, Any]:
    """The :class:`DistrictFigures` fields of one district in one view, each over replications
    (axis 0 of every tally)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = positions / positions.sum(axis=-1, keepdims=True)
    return {
        "prosecuted_share": over_replications(_ratio(prosecuted, defendants)),
        "imprisonment_share": over_replications(
            _ratio(histogram[..., 1:].sum(axis=-1), histogram.sum(axis=-1))
        ),
        "mean_months": over_replications(histogram_mean(histogram)),
        "median_months": over_replications(histogram_quantile(histogram, 0.5)),
        **{
            f"p{int(q * 100)}_months": over_replications(histogram_quantile(histogram, q))
            for q in (0.1, 0.25, 0.75, 0.9)
        },
        "mean_percent_from_guideline_minimum": over_replications(
            _ratio(percent, percent_count) / PERCENT_SCALE
        ),
        "position_shares": {
            category: over_replications(shares[:, k])
            for k, category in enumerate(POSITION_CATEGORIES)
        },
    }


def district_figures(study: StudyResult) -> dict[str, District]:
    """Every district's figures in both views, by district code.

    Parameters
    ----------
    study : sim.run.runner.StudyResult

    Returns
    -------
    dict of str to District
        In the scenario's district order.
    """
    t = study.tally
    districts = {}
    for d, code in enumerate(study.scenario.district_codes):
        counterfactual = _view_figures(
            t.counterfactual_prosecuted[:, d],
            t.defendants,
            t.counterfactual_histogram[:, d],
            t.counterfactual_positions[:, d],
            t.counterfactual_percent[:, d],
            t.counterfactual_percent_count[:, d],
        )
        as_arrested = _view_figures(
            t.as_arrested_prosecuted[:, d],
            t.as_arrested_defendants[:, d],
            t.as_arrested_histogram[:, d],
            t.as_arrested_positions[:, d],
            t.as_arrested_percent[:, d],
            t.as_arrested_percent_count[:, d],
        )
        arrest_share = over_replications(_ratio(t.as_arrested_defendants[:, d], t.defendants))
        districts[code] = District(
            **counterfactual,
            code=code,
            name=study.scenario.districts[code].name,
            as_arrested=ArrestedFigures(**as_arrested, arrest_share=arrest_share),
        )
    return districts


# --- declination outcomes (issue 12) ----------------------------------------------------------


@dataclass(frozen=True)
class DeclinedFigures:
    """What became of the defendants a district declined to prosecute under § 1326, in one view:
    ``share`` of all the view's defendants declined; among them the shares removed
    administratively, referred to the state and charged under § 1325
    (:data:`sim.model.policy.DECLINED_OUTCOMES`), and the mean months of the § 1325 sentences."""

    share: Estimate
    administrative_removal: Estimate
    state_referral: Estimate
    section_1325: Estimate
    section_1325_mean_months: Estimate


def _declined_view(
    counts: np.ndarray, months: np.ndarray, defendants: np.ndarray
) -> DeclinedFigures:
    """From a view's tallies: ``counts`` (R, 3) by outcome, ``months`` (R,) Σ § 1325 months and
    ``defendants`` (R,)."""
    declined = counts.sum(axis=-1)
    shares = [over_replications(_ratio(counts[:, k], declined)) for k in range(counts.shape[-1])]
    return DeclinedFigures(
        share=over_replications(_ratio(declined, defendants)),
        administrative_removal=shares[0],
        state_referral=shares[1],
        section_1325=shares[2],
        section_1325_mean_months=over_replications(_ratio(months, counts[:, 2])),
    )


def declined_figures(study: StudyResult) -> dict[str, tuple[DeclinedFigures, DeclinedFigures]]:
    """Every district's declination outcomes: (counterfactual, as-arrested), by district code."""
    t = study.tally
    return {
        code: (
            _declined_view(
                t.counterfactual_declined[:, d],
                t.counterfactual_declined_months[:, d],
                t.defendants,
            ),
            _declined_view(
                t.as_arrested_declined[:, d],
                t.as_arrested_declined_months[:, d],
                t.as_arrested_defendants[:, d],
            ),
        )
        for d, code in enumerate(study.scenario.district_codes)
    }


def _gap_figures(histogram: np.ndarray, sums: np.ndarray) -> GapFigures:
    """Figures of a paired-difference histogram (R, 2M+1), index m ↔ difference m − M, and of
    the two districts' month sums (R, 2)."""
    n = histogram.sum(axis=-1)
    differences = np.arange(histogram.shape[-1]) - MAX_MONTHS
    apart = histogram[:, np.abs(differences) > 12].sum(axis=-1)
    return GapFigures(
        defendants=over_replications(n),
        mean_difference_months=over_replications(_ratio((histogram * differences).sum(axis=-1), n)),
        median_difference_months=over_replications(histogram_quantile(histogram, 0.5) - MAX_MONTHS),
        share_differing_over_12_months=over_replications(_ratio(apart, n)),
        ratio_of_means=over_replications(_ratio(sums[:, 0], sums[:, 1])),
    )


def pair_figures(
    tally: StudyTally, codes: list[str], pairs: Sequence[tuple[int, int]] | None = None
) -> tuple[Pair, ...]:
    """Paired counterfactual gaps for every tallied district pair: the same defendants in both.

    Parameters
    ----------
    tally : sim.run.tally.StudyTally
        The population's tally, or a profile's (its draws play the defendants).
    codes : list of str
        District codes in tally order.
    pairs : sequence of (int, int), optional
        The tallied pairs, in tally order (the scenario's ``district_pairs``); every pair
        (:func:`sim.run.tally.district_pairs`) by default.

    Returns
    -------
    tuple of Pair
        In ``pairs`` order; differences are a − b in months.
    """
    balanced = balanced_histograms(tally)
    month_sums = (balanced * np.arange(balanced.shape[-1])).sum(axis=-1)  # (R, D)
    return tuple(
        Pair(
            district_a=codes[a],
            district_b=codes[b],
            all_defendants=_gap_figures(tally.pair_difference[:, p], month_sums[:, [a, b]]),
            both_prosecuted=_gap_figures(
                tally.pair_both_difference[:, p], tally.pair_both_sums[:, p]
            ),
        )
        for p, (a, b) in enumerate(_pairs(codes, pairs))
    )


def _pairs(codes: list[str], pairs: Sequence[tuple[int, int]] | None) -> Sequence[tuple[int, int]]:
    return district_pairs(len(codes)) if pairs is None else pairs


def range_figures(tally: StudyTally) -> CrossDistrictRange:
    """The per-defendant cross-district range, over every defendant and over those prosecuted
    everywhere."""

    def figures(histogram: np.ndarray) -> RangeFigures:
        n = histogram.sum(axis=-1)
        return RangeFigures(
            defendants=over_replications(n),
            mean_months=over_replications(histogram_mean(histogram)),
            median_months=over_replications(histogram_quantile(histogram, 0.5)),
            share_over_12_months=over_replications(_ratio(histogram[:, 13:].sum(axis=-1), n)),
        )

    return CrossDistrictRange(
        all_defendants=figures(tally.range_histogram),
        prosecuted_everywhere=figures(tally.range_both_histogram),
    )


def variance_figures(tally: StudyTally) -> VarianceShares:
    """:func:`sim.analysis.metrics.variance_shares` per replication, over replications."""
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
    return VarianceShares(
        **{
            field.name: over_replications(np.array([s[field.name] for s in per_replication]))
            for field in fields(VarianceShares)
        }
    )


def selection_figures(
    tally: StudyTally, codes: list[str], pairs: Sequence[tuple[int, int]] | None = None
) -> tuple[SelectionSplit, ...]:
    """:func:`sim.analysis.metrics.selection_vs_policy` for every reported district pair
    (``pairs``, every pair by default), over replications."""
    splits = []
    for a, b in _pairs(codes, pairs):
        per_replication = [
            selection_vs_policy(tally.as_arrested_prosecuted[r], tally.selected_sums[r], a, b)
            for r in range(tally.replications)
        ]
        splits.append(
            SelectionSplit(
                district_a=codes[a],
                district_b=codes[b],
                **{
                    key: over_replications(np.array([row[key] for row in per_replication]))
                    for key in per_replication[0]
                },
            )
        )
    return tuple(splits)


def inequality_figures(
    tally: StudyTally, codes: list[str], pairs: Sequence[tuple[int, int]] | None = None
) -> Inequality:
    """Gini, Theil T (between/within districts) and W1 / KS distances for every reported pair
    (``pairs``, every pair by default).

    All on the balanced counterfactual design: Y = months, 0 for a declined defendant, every
    defendant in every district (so the districts' populations are identical and the between-
    district Theil part measures policy alone). Zero-month outcomes enter the Gini as zeros and
    the Theil index with 0 ln 0 = 0.
    """
    balanced = balanced_histograms(tally)
    replications = range(tally.replications)
    theil = [theil_decomposition(balanced[r]) for r in replications]
    distances = []
    for a, b in _pairs(codes, pairs):
        histograms = [(balanced[r, a], balanced[r, b]) for r in replications]
        distances.append(
            Distance(
                district_a=codes[a],
                district_b=codes[b],
                wasserstein_months=over_replications(
                    np.array([wasserstein_from_histograms(*pair) for pair in histograms])
                ),
                kolmogorov_smirnov=over_replications(
                    np.array([ks_from_histograms(*pair) for pair in histograms])
                ),
            )
        )
    return Inequality(
        gini=over_replications(
            np.array([gini_from_histogram(balanced[r].sum(axis=0)) for r in replications])
        ),
        theil_total=over_replications(np.array([t["total"] for t in theil])),
        theil_between=over_replications(np.array([t["between"] for t in theil])),
        theil_within=over_replications(np.array([t["within"] for t in theil])),
        distances=tuple(distances),
    )


def _profile_district(study: StudyResult, profile: ProfileTally, d: int) -> ProfileDistrict:
    """One profile in district ``d``."""
    tally = profile.tally
    code = study.scenario.district_codes[d]
    histogram = tally.counterfactual_histogram[:, d]
    sentenced = np.flatnonzero(histogram.sum(axis=0))
    taken = profile.offers[:, d].sum(axis=0)
    prosecuted_total = max(int(tally.counterfactual_prosecuted[:, d].sum()), 1)
    deal_shares = {
        offer.name: float(taken[k]) / prosecuted_total
        for k, offer in enumerate(study.scenario.districts[code].offers)
    }
    deal_shares["no_deal"] = float(taken[-1]) / prosecuted_total
    low, high = (int(v) for v in profile.no_deal_final_range[d])
    guideline_low, guideline_high = (int(v) for v in profile.no_deal_guideline_range[d])
    return ProfileDistrict(
        final_range_months=(low, high),
        guideline_range_months=(guideline_low, guideline_high),
        statutory_maximum_months=int(profile.statutory_maximum_months[d]),
        prosecuted_share=over_replications(
            _ratio(tally.counterfactual_prosecuted[:, d], tally.defendants)
        ),
        mean_months=over_replications(histogram_mean(histogram)),
        min_months=int(sentenced[0]) if len(sentenced) else None,
        max_months=int(sentenced[-1]) if len(sentenced) else None,
        deal_shares=deal_shares,
    )


def profile_figures(study: StudyResult) -> dict[str, Profile]:
    """Every named profile: per district his no-deal range, prosecution, months and deals
    taken; and his paired gaps between districts (the same man, draw by draw).

    Parameters
    ----------
    study : sim.run.runner.StudyResult

    Returns
    -------
    dict of str to Profile
        In the scenario's profile order.
    """
    codes = study.scenario.district_codes
    return {
        name: Profile(
            name=name,
            districts={code: _profile_district(study, profile, d) for d, code in enumerate(codes)},
            pairwise=pair_figures(profile.tally, codes, study.scenario.district_pairs),
        )
        for name, profile in study.profiles.items()
    }


def headline_figures(study: StudyResult) -> Headline | None:
    """The headline gap of the scenario's headline pair (``headline``, default the first two
    listed districts), per replication and over replications; None with a single district.

    Parameters
    ----------
    study : sim.run.runner.StudyResult

    Returns
    -------
    Headline or None
        The gap from − to among defendants both prosecute (from the tallied pair, its sign
        turned when the pair is tallied the other way round), the share of defendants both
        prosecute, and each district's declined share (1 − its counterfactual prosecuted
        share).
    """
    scenario, t = study.scenario, study.tally
    chosen = scenario.headline_pair
    if chosen is None:
        return None
    a, b = chosen
    pairs = list(scenario.district_pairs)
    sign = 1 if chosen in pairs else -1
    p = pairs.index(chosen if sign == 1 else (b, a))
    histogram = t.pair_both_difference[:, p]
    both = histogram.sum(axis=-1)
    differences = np.arange(histogram.shape[-1]) - MAX_MONTHS
    gaps = sign * _ratio((histogram * differences).sum(axis=-1), both)
    codes = scenario.district_codes
    return Headline(
        district_from=codes[a],
        district_to=codes[b],
        definition=HEADLINE_DEFINITION.format(a=codes[a], b=codes[b]),
        gap_months=over_replications(gaps),
        both_prosecuted_share=over_replications(_ratio(both, t.defendants)),
        declined_share={
            codes[d]: over_replications(
                1.0 - _ratio(t.counterfactual_prosecuted[:, d], t.defendants)
            )
            for d in (a, b)
        },
    )


def enhancement_levels(manual: int) -> list[int]:
    """Every total of § 2L1.2(b) levels the Manual's text can apply, ascending.

    Each specific offense characteristic applies the greatest of its rules or none; the total
    is the sum over characteristics (one characteristic before the 2016 text, three after).

    >>> enhancement_levels(1995)
    [0, 4, 16]
    >>> enhancement_levels(2002)
    [0, 4, 8, 12, 16]
    """
    totals = {0}
    for characteristic in edition(manual).reentry.characteristics:
        levels = {0} | {
            level for rule in characteristic.rules for level in (rule.levels, rule.without_points)
        }
        totals = {total + level for total in totals for level in levels}
    return sorted(totals)


def overall_figures(study: StudyResult) -> OverallFigures:
    """The as-arrested aggregate over every district (:class:`OverallFigures`), each figure per
    replication and then over replications.

    The as-arrested view assigns each defendant one district with probability proportional to
    its caseload weight (:mod:`sim.model.arrest`), so pooling the districts' as-arrested
    sentences is the caseload-weighted aggregate.
    """
    t = study.tally
    histogram = t.as_arrested_histogram.sum(axis=1)  # (R, M+1)
    sentenced = histogram.sum(axis=-1)
    positions = t.as_arrested_positions.sum(axis=1)
    counts = t.as_arrested_enhancement_counts
    levels = sorted(
        set(enhancement_levels(study.scenario.manual))
        | {int(k) for k in np.flatnonzero(counts.sum(axis=0))}
    )
    return OverallFigures(
        prosecuted_share=over_replications(
            _ratio(t.as_arrested_prosecuted.sum(axis=1), t.defendants)
        ),
        mean_months=over_replications(histogram_mean(histogram)),
        median_months=over_replications(histogram_quantile(histogram, 0.5)),
        imprisonment_share=over_replications(_ratio(histogram[:, 1:].sum(axis=-1), sentenced)),
        share_at_most_120_months=over_replications(
            _ratio(histogram[:, : 120 + 1].sum(axis=-1), sentenced)
        ),
        position_shares={
            category: over_replications(_ratio(positions[:, k], positions.sum(axis=-1)))
            for k, category in enumerate(POSITION_CATEGORIES)
        },
        by_enhancement={
            str(level): EnhancementFigures(
                share=over_replications(_ratio(counts[:, level], counts.sum(axis=-1))),
                mean_months=over_replications(
                    _ratio(t.as_arrested_enhancement_months[:, level], counts[:, level])
                ),
                within_range_share=over_replications(
                    _ratio(t.as_arrested_enhancement_within[:, level], counts[:, level])
                ),
            )
            for level in levels
        },
    )

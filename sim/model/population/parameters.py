"""The population model's numbers: every parameter with its unit and source, the sentence
classes, and the internal rates solved from the published targets (see :mod:`sim.model.population`
for the construction)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import model_validator

from sim.guidelines.records import kind_code
from sim.model.parameters import (
    Count,
    Dispersion,
    Months,
    Parameter,
    Probability,
    StrictModel,
    Years,
)

__all__ = [
    "CALIBRATION_TARGETS",
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "DEFAULT_POPULATION_CONFIG",
    "SENTENCE_CLASSES",
    "DerivedRates",
    "PopulationParameters",
    "SentenceClass",
    "calibration_targets",
    "derive_rates",
    "load_population_parameters",
]

#: Bounds of the standard deviation of log months a class may have (the truncated quantiles stay
#: well inside (0, 1)).
SIGMA_RANGE = (0.05, 5.0)

DEFAULT_POPULATION_CONFIG = (
    Path(__file__).resolve().parents[3] / "configs" / "population-fy2013.yaml"
)

#: The published marginals the model reproduces (calibration.md §1), by parameter name.
CALIBRATION_TARGETS = (
    "prior_aggravated_felony_share",
    "mean_prior_removals",
    "reentry_conviction_share",
    "post_reentry_conviction_share",
    "clean_record_share",
)

#: Days per year and per month, the engine's convention (sim.guidelines.durations).
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


@dataclass(frozen=True)
class SentenceClass:
    """A (kind, aggravated) class of prior convictions with its own sentence distribution.

    ``low``/``high`` are the legal bounds of the imposed months when imprisoned (not parameters);
    ``no_imprisonment`` names the parameter giving the probability of no imprisonment (``None``:
    always imprisoned, the class needs a term of at least one year).
    """

    name: str
    kind: str
    felony: bool
    aggravated: bool
    low: float
    high: float
    no_imprisonment: str | None


_AGG = "aggravated_no_imprisonment_share"
_FEL = "nonaggravated_felony_no_imprisonment_share"
_MIS = "misdemeanor_no_imprisonment_share"
_REE = "illegal_reentry_no_imprisonment_share"
_ENT = "illegal_entry_no_imprisonment_share"
_INF = math.inf
_C = SentenceClass

#: Every class, aggravated ones first, then the other convictions, then the two entry offenses.
#: Bounds: a misdemeanor is punishable by at most one year (felony: "more than one year"); a
#: first § 1325(a) offense by 6 months; § 1326(b)(2) by 240; a crime of violence or a theft or
#: burglary is an aggravated felony with a term of at least one year (8 U.S.C. § 1101(a)(43)(F),
#: (G)), so the aggravated ones have at least 12 months and the non-aggravated crime of violence
#: less than 12 (the suspended part of a term is not modelled).
SENTENCE_CLASSES = (
    _C("aggravated_drug_trafficking", "drug_trafficking", True, True, 0, _INF, _AGG),
    _C("aggravated_crime_of_violence", "crime_of_violence", True, True, 12, _INF, None),
    _C("aggravated_firearms", "firearms", True, True, 0, _INF, _AGG),
    _C("aggravated_child_pornography", "child_pornography", True, True, 0, _INF, _AGG),
    _C("aggravated_national_security", "national_security", True, True, 0, _INF, _AGG),
    _C("aggravated_human_trafficking", "human_trafficking", True, True, 0, _INF, _AGG),
    _C("aggravated_alien_smuggling", "alien_smuggling", True, True, 0, _INF, _AGG),
    _C("aggravated_theft_or_burglary", "theft_or_burglary", True, True, 12, _INF, None),
    _C("nonaggravated_crime_of_violence", "crime_of_violence", True, False, 0, 12, _FEL),
    _C("nonaggravated_other_felony", "other_felony", True, False, 0, _INF, _FEL),
    _C("misdemeanor_violent", "misdemeanor_violent", False, False, 0, 12, _MIS),
    _C("misdemeanor_drug", "misdemeanor_drug", False, False, 0, 12, _MIS),
    _C("misdemeanor", "misdemeanor", False, False, 0, 12, _MIS),
    _C("illegal_reentry", "illegal_reentry", True, False, 0, 240, _REE),
    _C("illegal_entry", "illegal_entry", False, False, 0, 6, _ENT),
)  # fmt: skip

N_AGGRAVATED = 8  # classes 0-7 draw from the aggravated-felony mix
N_OTHER = 5  # classes 8-12 from the other-conviction mix
REENTRY_CLASS, ENTRY_CLASS = 13, 14
AGGRAVATED_CLASSES = SENTENCE_CLASSES[:N_AGGRAVATED]
OTHER_CLASSES = SENTENCE_CLASSES[N_AGGRAVATED : N_AGGRAVATED + N_OTHER]

# Segments of a defendant's chronological priors (module docstring, step 4).
PRE_OTHER, PRE_AGGRAVATED, EARLIER_ENTRY, POST_OTHER, POST_AGGRAVATED, ENTRY, LAST = range(7)
N_SEGMENTS = 7
#: Phase of each segment: priors may form one sentence only within a phase (between the same
#: removals; entry convictions are excluded by class).
SEGMENT_PHASE = np.array([0, 0, 1, 1, 1, 1, 2], dtype=np.int8)

_ENTRY_KINDS = np.array([kind_code("illegal_reentry"), kind_code("illegal_entry")], dtype=np.int8)


class PopulationParameters(StrictModel):
    """Every number of the population model, with unit and source (``assumption`` where none).

    Calibration targets (USSC, *Illegal Reentry Offenses*, 2015, FY2013; calibration.md §1) are
    the first five fields; the rest are assumptions documented in
    ``configs/population-fy2013.yaml``. ``*_mix`` fields are shares of a kind within aggravated
    felonies or within other convictions; ``*_median_months``/``*_sigma`` describe the
    log-logistic imposed term of a class when imprisoned (median, and standard deviation of log
    months; :data:`SENTENCE_CLASSES`).
    """

    # Calibration targets (sourced).
    prior_aggravated_felony_share: Probability
    mean_prior_removals: Count
    reentry_conviction_share: Probability
    post_reentry_conviction_share: Probability
    clean_record_share: Probability
    # Structure of a history (assumptions).
    aggravated_felony_after_reentry_share: Probability
    illegal_reentry_felony_share: Probability
    earlier_illegal_entry_share: Probability
    pre_removal_extra_convictions_mean: Count
    post_reentry_extra_convictions_mean: Count
    conviction_dispersion: Dispersion
    persistent_share: Probability
    found_after_conviction_share: Probability
    removal_dispersion: Dispersion
    # Kind mix of aggravated felonies.
    aggravated_drug_trafficking_mix: Probability
    aggravated_crime_of_violence_mix: Probability
    aggravated_firearms_mix: Probability
    aggravated_child_pornography_mix: Probability
    aggravated_national_security_mix: Probability
    aggravated_human_trafficking_mix: Probability
    aggravated_alien_smuggling_mix: Probability
    aggravated_theft_or_burglary_mix: Probability
    # Kind mix of other (non-aggravated, non-entry) convictions.
    nonaggravated_crime_of_violence_mix: Probability
    nonaggravated_other_felony_mix: Probability
    misdemeanor_violent_mix: Probability
    misdemeanor_drug_mix: Probability
    misdemeanor_mix: Probability
    # Sentence lengths when imprisoned: log-logistic median (months) and sd of log months.
    aggravated_drug_trafficking_median_months: Months
    aggravated_drug_trafficking_sigma: Parameter
    aggravated_crime_of_violence_median_months: Months
    aggravated_crime_of_violence_sigma: Parameter
    aggravated_firearms_median_months: Months
    aggravated_firearms_sigma: Parameter
    aggravated_child_pornography_median_months: Months
    aggravated_child_pornography_sigma: Parameter
    aggravated_national_security_median_months: Months
    aggravated_national_security_sigma: Parameter
    aggravated_human_trafficking_median_months: Months
    aggravated_human_trafficking_sigma: Parameter
    aggravated_alien_smuggling_median_months: Months
    aggravated_alien_smuggling_sigma: Parameter
    aggravated_theft_or_burglary_median_months: Months
    aggravated_theft_or_burglary_sigma: Parameter
    nonaggravated_crime_of_violence_median_months: Months
    nonaggravated_crime_of_violence_sigma: Parameter
    nonaggravated_other_felony_median_months: Months
    nonaggravated_other_felony_sigma: Parameter
    misdemeanor_violent_median_months: Months
    misdemeanor_violent_sigma: Parameter
    misdemeanor_drug_median_months: Months
    misdemeanor_drug_sigma: Parameter
    misdemeanor_median_months: Months
    misdemeanor_sigma: Parameter
    illegal_reentry_median_months: Months
    illegal_reentry_sigma: Parameter
    illegal_entry_median_months: Months
    illegal_entry_sigma: Parameter
    max_sentence_months: Months
    # No imprisonment (probation, fine, fully suspended term).
    aggravated_no_imprisonment_share: Probability
    nonaggravated_felony_no_imprisonment_share: Probability
    misdemeanor_no_imprisonment_share: Probability
    illegal_reentry_no_imprisonment_share: Probability
    illegal_entry_no_imprisonment_share: Probability
    # Time.
    served_fraction: Probability
    liberty_years_mean: Years
    instant_liberty_years_mean: Years
    # Single sentences, foreign sentences, status.
    single_sentence_share: Probability
    consecutive_share: Probability
    foreign_share: Probability
    status_window_years: Years
    under_sentence_share: Probability

    @model_validator(mode="after")
    def _consistent(self) -> PopulationParameters:
        problems = []
        for group, classes in (("aggravated", AGGRAVATED_CLASSES), ("other", OTHER_CLASSES)):
            total = sum(getattr(self, f"{c.name}_mix").value for c in classes)
            if abs(total - 1.0) > 1e-6:
                names = ", ".join(f"{c.name}_mix" for c in classes)
                problems.append(f"the {group} kind mix ({names}) sums to {total:g}; allowed: 1")
        low, high = SIGMA_RANGE
        for c in SENTENCE_CLASSES:
            median = getattr(self, f"{c.name}_median_months").value
            if not 0 < median <= 1200:
                problems.append(f"{c.name}_median_months is {median:g}; allowed: > 0, <= 1200")
            sigma = getattr(self, f"{c.name}_sigma").value
            if not low <= sigma <= high:
                problems.append(f"{c.name}_sigma is {sigma:g}; allowed: {low:g}-{high:g}")
        for name in (
            "pre_removal_extra_convictions_mean",
            "post_reentry_extra_convictions_mean",
            "liberty_years_mean",
            "instant_liberty_years_mean",
            "status_window_years",
        ):
            value = getattr(self, name).value
            if not value >= 0:
                problems.append(f"{name} is {value:g}; allowed: >= 0")
        for name in ("removal_dispersion", "conviction_dispersion"):
            value = getattr(self, name).value
            if not value > 0:
                problems.append(f"{name} is {value:g}; allowed: > 0")
        if not self.max_sentence_months.value >= 13:
            problems.append(
                f"max_sentence_months is {self.max_sentence_months.value:g}; allowed: >= 13 "
                "(aggravated crimes of violence need a term of at least a year)"
            )
        if not problems:
            problems = _infeasible(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True)
class DerivedRates:
    """Internal rates solved from the calibration targets (module docstring, steps 1-3).

    Rates are per non-clean defendant: ``aggravated`` (``a``), ``entry`` (``e``),
    ``post_other`` (``q_o``), ``free_removals_mean`` (``lambda``).
    """

    non_clean: float
    aggravated: float
    entry: float
    post_other: float
    free_removals_mean: float


def derive_rates(parameters: PopulationParameters) -> DerivedRates:
    """Solve the internal rates from the targets; see the module docstring for the formulas."""
    p = parameters
    non_clean = 1.0 - p.clean_record_share.value
    if non_clean <= 0:
        return DerivedRates(0.0, 0.0, 0.0, 0.0, 0.0)
    aggravated = p.prior_aggravated_felony_share.value / non_clean
    entry = p.reentry_conviction_share.value / non_clean
    post = p.post_reentry_conviction_share.value / non_clean
    after = aggravated * p.aggravated_felony_after_reentry_share.value
    post_other = (post - after) / (1.0 - after) if after < 1.0 else 0.0
    free = (
        p.mean_prior_removals.value
        - 1.0
        - p.reentry_conviction_share.value * (1.0 + p.earlier_illegal_entry_share.value)
        - p.prior_aggravated_felony_share.value * p.aggravated_felony_after_reentry_share.value
    ) / non_clean
    return DerivedRates(non_clean, aggravated, entry, post_other, free)


def _infeasible(parameters: PopulationParameters) -> list[str]:
    """Why the targets cannot all hold under the model's assumptions (empty when they can)."""
    p = parameters
    rates = derive_rates(p)
    problems = []
    if rates.non_clean <= 0:
        return ["clean_record_share is 1; allowed: < 1 (someone must have a record)"]
    for name, rate in (
        ("prior_aggravated_felony_share", rates.aggravated),
        ("reentry_conviction_share", rates.entry),
        ("post_reentry_conviction_share", p.post_reentry_conviction_share.value / rates.non_clean),
    ):
        if rate > 1.0 + 1e-12:
            problems.append(
                f"{name} {getattr(p, name).value:g} exceeds the share without a clean record "
                f"(1 - clean_record_share = {rates.non_clean:g}); allowed: at most that"
            )
    if rates.post_other < -1e-12:
        problems.append(
            "post_reentry_conviction_share is below the share with an aggravated felony after "
            "reentry (prior_aggravated_felony_share * aggravated_felony_after_reentry_share); "
            "allowed: at least that"
        )
    if rates.free_removals_mean < -1e-12:
        floor = (
            1.0
            + p.reentry_conviction_share.value * (1.0 + p.earlier_illegal_entry_share.value)
            + p.prior_aggravated_felony_share.value * p.aggravated_felony_after_reentry_share.value
        )
        problems.append(
            f"mean_prior_removals {p.mean_prior_removals.value:g} is below the removals the "
            f"histories already imply ({floor:g}: the first, one after each entry conviction and "
            f"after a post-reentry aggravated felony); allowed: at least {floor:g}"
        )
    return problems


def load_population_parameters(
    path: str | Path = DEFAULT_POPULATION_CONFIG,
) -> PopulationParameters:
    """Validate the ``population:`` mapping of a YAML file (default: the FY2013 base)."""
    with open(path, encoding="utf-8") as handle:
        return PopulationParameters.model_validate(yaml.safe_load(handle)["population"])


def calibration_targets(parameters: PopulationParameters) -> dict[str, float]:
    """The five published targets, keyed as :func:`calibration_marginals`."""
    return {name: getattr(parameters, name).value for name in CALIBRATION_TARGETS}

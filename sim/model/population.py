"""Synthetic population of 8 U.S.C. § 1326 defendants: prior convictions and prior removals.

Every defendant of a random block is drawn from the keyed streams of :mod:`sim.run.streams`
(decisions ``population.*``), whole arrays at a time. The model is built so that the five
published FY2013 marginals of the U.S. Sentencing Commission's *Illegal Reentry Offenses* (April
2015; ``../shared/domain/calibration.md`` §1) hold **by construction** in expectation; every other
number is a labelled assumption (``configs/population-fy2013.yaml``).

Targets (shares of all defendants): ``A`` with an aggravated felony after which they were removed
(§ 1326(b)(2)); ``R`` mean prior removals; ``E`` removed after an illegal entry/reentry
conviction; ``P`` convicted of at least one other offense after reentering (``before_first_removal``
false); ``C`` no prior convictions and at most one removal.

Construction
------------
A § 1326 defendant has at least one prior removal by definition.

1. **Clean** with probability ``C``: no convictions and exactly one removal. Every other
   defendant receives at least one conviction (step 5), so the share with no convictions and at
   most one removal is exactly ``C``.
2. Among the ``1 - C`` others, independent indicators with the derived rates

   - aggravated felony: ``a = A / (1 - C)``; it is committed after the first removal (and followed
     by a removal of its own) with probability ``s``, else it is the last conviction before the
     first removal. Either way a removal follows it, so the share is ``(1 - C) a = A``.
   - entry/reentry conviction (after the first removal, followed by a removal of its own):
     ``e = E / (1 - C)``; a felony ``illegal_reentry`` with probability ``f``, else a misdemeanor
     ``illegal_entry``. With probability ``x`` an earlier misdemeanor ``illegal_entry``, also
     followed by a removal, precedes it. Share ``(1 - C) e = E``.
   - other conviction after the first removal: ``q_o = (q - a s) / (1 - a s)`` with
     ``q = P / (1 - C)``, so that ``P(aggravated felony after reentry or other post-removal
     conviction) = a s + (1 - a s) q_o = q`` and the share is ``(1 - C) q = P``. Their number is
     ``1 + NB(nu)`` (negative binomial with mean ``nu`` and shape ``conviction_dispersion``).

   The sub-choices (after reentry, earlier entry) use the same uniform as their parent with a
   lower threshold (``u < a s`` inside ``u < a``), which gives the stated conditional rates.
3. **Removals** ``= 1 + e + e x + g + N`` (first removal, one after each entry conviction, one
   after a post-reentry aggravated felony ``g``, and ``N`` removals that follow no conviction:
   reinstatements, returns at the border). ``N`` is negative binomial with shape ``k`` and mean
   ``lambda = (R - 1 - E (1 + x) - A s) / (1 - C)``, so that
   ``E[removals] = C + (1 - C)(1 + e (1 + x) + a s + lambda) = R``. For a share
   ``persistent_share`` of defendants the three counts (convictions before and after the first
   removal, ``N``) are read from one common uniform (comonotone: a persistent offender is high on
   all three), for the others from independent ones; every marginal, and so every mean, is
   unchanged.
4. **Order and flags.** Each defendant's priors are chronological, in seven segments: other
   convictions before the first removal, the pre-removal aggravated felony | the earlier
   ``illegal_entry``, other post-removal convictions, the post-reentry aggravated felony, the
   entry/reentry conviction | a last other conviction after the last removal (the arrest that led
   to the instant "found in" case, probability ``tau``; every post-removal conviction when the
   defendant was removed only once). ``before_first_removal`` holds for the first two segments,
   ``removed_after_conviction`` for all but the last.
5. **At least one conviction.** Other convictions before the first removal number
   ``NB(kappa)`` plus one forced conviction for a non-clean defendant who has no aggravated
   felony, entry conviction or post-removal conviction. They do not enter any target.
6. **Kinds and sentences.** Aggravated felonies and other convictions draw a kind from their mix
   (other convictions before the first removal are foreign with probability ``foreign_share``).
   Each (kind, aggravated) class of :data:`SENTENCE_CLASSES` has a log-logistic term when
   imprisoned: ``log(months)`` is logistic with median ``log(median_months)`` and standard
   deviation ``sigma`` (the logistic, not the normal, because its quantile function is closed
   form and cheap; its tails are a little heavier). The term is truncated to what the law allows
   (a misdemeanor at most 12 months, a first § 1325(a) at most 6, § 1326 at most 240, a
   non-aggravated felony crime of violence below 12 months and an aggravated crime of violence or
   theft/burglary at least 12, 8 U.S.C. § 1101(a)(43)(F)-(G)) and to ``max_sentence_months``, and
   is whole days. It is 0 (no imprisonment) with a class probability. The classes marked
   aggravated are aggravated felonies under today's 8 U.S.C. § 1101(a)(43) (after IIRIRA, Sept 30,
   1996), which is what the FY2013 marginal counts; whether a prior *is* an aggravated felony in a
   scenario is decided afterwards by the law in force on the scenario's offense date
   (:mod:`sim.guidelines.aggravated_felony`), which also makes a later entry/reentry conviction one
   under subparagraph (O) where that exists.
7. **Single sentences.** A prior joins the one before it into one sentence with probability
   ``single_sentence_share`` when both lie between the same removals and neither is an entry
   conviction or foreign; a joined term runs consecutively with probability
   ``consecutive_share``. The group id is the position of the sentence's first prior within the
   defendant's priors.
8. **Time**, in whole days. Going back from the instant offense, each sentence is imposed ``time
   served + Exponential(liberty)`` before the next (the most recent: before the instant offense),
   time served ``= floor(term days * served_fraction)``, the time at liberty rounded down to whole
   days. The time since release is the time since imposition less the time served (never
   released without imprisonment), so it never exceeds it and is never negative; members of one
   sentence share its dates. Times are exact integer ticks (:mod:`sim.guidelines.durations`).
9. **Status.** Under a criminal justice sentence with probability ``under_sentence_share`` when
   the most recent prior was imposed within ``status_window_years``.

The calibration indicators do not depend on steps 6-9, and A, E and P do not depend on
``N``: the expected marginals equal the targets exactly under the law the targets were measured
under (an offense date after Sept 30, 1996). Under an earlier law fewer priors are aggravated
felonies: that is the law, not a miscalibration.

Random streams: one uniform array per decision (``random((n, k))`` per defendant or
``random(p)`` per prior), turned into counts, kinds and terms by inverse distribution functions
(exact table look-up), so the first ``n`` defendants of a random block are the same whatever
``n`` is: ``population.record`` (clean, aggravated, entry, post-removal, found), ``prior_count``
(the two conviction counts, the common uniform, persistence), ``removals``, ``prior_kind``,
``prior_sentence``, ``prior_flags`` (single sentence, consecutive), ``prior_timing`` (time at
liberty) and ``status``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml
from numba import njit
from pydantic import model_validator
from scipy.special import expit

from sim.guidelines.aggravated_felony import AggravatedFelonyLaw, classify_priors
from sim.guidelines.durations import DAY, NEVER
from sim.guidelines.records import NO_GROUP, NO_OVERRIDE, Priors, Records, kind_code
from sim.model.parameters import Parameter, Probability, StrictModel
from sim.run.streams import RANDOM_BLOCK_DEFENDANTS, RandomBlock

__all__ = [
    "CALIBRATION_TARGETS",
    "DEFAULT_POPULATION_CONFIG",
    "SENTENCE_CLASSES",
    "DerivedRates",
    "Population",
    "PopulationParameters",
    "SentenceClass",
    "calibration_marginals",
    "calibration_targets",
    "derive_rates",
    "generate_population",
    "load_population_parameters",
]

#: The FY2013 base population (scenarios ``extends:`` it).
DEFAULT_POPULATION_CONFIG = (
    Path(__file__).resolve().parents[2] / "configs" / "population-fy2013.yaml"
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

_N_AGGRAVATED = 8  # classes 0-7 draw from the aggravated-felony mix
_N_OTHER = 5  # classes 8-12 from the other-conviction mix
_REENTRY_CLASS, _ENTRY_CLASS = 13, 14
_AGGRAVATED_CLASSES = SENTENCE_CLASSES[:_N_AGGRAVATED]
_OTHER_CLASSES = SENTENCE_CLASSES[_N_AGGRAVATED : _N_AGGRAVATED + _N_OTHER]

# Segments of a defendant's chronological priors (module docstring, step 4).
_PRE_OTHER, _PRE_AGGRAVATED, _EARLIER_ENTRY, _POST_OTHER, _POST_AGGRAVATED, _ENTRY, _LAST = range(7)
_N_SEGMENTS = 7
#: Phase of each segment: priors may form one sentence only within a phase (between the same
#: removals; entry convictions are excluded by class).
_SEGMENT_PHASE = np.array([0, 0, 1, 1, 1, 1, 2], dtype=np.int8)

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
    mean_prior_removals: Parameter
    reentry_conviction_share: Probability
    post_reentry_conviction_share: Probability
    clean_record_share: Probability
    # Structure of a history (assumptions).
    aggravated_felony_after_reentry_share: Probability
    illegal_reentry_felony_share: Probability
    earlier_illegal_entry_share: Probability
    pre_removal_extra_convictions_mean: Parameter
    post_reentry_extra_convictions_mean: Parameter
    conviction_dispersion: Parameter
    persistent_share: Probability
    found_after_conviction_share: Probability
    removal_dispersion: Parameter
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
    aggravated_drug_trafficking_median_months: Parameter
    aggravated_drug_trafficking_sigma: Parameter
    aggravated_crime_of_violence_median_months: Parameter
    aggravated_crime_of_violence_sigma: Parameter
    aggravated_firearms_median_months: Parameter
    aggravated_firearms_sigma: Parameter
    aggravated_child_pornography_median_months: Parameter
    aggravated_child_pornography_sigma: Parameter
    aggravated_national_security_median_months: Parameter
    aggravated_national_security_sigma: Parameter
    aggravated_human_trafficking_median_months: Parameter
    aggravated_human_trafficking_sigma: Parameter
    aggravated_alien_smuggling_median_months: Parameter
    aggravated_alien_smuggling_sigma: Parameter
    aggravated_theft_or_burglary_median_months: Parameter
    aggravated_theft_or_burglary_sigma: Parameter
    nonaggravated_crime_of_violence_median_months: Parameter
    nonaggravated_crime_of_violence_sigma: Parameter
    nonaggravated_other_felony_median_months: Parameter
    nonaggravated_other_felony_sigma: Parameter
    misdemeanor_violent_median_months: Parameter
    misdemeanor_violent_sigma: Parameter
    misdemeanor_drug_median_months: Parameter
    misdemeanor_drug_sigma: Parameter
    misdemeanor_median_months: Parameter
    misdemeanor_sigma: Parameter
    illegal_reentry_median_months: Parameter
    illegal_reentry_sigma: Parameter
    illegal_entry_median_months: Parameter
    illegal_entry_sigma: Parameter
    max_sentence_months: Parameter
    # No imprisonment (probation, fine, fully suspended term).
    aggravated_no_imprisonment_share: Probability
    nonaggravated_felony_no_imprisonment_share: Probability
    misdemeanor_no_imprisonment_share: Probability
    illegal_reentry_no_imprisonment_share: Probability
    illegal_entry_no_imprisonment_share: Probability
    # Time.
    served_fraction: Probability
    liberty_years_mean: Parameter
    instant_liberty_years_mean: Parameter
    # Single sentences, foreign sentences, status.
    single_sentence_share: Probability
    consecutive_share: Probability
    foreign_share: Probability
    status_window_years: Parameter
    under_sentence_share: Probability

    @model_validator(mode="after")
    def _consistent(self) -> PopulationParameters:
        problems = []
        for group, classes in (("aggravated", _AGGRAVATED_CLASSES), ("other", _OTHER_CLASSES)):
            total = sum(getattr(self, f"{c.name}_mix").value for c in classes)
            if abs(total - 1.0) > 1e-6:
                names = ", ".join(f"{c.name}_mix" for c in classes)
                problems.append(f"the {group} kind mix ({names}) sums to {total:g}; allowed: 1")
        low, high = _SIGMA_RANGE
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


@dataclass(frozen=True)
class Population:
    """The generated defendants of one random block.

    Attributes
    ----------
    records : Records
        ``n`` records, their priors classified under the law in force on the offense date;
        ``zero_point_criteria_met`` true and no overrides.
    prior_removals : ndarray of int16, shape (n,)
        Removals (deportations) before the instant offense, >= 1.
    """

    records: Records
    prior_removals: np.ndarray

    def __len__(self) -> int:
        return len(self.prior_removals)


# --------------------------------------------------------------------------------------------
# Inverse distribution functions: uniforms -> draws, one array draw per decision.

_LUT_BITS = 11
_BINS = 1 << _LUT_BITS  # equal bins of [0, 1) per table: exact look-up, searched only at jumps


class _InverseCdf(NamedTuple):
    """Exact inverse of one or a few discrete CDFs: ``codes[t][#{k : cdf[t][k] <= u}]``.

    A table of ``_BINS`` equal bins per CDF gives the answer wherever the CDF has no jump inside
    the bin; the few uniforms in bins with a jump are resolved by binary search
    (:func:`_inverse_cdf_search`). The CDFs and their codes are concatenated: table ``t`` is
    ``cdf[bounds[t]:bounds[t + 1]]``.
    """

    start: np.ndarray  # (tables * _BINS,) code at each bin's left edge
    jump: np.ndarray  # (tables * _BINS,) the CDF jumps inside the bin
    cdf: np.ndarray
    codes: np.ndarray
    bounds: np.ndarray  # (tables + 1,)


@njit(cache=True)
def _uindex(j):
    """Position ``j >= 0`` as an unsigned index: numba wraps a signed index around (``a[-1]``)
    with a test on every access, which costs much in the kernels' short loops."""
    return np.uintp(j)


@njit(cache=True)
def _inverse_cdf_bin(u, table):
    """Bin of a uniform ``u`` in [0, 1) in table ``table`` (see :class:`_InverseCdf`)."""
    return _uindex(int(u * _BINS) + (table << _LUT_BITS))  # exact: a power of two


@njit(cache=True)
def _inverse_cdf_search(cdf, codes, bounds, table, u):
    """Code of ``u`` in a bin where table ``table``'s CDF jumps (see :class:`_InverseCdf`):
    ``np.searchsorted(cdf, u, side="right")`` within the table.

    Kernels read ``start`` and ``jump`` themselves and call this only at a jump: a call that
    passes arrays costs reference counting, too much for every draw.
    """
    low, high = bounds[table], bounds[table + 1]
    while low < high:
        middle = (low + high) >> 1
        if cdf[middle] <= u:
            low = middle + 1
        else:
            high = middle
    return codes[low]


@functools.lru_cache(maxsize=256)
def _inverse_cdf(*tables: tuple[tuple[float, ...], tuple[int, ...]]) -> _InverseCdf:
    """Look-up tables of ``(cdf, codes)`` pairs; each CDF's last value is set to exactly 1."""
    edges = np.arange(_BINS + 1) / _BINS
    cdfs, codes, starts, jumps = [], [], [], []
    for cdf, code in tables:
        values = np.array(cdf, dtype=np.float64)
        values[-1] = 1.0
        code_array = np.array(code, dtype=np.uint32)  # unsigned: see _uindex
        first = np.searchsorted(values, edges[:-1], side="right")
        last = np.searchsorted(values, edges[1:], side="left")  # index just below the next edge
        cdfs.append(values)
        codes.append(code_array)
        starts.append(code_array[first])
        jumps.append(first != last)
    return _InverseCdf(
        start=_frozen(np.concatenate(starts)),
        jump=_frozen(np.concatenate(jumps)),
        cdf=_frozen(np.concatenate(cdfs)),
        codes=_frozen(np.concatenate(codes)),
        bounds=_frozen(np.cumsum([0] + [len(c) for c in cdfs]).astype(np.intp)),
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    """``array`` made read-only (cached tables are shared between calls)."""
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=64)
def _negative_binomial(mean: float, shape: float) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """``(cdf, codes)`` of a negative binomial count with ``mean`` and ``shape`` (variance
    ``mean + mean**2 / shape``) for :func:`_inverse_cdf`; the tail beyond 1e-15 is folded into
    the last count."""
    if mean <= 0:
        return ((1.0,), (0,))
    success = shape / (shape + mean)
    pmf, total, k = [success**shape], success**shape, 0
    while total < 1.0 - 1e-15 and k < 10_000:
        pmf.append(pmf[-1] * (k + shape) / (k + 1) * (1.0 - success))
        total += pmf[-1]
        k += 1
    return (tuple(np.cumsum(pmf)), tuple(range(len(pmf))))


# Kind draw: one table per role. Table 0: other convictions (classes 8-12); 1: aggravated
# felonies (0-7); 2: the entry/reentry conviction (13 felony, 14 misdemeanor); 3: the earlier
# misdemeanor entry (14); 4: other convictions before the first removal, which may be foreign
# (classes 15-19: foreign copies of 8-12). Indexed by segment.
_KIND_TABLE = np.array([4, 1, 3, 0, 1, 2, 0], dtype=np.intp)
_FOREIGN_OFFSET = len(SENTENCE_CLASSES) - _N_AGGRAVATED  # class code of a foreign copy: + 7


def _kind_table(parameters: PopulationParameters) -> _InverseCdf:
    p = parameters
    mix = np.array([getattr(p, f"{c.name}_mix").value for c in _OTHER_CLASSES])
    mix /= mix.sum()
    aggravated = np.cumsum([getattr(p, f"{c.name}_mix").value for c in _AGGRAVATED_CLASSES])
    felony = p.illegal_reentry_felony_share.value
    foreign = p.foreign_share.value
    other_codes = tuple(range(_N_AGGRAVATED, _N_AGGRAVATED + _N_OTHER))
    return _inverse_cdf(
        (tuple(np.cumsum(mix)), other_codes),
        (tuple(aggravated / aggravated[-1]), tuple(range(_N_AGGRAVATED))),
        ((felony, 1.0), (_REENTRY_CLASS, _ENTRY_CLASS)),
        ((1.0,), (_ENTRY_CLASS,)),
        (
            tuple(np.cumsum(np.concatenate([mix * (1.0 - foreign), mix * foreign]))),
            other_codes + tuple(c + _FOREIGN_OFFSET for c in other_codes),
        ),
    )


#: Logistic scale of log months per unit of its standard deviation (sd = scale * pi / sqrt 3).
_LOGISTIC_SCALE = math.sqrt(3.0) / math.pi
_TOP = 1.0 - 1e-12
#: Allowed sd of log months: the truncated quantiles stay well inside (0, 1).
_SIGMA_RANGE = (0.05, 5.0)


class _SentenceTables(NamedTuple):
    """Per-class arrays (index = class code: the 15 :data:`SENTENCE_CLASSES`, then foreign
    copies of the five other-conviction classes) for gathering by a prior's class."""

    kind: np.ndarray
    felony: np.ndarray
    foreign: np.ndarray
    #: Columns: zeta (u < zeta: no imprisonment); slope and offset (quantile = offset + slope * u
    #: maps u in [zeta, 1) onto the truncated CDF); logistic scale and median of log days.
    numbers: np.ndarray


def _sentence_tables(parameters: PopulationParameters) -> _SentenceTables:
    """Truncated log-logistic terms in whole days (module docstring, step 6).

    The term in days is ``floor(X)`` with ``log X`` logistic (median ``log(median * days per
    month)``, standard deviation ``sigma``) truncated to ``[low, high + 1)`` days, so that the
    floor lies in ``[low, high]``: ``low`` is the legal floor rounded up to whole days (at least
    one day), ``high`` the ceiling rounded down.
    """
    p = parameters
    classes = SENTENCE_CLASSES + _OTHER_CLASSES
    median = np.array([getattr(p, f"{c.name}_median_months").value for c in classes])
    sigma = np.array([getattr(p, f"{c.name}_sigma").value for c in classes])
    ceiling = np.minimum([c.high for c in classes], p.max_sentence_months.value)
    low_days = np.maximum(np.ceil(np.array([c.low for c in classes]) * DAYS_PER_MONTH), 1.0)
    high_days = np.floor(ceiling * DAYS_PER_MONTH + 1e-9)
    log_median_days = np.log(median * DAYS_PER_MONTH)
    scale = sigma * _LOGISTIC_SCALE
    # Margins of 1e-6 day keep floor() inside [low, high] despite rounding in the quantile.
    cdf_low = expit((np.log(low_days + 1e-6) - log_median_days) / scale)
    # The upper tail beyond 1e-12 is cut so that the quantile never rounds to 1.
    cdf_high = np.minimum(expit((np.log(high_days + 1.0 - 1e-6) - log_median_days) / scale), _TOP)
    zeta = np.array(
        [0.0 if c.no_imprisonment is None else getattr(p, c.no_imprisonment).value
         for c in classes]
    )  # fmt: skip
    # u < zeta: no imprisonment; u in [zeta, 1) maps linearly onto [cdf_low, cdf_high).
    slope = np.divide(cdf_high - cdf_low, 1.0 - zeta, out=np.zeros(len(zeta)), where=zeta < 1.0)
    return _SentenceTables(
        kind=_frozen(np.array([kind_code(c.kind) for c in classes], dtype=np.int8)),
        felony=_frozen(np.array([c.felony for c in classes])),
        foreign=_frozen(np.arange(len(classes)) >= len(SENTENCE_CLASSES)),
        numbers=_frozen(
            np.stack([zeta, slope, cdf_low - zeta * slope, scale, log_median_days], axis=1)
        ),
    )


class _RecordRates(NamedTuple):
    """Thresholds of the per-defendant draws (module docstring, steps 1-3)."""

    clean_share: float  # C
    aggravated: float  # a = A / (1 - C)
    post_aggravated: float  # a s
    entry: float  # e = E / (1 - C)
    earlier_entry: float  # e x
    post_other: float  # q_o
    persistent_share: float
    found_share: float  # tau


class _PriorShares(NamedTuple):
    """Thresholds of the per-prior flag draws (step 7)."""

    joined: float
    consecutive: float  # joined * consecutive_share


class _Timing(NamedTuple):
    """The time model (steps 8-9)."""

    served_fraction: float
    liberty_years_mean: float
    instant_liberty_years_mean: float
    status_window_days: int
    under_sentence_share: float


@dataclass(frozen=True)
class _Compiled:
    rates: DerivedRates
    record_rates: _RecordRates
    #: Tables 0-2: other convictions before and after the first removal, free removals.
    counts: _InverseCdf
    kinds: _InverseCdf
    sentences: _SentenceTables
    shares: _PriorShares
    timing: _Timing


@functools.lru_cache(maxsize=16)
def _compile(parameters: PopulationParameters) -> _Compiled:
    """Everything :func:`generate_population` derives from the parameters alone."""
    p = parameters
    rates = derive_rates(p)
    dispersion = p.conviction_dispersion.value
    single = p.single_sentence_share.value
    return _Compiled(
        rates=rates,
        record_rates=_RecordRates(
            clean_share=p.clean_record_share.value,
            aggravated=rates.aggravated,
            post_aggravated=rates.aggravated * p.aggravated_felony_after_reentry_share.value,
            entry=rates.entry,
            earlier_entry=rates.entry * p.earlier_illegal_entry_share.value,
            post_other=rates.post_other,
            persistent_share=p.persistent_share.value,
            found_share=p.found_after_conviction_share.value,
        ),
        counts=_inverse_cdf(
            _negative_binomial(p.pre_removal_extra_convictions_mean.value, dispersion),
            _negative_binomial(p.post_reentry_extra_convictions_mean.value, dispersion),
            _negative_binomial(rates.free_removals_mean, p.removal_dispersion.value),
        ),
        kinds=_kind_table(p),
        sentences=_sentence_tables(p),
        shares=_PriorShares(single, single * p.consecutive_share.value),
        timing=_Timing(
            served_fraction=p.served_fraction.value,
            liberty_years_mean=p.liberty_years_mean.value,
            instant_liberty_years_mean=p.instant_liberty_years_mean.value,
            status_window_days=math.floor(p.status_window_years.value * DAYS_PER_YEAR),
            under_sentence_share=p.under_sentence_share.value,
        ),
    )


# --------------------------------------------------------------------------------------------
# Kernels of generate_population, in the order it calls them. The transcendental functions
# (log, exp, log1p) stay whole-array numpy calls between them, so that every value is the one
# numpy's own implementation gives.


class _RecordUniforms(NamedTuple):
    record: np.ndarray  # (n, 5): clean, aggravated, entry, post-removal, found
    counts: np.ndarray  # (n, 4): the two conviction counts, the common uniform, persistence
    removals: np.ndarray  # (n,)


class _RecordOut(NamedTuple):
    segments: np.ndarray  # (n, 7) priors per segment
    offsets: np.ndarray  # (n + 1,) CSR
    removals: np.ndarray  # (n,)


@njit(cache=True)
def _records_kernel(u, rates, counts, out):
    """Steps 1-5 per defendant: segment counts (n, 7), CSR offsets, removals."""
    # Tuples unpacked into locals once: an array read through a tuple in the loop is reloaded
    # after every store. Every uniform is read before it is tested: bitwise & and selects
    # instead of branches, whose outcomes are random.
    record_u, counts_u, removal_u = u
    start, jump, cdf, codes, bounds = counts
    clean, aggravated_rate, post_aggravated_rate, entry_rate = rates[:4]
    earlier_entry_rate, post_other_rate, persistent_share, found_share = rates[4:]
    segments, offsets, removals = out
    offsets[0] = 0
    for i in range(record_u.shape[0]):
        record = record_u[i, 0] >= clean  # clean: C = 4.7%, calibration.md §1
        # Nested thresholds on one uniform: P(post-reentry | aggravated) = s, P(earlier | entry)
        # = x.
        has_aggravated = record & (record_u[i, 1] < aggravated_rate)  # a = A / (1 - C)
        post_aggravated = record & (record_u[i, 1] < post_aggravated_rate)
        entry = record & (record_u[i, 2] < entry_rate)  # e = E / (1 - C); E = 38.1%
        earlier_entry = record & (record_u[i, 2] < earlier_entry_rate)
        has_post_other = record & (record_u[i, 3] < post_other_rate)  # q_o from P = 61.9%
        found = record_u[i, 4] < found_share
        # Counts: own uniforms, or for a persistent defendant one common uniform for all three.
        persistent = counts_u[i, 3] < persistent_share
        common = counts_u[i, 2]
        v = common if persistent else counts_u[i, 0]
        b = _inverse_cdf_bin(v, 0)
        extra_pre = _inverse_cdf_search(cdf, codes, bounds, 0, v) if jump[b] else start[b]
        v = common if persistent else counts_u[i, 1]
        b = _inverse_cdf_bin(v, 1)
        extra_post = _inverse_cdf_search(cdf, codes, bounds, 1, v) if jump[b] else start[b]
        v = common if persistent else removal_u[i]
        b = _inverse_cdf_bin(v, 2)
        free = _inverse_cdf_search(cdf, codes, bounds, 2, v) if jump[b] else start[b]
        forced = record & (not (has_aggravated | entry | has_post_other))
        n_pre = extra_pre + forced if record else 0
        n_post = extra_post + 1 if has_post_other else 0
        # Removals 1 + e (1 + x) + g + N, E[N] = lambda solved from the mean 3.2 (calibration.md
        # §1).
        count = 1 + entry + earlier_entry + post_aggravated + free if record else 1
        # After the last removal: every post-removal conviction of a once-removed defendant,
        # else the most recent one with probability tau.
        n_last = n_post if count == 1 else int(has_post_other & found)
        segments[i, _PRE_OTHER] = n_pre
        segments[i, _PRE_AGGRAVATED] = has_aggravated & (not post_aggravated)
        segments[i, _EARLIER_ENTRY] = earlier_entry
        segments[i, _POST_OTHER] = n_post - n_last
        segments[i, _POST_AGGRAVATED] = post_aggravated
        segments[i, _ENTRY] = entry
        segments[i, _LAST] = n_last
        offsets[i + 1] = offsets[i] + n_pre + has_aggravated + entry + earlier_entry + n_post
        removals[i] = count


class _PriorUniforms(NamedTuple):
    kind: np.ndarray
    sentence: np.ndarray
    flags: np.ndarray


class _PriorOut(NamedTuple):
    cls: np.ndarray  # uint8 sentence class
    kind: np.ndarray
    felony: np.ndarray
    foreign: np.ndarray
    before_first_removal: np.ndarray
    removed_after_conviction: np.ndarray
    joined: np.ndarray  # (p + 1,): joins the prior before it into one sentence
    consecutive: np.ndarray
    none: np.ndarray  # no imprisonment
    odds: np.ndarray  # q / (1 - q) of the sentence quantile q


@njit(cache=True)
def _priors_kernel(segments, u, kinds, classes, shares, out):
    """Steps 4, 6 and 7 per prior: class, its kind and flags, single sentences, no
    imprisonment, and the odds ``q / (1 - q)`` of the sentence quantile ``q`` (whose log is the
    logistic deviate)."""
    # Tuples unpacked into locals once (see _records_kernel).
    u_kind, u_sentence, u_flags = u
    start, jump, cdf, codes, bounds = kinds
    class_kind, class_felony, class_foreign, numbers = classes
    joined_share, consecutive_share = shares
    cls, kind, felony, foreign, before_first, removed, joined, consecutive, none, odds = out
    j = 0  # the prior
    for i in range(segments.shape[0]):
        previous_class, previous_phase = _REENTRY_CLASS, 0  # nothing to join the first prior to
        for segment in range(_N_SEGMENTS):
            table, phase = _KIND_TABLE[segment], _SEGMENT_PHASE[segment]
            for _ in range(segments[i, segment]):
                k = _uindex(j)
                v = u_kind[k]
                b = _inverse_cdf_bin(v, table)
                c = _inverse_cdf_search(cdf, codes, bounds, table, v) if jump[b] else start[b]
                cls[k] = c
                kind[k] = class_kind[c]
                felony[k] = class_felony[c]
                foreign[k] = class_foreign[c]
                before_first[k] = segment <= _PRE_AGGRAVATED
                removed[k] = segment != _LAST
                # Entry convictions are their own sentences; a foreign sentence is never part of
                # a domestic one (classes 13-14 and 15-19). One uniform, nested: joined in
                # [0, pi), consecutive in [0, pi c); only between the same removals.
                flag = u_flags[k]
                join = (
                    (flag < joined_share)
                    & (c < _REENTRY_CLASS)
                    & (previous_class < _REENTRY_CLASS)
                    & (phase == previous_phase)
                )
                joined[k] = join
                consecutive[k] = join & (flag < consecutive_share)
                previous_class, previous_phase = c, phase
                # Whole days of a truncated log-logistic term; no imprisonment for u < zeta
                # (any quantile in (0, 1) then: _log_days_kernel makes the term 0 days).
                nothing = u_sentence[k] < numbers[c, 0]
                none[k] = nothing
                quantile = numbers[c, 1] * u_sentence[k]
                quantile += numbers[c, 2]
                quantile = 0.5 if nothing else quantile
                odds[k] = quantile / (1.0 - quantile)
                j += 1
    joined[j] = False  # a sentinel: the last prior ends its sentence


@njit(cache=True)
def _log_days_kernel(logit, cls, numbers, none):
    """``log(days)`` from the logistic deviate, in place: scale times it plus the log median;
    without imprisonment -1 (less than a day: no special value that slows numpy's exp)."""
    for k in range(logit.shape[0]):
        log_days = logit[k] * numbers[cls[k], 3]
        log_days += numbers[cls[k], 4]
        logit[k] = -1.0 if none[k] else log_days


class _DateInputs(NamedTuple):
    offsets: np.ndarray
    none: np.ndarray
    joined: np.ndarray
    consecutive: np.ndarray
    days: np.ndarray  # float64 exp(log days): the term is its floor
    liberty: np.ndarray  # float64 -log1p(-u): time at liberty in units of its mean
    u_status: np.ndarray


class _DateOut(NamedTuple):
    sentence_imposed_ticks: np.ndarray
    imposed_ago_ticks: np.ndarray
    released_ago_ticks: np.ndarray
    single_sentence_group: np.ndarray
    under_sentence: np.ndarray


@njit(cache=True)
def _dates_kernel(x, timing, out):
    """Steps 6, 8 and 9 per defendant, in whole days: terms, the aggregate term served of single
    sentences, dates going back from the instant offense, and status; then ticks."""
    # Tuples unpacked into locals once (see _records_kernel).
    offsets, no_term, joined, consecutive, days, liberty, u_status = x
    served_fraction, liberty_mean, instant_liberty_mean, window_days, under_share = timing
    term_ticks, imposed_ticks, released_ticks, single_group, under_sentence = out
    served = np.empty(len(no_term), dtype=np.int64)  # days served, of a sentence's aggregate
    before = np.empty(len(no_term), dtype=np.int64)  # days from imposition to the next sentence
    for i in range(offsets.shape[0] - 1):
        low, high = offsets[i], offsets[i + 1]
        lead, added, longest = low, 0, 0
        for j in range(low, high):
            k = _uindex(j)
            term = np.int64(np.floor(days[k]))  # whole days; 0 without imprisonment
            term_ticks[k] = term * DAY
            own = np.int64(np.floor(term * served_fraction))
            # A sentence of several priors: one not joined to the one before it, and those
            # joined to it; its term served counts consecutive terms added, concurrent ones by
            # the longest (§ 4A1.2(a)(2)); the first member is always concurrent.
            member, ends = joined[k], not joined[_uindex(j + 1)]
            lead = lead if member else j
            added = (added + own if consecutive[k] else added) if member else 0
            longest = (longest if consecutive[k] else max(longest, own)) if member else own
            single_group[k] = lead - low if member or not ends else NO_GROUP
            served[k] = added + longest if member else own
            # Each sentence is imposed its time served plus time at liberty (exponential) before
            # the next one, the most recent before the instant offense; a sentence of several
            # priors is counted once, at its last member.
            mean = instant_liberty_mean if j + 1 == high else liberty_mean
            gap = np.int64(np.floor(liberty[k] * mean * DAYS_PER_YEAR))
            before[k] = served[k] + gap if ends else 0
        # Days ago = the gaps of this and every later sentence; equal within a sentence;
        # released = imposed less the aggregate term served, never released without imprisonment.
        ago, total, latest = 0, 0, -1
        for j in range(high - 1, low - 1, -1):
            k = _uindex(j)
            if not joined[_uindex(j + 1)]:
                total = served[k]
                ago += before[k]
            latest = ago if latest < 0 else latest
            imposed_ticks[k] = ago * DAY
            released_ticks[k] = NEVER if no_term[k] else (ago - total) * DAY
        # Status (step 9): sentenced within the window, then under a sentence with a probability.
        recent = 0 <= latest <= window_days
        under_sentence[i] = recent & (u_status[i] < under_share)


# --------------------------------------------------------------------------------------------


def generate_population(
    parameters: PopulationParameters,
    random_block: RandomBlock,
    n: int,
    offense_date: dt.date,
    law: AggravatedFelonyLaw,
) -> Population:
    """The first ``n`` defendants of a random block, for offenses committed on ``offense_date``.

    Parameters
    ----------
    parameters : PopulationParameters
        The population model's numbers.
    random_block : RandomBlock
        Keys the streams (seed, replication, random block); only ``population.*`` decisions are
        read, one array draw each.
    n : int
        Defendants, ``0 <= n <= RANDOM_BLOCK_DEFENDANTS``. Defendant ``i`` is the same for every
        ``n > i``.
    offense_date : datetime.date
        The instant offense's date, every defendant's.
    law : AggravatedFelonyLaw
        8 U.S.C. § 1101(a)(43) as in force on ``offense_date``
        (``sim.guidelines.aggravated_felony.law_in_force``).

    Returns
    -------
    Population
        ``n`` defendants with ``p`` priors in total (CSR, chronological within a defendant: the
        oldest first) and their prior removals, shape (n,).

    Raises
    ------
    ValueError
        ``n`` outside 0-RANDOM_BLOCK_DEFENDANTS.
    """
    if not 0 <= n <= RANDOM_BLOCK_DEFENDANTS:
        raise ValueError(f"n {n}: allowed: 0-{RANDOM_BLOCK_DEFENDANTS} (one random block)")
    model = _compile(parameters)
    draw = random_block.generator
    # Per defendant (module docstring, steps 1-5).
    shape = _RecordOut(
        np.empty((n, _N_SEGMENTS), dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n, dtype=np.int16),
    )
    uniforms = _RecordUniforms(
        draw("population.record").random((n, 5)),
        draw("population.prior_count").random((n, 4)),
        draw("population.removals").random(n),
    )
    _records_kernel(uniforms, model.record_rates, model.counts, shape)
    priors = _generate_priors(model, draw, shape, n)
    records = Records(
        offense_date=np.full(n, np.datetime64(offense_date, "D")),
        under_sentence=priors.pop("under_sentence"),
        zero_point_criteria_met=np.ones(n, dtype=bool),
        criminal_history_points_override=np.full(n, NO_OVERRIDE, dtype=np.int16),
        criminal_history_category_override=np.full(n, NO_OVERRIDE, dtype=np.int8),
        prior_offsets=shape.offsets,
        priors=Priors(**priors),
    )
    # Which priors are aggravated felonies is the law's question, asked of kind, term and dates.
    records.priors.aggravated_felony[:] = classify_priors(records, law)
    return Population(records, shape.removals)


def _generate_priors(model: _Compiled, draw, shape: _RecordOut, n: int) -> dict[str, np.ndarray]:
    """Steps 4 and 6-9: every prior's fields (and each defendant's status) as arrays."""
    p = int(shape.offsets[-1])
    out = _PriorOut(
        cls=np.empty(p, dtype=np.uint8),
        kind=np.empty(p, dtype=np.int8),
        felony=np.empty(p, dtype=bool),
        foreign=np.empty(p, dtype=bool),
        before_first_removal=np.empty(p, dtype=bool),
        removed_after_conviction=np.empty(p, dtype=bool),
        joined=np.empty(p + 1, dtype=bool),
        consecutive=np.empty(p, dtype=bool),
        none=np.empty(p, dtype=bool),
        odds=np.empty(p),  # the odds of the quantile, its log, log days, then days
    )
    uniforms = _PriorUniforms(
        draw("population.prior_kind").random(p),
        draw("population.prior_sentence").random(p),
        draw("population.prior_flags").random(p),
    )
    tables = model.sentences
    _priors_kernel(shape.segments, uniforms, model.kinds, tables, model.shares, out)
    # Truncated log-logistic term: the logistic deviate is the log of the odds.
    days = out.odds
    np.log(days, out=days)
    _log_days_kernel(days, out.cls, tables.numbers, out.none)
    np.exp(days, out=days)
    # Time at liberty: exponential, in units of its mean.
    liberty = draw("population.prior_timing").random(p)
    np.negative(liberty, out=liberty)
    np.log1p(liberty, out=liberty)
    np.negative(liberty, out=liberty)
    dates = _DateOut(
        sentence_imposed_ticks=np.empty(p, dtype=np.int64),
        imposed_ago_ticks=np.empty(p, dtype=np.int64),
        released_ago_ticks=np.empty(p, dtype=np.int64),
        single_sentence_group=np.empty(p, dtype=np.int16),
        under_sentence=np.empty(n, dtype=bool),
    )
    inputs = _DateInputs(
        shape.offsets,
        out.none,
        out.joined,
        out.consecutive,
        days,
        liberty,
        draw("population.status").random(n),
    )
    _dates_kernel(inputs, model.timing, dates)
    return {
        "kind": out.kind,
        "felony": out.felony,
        "aggravated_felony": np.zeros(p, dtype=bool),
        "sentence_imposed_ticks": dates.sentence_imposed_ticks,
        "imposed_ago_ticks": dates.imposed_ago_ticks,
        "released_ago_ticks": dates.released_ago_ticks,
        "before_first_removal": out.before_first_removal,
        "removed_after_conviction": out.removed_after_conviction,
        "foreign": out.foreign,
        "single_sentence_group": dates.single_sentence_group,
        "consecutive": out.consecutive,
        "under_sentence": dates.under_sentence,
    }


def calibration_marginals(population: Population) -> dict[str, float]:
    """The five calibration quantities measured on generated arrays.

    Parameters
    ----------
    population : Population
        ``n >= 1`` defendants.

    Returns
    -------
    dict
        Keyed as :data:`CALIBRATION_TARGETS`: share with an aggravated felony followed by a
        removal; mean prior removals; share with an ``illegal_entry``/``illegal_reentry``
        conviction followed by a removal; share with a conviction of another kind with
        ``before_first_removal`` false; share with no priors and at most one removal.
    """
    records = population.records
    priors = records.priors
    n = records.size
    owner = records.prior_owner()

    def share(mask: np.ndarray) -> float:
        hit = np.zeros(n, dtype=bool)
        hit[owner[mask]] = True
        return float(hit.mean())

    entry_kind = np.isin(priors.kind, _ENTRY_KINDS)
    counts = np.diff(records.prior_offsets)
    return {
        "prior_aggravated_felony_share": share(
            priors.aggravated_felony & priors.removed_after_conviction
        ),
        "mean_prior_removals": float(population.prior_removals.mean()),
        "reentry_conviction_share": share(entry_kind & priors.removed_after_conviction),
        "post_reentry_conviction_share": share(~entry_kind & ~priors.before_first_removal),
        "clean_record_share": float(((counts == 0) & (population.prior_removals <= 1)).mean()),
    }

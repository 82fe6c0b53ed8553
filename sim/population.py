"""Synthetic population of 8 U.S.C. § 1326 defendants: prior convictions and prior removals.

Every defendant of a random block is drawn from the keyed streams of :mod:`sim.streams`
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
   is whole days. It is 0 (no imprisonment) with a class probability. A felony ``illegal_reentry``
   by a defendant with an aggravated felony is itself one (§ 1101(a)(43)(O)).
7. **Single sentences.** A prior joins the one before it into one sentence with probability
   ``single_sentence_share`` when both lie between the same removals and neither is an entry
   conviction or foreign; a joined term runs consecutively with probability
   ``consecutive_share``. The group id is the position of the sentence's first prior within the
   defendant's priors.
8. **Time.** Going back from the instant offense, each sentence is imposed ``time served +
   Exponential(liberty)`` years before the next (the most recent: before the instant offense),
   time served ``= months * served_fraction / 12``. ``released_years_ago = imposed_years_ago -
   time served`` (NaN without imprisonment), so it never exceeds ``imposed_years_ago`` and is never
   negative; members of one sentence share its dates.
9. **Status.** Under a criminal justice sentence with probability ``under_sentence_share`` when
   the most recent prior was imposed within ``status_window_years``.

The calibration indicators do not depend on steps 6-9, and A, E and P do not depend on
``N``: the expected marginals equal the targets exactly.

Random streams: one uniform array per decision (``random((n, k))`` per defendant or
``random(p)`` per prior), turned into counts, kinds and terms by inverse distribution functions
(exact table look-up), so the first ``n`` defendants of a random block are the same whatever
``n`` is: ``population.record`` (clean, aggravated, entry, post-removal, found), ``prior_count``
(the two conviction counts, the common uniform, persistence), ``removals``, ``prior_kind``,
``prior_sentence``, ``prior_flags`` (single sentence, consecutive), ``prior_timing`` (time at
liberty) and ``status``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import model_validator
from scipy.special import expit

from sim.guidelines.records import NO_GROUP, NO_OVERRIDE, Defendants, Priors, kind_code
from sim.parameters import Parameter, Probability, StrictModel
from sim.streams import RANDOM_BLOCK_DEFENDANTS, RandomBlock

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
    Path(__file__).resolve().parents[1] / "configs" / "population-fy2013.yaml"
)

#: The published marginals the model reproduces (calibration.md §1), by parameter name.
CALIBRATION_TARGETS = (
    "prior_aggravated_felony_share",
    "mean_prior_removals",
    "reentry_conviction_share",
    "post_reentry_conviction_share",
    "clean_record_share",
)

#: Days per calendar month (docs/engine.md §3: sixty days = 60 / (365.25 / 12) months).
DAYS_PER_MONTH = 365.25 / 12


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
    _C("aggravated_other_felony", "other_felony", True, True, 12, _INF, None),
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
    aggravated_other_felony_mix: Probability
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
    aggravated_other_felony_median_months: Parameter
    aggravated_other_felony_sigma: Parameter
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
    defendants : Defendants
        ``n`` records. Priors, ``under_sentence``, ``zero_point_criteria_met`` (true) and the
        overrides (-1, none) are filled; the disposition fields (``conviction``,
        ``acceptance_levels``, ``early_disposition_levels``: 0; ``offense_date``: NaT) are
        placeholders for the policy stage.
    prior_removals : ndarray of int16, shape (n,)
        Removals (deportations) before the instant offense, >= 1.
    """

    defendants: Defendants
    prior_removals: np.ndarray

    def __len__(self) -> int:
        return len(self.prior_removals)


# --------------------------------------------------------------------------------------------
# Inverse distribution functions: uniforms -> draws, one array draw per decision.

_LUT_BITS = 11
_BINS = 1 << _LUT_BITS  # equal bins of [0, 1) per table: exact look-up, searched only at jumps


@dataclass(frozen=True)
class _InverseCdf:
    """Exact inverse of one or a few discrete CDFs: ``codes[t][#{k : cdf[t][k] <= u}]``.

    A table of ``_BINS`` equal bins per CDF gives the answer wherever the CDF has no jump inside
    the bin; the few uniforms in bins with a jump are resolved by binary search.
    """

    cdfs: tuple[np.ndarray, ...]
    codes: tuple[np.ndarray, ...]
    start: np.ndarray  # (tables * _BINS,) code at each bin's left edge
    jump: np.ndarray  # (tables * _BINS,) the CDF jumps inside the bin

    def __call__(self, uniforms: np.ndarray, table_bins: np.ndarray | None = None) -> np.ndarray:
        """Codes for ``uniforms`` in [0, 1); ``table_bins``: ``_BINS`` times each one's table."""
        bins = (uniforms * _BINS).astype(np.intp)  # exact: a power of two
        if table_bins is not None:
            bins += table_bins
        result = self.start.take(bins)
        ambiguous = np.flatnonzero(self.jump.take(bins))
        if len(ambiguous):
            table = bins[ambiguous] >> _LUT_BITS
            for t, (cdf, codes) in enumerate(zip(self.cdfs, self.codes, strict=True)):
                rows = ambiguous[table == t] if len(self.cdfs) > 1 else ambiguous
                result[rows] = codes[np.searchsorted(cdf, uniforms[rows], side="right")]
        return result


@functools.lru_cache(maxsize=256)
def _inverse_cdf(*tables: tuple[tuple[float, ...], tuple[int, ...]]) -> _InverseCdf:
    """Look-up tables of ``(cdf, codes)`` pairs; each CDF's last value is set to exactly 1."""
    edges = np.arange(_BINS + 1) / _BINS
    cdfs, codes, starts, jumps = [], [], [], []
    for cdf, code in tables:
        values = np.array(cdf, dtype=np.float64)
        values[-1] = 1.0
        code_array = np.array(code, dtype=np.intp)
        first = np.searchsorted(values, edges[:-1], side="right")
        last = np.searchsorted(values, edges[1:], side="left")  # index just below the next edge
        cdfs.append(values)
        codes.append(code_array)
        starts.append(code_array[first])
        jumps.append(first != last)
    return _InverseCdf(
        tuple(_frozen(c) for c in cdfs),
        tuple(_frozen(c) for c in codes),
        _frozen(np.concatenate(starts)),
        _frozen(np.concatenate(jumps)),
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    """``array`` made read-only (cached tables are shared between calls)."""
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=64)
def _negative_binomial(mean: float, shape: float) -> _InverseCdf:
    """Inverse CDF of a negative binomial count with ``mean`` and ``shape`` (variance ``mean +
    mean**2 / shape``); the tail beyond 1e-15 is folded into the last count."""
    if mean <= 0:
        return _inverse_cdf(((1.0,), (0,)))
    success = shape / (shape + mean)
    pmf, total, k = [success**shape], success**shape, 0
    while total < 1.0 - 1e-15 and k < 10_000:
        pmf.append(pmf[-1] * (k + shape) / (k + 1) * (1.0 - success))
        total += pmf[-1]
        k += 1
    return _inverse_cdf((tuple(np.cumsum(pmf)), tuple(range(len(pmf)))))


# Kind draw: one table per role. Table 0: other convictions (classes 8-12); 1: aggravated
# felonies (0-7); 2: the entry/reentry conviction (13 felony, 14 misdemeanor); 3: the earlier
# misdemeanor entry (14); 4: other convictions before the first removal, which may be foreign
# (classes 15-19: foreign copies of 8-12). Indexed by segment, in units of bins.
_KIND_TABLE_BINS = np.array([4, 1, 3, 0, 1, 2, 0], dtype=np.intp) * _BINS
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


@dataclass(frozen=True)
class _SentenceTables:
    """Per-class arrays (index = class code: the 15 :data:`SENTENCE_CLASSES`, then foreign
    copies of the five other-conviction classes) for gathering by a prior's class."""

    kind: np.ndarray
    felony: np.ndarray
    aggravated: np.ndarray
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
        aggravated=_frozen(np.array([c.aggravated for c in classes])),
        foreign=_frozen(np.arange(len(classes)) >= len(SENTENCE_CLASSES)),
        numbers=_frozen(
            np.stack([zeta, slope, cdf_low - zeta * slope, scale, log_median_days], axis=1)
        ),
    )


@dataclass(frozen=True)
class _Compiled:
    rates: DerivedRates
    kinds: _InverseCdf
    sentences: _SentenceTables
    extra_pre: _InverseCdf
    extra_post: _InverseCdf
    free_removals: _InverseCdf


@functools.lru_cache(maxsize=16)
def _compile(parameters: PopulationParameters) -> _Compiled:
    """Everything :func:`generate_population` derives from the parameters alone."""
    p = parameters
    rates = derive_rates(p)
    dispersion = p.conviction_dispersion.value
    return _Compiled(
        rates=rates,
        kinds=_kind_table(p),
        sentences=_sentence_tables(p),
        extra_pre=_negative_binomial(p.pre_removal_extra_convictions_mean.value, dispersion),
        extra_post=_negative_binomial(p.post_reentry_extra_convictions_mean.value, dispersion),
        free_removals=_negative_binomial(rates.free_removals_mean, p.removal_dispersion.value),
    )


# --------------------------------------------------------------------------------------------


def generate_population(
    parameters: PopulationParameters, random_block: RandomBlock, n: int
) -> Population:
    """The first ``n`` defendants of a random block.

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
    prm = parameters
    model = _compile(prm)
    rates = model.rates

    # ---- Per defendant (module docstring, steps 1-5), arrays of shape (n,). ----------------
    u = random_block.generator("population.record").random((n, 5))
    clean = u[:, 0] < prm.clean_record_share.value  # C = 4.7%, calibration.md §1
    record = ~clean
    # Nested thresholds on one uniform: P(post-reentry | aggravated) = s, P(earlier | entry) = x.
    aggravated = record & (u[:, 1] < rates.aggravated)  # a = A / (1 - C); A = 40%
    post_aggravated = record & (
        u[:, 1] < rates.aggravated * prm.aggravated_felony_after_reentry_share.value
    )
    entry = record & (u[:, 2] < rates.entry)  # e = E / (1 - C); E = 38.1%
    earlier_entry = record & (u[:, 2] < rates.entry * prm.earlier_illegal_entry_share.value)
    has_post_other = record & (u[:, 3] < rates.post_other)  # q_o from P = 61.9%

    # Counts: own uniforms, or for a persistent defendant one common uniform for all three.
    counts_u = random_block.generator("population.prior_count").random((n, 4))
    removal_u = random_block.generator("population.removals").random(n)
    persistent = counts_u[:, 3] < prm.persistent_share.value
    common = counts_u[:, 2]
    extra_pre = model.extra_pre(np.where(persistent, common, counts_u[:, 0]))
    extra_post = model.extra_post(np.where(persistent, common, counts_u[:, 1]))
    free = model.free_removals(np.where(persistent, common, removal_u))
    forced = record & ~aggravated & ~entry & ~has_post_other
    n_pre = np.where(record, extra_pre + forced, 0)
    n_post = np.where(has_post_other, extra_post + 1, 0)
    # Removals 1 + e (1 + x) + g + N, E[N] = lambda solved from the mean 3.2 (calibration.md §1).
    removals = np.where(
        clean, 1, 1 + entry.astype(np.intp) + earlier_entry + post_aggravated + free
    )
    # After the last removal: every post-removal conviction of a once-removed defendant, else the
    # most recent one with probability tau.
    found = (n_post > 0) & (u[:, 4] < prm.found_after_conviction_share.value)
    n_last = np.where(removals == 1, n_post, found)

    segments = np.empty((n, _N_SEGMENTS), dtype=np.intp)
    segments[:, _PRE_OTHER] = n_pre
    segments[:, _PRE_AGGRAVATED] = aggravated & ~post_aggravated
    segments[:, _EARLIER_ENTRY] = earlier_entry
    segments[:, _POST_OTHER] = n_post - n_last
    segments[:, _POST_AGGRAVATED] = post_aggravated
    segments[:, _ENTRY] = entry
    segments[:, _LAST] = n_last
    counts = n_pre + aggravated + entry + earlier_entry + n_post
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    p = int(offsets[-1])
    owner = np.repeat(np.arange(n, dtype=np.intp), counts)
    segment = np.repeat(np.tile(np.arange(_N_SEGMENTS, dtype=np.int8), n), segments.ravel())
    has_priors = np.flatnonzero(counts)
    first = offsets[has_priors]  # first (oldest) prior of each defendant with priors
    last = offsets[has_priors + 1] - 1  # last (most recent) prior

    # ---- Per prior (step 6), arrays of shape (p,). -----------------------------------------
    cls = model.kinds(
        random_block.generator("population.prior_kind").random(p), _KIND_TABLE_BINS.take(segment)
    )
    tables = model.sentences
    kind = tables.kind.take(cls)
    felony = tables.felony.take(cls)
    aggravated_felony = tables.aggravated.take(cls)
    foreign = tables.foreign.take(cls)
    # § 1101(a)(43)(O): a § 1326 offense after a removal that followed an aggravated felony (in
    # this model every aggravated felony precedes the entry conviction, with a removal between).
    reentry = np.flatnonzero(cls == _REENTRY_CLASS)
    aggravated_felony[reentry] = aggravated[owner[reentry]]

    # Whole days of a truncated log-logistic term; no imprisonment for u < zeta.
    u_sentence = random_block.generator("population.prior_sentence").random(p)
    zeta, slope, offset, scale, log_median_days = tables.numbers.take(cls, axis=0).T
    none = np.flatnonzero(u_sentence < zeta)
    quantile = slope * u_sentence
    quantile += offset
    quantile[none] = 0.5  # any value in (0, 1); the term is set to 0 below
    logit = np.log(quantile / (1.0 - quantile))
    logit *= scale
    logit += log_median_days
    days = np.floor(np.exp(logit, out=logit), out=logit)
    days[none] = 0.0
    months = days
    months /= DAYS_PER_MONTH

    # ---- Flags (steps 4, 7). ---------------------------------------------------------------
    before_first_removal = segment <= _PRE_AGGRAVATED
    removed_after_conviction = segment != _LAST
    # One uniform, nested: joined in [0, pi), consecutive in [0, pi c).
    u_flags = random_block.generator("population.prior_flags").random(p)
    phase = _SEGMENT_PHASE.take(segment)
    # Entry convictions are their own sentences; a foreign sentence is never part of a domestic
    # one (classes 13-14 and 15-19).
    joinable = cls < _REENTRY_CLASS
    joined = np.zeros(p, dtype=bool)
    joined[1:] = (
        (u_flags[1:] < prm.single_sentence_share.value)
        & joinable[1:]
        & joinable[:-1]
        & (phase[1:] == phase[:-1])
    )
    joined[first] = False  # never across defendants
    consecutive = joined & (u_flags < prm.single_sentence_share.value * prm.consecutive_share.value)

    # ---- Sentences and dates going back from the instant offense (step 8). -----------------
    sentence_served = months * (prm.served_fraction.value / 12.0)  # years; of the whole sentence
    single_sentence_group = np.full(p, NO_GROUP, dtype=np.int16)
    ends_sentence = np.ones(p, dtype=bool)
    ends_sentence[:-1] = ~joined[1:]
    grouped = np.flatnonzero(joined | ~ends_sentence)  # members of sentences of 2+ priors
    if len(grouped):
        leads = ~joined[grouped]  # first member of each group (always concurrent)
        number = np.cumsum(leads) - 1
        starts = np.flatnonzero(leads)
        member_served = sentence_served[grouped]
        is_consecutive = consecutive[grouped]
        # Aggregate term: consecutive terms add, concurrent ones count by the longest (§ 4A1.2).
        total = np.bincount(number, weights=np.where(is_consecutive, member_served, 0.0))
        total += np.maximum.reduceat(np.where(is_consecutive, 0.0, member_served), starts)
        sentence_served[grouped] = total[number]
        lead_rows = grouped[starts]
        single_sentence_group[grouped] = (lead_rows - offsets[owner[lead_rows]])[number]
    # Time at liberty: exponential, mean liberty_years_mean (instant_... after the last prior).
    gap = random_block.generator("population.prior_timing").random(p)
    np.negative(gap, out=gap)
    np.log1p(gap, out=gap)
    to_instant = gap[last] * -prm.instant_liberty_years_mean.value
    gap *= -prm.liberty_years_mean.value
    gap[last] = to_instant
    # Each sentence is imposed its time served plus time at liberty before the next one.
    gap += sentence_served
    if len(grouped):
        gap[grouped[~ends_sentence[grouped]]] = 0.0  # counted once, at the sentence's last member
    # imposed_years_ago[k] = sum of gap[k..last] = total - (sum of gap before k): exclusive
    # prefix sums make it non-increasing along a defendant's priors and equal within a sentence.
    before = np.empty(p + 1)
    before[0] = 0.0
    np.cumsum(gap, out=before[1:])
    defendant_total = np.zeros(n)
    defendant_total[has_priors] = before[last + 1]
    imposed_years_ago = defendant_total.take(owner)
    imposed_years_ago -= before[:-1]
    released_years_ago = np.subtract(imposed_years_ago, sentence_served, out=gap)
    np.maximum(released_years_ago, 0.0, out=released_years_ago)
    released_years_ago[none] = np.nan

    priors = Priors(
        kind=kind,
        felony=felony,
        aggravated_felony=aggravated_felony,
        sentence_imposed_months=months,
        imposed_years_ago=imposed_years_ago,
        released_years_ago=released_years_ago,
        before_first_removal=before_first_removal,
        removed_after_conviction=removed_after_conviction,
        foreign=foreign,
        single_sentence_group=single_sentence_group,
        consecutive=consecutive,
    )

    # ---- Status (step 9). ------------------------------------------------------------------
    recent = np.zeros(n, dtype=bool)
    recent[has_priors] = imposed_years_ago[last] <= prm.status_window_years.value
    under_sentence = recent & (
        random_block.generator("population.status").random(n) < prm.under_sentence_share.value
    )

    defendants = Defendants(
        conviction=np.zeros(n, dtype=np.int8),
        offense_date=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        acceptance_levels=np.zeros(n, dtype=np.int8),
        early_disposition_levels=np.zeros(n, dtype=np.int8),
        under_sentence=under_sentence,
        zero_point_criteria_met=np.ones(n, dtype=bool),
        criminal_history_points_override=np.full(n, NO_OVERRIDE, dtype=np.int16),
        criminal_history_category_override=np.full(n, NO_OVERRIDE, dtype=np.int8),
        prior_offsets=offsets,
        priors=priors,
    )
    return Population(defendants, removals.astype(np.int16))


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
    defendants = population.defendants
    priors = defendants.priors
    n = len(defendants)
    owner = defendants.prior_owner

    def share(mask: np.ndarray) -> float:
        hit = np.zeros(n, dtype=bool)
        hit[owner[mask]] = True
        return float(hit.mean())

    entry_kind = np.isin(priors.kind, _ENTRY_KINDS)
    counts = np.diff(defendants.prior_offsets)
    return {
        "prior_aggravated_felony_share": share(
            priors.aggravated_felony & priors.removed_after_conviction
        ),
        "mean_prior_removals": float(population.prior_removals.mean()),
        "reentry_conviction_share": share(entry_kind & priors.removed_after_conviction),
        "post_reentry_conviction_share": share(~entry_kind & ~priors.before_first_removal),
        "clean_record_share": float(((counts == 0) & (population.prior_removals <= 1)).mean()),
    }

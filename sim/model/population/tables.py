"""What the generator derives from the parameters alone: exact inverse distribution functions
(negative binomial counts, kind mixes), the per-class sentence tables, and the rates, shares and
time model the kernels read, compiled once per parameter set."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.special import expit

from sim.guidelines.records import kind_code
from sim.model.population.parameters import (
    AGGRAVATED_CLASSES,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    ENTRY_CLASS,
    N_AGGRAVATED,
    N_OTHER,
    OTHER_CLASSES,
    REENTRY_CLASS,
    SENTENCE_CLASSES,
    DerivedRates,
    PopulationParameters,
    derive_rates,
)

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
KIND_TABLE = np.array([4, 1, 3, 0, 1, 2, 0], dtype=np.intp)
FOREIGN_OFFSET = len(SENTENCE_CLASSES) - N_AGGRAVATED  # class code of a foreign copy: + 7


def _kind_table(parameters: PopulationParameters) -> _InverseCdf:
    p = parameters
    mix = np.array([getattr(p, f"{c.name}_mix").value for c in OTHER_CLASSES])
    mix /= mix.sum()
    aggravated = np.cumsum([getattr(p, f"{c.name}_mix").value for c in AGGRAVATED_CLASSES])
    felony = p.illegal_reentry_felony_share.value
    foreign = p.foreign_share.value
    other_codes = tuple(range(N_AGGRAVATED, N_AGGRAVATED + N_OTHER))
    return _inverse_cdf(
        (tuple(np.cumsum(mix)), other_codes),
        (tuple(aggravated / aggravated[-1]), tuple(range(N_AGGRAVATED))),
        ((felony, 1.0), (REENTRY_CLASS, ENTRY_CLASS)),
        ((1.0,), (ENTRY_CLASS,)),
        (
            tuple(np.cumsum(np.concatenate([mix * (1.0 - foreign), mix * foreign]))),
            other_codes + tuple(c + FOREIGN_OFFSET for c in other_codes),
        ),
    )


#: Logistic scale of log months per unit of its standard deviation (sd = scale * pi / sqrt 3).
_LOGISTIC_SCALE = math.sqrt(3.0) / math.pi
_TOP = 1.0 - 1e-12


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
    classes = SENTENCE_CLASSES + OTHER_CLASSES
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

"""The compiled kernels of :func:`sim.model.population.generate_population`, in the order it
calls them (module docstring of :mod:`sim.model.population`, steps 1-9). The transcendental
functions (log, exp, log1p) stay whole-array numpy calls between them, so that every value is the
one numpy's own implementation gives."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.durations import DAY, NEVER
from sim.guidelines.records import NO_GROUP
from sim.model.population.parameters import (
    DAYS_PER_YEAR,
    EARLIER_ENTRY,
    ENTRY,
    LAST,
    N_SEGMENTS,
    POST_AGGRAVATED,
    POST_OTHER,
    PRE_AGGRAVATED,
    PRE_OTHER,
    REENTRY_CLASS,
    SEGMENT_PHASE,
)
from sim.model.population.tables import (
    KIND_TABLE,
    _inverse_cdf_bin,
    _inverse_cdf_search,
    _uindex,
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
        segments[i, PRE_OTHER] = n_pre
        segments[i, PRE_AGGRAVATED] = has_aggravated & (not post_aggravated)
        segments[i, EARLIER_ENTRY] = earlier_entry
        segments[i, POST_OTHER] = n_post - n_last
        segments[i, POST_AGGRAVATED] = post_aggravated
        segments[i, ENTRY] = entry
        segments[i, LAST] = n_last
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
        previous_class, previous_phase = REENTRY_CLASS, 0  # nothing to join the first prior to
        for segment in range(N_SEGMENTS):
            table, phase = KIND_TABLE[segment], SEGMENT_PHASE[segment]
            for _ in range(segments[i, segment]):
                k = _uindex(j)
                v = u_kind[k]
                b = _inverse_cdf_bin(v, table)
                c = _inverse_cdf_search(cdf, codes, bounds, table, v) if jump[b] else start[b]
                cls[k] = c
                kind[k] = class_kind[c]
                felony[k] = class_felony[c]
                foreign[k] = class_foreign[c]
                before_first[k] = segment <= PRE_AGGRAVATED
                removed[k] = segment != LAST
                # Entry convictions are their own sentences; a foreign sentence is never part of
                # a domestic one (classes 13-14 and 15-19). One uniform, nested: joined in
                # [0, pi), consecutive in [0, pi c); only between the same removals.
                flag = u_flags[k]
                join = (
                    (flag < joined_share)
                    & (c < REENTRY_CLASS)
                    & (previous_class < REENTRY_CLASS)
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

"""Generating a random block's defendants: the kernels in order, then the priors classified under
the aggravated-felony law in force on the offense date; and the calibration marginals measured on
the result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.guidelines.aggravated_felony import AggravatedFelonyLaw, classify_priors
from sim.guidelines.records import NO_OVERRIDE, Priors, Records, kind_code
from sim.model.population.kernels import (
    _DateInputs,
    _DateOut,
    _dates_kernel,
    _log_days_kernel,
    _PriorOut,
    _priors_kernel,
    _PriorUniforms,
    _RecordOut,
    _records_kernel,
    _RecordUniforms,
)
from sim.model.population.parameters import N_SEGMENTS, PopulationParameters
from sim.model.population.tables import _compile, _Compiled


class Streams(Protocol):
    """Where the generator's uniforms come from: a keyed generator per decision, for at most
    ``defendants`` defendants (:class:`sim.run.streams.RandomBlock`)."""

    @property
    def defendants(self) -> int: ...

    def generator(self, decision: str) -> np.random.Generator: ...


_ENTRY_KINDS = np.array([kind_code("illegal_reentry"), kind_code("illegal_entry")], dtype=np.int8)


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


def generate_population(
    parameters: PopulationParameters,
    streams: Streams,
    n: int,
    offense_date: dt.date,
    law: AggravatedFelonyLaw,
) -> Population:
    """The first ``n`` defendants of a random block, for offenses committed on ``offense_date``.

    Parameters
    ----------
    parameters : PopulationParameters
        The population model's numbers.
    streams : Streams
        The keyed streams of one random block (seed, replication, random block); only
        ``population.*`` decisions are read, one array draw each.
    n : int
        Defendants, ``0 <= n <= streams.defendants``. Defendant ``i`` is the same for every
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
        ``n`` outside 0-``streams.defendants``.
    """
    if not 0 <= n <= streams.defendants:
        raise ValueError(f"n {n}: allowed: 0-{streams.defendants} (one random block)")
    model = _compile(parameters)
    draw = streams.generator
    # Per defendant (module docstring, steps 1-5).
    shape = _RecordOut(
        np.empty((n, N_SEGMENTS), dtype=np.int64),
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

"""A sweep's points simulated with common random numbers and the population shared.

Every point of a sweep (:mod:`sim.analysis.sensitivity` builds them) is a validated scenario
with the same study (seed, replications, defendants): each point meets the same defendants and
the same uniforms, so that a difference between two points is the difference their parameters
make, not Monte Carlo noise (common random numbers; :mod:`sim.run.streams`).

Points whose population parameters, Manual, offense date and aggravated-felony reading are the
same (their *population key*) share each piece's population, its guideline assessment, the
facts policies read and every uniform: within a task (a chunk of points, :func:`evaluate_points`)
these are computed once per replication and piece and kept (``shared`` of
:func:`sim.run.pipeline.run_steps`), and only the arrest, the districts' policies and judges and
the tally are run per point. Nothing is kept between tasks, so a worker of a shared cluster holds
no memory once its task is done. That reuse is what makes a sweep of
thousands of points affordable (``scripts/bench_sweep.py``). Results are identical whatever the
worker count, the block size or the cache: the steps see the same numbers either way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.inputs import InputError
from sim.model.scenario import Scenario
from sim.run.backends import Backend, as_backend
from sim.run.pipeline import Draws, run_steps
from sim.run.runner import (
    StudyResult,
    processing_pieces,
    reuse_freed_memory,
    simulate_profile,
)
from sim.run.streams import RandomBlock
from sim.run.tally import StudyTally

__all__ = [
    "CACHE_DEFENDANTS",
    "CachedDraws",
    "evaluate_points",
    "population_key",
]

#: Defendant-replications whose population, assessment and uniforms a task keeps for reuse
#: (about 0.3 GB per million; beyond, each point regenerates them: identical results, slower).
CACHE_DEFENDANTS = 4_000_000

#: ``reduce(result)``: a point's figures from its study result, as (estimates, mcse) arrays.
Reduce = Callable[[StudyResult], tuple[np.ndarray, np.ndarray]]


def population_key(scenario: Scenario) -> str:
    """What a piece's population and assessment depend on besides the streams: points with the
    same key share them (the study's seed, the population parameters, the Manual, the offense
    date and the aggravated-felony definition)."""
    return json.dumps(
        [
            scenario.study.seed,
            scenario.population.model_dump(mode="json"),
            scenario.manual,
            str(scenario.date),
            scenario.aggravated_felony.model_dump(mode="json"),
        ],
        sort_keys=True,
    )


class CachedDraws(Draws):
    """:class:`sim.run.pipeline.Draws` that keeps every stream it draws (the same numbers:
    a stream's draws do not depend on who asks)."""

    def __init__(self, random_block: RandomBlock, first: int, stop: int) -> None:
        super().__init__(random_block, first, stop)
        self._kept: dict[tuple[str, int | None], np.ndarray] = {}

    def uniforms(self, decision: str, offers: int | None = None) -> np.ndarray:
        """This piece's uniforms of ``decision``, drawn once."""
        key = (decision, offers)
        if key not in self._kept:
            self._kept[key] = super().uniforms(decision, offers)
        return self._kept[key]


@dataclass
class _Shared:
    draws: CachedDraws
    memo: dict[str, object]


#: A task's kept pieces, by (replication, random block, first, stop).
_Cache = dict[tuple[int, int, int, int], _Shared]


def _caches(scenario: Scenario) -> bool:
    study = scenario.study
    return study.defendants * study.replications <= CACHE_DEFENDANTS


def _point_tally(scenario: Scenario, cache: _Cache) -> StudyTally:
    """One point's tallies: every replication and piece through the steps, sharing the pieces
    ``cache`` holds (those of the task's points with the same population key)."""
    study = scenario.study
    keep = _caches(scenario)
    tally = StudyTally.empty(
        study.replications, len(scenario.districts), len(scenario.district_pairs)
    )
    for replication in range(study.replications):
        for block, first, last in processing_pieces(0, study.defendants, study.block_size):
            where = (replication, block, first, last)
            shared = cache.get(where)
            if shared is None:
                random_block = RandomBlock(study.seed, replication, block)
                shared = _Shared(CachedDraws(random_block, first, last), {})
                if keep:
                    cache[where] = shared
            piece = run_steps(scenario, shared.draws, shared=shared.memo)
            tally.add(replication, piece.tally)
    return tally


def _evaluate(
    shared: tuple[Reduce, Callable[[Any], Scenario] | None], items: list[Any]
) -> list[tuple[np.ndarray, np.ndarray] | str]:
    """A chunk of points through every step and ``reduce``: one task. With ``build``, each item
    is turned into its scenario here (in the worker); a point ``build`` refuses (InputError)
    gives its message instead of figures. Points with the same population key share each
    piece's population, assessment and uniforms, kept for the task alone (one key at a time),
    so a worker holds nothing between tasks."""
    reduce, build = shared
    reuse_freed_memory()
    out: list[tuple[np.ndarray, np.ndarray] | str] = []
    cache: _Cache = {}
    cached_key = None
    for item in items:
        if build is None:
            scenario = item
        else:
            try:
                scenario = build(item)
            except InputError as error:
                out.append(str(error))
                continue
        key = population_key(scenario)
        if key != cached_key:
            cache.clear()  # another population: keep one at a time
            cached_key = key
        profiles = {
            name: simulate_profile(scenario, index, name)
            for index, name in enumerate(scenario.profiles)
        }
        out.append(reduce(StudyResult(scenario, _point_tally(scenario, cache), profiles)))
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def evaluate_points(
    points: Sequence[Any],
    reduce: Reduce,
    workers: int | Backend = 1,
    progress: Callable[[int, int], None] | None = None,
    chunk: int | None = None,
    build: Callable[[Any], Scenario] | None = None,
    on_invalid: Callable[[int, str], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Simulate every point with common random numbers and reduce each to its figures.

    Parameters
    ----------
    points : sequence
        The points: scenarios, all with the same ``study`` (seed, replications, defendants);
        or, with ``build``, what ``build`` turns into such a scenario (in the worker, so that
        validating thousands of scenarios is shared by the workers too).
    reduce : callable
        ``reduce(result)`` → (estimates, mcse), two arrays of the same length for every point;
        picklable when ``workers`` > 1.
    workers : int or Backend
        Worker processes (1: this process), or an open backend (:mod:`sim.run.backends`).
        Results are identical for any of them.
    progress : callable, optional
        ``progress(done_points, total_points)`` after each chunk.
    chunk : int, optional
        Points per worker task (default: about four tasks per worker, at most 64 points).
    build : callable, optional
        ``build(point)`` → Scenario; may raise :class:`sim.inputs.InputError` for a point.
    on_invalid : callable, optional
        ``on_invalid(index, message)`` for a point ``build`` refused, when its chunk arrives (in
        point order); it may raise to stop the sweep. Such points are left out of the result.

    Returns
    -------
    (estimates, mcse, kept) : arrays of shape (kept points, figures), and the kept points'
        indices.

    Raises
    ------
    ValueError
        Scenarios whose studies differ (they would not share random numbers).
    """
    if not points:
        return np.empty((0, 0)), np.empty((0, 0)), []
    if build is None:
        study = points[0].study
        for index, scenario in enumerate(points):
            if scenario.study != study:
                raise ValueError(f"point {index}: its study differs from point 0's")
    backend = as_backend(workers)
    size = chunk or max(1, min(64, -(-len(points) // (4 * backend.workers))))
    chunks = list(_chunks(points, size))
    arrived: dict[int, list[tuple[np.ndarray, np.ndarray] | str]] = {}
    results: list[tuple[np.ndarray, np.ndarray]] = []
    kept: list[int] = []
    absorbed = counted = 0

    with contextlib.closing(
        backend.map_unordered(_evaluate, (reduce, build), chunks, label="sweep")
    ) as parts:
        for index, part in parts:
            arrived[index] = part
            counted += len(part)
            # Chunks are absorbed in point order (invalid points reported in order).
            while absorbed in arrived:
                for offset, item in enumerate(arrived.pop(absorbed)):
                    point = absorbed * size + offset
                    if isinstance(item, str):
                        if on_invalid is not None:
                            on_invalid(point, item)
                    else:
                        results.append(item)
                        kept.append(point)
                absorbed += 1
            if progress is not None:
                progress(counted, len(points))
    estimates = np.array([r[0] for r in results], dtype=float)
    mcse = np.array([r[1] for r in results], dtype=float)
    return estimates, mcse, kept

"""The study runner: replications × blocks of synthetic defendants, every district, streamed.

For each replication the defendants are cut into processing blocks, and each block into pieces
at random-block boundaries. Every piece goes through the steps of :mod:`sim.run.pipeline`
(population, arrest, assessment, facts, decisions, districts, tally): each defendant is sentenced
in every district (the **counterfactual** view, with common random numbers) and assigned one
district by the caseload mix (the **as-arrested** view, what court statistics observe). Pieces
are reduced at once to integer tallies (histograms of whole months, counts), so memory does not
grow with the number of defendants, and integer sums make the totals identical whatever the block
size, the worker count or the order in which blocks finish.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sim.inputs import InputError
from sim.model.policy import MAX_OFFERS
from sim.model.profiles import no_deal_range, profile_pleas, profile_records
from sim.model.scenario import Scenario
from sim.run.backends import Backend, as_backend
from sim.run.pipeline import Draws, Piece, run_steps
from sim.run.streams import RANDOM_BLOCK_DEFENDANTS, RandomBlock
from sim.run.tally import BlockOutcome, StudyTally

__all__ = [
    "PROFILE_RANDOM_BLOCK",
    "TALLY_BUDGET_BYTES",
    "TASK_SENTENCINGS",
    "ProfileTally",
    "StudyResult",
    "StudyTask",
    "check_fits",
    "most_replications",
    "processing_pieces",
    "random_block_pieces",
    "reuse_freed_memory",
    "run_study",
    "simulate_block",
    "simulate_profile",
    "study_tasks",
    "tally_bytes",
    "task_blocks",
]

#: The most memory a run's tallies may take (bytes): the population's and each profile's, all
#: replications (they are kept per replication for the Monte Carlo standard errors). Sized for a
#: machine of 8 GiB or more; the default scenario (4 districts, 2 profiles) fits 9,433.
TALLY_BUDGET_BYTES = 4 * 2**30


def tally_bytes(scenario: Scenario, replications: int | None = None) -> int:
    """Bytes of tallies a run of ``scenario`` holds (with ``replications``, if given)."""
    r = scenario.study.replications if replications is None else replications
    per_tally = StudyTally.nbytes_for(r, len(scenario.districts), len(scenario.district_pairs))
    return per_tally * (1 + len(scenario.profiles))


def most_replications(scenario: Scenario) -> int:
    """The most replications of ``scenario`` whose tallies fit :data:`TALLY_BUDGET_BYTES`."""
    return TALLY_BUDGET_BYTES // tally_bytes(scenario, 1)


def check_fits(scenario: Scenario) -> None:
    """Refuse, before any work, a run whose tallies would not fit :data:`TALLY_BUDGET_BYTES`.

    Raises
    ------
    InputError
        Naming ``replications``, what they would take and how many fit.
    """
    needed = tally_bytes(scenario)
    if needed > TALLY_BUDGET_BYTES:
        districts, profiles = len(scenario.districts), len(scenario.profiles)
        raise InputError(
            f"{scenario.study.replications:,} replications of {districts} districts and "
            f"{profiles} profiles need {needed / 2**30:.1f} GiB of tallies; allowed: at most "
            f"{most_replications(scenario):,} ({TALLY_BUDGET_BYTES // 2**30} GiB; fewer "
            "districts, pairs or profiles allow more)",
            field="replications",
        )


#: Random-block numbers reserved for named profiles: profile ``k`` draws from block
#: ``PROFILE_RANDOM_BLOCK + k`` of each replication, far above any population block.
PROFILE_RANDOM_BLOCK = 1 << 40


def random_block_pieces(start: int, stop: int) -> Iterator[tuple[int, int, int]]:
    """Defendants ``start:stop`` of a replication cut at random-block boundaries, as
    (random block, first, stop) with ``first:stop`` numbered within the random block."""
    for block in range(start // RANDOM_BLOCK_DEFENDANTS, (stop - 1) // RANDOM_BLOCK_DEFENDANTS + 1):
        base = block * RANDOM_BLOCK_DEFENDANTS
        yield block, max(start, base) - base, min(stop, base + RANDOM_BLOCK_DEFENDANTS) - base


def processing_pieces(start: int, stop: int, block_size: int) -> Iterator[tuple[int, int, int]]:
    """Defendants ``start:stop`` of a replication cut into processing blocks of ``block_size``
    (memory) and each at random-block boundaries (:func:`random_block_pieces`)."""
    for first in range(start, stop, block_size):
        yield from random_block_pieces(first, min(first + block_size, stop))


def _piece(scenario: Scenario, replication: int, block: int, first: int, stop: int) -> Piece:
    """Defendants ``first:stop`` of one random block through every step."""
    draws = Draws(RandomBlock(scenario.study.seed, replication, block), first, stop)
    return run_steps(scenario, draws)


def simulate_block(scenario: Scenario, replication: int, start: int, stop: int) -> BlockOutcome:
    """Every defendant ``start:stop`` of ``replication`` in every district (their outcomes).

    The result depends only on (seed, replication, defendant numbers), never on how the
    replication is cut into blocks.
    """
    parts = [
        _piece(scenario, replication, *piece).outcome for piece in random_block_pieces(start, stop)
    ]
    if len(parts) == 1:
        return parts[0]
    return BlockOutcome(
        *(
            None if columns[0] is None else np.concatenate(columns)
            for columns in zip(*parts, strict=True)
        )
    )


# glibc's mallopt parameters (<malloc.h>).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_allocator_tuned = False


def reuse_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse; elsewhere, do nothing.

    Every piece allocates and frees arrays of a few MiB. By default glibc serves such arrays
    with mmap and hands them back to the OS when freed, so the next piece faults the same pages
    in again: on the default scenario that halved the throughput (scripts/bench_run.py).
    Serving arrays up to 32 MiB from the heap and trimming it only beyond 256 MiB free keeps the
    pages; peak memory is unchanged and still flat in the number of defendants. Results do not
    depend on it.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:  # glibc and musl (where it is a no-op); not macOS or Windows
        mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        mallopt(_M_TRIM_THRESHOLD, 256 << 20)


#: Defendant-district sentencings a task should hold at least (about a second on one core,
#: scripts/bench_run.py): on a Dask cluster each task costs a few milliseconds of scheduling and
#: transfer, which this keeps under 5% of its work (scripts/bench_scale.py).
TASK_SENTENCINGS = 4_000_000
#: Tasks per worker a run keeps at least, when it has that many processing blocks: enough for
#: the workers to share the work evenly as tasks finish.
TASKS_PER_WORKER = 4


#: One task: runs of whole processing blocks, (replication, start, stop) each, in order.
StudyTask = tuple[tuple[int, int, int], ...]


def task_blocks(scenario: Scenario, workers: int) -> int:
    """Processing blocks per task: enough for :data:`TASK_SENTENCINGS`, but no more than leaves
    :data:`TASKS_PER_WORKER` tasks per worker. A task may span replications (many small ones)."""
    study = scenario.study
    per_replication = -(-study.defendants // study.block_size)
    per_block = study.block_size * max(1, len(scenario.districts))
    wanted = -(-TASK_SENTENCINGS // per_block)
    spread = (study.replications * per_replication) // (TASKS_PER_WORKER * max(1, workers))
    return max(1, min(wanted, spread))


def _simulate_and_tally(scenario: Scenario, task: StudyTask) -> tuple[tuple[int, ...], StudyTally]:
    """A task's defendants, reduced piece by piece: each processing block's random blocks are
    simulated and tallied on their own (no concatenation), so memory stays that of one block;
    integer tallies add up to the same totals. Returns the task's replications and a tally with
    one row for each."""
    reuse_freed_memory()  # also in worker processes
    replications = tuple(dict.fromkeys(replication for replication, _, _ in task))
    tally = StudyTally.empty(
        len(replications), len(scenario.districts), len(scenario.district_pairs)
    )
    for replication, start, stop in task:
        row = replications.index(replication)
        for piece in processing_pieces(start, stop, scenario.study.block_size):
            tally.add(row, _piece(scenario, replication, *piece).tally)
    return replications, tally


def study_tasks(scenario: Scenario, first: int = 0, workers: int = 1) -> list[StudyTask]:
    """The tasks of replications ``first:``: the processing blocks of every replication in
    order, :func:`task_blocks` of them per task, each task as its runs of consecutive blocks
    within one replication, (replication, start, stop)."""
    study = scenario.study
    per_task = task_blocks(scenario, workers)
    blocks = [
        (replication, start, min(start + study.block_size, study.defendants))
        for replication in range(first, study.replications)
        for start in range(0, study.defendants, study.block_size)
    ]
    tasks = []
    for head in range(0, len(blocks), per_task):
        runs: list[tuple[int, int, int]] = []
        for replication, start, stop in blocks[head : head + per_task]:
            if runs and runs[-1][0] == replication and runs[-1][2] == start:
                runs[-1] = (replication, runs[-1][1], stop)
            else:
                runs.append((replication, start, stop))
        tasks.append(tuple(runs))
    return tasks


@dataclass(frozen=True)
class ProfileTally:
    """A named profile sentenced ``draws`` times per replication in every district.

    ``no_deal_final_range[d]``: his final range under the statutory charge, pleading as the
    profile says, without any offer. ``tally``: the draws' :class:`StudyTally` (the draws play
    the defendants: paired gaps across districts are the same man's). ``offers[r, d, k]``: draws
    that took offer ``k`` (the last column: no deal).
    """

    no_deal_final_range: np.ndarray  # (D, 2)
    no_deal_guideline_range: np.ndarray  # (D, 2)
    statutory_maximum_months: np.ndarray  # (D,)
    tally: StudyTally
    offers: np.ndarray  # (R, D, MAX_OFFERS + 1)


def _offer_counts(outcome: BlockOutcome) -> np.ndarray:
    """Per district, prosecuted draws that took each offer (the last column: no deal)."""
    counts = []
    for d in range(outcome.offer.shape[1]):
        offer = outcome.offer[outcome.prosecuted[:, d], d]
        counts.append(np.bincount(np.where(offer < 0, MAX_OFFERS, offer), minlength=MAX_OFFERS + 1))
    return np.array(counts)


def simulate_profile(scenario: Scenario, index: int, name: str) -> ProfileTally:
    """Sentence profile ``name`` ``profile_draws`` times per replication in every district: the
    pipeline's steps on a population of his record repeated."""
    profile = scenario.profiles[name]
    districts, draws = len(scenario.districts), scenario.study.profile_draws
    records = profile_records(profile, scenario.manual, scenario.date, draws)

    def population(_scenario: Scenario, _draws: Draws) -> tuple:
        return records

    replications = scenario.study.replications
    tally = StudyTally.empty(replications, districts, len(scenario.district_pairs))
    offers = np.zeros((replications, districts, MAX_OFFERS + 1), dtype=np.int64)
    for replication in range(replications):
        block = RandomBlock(scenario.study.seed, replication, PROFILE_RANDOM_BLOCK + index)
        piece = run_steps(
            scenario, Draws(block, 0, draws), population, pleas=profile_pleas(profile)
        )
        tally.add(replication, piece.tally)
        offers[replication] = _offer_counts(piece.outcome)
    no_deal = no_deal_range(profile, scenario.manual, scenario.date)
    return ProfileTally(
        no_deal_final_range=np.tile(no_deal.final_range, (districts, 1)),
        no_deal_guideline_range=np.tile(no_deal.guideline_range, (districts, 1)),
        statutory_maximum_months=np.full(districts, no_deal.statutory_maximum),
        tally=tally,
        offers=offers,
    )


@dataclass(frozen=True)
class StudyResult:
    """Everything a run produced: the scenario, its tallies and the profiles' tallies."""

    scenario: Scenario
    tally: StudyTally
    profiles: dict[str, ProfileTally]


def run_study(
    scenario: Scenario,
    workers: int | Backend = 1,
    progress: Callable[[int, int], None] | None = None,
    previous: StudyResult | None = None,
) -> StudyResult:
    """Run every replication and block of a scenario.

    Parameters
    ----------
    scenario : Scenario
    workers : int or Backend
        Worker processes on this machine (1 = run in this process), or an open backend
        (:mod:`sim.run.backends`: local processes or a Dask cluster). Results are identical
        for any of them.
    progress : callable, optional
        Called as ``progress(done_defendants, total_defendants)`` after each task.
    previous : StudyResult, optional
        A run of the same scenario with fewer replications: its replications are kept and only
        the new ones are simulated (replication r's streams do not depend on how many there are).

    Returns
    -------
    StudyResult
    """
    check_fits(scenario)
    backend = as_backend(workers)
    study = scenario.study
    first = 0 if previous is None else previous.tally.replications
    if previous is None:
        tally = StudyTally.empty(
            study.replications, len(scenario.districts), len(scenario.district_pairs)
        )
    else:
        tally = previous.tally.extended(study.replications)
    total = (study.replications - first) * study.defendants
    done = 0
    tasks = study_tasks(scenario, first, backend.workers)
    results = backend.map_unordered(_simulate_and_tally, scenario, tasks, label="sentence")
    with contextlib.closing(results):
        for _index, (replications, part) in results:
            for row, replication in enumerate(replications):
                tally.add(replication, part, row)
            done += int(part.defendants.sum())
            if progress is not None:
                progress(done, total)
    profiles = {
        name: simulate_profile(scenario, index, name)
        for index, name in enumerate(scenario.profiles)
    }
    return StudyResult(scenario, tally, profiles)

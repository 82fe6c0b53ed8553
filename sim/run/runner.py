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

import ctypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sim.inputs import InputError
from sim.model.policy import MAX_OFFERS
from sim.model.profiles import no_deal_range, profile_pleas, profile_records
from sim.model.scenario import Scenario
from sim.run.pipeline import Draws, Piece, run_steps
from sim.run.streams import RANDOM_BLOCK_DEFENDANTS, RandomBlock
from sim.run.tally import BlockOutcome, StudyTally
from sim.run.workers import worker_pool

__all__ = [
    "PROFILE_RANDOM_BLOCK",
    "TALLY_BUDGET_BYTES",
    "ProfileTally",
    "StudyResult",
    "check_fits",
    "most_replications",
    "random_block_pieces",
    "reuse_freed_memory",
    "run_study",
    "simulate_block",
    "simulate_profile",
    "tally_bytes",
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


def _simulate_and_tally(task: tuple[Scenario, int, int, int]) -> tuple[int, StudyTally]:
    """One processing block, reduced piece by piece: each random block's defendants are
    simulated and tallied on their own (no concatenation); integer tallies add up to the same
    totals."""
    scenario, replication, start, stop = task
    reuse_freed_memory()  # also in worker processes
    tally = StudyTally.empty(1, len(scenario.districts), len(scenario.district_pairs))
    for piece in random_block_pieces(start, stop):
        tally.add(0, _piece(scenario, replication, *piece).tally)
    return replication, tally


def _tasks(scenario: Scenario, first: int) -> Iterator[tuple[Scenario, int, int, int]]:
    study = scenario.study
    for replication in range(first, study.replications):
        for start in range(0, study.defendants, study.block_size):
            yield scenario, replication, start, min(start + study.block_size, study.defendants)


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
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    previous: StudyResult | None = None,
) -> StudyResult:
    """Run every replication and block of a scenario.

    Parameters
    ----------
    scenario : Scenario
    workers : int
        Worker processes (1 = run in this process). Results are identical for any value.
    progress : callable, optional
        Called as ``progress(done_defendants, total_defendants)`` after each block.
    previous : StudyResult, optional
        A run of the same scenario with fewer replications: its replications are kept and only
        the new ones are simulated (replication r's streams do not depend on how many there are).

    Returns
    -------
    StudyResult
    """
    check_fits(scenario)
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

    def absorb(replication: int, part: StudyTally) -> None:
        nonlocal done
        tally.add(replication, part)
        done += int(part.defendants[0])
        if progress is not None:
            progress(done, total)

    if workers <= 1:
        for task in _tasks(scenario, first):
            absorb(*_simulate_and_tally(task))
    else:
        with worker_pool(workers) as pool:
            for replication, part in pool.imap(_simulate_and_tally, _tasks(scenario, first)):
                absorb(replication, part)
    profiles = {
        name: simulate_profile(scenario, index, name)
        for index, name in enumerate(scenario.profiles)
    }
    return StudyResult(scenario, tally, profiles)

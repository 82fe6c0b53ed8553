"""The study runner: replications × blocks of synthetic defendants, every district, streamed.

For each replication the population is cut into processing blocks. A block is generated, its
records are assessed once by the guidelines engine, and every defendant is then sentenced in every
district (the **counterfactual** view, with common random numbers) and assigned one district by
the caseload mix (the **as-arrested** view, what court statistics observe). Each block is reduced
at once to integer tallies (histograms of whole months, counts), so memory does not grow with the
number of defendants, and integer sums make the totals identical whatever the block size, the
worker count or the order in which blocks finish.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from sim.guidelines.casefile import CaseFile, case_to_records
from sim.guidelines.editions import edition
from sim.guidelines.engine import RecordAssessment, assess, dispose
from sim.guidelines.records import Dispositions, Records
from sim.model.judge import JudgeUniforms, impose_sentences
from sim.model.policy import (
    MAX_OFFERS,
    PolicyUniforms,
    RecordFacts,
    apply_policy,
    record_facts,
    statutory_charge,
)
from sim.model.population import generate_population
from sim.model.scenario import ProfileRecord, Scenario
from sim.run.streams import RANDOM_BLOCK_DEFENDANTS, RandomBlock
from sim.run.tally import MAX_MONTHS, BlockOutcome, StudyTally, tally_block

__all__ = [
    "MAX_MONTHS",
    "PROFILE_RANDOM_BLOCK",
    "BlockOutcome",
    "ProfileTally",
    "StudyResult",
    "StudyTally",
    "run_study",
    "simulate_block",
    "simulate_profile",
    "tally_block",
]

#: Random-block numbers reserved for named profiles: profile ``k`` draws from block
#: ``PROFILE_RANDOM_BLOCK + k`` of each replication, far above any population block.
PROFILE_RANDOM_BLOCK = 1 << 40


def _pieces(start: int, stop: int) -> Iterator[tuple[int, int, int]]:
    """Defendants ``start:stop`` of a replication cut at random-block boundaries, as
    (random block, first, stop) with ``first:stop`` numbered within the random block."""
    for block in range(start // RANDOM_BLOCK_DEFENDANTS, (stop - 1) // RANDOM_BLOCK_DEFENDANTS + 1):
        base = block * RANDOM_BLOCK_DEFENDANTS
        yield block, max(start, base) - base, min(stop, base + RANDOM_BLOCK_DEFENDANTS) - base


class _PieceStreams:
    """Draws for defendants ``first:stop`` of one random block.

    A stream's first ``stop`` draws are the same however many more follow, so only ``stop`` are
    drawn, and defendant ``i`` meets the same numbers whatever piece he is processed in.
    """

    def __init__(self, scenario: Scenario, replication: int, block: int, first: int, stop: int):
        self.random_block = RandomBlock(scenario.study.seed, replication, block)
        self.first, self.stop = first, stop

    def uniforms(self, decision: str, offers: int | None = None) -> np.ndarray:
        return self.random_block.uniforms(decision, self.stop, offers)[self.first :]

    def population(self, scenario: Scenario) -> tuple[Records, np.ndarray]:
        drawn = generate_population(
            scenario.population,
            self.random_block,
            self.stop,
            scenario.date,
            scenario.aggravated_felony_law(),
        )
        if self.first == 0:
            return drawn.records, drawn.prior_removals
        return drawn.records.block(self.first, self.stop), drawn.prior_removals[self.first :]


def _offer_positions(scenario: Scenario) -> int:
    """Offer positions any district uses: the offer streams drawn."""
    return max((len(policy.offers) for policy in scenario.districts.values()), default=0)


def _policy_uniforms(draw: Callable[..., np.ndarray], offers: int) -> PolicyUniforms:
    return PolicyUniforms(
        prosecute=draw("policy.prosecute"),
        offer_extended=draw("policy.offer_extended", offers),
        offer_accepted=draw("policy.offer_accepted", offers),
        plea=draw("policy.plea"),
    )


def _judge_uniforms(draw: Callable[..., np.ndarray]) -> JudgeUniforms:
    return JudgeUniforms(position=draw("judge.position"), departure=draw("judge.departure"))


def _sentence_everywhere(
    scenario: Scenario,
    facts: RecordFacts,
    assessment: RecordAssessment,
    policy_u: PolicyUniforms,
    judge_u: JudgeUniforms,
    plea: tuple[float, int] | None = None,
) -> dict[str, np.ndarray]:
    """Every defendant in every district; ``plea`` = (probability, levels) replaces each
    district's no-deal plea behaviour (for named profiles, who plead as recorded)."""
    n = assessment.size
    codes = scenario.district_codes
    out = {
        "prosecuted": np.zeros((n, len(codes)), dtype=bool),
        "months": np.zeros((n, len(codes)), dtype=np.int32),
        "position_category": np.zeros((n, len(codes)), dtype=np.int8),
        "offer": np.full((n, len(codes)), -1, dtype=np.int8),
        "final_min_months": np.zeros((n, len(codes)), dtype=np.int32),
    }
    for d, code in enumerate(codes):
        policy = scenario.districts[code]
        if plea is not None:
            policy = policy.model_copy(
                update={
                    "plea_probability": policy.plea_probability.model_copy(
                        update={"value": plea[0]}
                    ),
                    "plea_acceptance_levels": plea[1],
                }
            )
        disposition = apply_policy(policy, facts, policy_u)
        ranges = dispose(assessment, disposition.dispositions)
        sentences = impose_sentences(
            scenario.judge,
            ranges.final_min_months,
            ranges.final_max_months,
            ranges.statutory_maximum_months,
            disposition.sentence_cap_months,
            ranges.early_disposition_reduction,
            judge_u,
        )
        prosecuted = disposition.prosecuted
        out["prosecuted"][:, d] = prosecuted
        out["months"][:, d] = np.where(prosecuted, sentences.months, 0)
        out["position_category"][:, d] = sentences.position_category
        out["offer"][:, d] = np.where(prosecuted, disposition.offer, -1)
        out["final_min_months"][:, d] = ranges.final_min_months
    return out


def _simulate_piece(
    scenario: Scenario, replication: int, block: int, first: int, stop: int
) -> BlockOutcome:
    """Sentence defendants ``first:stop`` of one random block in every district."""
    streams = _PieceStreams(scenario, replication, block, first, stop)
    records, removals = streams.population(scenario)
    assessment = assess(records, edition(scenario.manual))
    facts = record_facts(records, assessment.criminal_history_category, removals)
    out = _sentence_everywhere(
        scenario,
        facts,
        assessment,
        _policy_uniforms(streams.uniforms, _offer_positions(scenario)),
        _judge_uniforms(streams.uniforms),
    )
    weights = np.array([d.caseload_weight.value for d in scenario.districts.values()])
    cumulative = np.cumsum(weights) / weights.sum()
    arrest = np.searchsorted(cumulative, streams.uniforms("arrest.district"), side="right")
    return BlockOutcome(
        criminal_history_category=assessment.criminal_history_category,
        enhancement_levels=assessment.reentry.enhancement_levels,
        arrest_district=np.minimum(arrest, len(weights) - 1),
        **out,
    )


def simulate_block(scenario: Scenario, replication: int, start: int, stop: int) -> BlockOutcome:
    """Sentence defendants ``start:stop`` of ``replication`` in every district.

    The result depends only on (seed, replication, defendant numbers), never on how the
    replication is cut into blocks.
    """
    parts = [_simulate_piece(scenario, replication, *piece) for piece in _pieces(start, stop)]
    if len(parts) == 1:
        return parts[0]
    return BlockOutcome(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))


# glibc's mallopt parameters (<malloc.h>).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_allocator_tuned = False


def _reuse_freed_memory() -> None:
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
    _reuse_freed_memory()  # also in worker processes
    tally = StudyTally.empty(1, len(scenario.districts))
    for piece in _pieces(start, stop):
        tally.add(0, tally_block(_simulate_piece(scenario, replication, *piece)))
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


def _profile_record(scenario: Scenario, profile: ProfileRecord) -> Records:
    case = CaseFile(
        manual=scenario.manual,
        offense_date=scenario.date,
        conviction="1326(a)",
        acceptance=profile.acceptance,
        criminal_history_category=profile.criminal_history_category,
        criminal_history_points=profile.criminal_history_points,
        status=profile.status,
        priors=profile.priors,
    )
    return case_to_records([case])


def simulate_profile(scenario: Scenario, index: int, name: str) -> ProfileTally:
    """Sentence profile ``name`` ``profile_draws`` times per replication in every district."""
    profile = scenario.profiles[name]
    codes = scenario.district_codes
    draws = scenario.study.profile_draws
    record = _profile_record(scenario, profile)
    rules = edition(scenario.manual)
    single = assess(record, rules)
    removals = np.array([profile.prior_removals])
    facts = record_facts(record, single.criminal_history_category, removals)

    # The no-deal range: statutory charge, his own plea, no offer.
    no_deal = dispose(
        single,
        Dispositions(
            statutory_charge(facts),
            np.array([profile.acceptance], dtype=np.int8),
            np.zeros(1, dtype=np.int8),
        ),
    )
    repeated = record.take(np.zeros(draws, dtype=np.int64))
    assessment = assess(repeated, rules)
    facts = record_facts(repeated, assessment.criminal_history_category, np.repeat(removals, draws))
    replications = scenario.study.replications
    tally = StudyTally.empty(replications, len(codes))
    offers = np.zeros((replications, len(codes), MAX_OFFERS + 1), dtype=np.int64)
    for replication in range(replications):
        random_block = RandomBlock(scenario.study.seed, replication, PROFILE_RANDOM_BLOCK + index)

        def draw(decision: str, offers: int | None = None, _rb=random_block) -> np.ndarray:
            return _rb.uniforms(decision, draws, offers)

        # Absent a deal a profile pleads as recorded: always with his acceptance, or never.
        out = _sentence_everywhere(
            scenario,
            facts,
            assessment,
            _policy_uniforms(draw, _offer_positions(scenario)),
            _judge_uniforms(draw),
            plea=(1.0 if profile.acceptance else 0.0, profile.acceptance),
        )
        outcome = BlockOutcome(
            criminal_history_category=assessment.criminal_history_category,
            enhancement_levels=assessment.reentry.enhancement_levels,
            arrest_district=np.zeros(draws, dtype=np.int64),
            **out,
        )
        tally.add(replication, tally_block(outcome))
        for d in range(len(codes)):
            took = out["prosecuted"][:, d]
            offer = np.where(out["offer"][took, d] < 0, MAX_OFFERS, out["offer"][took, d])
            offers[replication, d] = np.bincount(offer, minlength=MAX_OFFERS + 1)
    low, high = int(no_deal.final_min_months[0]), int(no_deal.final_max_months[0])
    return ProfileTally(
        no_deal_final_range=np.tile([low, high], (len(codes), 1)),
        no_deal_guideline_range=np.tile(
            [int(no_deal.guideline_min_months[0]), int(no_deal.guideline_max_months[0])],
            (len(codes), 1),
        ),
        statutory_maximum_months=np.full(len(codes), int(no_deal.statutory_maximum_months[0])),
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
    study = scenario.study
    first = 0 if previous is None else previous.tally.replications
    if previous is None:
        tally = StudyTally.empty(study.replications, len(scenario.districts))
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
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for replication, part in pool.map(_simulate_and_tally, _tasks(scenario, first)):
                absorb(replication, part)
    profiles = {
        name: simulate_profile(scenario, index, name)
        for index, name in enumerate(scenario.profiles)
    }
    return StudyResult(scenario, tally, profiles)

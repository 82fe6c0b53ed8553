"""The simulation's step order, written once.

Every piece of defendants goes through the same steps, in this order, whether it is a slice of a
random block in a study (:mod:`sim.run.runner`), a named profile's record repeated (a profile is
a population of one record), or a piece timed by ``scripts/profile_stages.py``:

1. **population**: the records and prior removals (generated, or the profile's record);
2. **arrest**: the district that arrested each defendant, by the caseload mix (as-arrested view);
3. **assessment**: criminal history and § 2L1.2 under the edition, once per defendant;
4. **facts**: what district policies read about each record;
5. **decisions**: the uniforms of the policy and judge decisions, shared by every district
   (common random numbers);
6. **districts**: in each district, its policy (prosecution, charge, offers) gives the
   dispositions, the guidelines give the ranges, and the judge gives the months (the
   counterfactual view: every defendant in every district). A district with a population of
   its own (``districts.X.population``) then sentences, for the as-arrested view, the
   defendants arrested there as drawn from its own population: the same keyed uniforms under
   its parameters (common random numbers), its policy and judge, the same decision uniforms;
   one more population per such district, none when no district has one;
7. **tally**: the piece reduced to integer sufficient statistics.

Streams are keyed by (replication, random block, decision) (:mod:`sim.run.streams`), so a
defendant meets the same numbers whatever piece he is processed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from sim.guidelines.editions import edition
from sim.guidelines.engine import GuidelineResult, RecordAssessment, assess, dispose
from sim.guidelines.records import Records
from sim.model.arrest import arrest_districts
from sim.model.judge import JudgeUniforms, Sentences, impose_sentences
from sim.model.policy import (
    Disposition,
    DistrictPolicy,
    PolicyUniforms,
    RecordFacts,
    apply_policy,
    record_facts,
)
from sim.model.population import PopulationParameters, generate_population
from sim.model.scenario import Scenario
from sim.run.streams import RandomBlock
from sim.run.tally import BlockOutcome, StudyTally, tally_block

__all__ = ["STEPS", "Draws", "Piece", "generated_population", "run_steps"]

#: The steps, in order (the names ``run_steps`` reports to its ``lap`` callback).
STEPS = ("population", "arrest", "assessment", "facts", "decisions", "districts", "tally")


class Draws:
    """The keyed uniforms of defendants ``first:stop`` of one random block.

    A stream's first ``stop`` draws are the same however many more follow, so only ``stop`` are
    drawn, and defendant ``i`` meets the same numbers whatever piece he is processed in.
    """

    def __init__(self, random_block: RandomBlock, first: int, stop: int) -> None:
        self.random_block, self.first, self.stop = random_block, first, stop

    def uniforms(self, decision: str, offers: int | None = None) -> np.ndarray:
        """This piece's uniforms of ``decision`` (``offers`` columns for offer decisions)."""
        return self.random_block.uniforms(decision, self.stop, offers)[self.first :]


#: The population step: the piece's records and prior removals.
Population = Callable[[Scenario, Draws], tuple[Records, np.ndarray]]


def generated_population(
    scenario: Scenario, draws: Draws, parameters: PopulationParameters | None = None
) -> tuple[Records, np.ndarray]:
    """The synthetic defendants of a piece (:func:`sim.model.population.generate_population`),
    under ``parameters`` (a district's own population) or the scenario's population. Every
    parameter set reads the same keyed uniforms (common random numbers)."""
    drawn = generate_population(
        parameters or scenario.population,
        draws.random_block,
        draws.stop,
        scenario.date,
        scenario.aggravated_felony_law(),
    )
    if draws.first == 0:
        return drawn.records, drawn.prior_removals
    return drawn.records.block(draws.first, draws.stop), drawn.prior_removals[draws.first :]


class Piece(NamedTuple):
    """What the steps made of a piece: every defendant's outcome, and its tally."""

    outcome: BlockOutcome
    tally: StudyTally


def _no_lap(step: str) -> None:
    """The default ``lap``: nothing to time."""


def run_steps(
    scenario: Scenario,
    draws: Draws,
    population: Population = generated_population,
    *,
    pleas: tuple[float, int] | None = None,
    lap: Callable[[str], None] = _no_lap,
    shared: dict[str, object] | None = None,
) -> Piece:
    """Run the steps (module docstring) on one piece.

    Parameters
    ----------
    scenario : Scenario
    draws : Draws
        The piece's keyed uniforms.
    population : callable, optional
        The population step; generated defendants by default.
    pleas : (probability, levels), optional
        Replaces every district's no-deal plea behaviour (a named profile pleads as recorded).
    lap : callable, optional
        Called with each step's name when it is done (``scripts/profile_stages.py`` times them).
    shared : dict, optional
        The piece's population, assessment and facts, kept from an earlier call with a scenario
        whose population, Manual, offense date and aggravated-felony reading are the same (a
        sweep's points, :mod:`sim.run.sweep`): filled on the first call, reused after.

    Returns
    -------
    Piece
    """
    memo: dict[str, object] = {} if shared is None else shared
    if "facts" not in memo:
        memo["population"] = population(scenario, draws)
    records, removals = memo["population"]  # type: ignore[misc]
    lap("population")
    arrest = arrest_districts(scenario, draws.uniforms("arrest.district"))
    lap("arrest")
    if "facts" not in memo:
        memo["assessment"] = assess(records, edition(scenario.manual))
    assessment: RecordAssessment = memo["assessment"]  # type: ignore[assignment]
    lap("assessment")
    if "facts" not in memo:
        memo["facts"] = record_facts(records, assessment.criminal_history_category, removals)
    facts: RecordFacts = memo["facts"]  # type: ignore[assignment]
    lap("facts")
    policy_u, judge_u = _decisions(scenario, draws)
    lap("decisions")
    outcome = _sentence_everywhere(
        scenario, facts, assessment, policy_u, judge_u, pleas, None if shared is None else memo
    )
    outcome = outcome._replace(arrest_district=arrest).with_as_arrested()
    if population is generated_population:  # a profile's record is his own in every district
        # Districts with the same numbers share one population (drawn and assessed once).
        owners: dict[PopulationParameters, list[int]] = {}
        for d, parameters in scenario.own_populations.items():
            owners.setdefault(parameters, []).append(d)
        for parameters, districts in owners.items():
            outcome = _own_population(
                scenario, draws, tuple(districts), parameters, outcome, policy_u, judge_u
            )
    lap("districts")
    tally = tally_block(outcome, scenario.district_pairs)
    lap("tally")
    return Piece(outcome, tally)


def _offer_positions(scenario: Scenario) -> int:
    """Offer positions any district uses: the offer streams drawn."""
    return max((len(policy.offers) for policy in scenario.districts.values()), default=0)


def _splits_declined(scenario: Scenario) -> bool:
    """Whether some district sends a declined defendant anywhere but administrative removal
    (only then is the ``policy.declined`` stream drawn: without it every outcome is known)."""
    return any(
        policy.prosecution.declined.administrative_removal.value < 1
        for policy in scenario.districts.values()
    )


def _decisions(scenario: Scenario, draws: Draws) -> tuple[PolicyUniforms, JudgeUniforms]:
    offers = _offer_positions(scenario)
    policy = PolicyUniforms(
        prosecute=draws.uniforms("policy.prosecute"),
        offer_extended=draws.uniforms("policy.offer_extended", offers),
        offer_accepted=draws.uniforms("policy.offer_accepted", offers),
        plea=draws.uniforms("policy.plea"),
        declined=draws.uniforms("policy.declined") if _splits_declined(scenario) else None,
    )
    judge = JudgeUniforms(draws.uniforms("judge.position"), draws.uniforms("judge.departure"))
    return policy, judge


def _with_pleas(policy: DistrictPolicy, pleas: tuple[float, int] | None) -> DistrictPolicy:
    """The policy, its no-deal plea probability and levels replaced by ``pleas``."""
    if pleas is None:
        return policy
    probability = policy.plea_probability.model_copy(update={"value": pleas[0]})
    return policy.model_copy(
        update={"plea_probability": probability, "plea_acceptance_levels": pleas[1]}
    )


def _sentence_everywhere(
    scenario: Scenario,
    facts: RecordFacts,
    assessment: RecordAssessment,
    policy_u: PolicyUniforms,
    judge_u: JudgeUniforms,
    pleas: tuple[float, int] | None,
    memo: dict[str, object] | None = None,
) -> BlockOutcome:
    """Every defendant in every district: policy → dispositions → ranges → the judge.

    With ``memo`` (a sweep's shared piece), a district whose policy, judge and plea behaviour
    are those of an earlier call gets that call's columns: with the same defendants and
    uniforms (common random numbers), its outcome is the same. At most
    :data:`_KEPT_DISTRICT_OUTCOMES` are kept per piece."""
    n, codes = assessment.size, scenario.district_codes
    shape = (n, len(codes))
    out = BlockOutcome(
        prosecuted=np.zeros(shape, dtype=bool),
        months=np.zeros(shape, dtype=np.int32),
        position_category=np.zeros(shape, dtype=np.int8),
        offer=np.full(shape, -1, dtype=np.int8),
        final_min_months=np.zeros(shape, dtype=np.int32),
        criminal_history_category=assessment.criminal_history_category,
        enhancement_levels=assessment.reentry.enhancement_levels,
        arrest_district=np.zeros(n, dtype=np.int64),
        declined_outcome=np.full(shape, -1, dtype=np.int8),
        declined_months=np.zeros(shape, dtype=np.int16),
    )
    kept: dict[object, tuple] | None = None
    if memo is not None:
        kept = memo.setdefault("districts", {})  # type: ignore[assignment]
    streams = (_offer_positions(scenario), _splits_declined(scenario))
    for d, code in enumerate(codes):
        policy = scenario.districts[code]
        judge = policy.judge or scenario.judge
        key = (policy.model_dump_json(), judge.model_dump_json(), pleas, streams)
        if kept is not None and key in kept:
            columns = kept[key]
        else:
            columns = _sentence_district(
                policy, scenario, facts, assessment, policy_u, judge_u, pleas
            )
            if kept is not None and len(kept) < _KEPT_DISTRICT_OUTCOMES:
                kept[key] = columns
        (
            out.prosecuted[:, d],
            out.months[:, d],
            out.position_category[:, d],
            out.offer[:, d],
            out.final_min_months[:, d],
            out.declined_outcome[:, d],
            out.declined_months[:, d],
        ) = columns
    return out


#: District outcomes a sweep's shared piece keeps for reuse (each a few bytes per defendant).
_KEPT_DISTRICT_OUTCOMES = 64


def _sentence_district(
    policy: DistrictPolicy,
    scenario: Scenario,
    facts: RecordFacts,
    assessment: RecordAssessment,
    policy_u: PolicyUniforms,
    judge_u: JudgeUniforms,
    pleas: tuple[float, int] | None,
) -> tuple[np.ndarray, ...]:
    """One district's columns of the outcome (prosecuted, months, position, offer, final
    minimum, declined outcome, declined months)."""
    disposition, ranges, sentences = _sentence_in(
        scenario, _with_pleas(policy, pleas), facts, assessment, policy_u, judge_u
    )
    prosecuted = disposition.prosecuted
    return (
        prosecuted,
        np.where(prosecuted, sentences.months, 0),
        sentences.position_category,
        np.where(prosecuted, disposition.offer, -1),
        ranges.final_min_months,
        disposition.declined_outcome,
        disposition.declined_months,
    )


def _sentence_in(
    scenario: Scenario,
    policy: DistrictPolicy,
    facts: RecordFacts,
    assessment: RecordAssessment,
    policy_u: PolicyUniforms,
    judge_u: JudgeUniforms,
) -> tuple[Disposition, GuidelineResult, Sentences]:
    """One district's policy → dispositions → ranges → its judge, for every defendant given."""
    disposition = apply_policy(policy, facts, policy_u)
    ranges = dispose(assessment, disposition.dispositions)
    sentences = impose_sentences(
        policy.judge or scenario.judge,  # the district's own judge, else the scenario's
        ranges.final_min_months,
        ranges.final_max_months,
        ranges.statutory_maximum_months,
        disposition.sentence_cap_months,
        ranges.early_disposition_reduction,
        judge_u,
        disposition.sentence_floor_months,
        disposition.stipulated_months,
    )
    return disposition, ranges, sentences


def _own_population(
    scenario: Scenario,
    draws: Draws,
    districts: tuple[int, ...],
    parameters: PopulationParameters,
    outcome: BlockOutcome,
    policy_u: PolicyUniforms,
    judge_u: JudgeUniforms,
) -> BlockOutcome:
    """The as-arrested view of ``districts``, which share a population of their own: defendant
    ``i`` arrested in one of them is the ``i``-th of a population generated under ``parameters``
    from the same keyed uniforms (common random numbers: same draws, other parameters),
    assessed once, and sentenced by his arrest district's policy and judge with the same
    decision uniforms. Only the defendants arrested in ``districts`` are assessed and sentenced
    (each district's policy applied to all of them, kept for its own); the counterfactual arrays
    (every district, the scenario's population) are left as they are."""
    arrest = outcome.arrest_district
    here = np.flatnonzero(np.isin(arrest, districts))
    if here.size == 0:
        return outcome
    records, removals = generated_population(scenario, draws, parameters)
    records, removals = records.take(here), removals[here]
    assessment = assess(records, edition(scenario.manual))
    facts = record_facts(records, assessment.criminal_history_category, removals)
    policy_u = PolicyUniforms(*(None if u is None else u[here] for u in policy_u))
    judge_u = JudgeUniforms(*(u[here] for u in judge_u))
    changed = {name: getattr(outcome, name).copy() for name in _ARRESTED}
    for d in districts:
        mine = arrest[here] == d
        if not mine.any():
            continue
        policy = scenario.districts[scenario.district_codes[d]]
        disposition, ranges, sentences = _sentence_in(
            scenario, policy, facts, assessment, policy_u, judge_u
        )
        prosecuted = disposition.prosecuted
        arrays = {
            "arrested_prosecuted": prosecuted,
            "arrested_months": np.where(prosecuted, sentences.months, 0),
            "arrested_position": sentences.position_category,
            "arrested_minimum": ranges.final_min_months,
            "arrested_declined_outcome": disposition.declined_outcome,
            "arrested_declined_months": disposition.declined_months,
            "arrested_enhancement": assessment.reentry.enhancement_levels,
        }
        for name, values in arrays.items():
            changed[name][here[mine]] = values[mine]
    return outcome._replace(**changed)


#: The as-arrested arrays a district's own population fills (BlockOutcome).
_ARRESTED = tuple(name for name in BlockOutcome._fields if name.startswith("arrested_"))

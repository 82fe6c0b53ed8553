"""Where the study runner's time goes: nanoseconds per defendant for each pipeline stage.

Runs the stages of ``sim.run.runner`` by hand on the default scenario (one replication, pieces of
one random block each, as ``run_study`` processes them), after a warm-up pass so that compilation
and first-touch costs are excluded, and prints the best of ``--repeats`` passes per stage:

    python scripts/profile_stages.py [--defendants 500000] [--repeats 3]

Stages: population (draws and records), assessment (criminal history and § 2L1.2, once per
defendant), facts (what policies read), uniforms (policy, judge, arrest draws), districts
(policy, dispositions and sentence in every district), tally (reduction to integer tallies).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defendants", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from sim import runner
    from sim.guidelines.editions import edition
    from sim.guidelines.engine import assess
    from sim.model.policy import record_facts
    from sim.model.scenario import load_scenario
    from sim.run.tally import BlockOutcome, tally_block

    scenario, _ = load_scenario(None, {"defendants": args.defendants, "replications": 1})
    stages = ("population", "assessment", "facts", "uniforms", "districts", "tally")

    def one_pass() -> dict[str, float]:
        seconds = dict.fromkeys(stages, 0.0)
        for piece in runner._pieces(0, args.defendants):
            clock = [time.perf_counter()]

            def lap(stage: str, _clock: list[float] = clock) -> None:
                now = time.perf_counter()
                seconds[stage] += now - _clock[0]
                _clock[0] = now

            streams = runner._PieceStreams(scenario, 0, *piece)
            records, removals = streams.population(scenario)
            lap("population")
            assessment = assess(records, edition(scenario.manual))
            lap("assessment")
            facts = record_facts(records, assessment.criminal_history_category, removals)
            lap("facts")
            policy_u = runner._policy_uniforms(streams.uniforms, runner._offer_positions(scenario))
            judge_u = runner._judge_uniforms(streams.uniforms)
            arrest = streams.uniforms("arrest.district")
            lap("uniforms")
            out = runner._sentence_everywhere(scenario, facts, assessment, policy_u, judge_u)
            lap("districts")
            tally_block(
                BlockOutcome(
                    criminal_history_category=assessment.criminal_history_category,
                    enhancement_levels=assessment.reentry.enhancement_levels,
                    arrest_district=np.zeros(len(arrest), dtype=np.int64),
                    **out,
                )
            )
            lap("tally")
        return seconds

    runner._reuse_freed_memory()  # as run_study does
    one_pass()  # warm-up: compilation, caches, first touch
    best = dict.fromkeys(stages, float("inf"))
    for _ in range(args.repeats):
        for stage, s in one_pass().items():
            best[stage] = min(best[stage], s)

    districts = len(scenario.districts)
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}; "
        f"{args.defendants:,} defendants, {districts} districts, best of {args.repeats}"
    )
    for stage in stages:
        print(f"{stage:>12} {best[stage] / args.defendants * 1e9:8.1f} ns per defendant")
    total = sum(best.values()) / args.defendants
    print(f"{'total':>12} {total * 1e9:8.1f} ns per defendant")
    print(f"{'':>12} {districts / total:,.0f} sentencings per second (stages only)")


if __name__ == "__main__":
    main()

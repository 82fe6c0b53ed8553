"""Where the study runner's time goes: nanoseconds per defendant for each step of the pipeline.

Runs the real steps (``sim.run.pipeline.run_steps``, timed through its ``lap`` callback) on the
default scenario, one replication, in pieces of one random block each as ``run_study`` processes
them, after a warm-up pass so that compilation and first-touch costs are excluded, and prints the
best of ``--repeats`` passes per step:

    python scripts/profile_stages.py [--defendants 500000] [--repeats 3]

Steps: population (draws and records), arrest, assessment (criminal history and § 2L1.2, once per
defendant), facts (what policies read), decisions (policy and judge uniforms), districts (policy,
dispositions and sentence in every district), tally (reduction to integer tallies).
"""

from __future__ import annotations

import argparse
import platform
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defendants", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from sim.model.scenario import load_scenario
    from sim.run.pipeline import STEPS, Draws, run_steps
    from sim.run.runner import random_block_pieces, reuse_freed_memory
    from sim.run.streams import RandomBlock

    scenario, _ = load_scenario(None, {"defendants": args.defendants, "replications": 1})

    def one_pass() -> dict[str, float]:
        seconds = dict.fromkeys(STEPS, 0.0)
        for block, first, stop in random_block_pieces(0, args.defendants):
            clock = [time.perf_counter()]

            def lap(step: str, _clock: list[float] = clock) -> None:
                now = time.perf_counter()
                seconds[step] += now - _clock[0]
                _clock[0] = now

            draws = Draws(RandomBlock(scenario.study.seed, 0, block), first, stop)
            run_steps(scenario, draws, lap=lap)
        return seconds

    reuse_freed_memory()  # as run_study does
    one_pass()  # warm-up: compilation, caches, first touch
    best = dict.fromkeys(STEPS, float("inf"))
    for _ in range(args.repeats):
        for step, s in one_pass().items():
            best[step] = min(best[step], s)

    districts = len(scenario.districts)
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}; "
        f"{args.defendants:,} defendants, {districts} districts, best of {args.repeats}"
    )
    for step in STEPS:
        print(f"{step:>12} {best[step] / args.defendants * 1e9:8.1f} ns per defendant")
    total = sum(best.values()) / args.defendants
    print(f"{'total':>12} {total * 1e9:8.1f} ns per defendant")
    print(f"{'':>12} {districts / total:,.0f} sentencings per second (steps only)")


if __name__ == "__main__":
    main()

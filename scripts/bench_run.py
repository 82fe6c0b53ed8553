"""Benchmark the study runner: defendant-district sentencings per second and peak memory.

Runs the built-in default scenario (four districts) with one replication for each N, each in a
fresh process so that its peak resident memory is its own, on one worker (one core). Each
process first runs 10,000 defendants untimed in the rate (start-up: loading or compiling the
numba kernels), reported in its own column, then times ``--repeats`` runs of N and reports the
best and the median (the machine is shared: a single run can be slowed by other work):

    python scripts/bench_run.py [--sizes 100000 1000000 10000000] [--block-size 50000]
                                [--repeats 3]

A sentencing is one defendant sentenced in one district (counterfactual view), so a run of N
defendants in D districts performs N x D sentencings. Population generation, record assessment,
policy, sentencing and tallying are all included in the time.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

#: Defendants of the start-up run, timed apart from the rate.
WARM_UP_DEFENDANTS = 10_000


def child(defendants: int, block_size: int, repeats: int) -> None:
    from sim.model.scenario import load_scenario
    from sim.run.runner import run_study

    def scenario_of(n: int):
        overrides = {"defendants": n, "replications": 1, "block_size": block_size}
        return load_scenario(None, {**overrides, "profile_draws": 1})[0]

    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Start-up, timed on its own: the first run loads the compiled kernels from numba's cache
    # (or compiles them, on a fresh checkout) and touches the tables; a run pays it once.
    start = time.perf_counter()
    run_study(scenario_of(WARM_UP_DEFENDANTS), workers=1)
    warm_up_seconds = time.perf_counter() - start
    scenario = scenario_of(defendants)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_study(scenario, workers=1)
        seconds.append(time.perf_counter() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "defendants": defendants,
                "districts": len(scenario.districts),
                "seconds": seconds,
                "warm_up_seconds": warm_up_seconds,
                "peak_rss_mib": peak_kib / 1024,
                "baseline_rss_mib": baseline_kib / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--block-size", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.block_size, args.repeats)
        return
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, one worker, "
        f"best and median of {args.repeats} runs"
    )
    print(
        f"{'defendants':>12} {'sentencings':>13} {'best s':>8} {'best sentencings/s':>19} "
        f"{'median sentencings/s':>21} {'peak RSS MiB':>13} {'after import MiB':>17} "
        f"{'start-up s':>11}"
    )
    for n in args.sizes:
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                *("--child", str(n), "--block-size", str(args.block_size)),
                *("--repeats", str(args.repeats)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(completed.stdout)
        sentencings = r["defendants"] * r["districts"]
        best, median = min(r["seconds"]), statistics.median(r["seconds"])
        print(
            f"{r['defendants']:>12,} {sentencings:>13,} {best:>8.2f} "
            f"{sentencings / best:>19,.0f} {sentencings / median:>21,.0f} "
            f"{r['peak_rss_mib']:>13.0f} {r['baseline_rss_mib']:>17.0f} "
            f"{r['warm_up_seconds']:>11.2f}"
        )


if __name__ == "__main__":
    main()

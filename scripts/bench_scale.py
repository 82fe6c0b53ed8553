"""Benchmark scale-out: the default study's simulation on 1 and 2 workers, local and Dask.

For each backend (``local``: a pool of processes; ``dask``: a LocalCluster of single-threaded
worker processes) and worker count, a fresh process opens the backend, runs a small study once
untimed (start-up: the workers load the compiled kernels), then times ``--repeats`` runs of the
study's simulation (:func:`sim.run.runner.run_study`: every replication, block and profile) and
reports the median, the speed-up over one worker of the same backend, and each worker's peak
resident memory after a run of ``--defendants`` and after one ten times smaller (flat memory: the
two agree). The scheduler's overhead is what one Dask worker adds to the same work done in this
process, in total and per task:

    python scripts/bench_scale.py [--defendants 500000] [--replications 20] [--repeats 3]
                                  [--national-defendants 200000]

The overhead is measured paired: in one process with a one-worker Dask cluster open, runs in
the process and on the cluster are taken in turn, so that this shared machine's drifting speed
falls on both alike; then a trivial task's round trip. With ``--national-defendants`` N (0:
skip), the 94-district FY2013 scenario (one replication of N defendants) is measured the same
way: the figures ``docs/cluster.md`` projects a 94-district, 10⁸-defendant study from.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scenario(national: bool, defendants: int, replications: int):
    """The default scenario, or the 94-district FY2013 one, at the size given."""
    from sim.model.scenario import load_scenario

    config = ROOT / "configs" / "national-fy2013.yaml" if national else None
    return load_scenario(config, {"defendants": defendants, "replications": replications})[0]


def child(args: argparse.Namespace) -> None:
    from sim.run.backends import open_backend
    from sim.run.runner import run_study, study_tasks

    scenario_of = functools.partial(_scenario, args.national)

    scenario = scenario_of(args.defendants, args.replications)
    small = scenario_of(max(args.defendants // 10, 1), args.replications)
    opened = time.perf_counter()
    with open_backend(args.backend, args.workers) as backend:
        warm_up = scenario_of(20_000, 1)
        run_study(warm_up, workers=backend)  # start-up: kernels loaded here (and forked)
        if args.backend == "dask":  # and in every Dask worker, which are not forked from here
            backend.client.run(run_study, warm_up)
        start_up = time.perf_counter() - opened

        def worker_peaks() -> list[float]:
            if args.backend == "dask":
                return sorted(backend.client.run(_peak_rss_mib).values())
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            return [children] if args.workers > 1 else [_peak_rss_mib()]

        run_study(small, workers=backend)
        small_peaks = worker_peaks()
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            run_study(scenario, workers=backend)
            seconds.append(time.perf_counter() - started)
        peaks = worker_peaks()
    tasks = len(study_tasks(scenario, 0, args.workers))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "start_up_seconds": start_up,
                "tasks": tasks,
                "districts": len(scenario.districts),
                "worker_peak_mib": peaks,
                "worker_peak_small_mib": small_peaks,
            }
        )
    )


def _nothing(_: int) -> None:
    return None


def _tally_mb(scenario) -> float:
    from sim.run.tally import StudyTally

    return StudyTally.nbytes_for(1, len(scenario.districts), len(scenario.district_pairs)) / 1e6


def _merge_seconds(scenario, times: int = 200) -> float:
    """What the client spends on one task's one-replication tally: unpickling it (as it
    arrives) and adding it in."""
    import pickle

    from sim.run.tally import StudyTally

    districts, pairs = len(scenario.districts), len(scenario.district_pairs)
    part, total = StudyTally.empty(1, districts, pairs), StudyTally.empty(10, districts, pairs)
    sent = pickle.dumps(part, protocol=5)
    started = time.perf_counter()
    for i in range(times):
        total.add(i % 10, pickle.loads(sent))
    return (time.perf_counter() - started) / times


def paired_child(args: argparse.Namespace) -> None:
    """The scheduler's overhead, paired: runs in this process and on a one-worker Dask cluster
    taken in turn, so that the machine's drifting speed falls on both alike."""
    from sim.run.backends import open_backend
    from sim.run.runner import run_study, study_tasks

    scenario_of = functools.partial(_scenario, args.national)

    scenario, warm_up = scenario_of(args.defendants, args.replications), scenario_of(20_000, 1)
    here, there = [], []
    with open_backend("dask", 1) as backend:
        run_study(warm_up)
        backend.client.run(run_study, warm_up)
        for _ in range(args.repeats):
            for seconds, workers in ((here, 1), (there, backend)):
                started = time.perf_counter()
                run_study(scenario, workers=workers)
                seconds.append(time.perf_counter() - started)
        client = backend.client
        started = time.perf_counter()
        for future in client.map(_nothing, range(args.round_trips), pure=False):
            future.result()
        round_trip = (time.perf_counter() - started) / max(args.round_trips, 1)
    merge = _merge_seconds(scenario)
    print(
        json.dumps(
            {
                "local_seconds": here,
                "dask_seconds": there,
                "tasks": len(study_tasks(scenario, 0, 1)),
                "districts": len(scenario.districts),
                "round_trip_seconds": round_trip,
                "merge_seconds": merge,
                "tally_mb": _tally_mb(scenario),
            }
        )
    )


def measure(
    backend: str,
    workers: int,
    defendants: int,
    replications: int,
    repeats: int,
    national: bool = False,
    round_trips: int = 0,
    paired: bool = False,
) -> dict:
    command = [
        sys.executable,
        __file__,
        "--paired" if paired else "--child",
        *("--backend", backend, "--workers", str(workers)),
        *("--defendants", str(defendants), "--replications", str(replications)),
        *("--repeats", str(repeats), "--round-trips", str(round_trips)),
    ]
    if national:
        command.append("--national")
    completed = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defendants", type=int, default=500_000)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--national-defendants", type=int, default=200_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--paired", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="local", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--national", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--round-trips", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.paired:
        paired_child(args)
        return
    import os
    import platform

    total = args.defendants * args.replications
    print(
        f"default scenario: {args.replications} replications x {args.defendants:,} defendants = "
        f"{total:,} defendants x 4 districts; median of {args.repeats} runs; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'backend':>8} {'workers':>8} {'tasks':>6} {'median s':>9} {'runs s':>20} "
        f"{'sentencings/s':>14} {'speed-up':>9} {'start-up s':>11} {'worker peak MiB':>22}"
    )
    results = {}
    for backend in ("local", "dask"):
        for workers in (1, 2):
            r = measure(backend, workers, args.defendants, args.replications, args.repeats)
            results[backend, workers] = r
            median = statistics.median(r["seconds"])
            one = statistics.median(results[backend, 1]["seconds"])
            peaks = "/".join(f"{p:.0f}" for p in r["worker_peak_mib"])
            small = "/".join(f"{p:.0f}" for p in r["worker_peak_small_mib"])
            print(
                f"{backend:>8} {workers:>8} {r['tasks']:>6} {median:>9.2f} "
                f"{' '.join(f'{s:.2f}' for s in r['seconds']):>20} "
                f"{total * r['districts'] / median:>14,.0f} {one / median:>8.2f}x "
                f"{r['start_up_seconds']:>11.2f} {peaks + ' (' + small + ' at 1/10)':>22}"
            )
    print(
        "scheduler overhead: one Dask worker against this process, the same tasks, runs taken "
        f"in turn (median of {args.repeats} each); a trivial task's round trip:"
    )
    studies = [("default", False, args.defendants, args.replications)]
    if args.national_defendants:
        studies.append(("national-fy2013", True, args.national_defendants, 1))
    for name, national, defendants, replications in studies:
        r = measure("dask", 1, defendants, replications, args.repeats, national, 200, paired=True)
        local, dask = statistics.median(r["local_seconds"]), statistics.median(r["dask_seconds"])
        sentencings = defendants * replications * r["districts"]
        print(
            f"  {name} ({r['districts']} districts, {replications} x {defendants:,} defendants, "
            f"{r['tasks']} tasks of {sentencings / r['tasks']:,.0f} sentencings): local "
            f"{local:.2f} s ({sentencings / local:,.0f} sentencings/s), dask {dask:.2f} s; "
            f"overhead {(dask - local) / dask:+.1%} = {(dask - local) / r['tasks'] * 1000:+.0f} ms "
            f"per task; round trip {r['round_trip_seconds'] * 1000:.1f} ms; the client's merge "
            f"of a task's {r['tally_mb']:.2f} MB tally {r['merge_seconds'] * 1000:.2f} ms"
        )


if __name__ == "__main__":
    main()

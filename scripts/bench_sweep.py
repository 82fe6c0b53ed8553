"""Benchmark a Sobol' sweep: points per second and sentencings per second (issue 13).

The issue's benchmark: a Sobol' sweep of 8 parameters with N = 256 base samples (Saltelli without
second order: N·(k + 2) = 2,560 points) at 10⁵ defendants per point, on this 2-core machine,
target under 3 minutes. Population reuse (one population, assessment and set of uniforms per
replication and piece, shared by every point; :mod:`sim.run.sweep`) is what makes it possible.

    python scripts/bench_sweep.py [--base-samples 256] [--defendants 50000] [--replications 2]
                                  [--workers 2]

The 8 factors are assumptions of configs/california-1995.yaml that carry ranges, among them the
two readings of the 1995 deal (panel, dissent) as a discrete factor. A sentencing is one
defendant sentenced in one district, so a point performs defendants × replications × 4. The
first 10 points are run untimed (start-up: numba kernels, the population). The load average is
printed before and after (the machine is shared), with the CPU seconds of the process and its
workers: on an idle machine the sweep takes about CPU seconds / workers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

#: The 8 factors (paths into configs/california-1995.yaml).
FACTORS = [
    "alternatives.deal-reading",
    "districts.CAS.offers[0].offer_probability",
    "districts.CAS.offers[0].acceptance_probability",
    "districts.CAS.offers[1].offer_probability",
    "districts.CAC.plea_probability",
    "districts.CAS.plea_probability",
    "districts.CAC.prosecution.probability",
    "judge.time_served_months",
]
OUTPUTS = ["headline.gap_months", "pairwise.CAC-CAS.mean_difference_months"]


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished children (workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-samples", type=int, default=256)
    parser.add_argument("--defendants", type=int, default=50_000)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()

    import yaml

    from sim.analysis.sensitivity import load_sweep, run_sweep

    root = Path(__file__).resolve().parents[1]
    spec = {
        "scenario": str(root / "configs" / "california-1995.yaml"),
        "vary": FACTORS,
        "design": {"method": "sobol", "base_samples": arguments.base_samples},
        "outputs": OUTPUTS,
        "study": {
            "defendants": arguments.defendants,
            "replications": arguments.replications,
            "seed": 1,
        },
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        path.write_text(yaml.safe_dump(spec))
        sweep = load_sweep(path)
        warm = load_sweep(path)
        warm.base_samples = 1  # 10 points: start-up, untimed
        load_before = os.getloadavg()
        started = time.perf_counter()
        run_sweep(warm, workers=1)
        warm_seconds = time.perf_counter() - started
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        result = run_sweep(sweep, workers=arguments.workers)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    points = len(result.inputs)
    sentencings = points * arguments.defendants * arguments.replications * 4
    summary = result.summary()
    print(
        json.dumps(
            {
                "factors": len(FACTORS),
                "base_samples": arguments.base_samples,
                "points": points,
                "defendants_per_point": arguments.defendants * arguments.replications,
                "workers": arguments.workers,
                "start_up_seconds": round(warm_seconds, 2),
                "wall_seconds": round(seconds, 2),
                "points_per_second": round(points / seconds, 2),
                "sentencings_per_second": round(sentencings / seconds),
                "target_met": seconds < 180,
                # CPU time of this process and its workers: on an idle machine the sweep takes
                # about cpu / workers seconds (the machine is shared; see the load average).
                "cpu_seconds": round(cpu, 1),
                "idle_machine_estimate_seconds": round(cpu / arguments.workers, 1),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "cpu_count": os.cpu_count(),
                "headline_gap": summary["outputs"]["headline.gap_months"],
                "sobol_headline_gap": summary["sobol"]["headline.gap_months"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: defendants sentenced per second, array engine vs the scalar reference.

Draws random (uncalibrated) records, sentences all of them with the array engine (numba kernels
over the struct-of-arrays batch), then a subsample with the scalar reference, checks the two agree
on that subsample, and prints rates.

    python scripts/bench_engine.py [--defendants 1000000] [--block-size 32768]
                                   [--reference-sample 20000] [--manual 1995]

The engine is timed twice: on all records in one call, and block by block (the way the study
runner feeds it, which keeps arrays in cache).

The records are for timing only: uniform draws over every field, 0-10 priors each, not a
population model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time

import numpy as np

from sim.guidelines.engine import compute_guidelines
from sim.guidelines.records import CONVICTIONS, PRIOR_KINDS, Defendants, Priors, bytes_per_defendant
from sim.guidelines.reference import reference_worksheet
from sim.guidelines.table import CATEGORY_NAMES


def random_defendants(rng: np.random.Generator, n: int, manual: int) -> Defendants:
    """``n`` random records (0-10 priors each) valid under ``manual``."""
    counts = rng.integers(0, 11, size=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    p = int(offsets[-1])
    felony = rng.random(p) < 0.7
    imposed = np.round(rng.uniform(0, 25, p), 1)
    released = np.where(rng.random(p) < 0.6, np.round(imposed * rng.random(p), 1), np.nan)
    before_first = rng.random(p) < 0.5
    priors = Priors(
        kind=rng.integers(0, len(PRIOR_KINDS), p).astype(np.int8),
        felony=felony,
        aggravated_felony=felony & (rng.random(p) < 0.4),
        sentence_imposed_months=np.round(rng.exponential(18, p), 1),
        imposed_years_ago=imposed,
        released_years_ago=released,
        before_first_removal=before_first,
        removed_after_conviction=before_first | (rng.random(p) < 0.7),
        foreign=rng.random(p) < 0.05,
        single_sentence_group=np.where(rng.random(p) < 0.2, rng.integers(0, 3, p), -1).astype(
            np.int16
        ),
        consecutive=rng.random(p) < 0.3,
    )
    return Defendants(
        conviction=rng.integers(0, len(CONVICTIONS), n).astype(np.int8),
        offense_date=np.datetime64("1995-01-01")
        + rng.integers(0, 30 * 365, n).astype("timedelta64[D]"),
        acceptance_levels=rng.choice(np.array([0, 2, 3], dtype=np.int8), n),
        early_disposition_levels=(rng.integers(0, 5, n) if manual >= 2003 else np.zeros(n)).astype(
            np.int8
        ),
        under_sentence=rng.random(n) < 0.3,
        zero_point_criteria_met=rng.random(n) < 0.9,
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=offsets,
        priors=priors,
    )


def case_dict(d: Defendants, i: int, manual: int) -> dict:
    """Defendant ``i`` as a case-file mapping, for the scalar reference."""
    pr = d.priors
    priors = []
    for j in range(d.prior_offsets[i], d.prior_offsets[i + 1]):
        prior = {
            "kind": PRIOR_KINDS[pr.kind[j]],
            "felony": bool(pr.felony[j]),
            "aggravated_felony": bool(pr.aggravated_felony[j]),
            "sentence_imposed_months": float(pr.sentence_imposed_months[j]),
            "imposed_years_ago": float(pr.imposed_years_ago[j]),
            "before_first_removal": bool(pr.before_first_removal[j]),
            "removed_after_conviction": bool(pr.removed_after_conviction[j]),
            "foreign": bool(pr.foreign[j]),
            "consecutive": bool(pr.consecutive[j]),
        }
        if not np.isnan(pr.released_years_ago[j]):
            prior["released_years_ago"] = float(pr.released_years_ago[j])
        if pr.single_sentence_group[j] >= 0:
            prior["single_sentence_group"] = int(pr.single_sentence_group[j])
        priors.append(prior)
    return {
        "manual": manual,
        "conviction": CONVICTIONS[d.conviction[i]],
        "offense_date": dt.date.fromisoformat(str(d.offense_date[i])),
        "acceptance": int(d.acceptance_levels[i]),
        "early_disposition_levels": int(d.early_disposition_levels[i]),
        "status": "under_sentence" if d.under_sentence[i] else "none",
        "zero_point_criteria_met": bool(d.zero_point_criteria_met[i]),
        "priors": priors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defendants", type=int, default=1_000_000)
    parser.add_argument("--reference-sample", type=int, default=20_000)
    parser.add_argument("--manual", type=int, default=1995)
    parser.add_argument("--block-size", type=int, default=32_768)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20001)
    args = parser.parse_args()

    rng = np.random.default_rng(np.random.SeedSequence(args.seed))
    defendants = random_defendants(rng, args.defendants, args.manual)
    n, p = len(defendants), len(defendants.priors)

    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = compute_guidelines(defendants, args.manual)
        timings.append(time.perf_counter() - start)
    vector_seconds = min(timings)
    blocks = [
        defendants.block(start, min(start + args.block_size, n))
        for start in range(0, n, args.block_size)
    ]
    block_timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for block in blocks:
            compute_guidelines(block, args.manual)
        block_timings.append(time.perf_counter() - start)
    block_seconds = min(block_timings)

    sample = min(args.reference_sample, n)
    cases = [case_dict(defendants, i, args.manual) for i in range(sample)]
    start = time.perf_counter()
    reference = [reference_worksheet(case) for case in cases]
    scalar_seconds = time.perf_counter() - start

    mismatches = sum(
        (ref["final_range_months"][0], ref["criminal_history_category"])
        != (int(result.final_min_months[i]), CATEGORY_NAMES[result.criminal_history_category[i]])
        for i, ref in enumerate(reference)
    )
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"manual {args.manual}: {n:,} defendants, {p:,} priors ({p / n:.2f} per defendant), "
        f"{bytes_per_defendant(defendants):.1f} input bytes per defendant"
    )
    print(
        f"array engine, one call:  {vector_seconds:.3f} s (best of {args.repeats}) -> "
        f"{n / vector_seconds:,.0f} defendants/s"
    )
    print(
        f"array engine, blocks of {args.block_size:,}: {block_seconds:.3f} s "
        f"(best of {args.repeats}) -> {n / block_seconds:,.0f} defendants/s"
    )
    print(
        f"scalar reference:  {scalar_seconds:.3f} s for {sample:,} -> "
        f"{sample / scalar_seconds:,.0f} defendants/s"
    )
    print(
        f"speed-up (blocks vs scalar): {(n / block_seconds) / (sample / scalar_seconds):,.0f}x; "
        f"reference disagreements on the sample: {mismatches}"
    )
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

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

from sim.guidelines.durations import DAY, MONTH, NEVER, YEAR
from sim.guidelines.editions import edition
from sim.guidelines.engine import compute_guidelines
from sim.guidelines.records import (
    CONVICTIONS,
    PRIOR_KINDS,
    Dispositions,
    Priors,
    Records,
    bytes_per_defendant,
)
from sim.guidelines.reference import reference_worksheet
from sim.guidelines.table import CATEGORY_NAMES

_MISDEMEANOR_KINDS = [
    PRIOR_KINDS.index(k) for k in ("misdemeanor_violent", "misdemeanor_drug", "misdemeanor")
]


def random_cases(rng: np.random.Generator, n: int, manual: int) -> tuple[Records, Dispositions]:
    """``n`` random records (0-10 priors each) and dispositions valid under ``manual``; terms
    in tenths of a month or whole days, times in tenths of a year."""
    counts = rng.integers(0, 11, size=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    p = int(offsets[-1])
    kind = rng.integers(0, len(PRIOR_KINDS), p).astype(np.int8)
    felony = (rng.random(p) < 0.7) & ~np.isin(kind, _MISDEMEANOR_KINDS)
    imposed = rng.integers(0, 251, p) * (YEAR // 10)
    served = (rng.random(p) * (imposed // (YEAR // 10) + 1)).astype(np.int64) * (YEAR // 10)
    released = np.where(rng.random(p) < 0.6, np.maximum(imposed - served, 0), NEVER)
    months_term = np.round(rng.exponential(18, p), 1)
    terms = np.where(
        rng.random(p) < 0.8,
        np.rint(months_term * 10).astype(np.int64) * (MONTH // 10),
        rng.integers(0, 2000, p) * DAY,
    )
    before_first = rng.random(p) < 0.5
    priors = Priors(
        kind=kind,
        felony=felony,
        aggravated_felony=felony & (rng.random(p) < 0.4),
        sentence_imposed_ticks=terms,
        imposed_ago_ticks=imposed,
        released_ago_ticks=released,
        before_first_removal=before_first,
        removed_after_conviction=before_first | (rng.random(p) < 0.7),
        foreign=rng.random(p) < 0.05,
        single_sentence_group=np.where(rng.random(p) < 0.2, rng.integers(0, 3, p), -1).astype(
            np.int16
        ),
        consecutive=rng.random(p) < 0.3,
    )
    records = Records(
        offense_date=np.datetime64("1995-01-01")
        + rng.integers(0, 30 * 365, n).astype("timedelta64[D]"),
        under_sentence=rng.random(n) < 0.3,
        zero_point_criteria_met=rng.random(n) < 0.9,
        criminal_history_points_override=np.full(n, -1, dtype=np.int16),
        criminal_history_category_override=np.full(n, -1, dtype=np.int8),
        prior_offsets=offsets,
        priors=priors,
    )
    most = edition(manual).early_disposition.max_levels
    dispositions = Dispositions(
        conviction=rng.integers(0, len(CONVICTIONS), n).astype(np.int8),
        acceptance_levels=rng.choice(np.array([0, 2, 3], dtype=np.int8), n),
        early_disposition_levels=rng.integers(0, most + 1, n).astype(np.int8),
    )
    return records, dispositions


def _ticks(value: int, unit: int, scale: int) -> float:
    """Ticks as a decimal of ``unit`` with at most ``scale`` decimals (exact: see above)."""
    return round(float(value) / unit, scale)


def case_dict(records: Records, dispositions: Dispositions, i: int, manual: int) -> dict:
    """Defendant ``i`` as a case-file mapping, for the scalar reference."""
    pr = records.priors
    priors = []
    for j in range(records.prior_offsets[i], records.prior_offsets[i + 1]):
        term = int(pr.sentence_imposed_ticks[j])
        prior = {
            "kind": PRIOR_KINDS[pr.kind[j]],
            "felony": bool(pr.felony[j]),
            "aggravated_felony": bool(pr.aggravated_felony[j]),
            "imposed_years_ago": _ticks(pr.imposed_ago_ticks[j], YEAR, 1),
            "before_first_removal": bool(pr.before_first_removal[j]),
            "removed_after_conviction": bool(pr.removed_after_conviction[j]),
            "foreign": bool(pr.foreign[j]),
            "consecutive": bool(pr.consecutive[j]),
        }
        if term % (MONTH // 10) == 0:
            prior["sentence_imposed_months"] = _ticks(term, MONTH, 1)
        else:
            prior["sentence_imposed_days"] = int(term // DAY)
        if pr.released_ago_ticks[j] != NEVER:
            prior["released_years_ago"] = _ticks(pr.released_ago_ticks[j], YEAR, 1)
        if pr.single_sentence_group[j] >= 0:
            prior["single_sentence_group"] = int(pr.single_sentence_group[j])
        priors.append(prior)
    return {
        "manual": manual,
        "conviction": CONVICTIONS[dispositions.conviction[i]],
        "offense_date": dt.date.fromisoformat(str(records.offense_date[i])),
        "acceptance": int(dispositions.acceptance_levels[i]),
        "early_disposition_levels": int(dispositions.early_disposition_levels[i]),
        "status": "under_sentence" if records.under_sentence[i] else "none",
        "zero_point_criteria_met": bool(records.zero_point_criteria_met[i]),
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
    records, dispositions = random_cases(rng, args.defendants, args.manual)
    rules = edition(args.manual)
    n, p = records.size, len(records.priors.kind)

    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        assessment, result = compute_guidelines(records, dispositions, rules)
        timings.append(time.perf_counter() - start)
    vector_seconds = min(timings)
    blocks = [
        (
            records.block(start, min(start + args.block_size, n)),
            Dispositions(*(c[start : start + args.block_size] for c in dispositions)),
        )
        for start in range(0, n, args.block_size)
    ]
    block_timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for block_records, block_dispositions in blocks:
            compute_guidelines(block_records, block_dispositions, rules)
        block_timings.append(time.perf_counter() - start)
    block_seconds = min(block_timings)

    sample = min(args.reference_sample, n)
    cases = [case_dict(records, dispositions, i, args.manual) for i in range(sample)]
    start = time.perf_counter()
    reference = [reference_worksheet(case) for case in cases]
    scalar_seconds = time.perf_counter() - start

    mismatches = sum(
        (ref["final_range_months"], ref["criminal_history_category"])
        != (
            [int(result.final_min_months[i]), int(result.final_max_months[i])],
            CATEGORY_NAMES[assessment.criminal_history_category[i]],
        )
        for i, ref in enumerate(reference)
    )
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"manual {args.manual}: {n:,} defendants, {p:,} priors ({p / n:.2f} per defendant), "
        f"{bytes_per_defendant(records):.1f} input bytes per defendant"
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

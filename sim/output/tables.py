"""The archive's tables: a run's tidy tables (:attr:`sim.analysis.results.Results.tables`) and
the optional per-defendant sample.

The tables themselves are built once per run by :mod:`sim.analysis.frames`; this module adds
``defendant_sample``, which re-simulates the first defendants of replication 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.frames import TABLE_NAMES
from sim.analysis.results import Results, analyse
from sim.guidelines.editions import edition
from sim.run.runner import StudyResult, simulate_block

__all__ = ["TABLE_NAMES", "build_tables", "defendant_sample"]


def build_tables(source: Results | StudyResult) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TABLE_NAMES` for a run, as copies the caller may change.

    Parameters
    ----------
    source : Results or sim.run.runner.StudyResult
        The run's results, or the run itself (then analysed here).

    Returns
    -------
    dict of str to pandas.DataFrame
    """
    results = source if isinstance(source, Results) else analyse(source)
    return {name: results.to_df(name) for name in results.tables}


def defendant_sample(result: StudyResult, defendants: int) -> pd.DataFrame:
    """The first ``defendants`` of replication 0, one row per defendant and district.

    Parameters
    ----------
    result : sim.run.runner.StudyResult
        The run (its scenario is simulated again, block 0 of replication 0).
    defendants : int
        How many defendants (at most the scenario's).

    Returns
    -------
    pandas.DataFrame
        Columns ``defendant``, ``district``, ``arrested_here``, ``criminal_history_category``,
        ``offense_level_chapter_two``, ``prosecuted``, ``months``, ``final_min_months``,
        ``offer`` and ``position_category``.
    """
    scenario = result.scenario
    n = min(defendants, scenario.study.defendants)
    outcome = simulate_block(scenario, 0, 0, n)
    codes = scenario.district_codes
    base = edition(scenario.manual).reentry.base_offense_level
    rows = {
        "defendant": np.repeat(np.arange(n), len(codes)),
        "district": np.tile(codes, n),
        "arrested_here": (outcome.arrest_district[:, None] == np.arange(len(codes))).ravel(),
        "criminal_history_category": np.repeat(outcome.criminal_history_category, len(codes)),
        "offense_level_chapter_two": np.repeat(base + outcome.enhancement_levels, len(codes)),
        "prosecuted": outcome.prosecuted.ravel(),
        "months": outcome.months.ravel().astype(np.int64),
        "final_min_months": outcome.final_min_months.ravel().astype(np.int64),
        "offer": outcome.offer.ravel().astype(np.int64),
        "position_category": outcome.position_category.ravel().astype(np.int64),
    }
    return pd.DataFrame(rows)

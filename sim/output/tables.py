"""The archive's tables: a run's tidy tables (:attr:`sim.analysis.results.Results.tables`) and
the optional per-defendant sample, and their file formats.

The tables themselves are built once per run by :mod:`sim.analysis.frames`; this module adds
``defendant_sample``, which re-simulates the first defendants of replication 0, and the bytes of
each table as Parquet (for pandas, R's arrow, DuckDB) and as CSV (for a spreadsheet or any reader
without Parquet): :func:`table_files`. Both are written from the same frame by the same code
whether to the archive or, for ``sim reproduce``, to memory, so both compare byte for byte.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from sim.analysis.frames import TABLE_NAMES
from sim.analysis.results import Results, analyse
from sim.guidelines.editions import edition
from sim.run.runner import StudyResult, simulate_block

__all__ = ["TABLE_FORMATS", "TABLE_NAMES", "build_tables", "defendant_sample", "table_files"]

#: The file formats every table is written in, by suffix.
TABLE_FORMATS = ("parquet", "csv")


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


def table_csv(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes: UTF-8, a header row, ``\\n`` line ends, no index; floats as
    Python's shortest repr (they read back to the same float), a missing value (a number's or
    a text's: e.g. ``district`` in the headline table's rows about the pair) as an empty field,
    booleans as ``True``/``False``. Deterministic: the same frame gives the same bytes.
    """
    text = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    return text.encode("utf-8")


def table_parquet(frame: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (pyarrow; no index). pyarrow writes the same bytes to a buffer as
    to a file."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def table_files(tables: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """Every table in every format of :data:`TABLE_FORMATS`, by file name
    (``<table>.parquet``, ``<table>.csv``), in the tables' order.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame

    Returns
    -------
    dict of str to bytes
    """
    writers = {"parquet": table_parquet, "csv": table_csv}
    return {
        f"{name}.{suffix}": writers[suffix](frame)
        for name, frame in tables.items()
        for suffix in TABLE_FORMATS
    }

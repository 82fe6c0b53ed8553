"""The results of a run: every figure computed once, typed, with its summary and tables::

    results = analyse(study_result)
    results.districts["CAC"].mean_months       # Estimate(estimate, mcse, ci95)
    results.pairwise[0].all_defendants.mean_difference_months.mcse
    results.summary                            # the JSON summary (cached)
    results.tables                             # the tidy tables by name (cached)
    results.to_df("pairwise")                  # one table, a copy

:func:`analyse` computes the figures (:mod:`sim.analysis.measures`) from a run's tallies once;
the JSON summary (:mod:`sim.analysis.summary`) and the tidy tables (:mod:`sim.analysis.frames`)
are views of them, each built on first use and cached. The archive, the report and the printed
summary all read one :class:`Results`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import pandas as pd

from sim.analysis.frames import tables_of
from sim.analysis.measures import (
    Measures,
    district_figures,
    headline_figures,
    inequality_figures,
    overall_figures,
    pair_figures,
    profile_figures,
    range_figures,
    selection_figures,
    variance_figures,
)
from sim.analysis.summary import summary_of
from sim.run.runner import StudyResult

__all__ = ["Results", "analyse"]


@dataclass(frozen=True, eq=False)
class Results(Measures):
    """A run's typed figures (the fields of :class:`sim.analysis.measures.Measures`) and their
    views, each computed on first use and then cached.

    ``summary`` and ``tables`` are shared, not copied: copy before changing them
    (``dict(results.summary)``, :meth:`to_df`).
    """

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The JSON-ready summary (:func:`sim.analysis.summary.summary_of`): what
        ``sim run --json`` prints, less ``wall_seconds``, ``archive`` and ``target``."""
        return summary_of(self)

    @cached_property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The tidy tables by name (:func:`sim.analysis.frames.tables_of`), read-only: what
        the archive writes as Parquet."""
        return MappingProxyType(tables_of(self, self.summary["validation"]))

    def to_df(self, name: str) -> pd.DataFrame:
        """One of :attr:`tables`, as a copy the caller may change.

        Parameters
        ----------
        name : str
            A table name (:data:`sim.analysis.frames.TABLE_NAMES`).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        KeyError
            No table of that name.
        """
        if name not in self.tables:
            raise KeyError(f"{name!r}: no such table; tables: {', '.join(self.tables)}")
        return self.tables[name].copy()


def analyse(study: StudyResult) -> Results:
    """Compute every figure of a run once.

    Parameters
    ----------
    study : sim.run.runner.StudyResult
        The run: scenario, population tally and the profiles' tallies.

    Returns
    -------
    Results
        Districts, pairwise gaps, cross-district range, variance shares, selection vs policy,
        inequality, profiles, the headline gap and the overall as-arrested figures, each figure
        an :class:`sim.analysis.metrics.Estimate`.
    """
    tally, codes = study.tally, study.scenario.district_codes
    pairs = study.scenario.district_pairs
    return Results(
        study=study,
        districts=district_figures(study),
        pairwise=pair_figures(tally, codes, pairs),
        cross_district_range=range_figures(tally),
        variance_shares=variance_figures(tally),
        selection_vs_policy=selection_figures(tally, codes, pairs),
        inequality=inequality_figures(tally, codes, pairs),
        profiles=profile_figures(study),
        headline=headline_figures(study),
        overall=overall_figures(study),
    )

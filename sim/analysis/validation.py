"""Published figures named in a scenario's ``validation`` list, checked against the summary's
structure before anything runs.

A name is a path to a figure of ``sim run --json`` (:func:`sim.analysis.summary.figure_index`).
Which paths exist depends on the scenario (its districts, pairs, profiles and Manual), so they
are read from the summary of an empty run of the same scenario: the same code builds it, so the
paths accepted are exactly those a real run's summary has.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from sim.analysis.results import analyse
from sim.analysis.summary import figure_index
from sim.inputs import InputError, shown_path
from sim.model.policy import MAX_OFFERS
from sim.model.scenario import Scenario
from sim.run.runner import ProfileTally, StudyResult
from sim.run.tally import StudyTally

__all__ = ["check_validation", "summary_paths"]

#: Close matches listed for an unknown name.
_MATCHES = 5


def _empty_tally(scenario: Scenario) -> StudyTally:
    """One replication of one defendant whom no district prosecutes: every figure of the
    summary exists (most undefined), none needs a simulation."""
    tally = StudyTally.empty(1, len(scenario.districts), len(scenario.district_pairs))
    tally.defendants[0] = 1
    return tally


def summary_paths(scenario: Scenario) -> list[str]:
    """Every figure path of the summary of a run of ``scenario``, in summary order.

    Parameters
    ----------
    scenario : sim.model.scenario.Scenario

    Returns
    -------
    list of str
        e.g. ``overall.mean_months``, ``headline.gap_months``,
        ``districts.CAC.as_arrested.imprisonment_share``.
    """
    bare = scenario.model_copy(update={"validation": []})
    districts = len(scenario.districts)
    profiles = {
        name: ProfileTally(
            no_deal_final_range=np.zeros((districts, 2), np.int64),
            no_deal_guideline_range=np.zeros((districts, 2), np.int64),
            statutory_maximum_months=np.zeros(districts, np.int64),
            tally=_empty_tally(scenario),
            offers=np.zeros((1, districts, MAX_OFFERS + 1), np.int64),
        )
        for name in scenario.profiles
    }
    results = analyse(StudyResult(bare, _empty_tally(scenario), profiles))
    return list(figure_index(results.summary))


def check_validation(scenario: Scenario, path: str | Path) -> None:
    """Check that every ``validation`` name of a scenario is a figure of its summary.

    Parameters
    ----------
    scenario : sim.model.scenario.Scenario
    path : path
        The scenario file (named in the message).

    Raises
    ------
    InputError
        One line per unknown name: the field, the name, and the closest figure paths.
    """
    if not scenario.validation:
        return
    paths = summary_paths(scenario)
    known = set(paths)
    lines = []
    for k, figure in enumerate(scenario.validation):
        if figure.name in known:
            continue
        close = difflib.get_close_matches(figure.name, paths, n=_MATCHES, cutoff=0.6)
        if not close:  # the figures under the name's first part, else the top-level entries
            head = figure.name.split(".")[0].split("[")[0]
            close = [p for p in paths if p.startswith(f"{head}.")][:_MATCHES]
        if not close:
            close = list(dict.fromkeys(p.split(".")[0].split("[")[0] for p in paths))
            hint = f"the summary's entries are {', '.join(close)}"
        else:
            hint = f"close matches: {', '.join(close)}"
        lines.append(
            f"{shown_path(path)}: validation[{k}].name: {figure.name!r}: not a figure of the "
            f"summary (sim run --json); {hint}"
        )
    if lines:
        raise InputError("\n".join(lines))

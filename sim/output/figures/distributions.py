"""Figure 1: each district's sentence distribution as a step ECDF."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from sim.output.figures.style import (
    _draw_ecdfs,
    _new_axes,
    _require,
    _rows_where,
    _series_style,
    _style,
    _unique,
    _weighted_ecdf,
)

#: Beyond this many districts the lines are not told apart: the first district (the reference)
#: is drawn in colour and the others in grey, under one legend entry.
_DISTINCT_LINES = 12

_OUTCOMES = {
    "prosecuted": "prosecuted defendants",
    "all_defendants": "all defendants",
    "as_arrested": "as arrested",
}


def district_distributions(
    distributions: pd.DataFrame,
    outcome: str = "prosecuted",
    ax: Axes | None = None,
    district_order: Sequence[str] | None = None,
) -> Axes:
    """Each district's sentence distribution as a step ECDF, one line per district.

    The curve of a district at *x* months is the share of defendants sentenced to *x* months or
    less there, weighted by the table's ``defendants`` counts (pooled over replications).

    Parameters
    ----------
    distributions : pandas.DataFrame
        The ``distributions`` table: ``outcome``, ``district``, ``months`` (whole months) and
        ``defendants`` (count).
    outcome : {"prosecuted", "all_defendants", "as_arrested"}
        ``prosecuted``: every synthetic defendant sentenced in every district, prosecuted ones
        only; ``all_defendants``: the same with a declined defendant at 0 months;
        ``as_arrested``: each defendant in the district that arrested him.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.
    district_order : sequence of str, optional
        Stable district order for colours; default: order of first appearance in the table.

    Returns
    -------
    matplotlib.axes.Axes
        x: sentence (months); y: cumulative share of defendants (share of defendants, 0–1).
    """
    _require(distributions, ["outcome", "district", "months", "defendants"], "distributions")
    rows = _rows_where(distributions, "outcome", outcome, "distributions")
    order = list(district_order or _unique(distributions["district"]))
    with _style():
        ax = _new_axes(ax)
        series = []
        for index, code in enumerate(order):
            group = rows[rows["district"] == code]
            if group.empty:
                continue
            months, shares = _weighted_ecdf(
                group["months"].to_numpy(), group["defendants"].to_numpy()
            )
            series.append((code, months, shares, _series_style(index)))
        if len(series) > _DISTINCT_LINES:
            series = _reference_and_others(series)
        _draw_ecdfs(ax, series, start=0.0)
        ax.set_xlim(left=0)
        declined = "; declined = 0" if outcome == "all_defendants" else ""
        ax.set_xlabel(f"Sentence (months{declined})")
        ax.set_ylabel("Sentenced to ≤ x months\n(share of defendants)")
        ax.set_title(f"Sentences, {_OUTCOMES.get(outcome, outcome)}", loc="left")
        ax.legend(loc="lower right", handlelength=2.6)
    return ax


def _reference_and_others(
    series: list[tuple[str, np.ndarray, np.ndarray, dict[str, Any]]],
) -> list[tuple[str, np.ndarray, np.ndarray, dict[str, Any]]]:
    """The first district in its colour, drawn last (on top); every other in thin grey, with one
    legend entry for them all."""
    grey = {"color": "0.7", "linestyle": "-", "linewidth": 0.6}
    others = [
        ("_nolegend_" if k else f"the other {len(series) - 1} districts", v, s, grey)
        for k, (_, v, s, _) in enumerate(series[1:])
    ]
    return [*others, series[0]]

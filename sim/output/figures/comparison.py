"""The figure of ``sim compare``: each headline figure's difference B − A with its 95% Monte
Carlo interval, one row per figure, one panel per unit (months, shares)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from sim.output.figures.style import OKABE_ITO

__all__ = ["comparison_differences", "comparison_values"]

#: Normal 97.5% quantile: the interval is the difference ± 1.96 MCSE.
_Z = 1.959963984540054
_COLOURS = {"paired": OKABE_ITO[0], "unpaired": OKABE_ITO[1]}
_MARKERS = {"paired": "o", "unpaired": "s"}


def comparison_differences(
    comparison: pd.DataFrame, unit: str = "months", ax: Axes | None = None, legend: bool = True
) -> Axes:
    """Differences B − A of the headline figures in one unit, with ±1.96 MCSE intervals.

    One row per figure (top to bottom in the table's order), a dot at the difference and a bar
    for its interval; blue circles where the MCSE is paired (per-replication differences under
    common random numbers), vermillion squares where it is unpaired (√(MCSE_A² + MCSE_B²)). A
    vertical line marks no difference.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The comparison table (:data:`sim.analysis.comparison.COLUMNS`).
    unit : str
        ``"months"``, ``"share"`` or ``"index"``: which rows to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column figure when None.
    legend : bool
        Draw the legend (paired/unpaired) in the axes; a caller with several panels draws one
        for the figure instead.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = comparison[(comparison["unit"] == unit) & comparison["difference"].notna()]
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 0.9 + 0.22 * max(len(rows), 1)), layout="constrained")
    positions = np.arange(len(rows))[::-1]
    for method in ("paired", "unpaired"):
        chosen = (rows["method"] == method).to_numpy()
        if not chosen.any():
            continue
        half = (_Z * rows["mcse"].fillna(0.0)).to_numpy()[chosen]
        ax.errorbar(
            rows["difference"].to_numpy()[chosen],
            positions[chosen],
            xerr=half,
            fmt=_MARKERS[method],
            markersize=3.5,
            color=_COLOURS[method],
            elinewidth=1.0,
            capsize=2,
            label=f"{method} MCSE",
        )
    ax.axvline(0.0, color="#7f7f7f", linewidth=0.6, zorder=0)
    ax.set_yticks(positions, list(rows["label"]))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"B − A ({unit}), ±1.96 MCSE")
    ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if legend and len(rows):
        ax.legend(loc="best")
    return ax


def comparison_values(
    comparison: pd.DataFrame, unit: str = "months", ax: Axes | None = None, legend: bool = True
) -> Axes:
    """The headline figures of A and B in one unit, side by side, with ±1.96 MCSE intervals.

    One row per figure (top to bottom in the table's order): A as a blue circle just above the
    row's line, B as a vermillion square just below it, each with its own interval.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The comparison table (:data:`sim.analysis.comparison.COLUMNS`).
    unit : str
        ``"months"``, ``"share"`` or ``"index"``: which rows to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column figure when None.
    legend : bool
        Draw the legend (A, B) in the axes.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = comparison[comparison["unit"] == unit]
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 0.9 + 0.22 * max(len(rows), 1)), layout="constrained")
    positions = np.arange(len(rows))[::-1].astype(float)
    for side, offset, colour, marker in (
        ("a", 0.15, OKABE_ITO[0], "o"),
        ("b", -0.15, OKABE_ITO[1], "s"),
    ):
        values = rows[side].to_numpy(dtype=float)
        shown = np.isfinite(values)
        half = (_Z * rows[f"{side}_mcse"].fillna(0.0)).to_numpy(dtype=float)
        ax.errorbar(
            values[shown],
            positions[shown] + offset,
            xerr=half[shown],
            fmt=marker,
            markersize=3.5,
            color=colour,
            elinewidth=1.0,
            capsize=2,
            label=side.upper(),
        )
    ax.set_yticks(positions, list(rows["label"]))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"{unit}, ±1.96 MCSE")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)
    if legend and len(rows):
        ax.legend(loc="best")
    return ax

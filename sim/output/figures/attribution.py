"""The lever attribution's waterfall (``sim attribute``): from district A's mean sentence to
district B's, one step per lever (its Shapley value)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from sim.output.figures.style import (
    OKABE_ITO,
    _fit_height,
    _light_grid,
    _new_axes,
    _require,
    _signed,
)

__all__ = ["WATERFALL_COLUMNS", "waterfall"]

#: Columns of the levers table the waterfall reads (one row per lever, in switching order).
WATERFALL_COLUMNS = ("lever", "shapley_months", "mcse_months")

_ENDS = OKABE_ITO[6]  # black: the two districts' means
_DOWN = OKABE_ITO[0]  # blue: a lever that lowers the sentence from A's towards B's
_UP = OKABE_ITO[1]  # vermillion: a lever that raises it
_Z95 = 1.959963984540054  # the normal 97.5% quantile: ±1.96 MCSE


def waterfall(
    levers: pd.DataFrame,
    mean_from: float,
    mean_to: float,
    district_from: str,
    district_to: str,
    ax: Axes | None = None,
    xlabel: str = "mean sentence (months)",
) -> Axes:
    """A horizontal waterfall from A's mean to B's mean, one step per lever.

    The top bar is A's mean sentence (months) over the defendants the measure compares; each
    lever then moves the level by minus its Shapley value (a lever that makes A's sentences
    longer than B's moves it down, towards B), with a ±1.96 MCSE whisker at the step's end; the
    bottom bar is B's mean. By efficiency the steps end exactly at B's mean.

    Parameters
    ----------
    levers : pandas.DataFrame
        :data:`WATERFALL_COLUMNS`; ``mcse_months`` may be NaN (one replication: no whisker).
    mean_from, mean_to : float
        A's and B's mean months.
    district_from, district_to : str
        Their codes (the bars' labels).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new one-column Figure when None.
    xlabel : str
        The x axis label: whose mean it is, in months.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        A missing column or an empty table.
    """
    _require(levers, WATERFALL_COLUMNS, "levers")
    values = levers["shapley_months"].to_numpy(dtype=float)
    mcse = levers["mcse_months"].to_numpy(dtype=float)
    rows = len(values) + 2
    ax = _new_axes(ax, height=_fit_height(rows, 0.8, 0.32, 2.0))
    labels = [f"{district_from} mean", *levers["lever"].astype(str), f"{district_to} mean"]
    y = np.arange(rows)
    ax.barh(y[0], mean_from, color=_ENDS, height=0.6)
    ax.barh(y[-1], mean_to, color=_ENDS, height=0.6)
    level = mean_from
    for k, (value, error) in enumerate(zip(values, mcse, strict=True), start=1):
        after = level - value
        color = _DOWN if value >= 0 else _UP
        ax.barh(y[k], after - level, left=level, color=color, height=0.6)
        if np.isfinite(error) and error > 0:
            ax.errorbar(
                after, y[k], xerr=_Z95 * error, color=_ENDS, linewidth=0.6, capsize=1.5, fmt="none"
            )
        ax.plot([level, level], [y[k - 1] + 0.3, y[k] - 0.3], color="#7f7f7f", linewidth=0.5)
        ax.annotate(
            _signed(-value),
            (max(level, after), y[k]),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
        level = after
    ax.plot([level, level], [y[-2] + 0.3, y[-1] - 0.3], color="#7f7f7f", linewidth=0.5)
    for k, value in ((0, mean_from), (rows - 1, mean_to)):
        ax.annotate(
            _signed(value),
            (value, y[k]),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    levels = mean_from - np.cumsum(values)
    high = max(mean_from, mean_to, float(levels.max(initial=mean_from)))
    low = min(0.0, float(levels.min(initial=0.0)))
    ax.set_xlim(low, high * 1.15 if high > 0 else 1.0)
    ax.set_xlabel(xlabel)
    ax.set_title(f"{district_from} → {district_to}: the gap by lever (Shapley)")
    _light_grid(ax, "x")
    return ax

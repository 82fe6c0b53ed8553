"""Figures of a sweep (``sim sweep``): a tornado of each factor's swing of an output, the Sobol'
indices with their bootstrap intervals, and the output's distribution over the sweep.

Each function reads the sweep's tables (``sweep.parquet``: one row per point, a column per factor
and per output; ``sensitivity.parquet``: one row per output and factor), takes an optional ``ax``
and returns it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from sim.output.figures.style import (
    OKABE_ITO,
    _fit_height,
    _legend_below,
    _light_grid,
    _new_axes,
    _require,
    _zero_line,
)

__all__ = ["output_distribution", "sobol_bars", "tornado"]

#: Share of the points at each end of a factor's range the tornado compares.
_TAIL = 0.2


def _swing(points: pd.DataFrame, factor: str, output: str) -> tuple[float, float]:
    """The output's mean among the points with the factor in its lowest and highest fifth (an
    alternative: its lowest and highest option mean), less the mean over every point."""
    column, values = points[f"u:{factor}"], points[output]
    overall = float(values.mean())
    if not pd.api.types.is_numeric_dtype(points[factor]):  # an alternative: its options' means
        means = values.groupby(points[factor]).mean()
        return float(means.min()) - overall, float(means.max()) - overall
    low = values[column <= column.quantile(_TAIL)].mean()
    high = values[column >= column.quantile(1 - _TAIL)].mean()
    return float(low) - overall, float(high) - overall


def tornado(points: pd.DataFrame, factors: list[str], output: str, ax: Axes | None = None) -> Axes:
    """Each factor's swing of ``output``: the mean at the low and the high end of its range
    (an alternative: its lowest and highest option) against the mean over the sweep, factors
    ordered by the width of the swing.

    Parameters
    ----------
    points : pandas.DataFrame
        ``sweep.parquet``: a column per factor (its value), ``u:FACTOR`` (its place in [0, 1])
        and per output.
    factors : list of str
    output : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(points, [output, *factors, *(f"u:{f}" for f in factors)], "sweep")
    swings = sorted(
        ((f, *_swing(points, f, output)) for f in factors), key=lambda s: abs(s[2] - s[1])
    )
    ax = _new_axes(ax, width=5.0, height=_fit_height(len(swings), 1.0, 0.3, 2.0))
    y = np.arange(len(swings))
    lows = np.array([min(s[1], s[2]) for s in swings])
    highs = np.array([max(s[1], s[2]) for s in swings])
    ax.barh(y, highs - lows, left=lows, color=OKABE_ITO[0], height=0.6)
    ax.set_yticks(y, [s[0] for s in swings], fontsize=6)
    _zero_line(ax)
    _light_grid(ax, "x")
    mean = float(points[output].mean())
    ax.set_title(output, fontsize=7)
    ax.set_xlabel(f"change from the sweep's mean ({mean:.2f}): low / high fifth")
    return ax


def sobol_bars(indices: pd.DataFrame, output: str, ax: Axes | None = None) -> Axes:
    """First-order (S1) and total (ST) Sobol' indices of ``output`` per factor, with their
    bootstrap 95% intervals.

    Parameters
    ----------
    indices : pandas.DataFrame
        ``sensitivity.parquet``: ``output``, ``parameter``, ``S1``, ``S1_low``, ``S1_high``,
        ``ST``, ``ST_low``, ``ST_high``.
    output : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(
        indices,
        ["output", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"],
        "sensitivity",
    )
    rows = indices[indices["output"] == output].sort_values("ST")
    ax = _new_axes(ax, width=5.0, height=_fit_height(len(rows), 1.2, 0.32, 2.2))
    y = np.arange(len(rows))
    for offset, (name, color) in zip(
        (-0.18, 0.18), (("S1", OKABE_ITO[0]), ("ST", OKABE_ITO[1])), strict=True
    ):
        value = rows[name].to_numpy(dtype=float)
        errors = np.abs(np.vstack([value - rows[f"{name}_low"], rows[f"{name}_high"] - value]))
        ax.barh(
            y + offset,
            value,
            height=0.34,
            color=color,
            xerr=errors,
            error_kw={"elinewidth": 0.6, "capsize": 1.5},
        )
    ax.set_yticks(y, rows["parameter"].tolist(), fontsize=6)
    _zero_line(ax)
    _light_grid(ax, "x")
    ax.set_title(output, fontsize=7)
    ax.set_xlabel("Sobol' index (bootstrap 95% interval)")
    _legend_below(
        ax,
        [
            Patch(color=OKABE_ITO[0], label="first order S1"),
            Patch(color=OKABE_ITO[1], label="total ST"),
        ],
        2,
    )
    return ax


def output_distribution(
    points: pd.DataFrame, output: str, current: float | None = None, ax: Axes | None = None
) -> Axes:
    """The distribution of ``output`` over the sweep's points, its 5th and 95th percentiles
    marked, and the scenario's own figure (``current``) when given."""
    _require(points, [output], "sweep")
    values = points[output].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    ax = _new_axes(ax)
    ax.hist(values, bins=min(40, max(5, values.size // 10)), color=OKABE_ITO[0])
    for q in np.quantile(values, [0.05, 0.95]) if values.size else []:
        ax.axvline(q, color=OKABE_ITO[6], linewidth=0.8, linestyle="--")
    if current is not None:
        ax.axvline(current, color=OKABE_ITO[1], linewidth=1.0)
    _light_grid(ax, "y")
    ax.set_title(output, fontsize=7)
    ax.set_xlabel("value over the sweep (dashed: 5th, 95th percentiles)")
    ax.set_ylabel("points")
    return ax

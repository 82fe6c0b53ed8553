"""Figure 6: convergence of a headline figure over replications (running mean, ±1.96 MCSE).

The package re-exports the function :func:`convergence` under the same name as this module, so
``sim.output.figures.convergence`` is the function; import the helpers with
``from sim.output.figures.convergence import ...``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from sim.output.figures.style import (
    OKABE_ITO,
    _light_grid,
    _new_axes,
    _pair_label,
    _require,
    _rows_where,
    _style,
    district_short_name,
)

_CONVERGENCE_LABELS = {
    "mean_difference_months": "Mean paired gap, {pair} (months)",
    "mean_months": "Mean sentence, {pair} (months)",
}
_Z95 = 1.96  # two-sided 95% normal quantile


def convergence(
    replications: pd.DataFrame,
    ax: Axes | None = None,
    metric: str = "mean_difference_months",
    district_a: str | None = None,
    district_b: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Running mean of a headline figure over the first k replications, with a ±1.96 MCSE band.

    For k = 2..R: the mean of the first k replications' values, and a band of ±1.96 × (sample
    standard deviation of those k values) / √k around it. A dashed line marks the mean of all
    R replications. With two replications the single point gets an error bar instead of a band;
    with one, only its value is drawn (no band).

    Parameters
    ----------
    replications : pandas.DataFrame
        The ``replications`` table: ``replication``, ``metric``, ``district_a``,
        ``district_b`` and ``value``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.
    metric : {"mean_difference_months", "mean_months"}
        ``mean_difference_months``: the mean paired gap of a pair (months);
        ``mean_months``: a district's mean sentence among prosecuted defendants (months).
    district_a, district_b : str, optional
        The district (``mean_months``) or pair; default: the first in the table.
    names : mapping of str to str, optional
        District names by code, shown as courts cite them ("C.D. Cal.").

    Returns
    -------
    matplotlib.axes.Axes
        x: replications included, k (count); y: running mean (the metric's unit, months).
    """
    columns = ["replication", "metric", "district_a", "district_b", "value"]
    _require(replications, columns, "replications")
    rows = _rows_where(replications, "metric", metric, "replications")
    rows, district_a, district_b = _subject_rows(rows, district_a, district_b)
    if rows.empty:
        raise ValueError(f"replications: no rows for {metric!r}, {district_a}, {district_b}")
    values = rows.sort_values("replication", kind="stable")["value"].to_numpy(dtype=float)
    k, mean, mcse = _running_mean(values)
    short = {c: district_short_name((names or {}).get(c, c)) for c in (district_a, district_b)}
    subject = (
        short[district_a]
        if district_b is None
        else _pair_label(short[district_a], short[district_b])
    )
    label = _CONVERGENCE_LABELS.get(metric, metric.replace("_", " ") + ", {pair} (value)")
    with _style():
        ax = _new_axes(ax)
        _draw_running_mean(ax, k, mean, mcse)
        _replications_axis(ax, len(values))
        ax.set_xlabel("Replications included, k (count)")
        ax.set_ylabel(label.format(pair=subject).replace(", ", ",\n", 1))
        ax.set_title(f"Convergence: {subject}", loc="left")
        _light_grid(ax, "y")
        ax.legend(loc="best")
    return ax


def _subject_rows(
    rows: pd.DataFrame, district_a: str | None, district_b: str | None
) -> tuple[pd.DataFrame, str, str | None]:
    """One metric's rows of district ``district_a`` (pair with ``district_b``; None: a single
    district), each defaulting to the first row's; return the rows and the two names."""
    if district_a is None:
        district_a = rows["district_a"].iloc[0]
    rows = rows[rows["district_a"] == district_a]
    if district_b is None and not rows.empty:
        first_b = rows["district_b"].iloc[0]
        district_b = None if pd.isna(first_b) else first_b
    if district_b is None:
        rows = rows[rows["district_b"].isna()]
    else:
        rows = rows[rows["district_b"] == district_b]
    return rows, district_a, district_b


def _running_mean(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k = 1..R, the mean of the first k values and its Monte Carlo standard error (sample
    standard deviation / √k; NaN at k = 1)."""
    k = np.arange(1, len(values) + 1)
    running = pd.Series(values)
    mean = running.expanding().mean().to_numpy()
    mcse = (running.expanding().std(ddof=1) / np.sqrt(k)).to_numpy()
    return k, mean, mcse


def _draw_running_mean(ax: Axes, k: np.ndarray, mean: np.ndarray, mcse: np.ndarray) -> None:
    """The running mean from k = 2 with its ±1.96 MCSE band (an error bar at a single point,
    a bare dot with one replication) and a dashed line at the mean of all replications."""
    count = len(k)
    color = OKABE_ITO[0]
    if count >= 3:
        ax.fill_between(
            k[1:],
            mean[1:] - _Z95 * mcse[1:],
            mean[1:] + _Z95 * mcse[1:],
            color=color,
            alpha=0.25,
            linewidth=0,
            label="±1.96 MCSE",
        )
        ax.plot(k[1:], mean[1:], color=color, linewidth=1.4, label="Running mean")
    elif count == 2:  # one point: the band becomes an error bar
        ax.errorbar(
            k[1:],
            mean[1:],
            yerr=_Z95 * mcse[1:],
            fmt="o",
            color=color,
            capsize=3,
            label="Mean ± 1.96 MCSE",
        )
    else:
        ax.plot(k, mean, "o", color=color, label="1 replication (no band)")
    if count >= 2:
        ax.axhline(
            mean[-1],
            color="black",
            linewidth=0.7,
            linestyle=(0, (4, 2)),
            label=f"All {count} replications",
        )


def _replications_axis(ax: Axes, count: int) -> None:
    """x from k = 2 (1 with a single replication) to ``count``, padded by half a step when
    there are at most three points; integer ticks."""
    first = 2 if count >= 2 else 1
    if count <= 3:
        ax.set_xlim(first - 0.5, count + 0.5)
    else:
        ax.set_xlim(first, count)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))

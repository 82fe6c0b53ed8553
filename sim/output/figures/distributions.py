"""Figure 1: each district's sentence distribution as a step ECDF."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from sim.output.figures.style import (
    OKABE_ITO,
    _draw_ecdfs,
    _legend_below,
    _new_axes,
    _require,
    _rows_where,
    _series_style,
    _style,
    _unique,
    _weighted_ecdf,
    identical_groups,
    merged_labels,
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


def sentence_histogram(
    distributions: pd.DataFrame,
    districts: pd.DataFrame,
    ax: Axes | None = None,
    binwidth: int = 6,
) -> Axes:
    """Each district's sentences as a histogram of shares of all defendants, with a bar for the
    share it declines to prosecute; districts whose tallies are identical are drawn once.

    Drawn with :func:`seaborn.histplot` (step outlines, one hue per district or group of
    identical districts) over the ``prosecuted`` rows of ``distributions``, each weighted by the
    district's prosecuted share so that a district's bars and its declined bar add up to 1.

    Parameters
    ----------
    distributions : pandas.DataFrame
        The ``distributions`` table (``outcome``, ``district``, ``months``, ``defendants``).
    districts : pandas.DataFrame
        The ``districts`` table: names (``name``) and the counterfactual ``prosecuted_share``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.
    binwidth : int
        Bin width (months).

    Returns
    -------
    matplotlib.axes.Axes
        x: sentence (months), the declined bar left of 0; y: share of all defendants.
    """
    import seaborn as sns

    _require(distributions, ["outcome", "district", "months", "defendants"], "distributions")
    _require(districts, ["district", "name", "view", "metric", "estimate"], "districts")
    order = _unique(districts["district"])
    names = dict(zip(districts["district"], districts["name"], strict=False))
    counterfactual = distributions[distributions["outcome"] != "as_arrested"]
    groups = identical_groups(counterfactual, "district", order)
    labels = merged_labels(groups, names)
    rows = _rows_where(distributions, "outcome", "prosecuted", "distributions")
    shares = districts[
        (districts["view"] == "counterfactual") & (districts["metric"] == "prosecuted_share")
    ].set_index("district")["estimate"]
    frames = []
    for group in groups:
        code = group[0]
        part = rows[rows["district"] == code]
        if part.empty:
            continue
        prosecuted = float(shares.get(code, 1.0))
        weights = part["defendants"].to_numpy(dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "months": part["months"].to_numpy(dtype=float),
                    "share": prosecuted * weights / weights.sum(),
                    "district": labels[code],
                    "declined": 1.0 - prosecuted,
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    hue_order = list(dict.fromkeys(data["district"]))
    palette = {label: OKABE_ITO[i % len(OKABE_ITO)] for i, label in enumerate(hue_order)}
    top = float(data["months"].max())
    bins = np.arange(0, top + binwidth + 1, binwidth)
    with _style():
        ax = _new_axes(ax, height=2.6 + 0.14 * len(hue_order))
        sns.histplot(
            data=data, x="months", weights="share", hue="district", hue_order=hue_order,
            palette=palette, binwidth=binwidth, binrange=(0, float(bins[-1])),
            element="step", fill=len(hue_order) <= 3, alpha=0.25 if len(hue_order) <= 3 else 1.0,
            linewidth=1.1, ax=ax, legend=True,
        )  # fmt: skip
        width = binwidth * 0.8 / len(hue_order)
        for i, label in enumerate(hue_order):
            declined = float(data.loc[data["district"] == label, "declined"].iloc[0])
            x = -binwidth * 2.5 + (i - (len(hue_order) - 1) / 2) * width
            ax.bar(x, declined, width=width, color=palette[label], edgecolor="black",
                   linewidth=0.4)  # fmt: skip
            if declined > 0:
                ax.text(x, declined, f"{100 * declined:.0f}%", ha="center", va="bottom",
                        fontsize=7)  # fmt: skip
        ticks = [t for t in ax.get_xticks() if 0 <= t <= bins[-1]]
        ax.set_xticks([-binwidth * 2.5, *ticks], ["declined", *(f"{t:.0f}" for t in ticks)])
        ax.set_xlim(-binwidth * 4, bins[-1])
        ax.set_xlabel("Sentence (months)")
        ax.set_ylabel("Defendants (share of all)")
        ax.set_title("Sentences of the same defendants", loc="left")
        if (legend := ax.get_legend()) is not None:  # below the axes, clear of the bars
            handles = list(legend.legend_handles)
            for handle, text in zip(handles, legend.get_texts(), strict=True):
                handle.set_label(text.get_text())
            legend.remove()
            _legend_below(ax, handles, ncol=1)
    return ax

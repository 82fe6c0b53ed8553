"""Mean sentence by criminal history category in each district (seaborn)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.axes import Axes

from sim.output.figures.style import (
    OKABE_ITO,
    _legend_below,
    _light_grid,
    _new_axes,
    _require,
    _style,
    _unique,
    identical_groups,
    merged_labels,
)

_ROMAN = ("I", "II", "III", "IV", "V", "VI")
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")


def months_by_category(
    months_by_category: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Mean months by criminal history category, one line per district; districts with
    identical rows are drawn once, labelled "(identical policies)".

    Parameters
    ----------
    months_by_category : pandas.DataFrame
        The ``months_by_category`` table: ``district``, ``criminal_history_category`` (1–6),
        ``defendants``, ``mean_months`` (every defendant in every district, declined = 0).
    names : mapping of str to str, optional
        District names by code ("Central District of California"), shown short ("C.D. Cal.").
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        x: criminal history category (I–VI); y: mean sentence (months).
    """
    import seaborn as sns

    columns = ["district", "criminal_history_category", "defendants", "mean_months"]
    _require(months_by_category, columns, "months_by_category")
    order = _unique(months_by_category["district"])
    groups = identical_groups(months_by_category, "district", order)
    labels = merged_labels(groups, names)
    data = months_by_category[months_by_category["district"].isin(labels)].copy()
    data["district"] = data["district"].map(labels)
    data["category"] = data["criminal_history_category"].astype(int)
    hue_order = [labels[g[0]] for g in groups]
    palette = {label: OKABE_ITO[i % len(OKABE_ITO)] for i, label in enumerate(hue_order)}
    markers = {label: _MARKERS[i % len(_MARKERS)] for i, label in enumerate(hue_order)}
    with _style():
        ax = _new_axes(ax, height=2.5 + 0.14 * len(hue_order))
        sns.lineplot(
            data=data, x="category", y="mean_months", hue="district", hue_order=hue_order,
            style="district", style_order=hue_order, markers=markers, dashes=False,
            palette=palette, markersize=4.5, linewidth=1.2, ax=ax,
        )  # fmt: skip
        categories = sorted(data["category"].unique())
        ax.set_xticks(categories, [_ROMAN[c - 1] for c in categories])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("Criminal history category (I–VI)")
        ax.set_ylabel("Mean sentence (months;\ndeclined = 0)")
        ax.set_title("Sentences by criminal history", loc="left")
        _light_grid(ax, "y")
        if (legend := ax.get_legend()) is not None:  # below the axes, clear of the lines
            handles = list(legend.legend_handles)
            for handle, text in zip(handles, legend.get_texts(), strict=True):
                handle.set_label(text.get_text())
            legend.remove()
            _legend_below(ax, handles, ncol=1)
    return ax

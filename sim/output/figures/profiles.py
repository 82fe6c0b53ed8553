"""Figure 7: each named profile in each district, against its no-deal range and the statutory
maximum.

The package re-exports the function :func:`profiles` under the same name as this module, so
``sim.output.figures.profiles`` is the function; import the helpers with
``from sim.output.figures.profiles import ...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from sim.output.figures.style import (
    _fit_height,
    _legend_below,
    _light_grid,
    _new_axes,
    _require,
    _style,
    _unique,
    district_colors,
    identical_groups,
    merged_labels,
    profile_outcome,
)

_RANGE_GREY = "#c8c8c8"
_LEGEND_GREY = "#595959"
_PROFILE_GRID_GREY = "#e3e3e3"
_GROUP_GAP = 0.4  # blank rows between two profiles' groups

#: A data row of the figure: (y, profile, district).
_Row = tuple[float, str, str]
#: A profile's header row: (y, profile).
_Header = tuple[float, str]


def profiles(
    profiles: pd.DataFrame,
    ax: Axes | None = None,
    district_order: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Each named profile in each district: no-deal range, statutory maximum and sentences.

    One row per profile and district, grouped under the profile's name. In each row: the
    no-deal final range (``final_range_min_months``–``final_range_max_months``) as a wide grey
    bar, the statutory maximum as a black vertical tick, and the simulated sentences as a line
    from their minimum to their maximum in the district's colour with a dot at their mean
    (with its 95% interval when it is wider than the dot).

    Parameters
    ----------
    profiles : pandas.DataFrame
        The ``profiles`` table: ``profile``, ``district``, ``metric``, ``estimate``,
        ``ci95_low``, ``ci95_high``; metrics used: ``final_range_min_months``,
        ``final_range_max_months``, ``statutory_maximum_months``, ``mean_months``,
        ``min_months``, ``max_months`` (all months).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new Figure (one column wide, taller with more rows) when None.
    district_order : sequence of str, optional
        Stable district order for colours; default: order of first appearance in the table.
    names : mapping of str to str, optional
        District names by code, shown as courts cite them ("C.D. Cal."). Districts whose rows
        are identical for every profile are drawn once ("S.D., E.D., N.D. Cal. (identical
        policies)"). Each row ends with the sentences in words: "70 mo." or
        "24 mo. (90%) / 60 mo. (10%)" (:func:`~sim.output.figures.style.profile_outcome`).

    Returns
    -------
    matplotlib.axes.Axes
        x: sentence (months); y: district (code), grouped by profile.
    """
    _require(profiles, ["profile", "district", "metric", "estimate"], "profiles")
    order = list(district_order or _unique(profiles["district"]))
    colors = district_colors(order)
    groups = identical_groups(profiles.drop(columns=["mcse"], errors="ignore"), "district", order)
    labels = merged_labels(groups, names)
    profiles = profiles[profiles["district"].isin(labels)]
    estimates = _Estimates.of(profiles)
    rows, headers, total = _layout(profiles, [g[0] for g in groups])
    with _style():
        ax = _new_axes(ax, height=_fit_height(total, 1.1, 0.36, 2.6))
        right = 0.0
        for yi, name, code in rows:
            extent = _draw_row(ax, yi, estimates, (name, code), colors.get(code, "black"))
            right = max(right, *(v for v in extent if np.isfinite(v)), 0.0)
            outcome = profile_outcome(
                profiles[(profiles["profile"] == name) & (profiles["district"] == code)]
            )
            least = estimates.value((name, code), "min_months")
            # Above the row, from its shortest sentence: clear of the range and the maximum.
            ax.text(least if np.isfinite(least) else 0.0, yi - 0.36, outcome, va="bottom",
                    ha="left", fontsize=7)  # fmt: skip
        ticks = [labels[code].replace(" (identical", "\n(identical") for _, _, code in rows]
        ax.set_yticks([yi for yi, _, _ in rows], ticks)
        _label_groups(ax, headers)
        ax.set_ylim(total - _GROUP_GAP, -0.6)
        ax.set_xlim(0, right * 1.06 if right > 0 else 1.0)
        ax.set_xlabel("Sentence (months)")
        ax.set_ylabel("District (name)")
        ax.set_title("Named defendants by district", loc="left")
        _light_grid(ax, "x", color=_PROFILE_GRID_GREY)
        _legend_below(ax, _legend_handles(), ncol=1)
    return ax


@dataclass(frozen=True)
class _Estimates:
    """The profiles table looked up by (profile, district): every metric's estimate, and the
    95% interval of the mean sentence."""

    wide: pd.DataFrame  # index (profile, district), one column per metric
    means: pd.DataFrame  # the mean_months rows, index (profile, district)

    @classmethod
    def of(cls, profiles: pd.DataFrame) -> _Estimates:
        """Index the ``profiles`` table by (profile, district)."""
        wide = profiles.pivot_table(
            index=["profile", "district"], columns="metric", values="estimate", aggfunc="first"
        )
        means = profiles[profiles["metric"] == "mean_months"].set_index(["profile", "district"])
        return cls(wide, means)

    def value(self, key: tuple[str, str], metric: str) -> float:
        """The estimate of ``metric`` for ``key`` (months), NaN when absent."""
        if metric not in self.wide.columns or key not in self.wide.index:
            return float("nan")
        return float(self.wide.at[key, metric])

    def mean_interval(self, key: tuple[str, str]) -> tuple[float, float]:
        """The 95% interval of the mean sentence for ``key`` (months), NaN when absent."""
        if key in self.means.index and "ci95_low" in self.means.columns:
            return float(self.means.at[key, "ci95_low"]), float(self.means.at[key, "ci95_high"])
        return float("nan"), float("nan")


def _layout(profiles: pd.DataFrame, order: list[str]) -> tuple[list[_Row], list[_Header], float]:
    """Rows top to bottom: each profile's header, then one row per district it has (in
    ``order``), then a gap; return the data rows, the headers and the total height (rows)."""
    rows: list[_Row] = []
    headers: list[_Header] = []
    y = 0.0
    for name in _unique(profiles["profile"]):
        headers.append((y, name))
        y += 1.0
        present = set(profiles.loc[profiles["profile"] == name, "district"])
        for code in order:
            if code in present:
                rows.append((y, name, code))
                y += 1.0
        y += _GROUP_GAP
    return rows, headers, y - _GROUP_GAP


def _draw_row(
    ax: Axes, yi: float, estimates: _Estimates, key: tuple[str, str], color: str
) -> tuple[float, float, float]:
    """One profile in one district at height ``yi``; return the x values that may set the
    right edge: top of the range, statutory maximum, longest sentence (months, maybe NaN)."""
    low = estimates.value(key, "final_range_min_months")
    high = estimates.value(key, "final_range_max_months")
    cap = estimates.value(key, "statutory_maximum_months")
    _draw_law(ax, yi, low, high, cap)
    least, most = estimates.value(key, "min_months"), estimates.value(key, "max_months")
    mean = estimates.value(key, "mean_months")
    if np.isfinite(least) and np.isfinite(most):
        ax.plot([least, most], [yi, yi], color=color, linewidth=1.6, solid_capstyle="butt")
        ax.plot([least, most], [yi, yi], "|", color=color, markersize=5, mew=1.2, ls="none")
    if np.isfinite(mean):
        _draw_mean(ax, yi, mean, estimates.mean_interval(key), color)
    return high, cap, most


def _draw_law(ax: Axes, yi: float, low: float, high: float, cap: float) -> None:
    """The no-deal final range as a grey bar (open-ended, marked "life", without a top) and
    the statutory maximum as a black tick."""
    if np.isfinite(low):
        top = high if np.isfinite(high) else cap
        ax.barh(yi, top - low, left=low, height=0.62, color=_RANGE_GREY, linewidth=0)
        if not np.isfinite(high):  # a life top: open-ended bar
            ax.text(top, yi, " life", va="center", ha="left", fontsize=7)
    if np.isfinite(cap):
        ax.plot([cap], [yi], marker="|", markersize=9, mew=1.6, color="black", ls="none")


def _draw_mean(ax: Axes, yi: float, mean: float, interval: tuple[float, float], color: str) -> None:
    """The mean sentence as a dot in the district's colour, over its 95% interval when that is
    known and wider than nothing."""
    lo, hi = interval
    if np.isfinite(lo) and np.isfinite(hi) and hi - lo > 0:
        ax.plot([lo, hi], [yi, yi], color="black", linewidth=0.8)
    ax.plot(
        [mean],
        [yi],
        "o",
        markersize=4.5,
        color=color,
        markeredgecolor="black",
        markeredgewidth=0.6,
    )


def _label_groups(ax: Axes, headers: list[_Header]) -> None:
    """Each profile's name on its header row, inside the axes at the left (header rows hold no
    data)."""
    names_at = blended_transform_factory(ax.transAxes, ax.transData)
    for yh, name in headers:
        ax.text(
            0.01,
            yh,
            "-".join(part.capitalize() for part in str(name).split("-")),
            transform=names_at,
            ha="left",
            va="center",
            fontsize=7.5,
            fontweight="bold",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8},
        )


def _legend_handles() -> list[Patch | Line2D]:
    """Legend entries: no-deal range, statutory maximum, simulated mean and min–max."""
    return [
        Patch(color=_RANGE_GREY, label="No-deal final range"),
        Line2D([], [], marker="|", markersize=9, mew=1.6, color="black", ls="none",
               label="Statutory maximum"),
        Line2D([], [], color=_LEGEND_GREY, linewidth=1.6, marker="o", markersize=4.5,
               markerfacecolor=_LEGEND_GREY, markeredgecolor="black", markeredgewidth=0.6,
               label="Simulated mean, min–max"),
    ]  # fmt: skip

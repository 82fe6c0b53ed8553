"""Figures 2 and 3: paired differences of the same defendants between two districts, as
distributions per pair and as the mean gap per Sentencing Table cell (heat map)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.output.figures.style import (
    OKABE_ITO,
    _draw_ecdfs,
    _fit_height,
    _legend_below,
    _light_grid,
    _new_axes,
    _pair_label,
    _require,
    _rows_where,
    _series_style,
    _signed,
    _style,
    _unique,
    _weighted_ecdf,
    _zero_line,
    district_short_name,
    group_label,
)

_PAIR_POPULATIONS = {
    "all_defendants": "all defendants",
    "both_prosecuted": "both prosecuted",
}
_PAIR_KINDS = ("ecdf", "quantiles")
_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_ROMAN = ("I", "II", "III", "IV", "V", "VI")
_GAP_COLUMNS = (
    "district_a",
    "district_b",
    "offense_level",
    "criminal_history_category",
    "defendants",
    "mean_gap_months",
)
_CELL_EDGE_GREY = "#bfbfbf"
_MAX_LABELLED_LEVELS = 30  # more rows than this: cells too small for their numbers

#: One pair's distribution: (district a, district b, sorted differences, cumulative shares).
_PairDistribution = tuple[str, str, np.ndarray, np.ndarray]


# --- 2. paired differences -------------------------------------------------------------------


def paired_differences(
    pair_differences: pd.DataFrame,
    defendants: str = "all_defendants",
    ax: Axes | None = None,
    kind: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Distribution of the paired difference (district a − district b) for each district pair.

    The paired difference of a defendant is his sentence in district a minus his sentence in
    district b (the same defendant in both, common random numbers), pooled over replications.
    Two layouts:

    - ``"ecdf"`` (default up to 8 pairs): one step ECDF per pair, distinct colour and dash; at
      *x* months a curve gives the share of defendants whose difference is *x* months or less,
      so the jump at 0 is the share sentenced identically in both districts.
    - ``"quantiles"`` (default above 8 pairs, where 8+ overlapping lines stop being legible):
      one row per pair with a box from the 25th to the 75th percentile, a whisker from the 5th
      to the 95th, a tick at the median and a diamond at the mean (type-1 weighted quantiles).

    A dotted vertical line marks no difference.

    Parameters
    ----------
    pair_differences : pandas.DataFrame
        The ``pair_differences`` table: ``defendants``, ``district_a``, ``district_b``,
        ``difference_months`` (whole months) and ``count``.
    defendants : {"all_defendants", "both_prosecuted"}
        ``all_defendants``: a declined defendant counts 0 months; ``both_prosecuted``: only
        defendants prosecuted in both districts.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.
    kind : {"ecdf", "quantiles"}, optional
        Layout; by default ``"ecdf"`` for at most 8 pairs, else ``"quantiles"``.
    names : mapping of str to str, optional
        District names by code, shown as courts cite them ("C.D. Cal."). Pairs whose rows are
        identical (districts with identical policies) are drawn once, labelled together
        ("C.D. Cal. − S.D., E.D., N.D. Cal."); pairs whose every difference is 0 are left out
        when another pair is not.

    Returns
    -------
    matplotlib.axes.Axes
        x: paired difference a − b (months); y: cumulative share (share of defendants, 0–1)
        for ``"ecdf"``, district pair for ``"quantiles"``.
    """
    columns = ["defendants", "district_a", "district_b", "difference_months", "count"]
    _require(pair_differences, columns, "pair_differences")
    rows = _rows_where(pair_differences, "defendants", defendants, "pair_differences")
    distributions = _merge_pairs(_pair_distributions(rows), names or {})
    kind = kind or ("ecdf" if len(distributions) <= len(OKABE_ITO) else "quantiles")
    if kind not in _PAIR_KINDS:
        raise ValueError(f"paired_differences: kind {kind!r}; allowed: 'ecdf', 'quantiles'")
    low = min(float(rows["difference_months"].min()), 0.0)
    high = max(float(rows["difference_months"].max()), 0.0)
    declined = "; declined = 0" if defendants == "all_defendants" else ""
    population = _PAIR_POPULATIONS.get(defendants, defendants)
    with _style():
        if kind == "ecdf":
            ax = _new_axes(ax)
            _draw_pair_ecdfs(ax, distributions, start=low - _margin(low, high))
        else:
            ax = _new_axes(ax, height=_fit_height(len(distributions), 1.3, 0.2, 2.4))
            low, high = _draw_quantile_rows(ax, distributions)
            ax.set_ylabel("District pair (a − b)")
        margin = _margin(low, high)
        ax.set_xlim(low - margin, high + margin)
        ax.set_xlabel(f"Paired difference, a − b (months{declined})")
        ax.set_title(f"Paired differences, {population}", loc="left")
    return ax


def _pair_distributions(rows: pd.DataFrame) -> list[_PairDistribution]:
    """The weighted ECDF of the differences of each pair, pairs in order of first appearance."""
    distributions = []
    for a, b in _unique(zip(rows["district_a"], rows["district_b"], strict=True)):
        group = rows[(rows["district_a"] == a) & (rows["district_b"] == b)]
        values, shares = _weighted_ecdf(
            group["difference_months"].to_numpy(), group["count"].to_numpy()
        )
        distributions.append((a, b, values, shares))
    return distributions


def _merge_pairs(
    distributions: list[_PairDistribution], names: Mapping[str, str]
) -> list[_PairDistribution]:
    """Pairs with identical distributions drawn once under one label (named, or counted when more
    than two pairs share it across several districts on both sides); pairs with no difference
    at all dropped (unless every pair is one). The label goes in the first district slot and
    the second is empty, so :func:`_pair_label` shows it as it is."""
    groups: dict[bytes, list[_PairDistribution]] = {}
    for item in distributions:
        key = item[2].tobytes() + b"|" + item[3].tobytes()
        groups.setdefault(key, []).append(item)
    merged = []
    for members in groups.values():
        a_side = _unique(m[0] for m in members)
        b_side = _unique(m[1] for m in members)
        a_label = group_label([district_short_name(names.get(c, c)) for c in a_side])
        b_label = group_label([district_short_name(names.get(c, c)) for c in b_side])
        if len(a_side) == 1 or len(b_side) == 1:
            label = f"{a_label} − {b_label}"
        elif len(members) > 2:  # listing them would outgrow the figure (legend or row labels)
            label = f"{len(members)} pairs with identical differences"
        else:
            label = "; ".join(
                f"{district_short_name(names.get(a, a))} − {district_short_name(names.get(b, b))}"
                for a, b, _, _ in members
            )
        values, shares = members[0][2], members[0][3]
        merged.append((label, "", values, shares))
    nonzero = [m for m in merged if len(m[2]) and np.any(m[2] != 0)]
    return nonzero or merged[:1]


def _margin(low: float, high: float) -> float:
    """Blank space (months) left and right of the x extent: 4% of it, at least 0.04."""
    return 0.04 * max(high - low, 1.0)


def _draw_pair_ecdfs(ax: Axes, distributions: list[_PairDistribution], start: float) -> None:
    """One step ECDF per pair (legend titled by pair) behind a zero line, starting at x
    ``start``."""
    series = [
        (_pair_label(a, b), values, shares, _series_style(index))
        for index, (a, b, values, shares) in enumerate(distributions)
    ]
    _zero_line(ax)
    _draw_ecdfs(ax, series, start=start)
    ax.set_ylabel("Difference ≤ x months\n(share of defendants)")
    ax.legend(loc="lower right", handlelength=2.6, title="Pair (a − b)")


def _quantile(values: np.ndarray, shares: np.ndarray, q: float) -> float:
    """Type-1 quantile (smallest value whose cumulative share reaches q) of an ECDF."""
    index = int(np.searchsorted(shares, q - 1e-12, side="left"))
    return float(values[min(index, len(values) - 1)])


def _draw_quantile_rows(ax: Axes, distributions: list[_PairDistribution]) -> tuple[float, float]:
    """Draw one quantile row per pair; return the x extent drawn (months, including 0)."""
    color = OKABE_ITO[0]
    extent = [0.0]
    _zero_line(ax)
    for y, (_, _, values, shares) in enumerate(distributions):
        if not len(values) or shares[-1] <= 0:
            continue
        extent += _draw_quantile_row(ax, y, values, shares, color)
    ax.set_yticks(range(len(distributions)), [_pair_label(a, b) for a, b, _, _ in distributions])
    ax.set_ylim(len(distributions) - 0.5, -0.5)
    _light_grid(ax, "x")
    _legend_below(ax, _quantile_legend_handles(color), ncol=2)
    return min(extent), max(extent)


def _draw_quantile_row(
    ax: Axes, y: int, values: np.ndarray, shares: np.ndarray, color: str
) -> list[float]:
    """Whisker (5th–95th), box (25th–75th), median tick and mean diamond of one pair at row
    ``y``; return the x values drawn at the ends (5th, 95th percentile, mean)."""
    p05, p25, p50, p75, p95 = (_quantile(values, shares, q) for q in _QUANTILES)
    weights = np.diff(np.concatenate([[0.0], shares]))
    mean = float(np.sum(values * weights))
    ax.plot([p05, p95], [y, y], color=color, linewidth=1.0, solid_capstyle="butt")
    ax.barh(y, max(p75 - p25, 0.0), left=p25, height=0.56, color=color, linewidth=0)
    if p75 == p25:  # a box of zero width: keep it visible
        ax.plot([p25], [y], "s", color=color, markersize=4.5)
    ax.plot([p50], [y], "|", color="black", markersize=7.5, mew=1.4)
    ax.plot([mean], [y], "D", color="white", markeredgecolor="black", markersize=3.8, mew=0.7)
    return [p05, p95, mean]


def _quantile_legend_handles(color: str) -> list[Patch | Line2D]:
    """Legend entries of the quantile rows: box, whisker, median, mean."""
    return [
        Patch(color=color, label="25th–75th pct."),
        Line2D([], [], color=color, linewidth=1.0, label="5th–95th pct."),
        Line2D([], [], color="black", marker="|", ls="none", markersize=7.5, mew=1.4,
               label="Median"),
        Line2D([], [], color="white", marker="D", ls="none", markeredgecolor="black",
               markersize=3.8, mew=0.7, label="Mean"),
    ]  # fmt: skip


# --- 3. gap heat map -------------------------------------------------------------------------


def gap_heatmap(
    gap_by_cell: pd.DataFrame,
    district_a: str,
    district_b: str,
    ax: Axes | None = None,
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Mean paired gap (months) by Chapter Two offense level × criminal history category.

    Rows are the Chapter Two offense levels (§ 2L1.2 base plus enhancement) present in the
    table, increasing downwards as in the Sentencing Table; columns are categories I–VI. Each
    cell's colour and printed number is the mean, over the cell's defendants, of (months in
    district a − months in district b). The diverging colour map (ColorBrewer RdBu, colour-blind
    safe) is centred at 0 with symmetric limits: red = longer in a, blue = longer in b. Cells
    without defendants are left blank (no colour, no number). The colour bar is the Axes'
    mesh's ``colorbar`` (``ax.collections[0].colorbar``).

    Parameters
    ----------
    gap_by_cell : pandas.DataFrame
        The ``gap_by_cell`` table: ``district_a``, ``district_b``, ``offense_level``,
        ``criminal_history_category`` (1–6), ``defendants`` and ``mean_gap_months``.
    district_a, district_b : str
        The pair; given in the reverse of the table's order, the gap is negated (b − a).
    names : mapping of str to str, optional
        District names by code, shown as courts cite them ("C.D. Cal.").
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None (the colour bar takes space
        from this Axes' figure).

    Returns
    -------
    matplotlib.axes.Axes
        x: criminal history category (I–VI); y: Chapter Two offense level (levels); colour bar:
        mean paired gap (months).
    """
    _require(gap_by_cell, _GAP_COLUMNS, "gap_by_cell")
    rows, sign = _pair_rows(gap_by_cell, district_a, district_b)
    levels = sorted(int(v) for v in _unique(gap_by_cell["offense_level"]))
    grid = _gap_grid(rows, levels, sign)
    counts = _count_grid(rows, levels)
    limit = _symmetric_limit(grid)
    names = names or {}
    pair = _pair_label(
        district_short_name(names.get(district_a, district_a)),
        district_short_name(names.get(district_b, district_b)),
    )
    with _style():
        ax = _new_axes(ax, height=_fit_height(len(levels), 1.4, 0.3, 2.4))
        mesh = _draw_cells(ax, grid, limit)
        if len(levels) <= _MAX_LABELLED_LEVELS:
            _label_cells(ax, grid, limit, counts)
        _format_sentencing_table_axes(ax, levels)
        ax.set_title(f"Mean paired gap, {pair}", loc="left")
        _add_colorbar(ax, mesh, f"Mean gap, {pair} (months)")
    return ax


def _pair_rows(
    gap_by_cell: pd.DataFrame, district_a: str, district_b: str
) -> tuple[pd.DataFrame, float]:
    """The rows of the pair and the sign to apply: +1 as stored (a, b), −1 if stored (b, a)."""
    a, b = gap_by_cell["district_a"], gap_by_cell["district_b"]
    rows = gap_by_cell[(a == district_a) & (b == district_b)]
    if not rows.empty:
        return rows, 1.0
    rows = gap_by_cell[(a == district_b) & (b == district_a)]
    if rows.empty:
        raise ValueError(f"gap_by_cell: no rows for the pair {district_a}, {district_b}")
    return rows, -1.0


def _gap_grid(rows: pd.DataFrame, levels: list[int], sign: float) -> np.ndarray:
    """(level, category I–VI) grid of ``sign`` × mean gap (months); NaN where no defendants."""
    level_index = {level: i for i, level in enumerate(levels)}
    grid = np.full((len(levels), len(_ROMAN)), np.nan)
    for level, category, n, gap in rows[list(_GAP_COLUMNS[2:])].itertuples(index=False):
        if n > 0 and 1 <= int(category) <= len(_ROMAN) and not pd.isna(gap):
            grid[level_index[int(level)], int(category) - 1] = sign * float(gap)
    return grid


def _count_grid(rows: pd.DataFrame, levels: list[int]) -> np.ndarray:
    """(level, category I–VI) grid of the cells' defendants (0 where none)."""
    level_index = {level: i for i, level in enumerate(levels)}
    grid = np.zeros((len(levels), len(_ROMAN)), dtype=np.int64)
    for level, category, n in rows[["offense_level", "criminal_history_category", "defendants"]]\
            .itertuples(index=False):  # fmt: skip
        if 1 <= int(category) <= len(_ROMAN):
            grid[level_index[int(level)], int(category) - 1] = int(n)
    return grid


def _symmetric_limit(grid: np.ndarray) -> float:
    """Largest absolute gap in the grid (months), 1 when there is none or it is 0."""
    finite = grid[np.isfinite(grid)]
    limit = float(np.max(np.abs(finite))) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def _draw_cells(ax: Axes, grid: np.ndarray, limit: float) -> QuadMesh:
    """The coloured cells (diverging RdBu centred at 0, ±``limit``) and every cell's outline."""
    rows, columns = grid.shape
    mesh = ax.pcolormesh(
        np.arange(columns + 1),
        np.arange(rows + 1),
        np.ma.masked_invalid(grid),
        cmap=mpl.colormaps["RdBu_r"],
        norm=Normalize(vmin=-limit, vmax=limit),
        edgecolors=_CELL_EDGE_GREY,
        linewidth=0.4,
    )
    # Outline every cell, occupied or not, so a blank cell reads as "no defendants".
    for i in range(rows + 1):
        ax.axhline(i, color=_CELL_EDGE_GREY, linewidth=0.4, zorder=0.5)
    for j in range(columns + 1):
        ax.axvline(j, color=_CELL_EDGE_GREY, linewidth=0.4, zorder=0.5)
    return mesh


def _label_cells(
    ax: Axes, grid: np.ndarray, limit: float, counts: np.ndarray | None = None
) -> None:
    """Print each occupied cell's gap (one decimal) and, below it in italics, its defendants;
    white on the darkest colours."""
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            dark = abs(value) > 0.6 * limit
            color = "white" if dark else "black"
            below = counts is not None and grid.shape[0] <= 12
            ax.text(j + 0.5, i + (0.4 if below else 0.5), _signed(value), ha="center",
                    va="center", fontsize=7, color=color)  # fmt: skip
            if below:
                ax.text(j + 0.5, i + 0.75, f"{counts[i, j]:,}", ha="center", va="center",
                        fontsize=7, fontstyle="italic", color=color)  # fmt: skip


def _format_sentencing_table_axes(ax: Axes, levels: list[int]) -> None:
    """Categories I–VI across, offense levels increasing downwards; no ticks, no spines."""
    ax.set_xlim(0, len(_ROMAN))
    ax.set_ylim(len(levels), 0)  # level increasing downwards, as in the Sentencing Table
    ax.set_xticks(np.arange(len(_ROMAN)) + 0.5, _ROMAN)
    ax.set_yticks(np.arange(len(levels)) + 0.5, [str(level) for level in levels])
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Criminal history category (I–VI)")
    ax.set_ylabel("Chapter Two offense level (levels)")


def _add_colorbar(ax: Axes, mesh: QuadMesh, label: str) -> None:
    """A thin colour bar for ``mesh`` beside ``ax``, taking its space from ``ax``."""
    colorbar = ax.get_figure().colorbar(mesh, ax=ax, fraction=0.08, pad=0.03)
    colorbar.set_label(label)
    colorbar.ax.tick_params(labelsize=7)
    colorbar.outline.set_linewidth(0.5)

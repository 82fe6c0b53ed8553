"""Publication charts of a run, drawn from its tidy result tables (:mod:`sim.output.tables`).

One function per figure. Each takes the table(s) it needs and an optional ``ax``; it draws into
that Axes (or into a new :class:`matplotlib.figure.Figure` sized for one journal column, about
3.5 in wide, when ``ax`` is None) and returns the Axes. :func:`render_figures` writes every
figure of a run as PNG and SVG with byte-identical output for identical tables.

Conventions, the same in every figure:

- Colours are the Okabe–Ito colour-blind-safe palette; each district keeps one colour, assigned
  in the order the districts first appear in the table (the scenario's order), so a district has
  the same colour in every figure of a run. Lines also differ in dash pattern, so the figures
  survive grey-scale printing and lines that coincide stay visible.
- Every axis label names its unit in parentheses; text is at least 7 pt.
- Nothing global is changed: no ``pyplot`` state, no style or ``rcParams`` mutation. Drawing
  and saving run inside a local :func:`matplotlib.style.context` (Matplotlib's defaults plus
  this module's sizes), so a user's ``matplotlibrc`` cannot change the output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.style as mpl_style
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

__all__ = [
    "FIGURE_NAMES",
    "OKABE_ITO",
    "convergence",
    "district_colors",
    "district_distributions",
    "gap_heatmap",
    "paired_differences",
    "profiles",
    "render_figures",
    "selection_vs_policy",
    "variance_shares",
]

#: Okabe & Ito (2008) colour-blind-safe palette, in the order colours are handed out (yellow,
#: weak on white paper, last; black is kept for reference lines but used after seven series).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)

#: Dash patterns cycled with the colours (solid, dashed, dotted, dash-dot).
_DASHES: tuple[Any, ...] = ("-", (0, (4, 1.6)), (0, (1, 1.2)), (0, (5, 1.5, 1, 1.5)))

#: Figure stems written by :func:`render_figures`, in drawing order.
FIGURE_NAMES = (
    "district_distributions",
    "paired_differences",
    "gap_heatmap",
    "variance_shares",
    "selection_vs_policy",
    "convergence",
    "profiles",
)

_COLUMN_WIDTH = 3.5  # inches: one journal column
_DPI = 300
_SVG_HASH_SALT = "sim-plots"

#: Local style on top of Matplotlib's defaults (sizes in points, ≥ 7 pt for print).
_STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "lines.linewidth": 1.2,
    "axes.unicode_minus": True,
    "svg.hashsalt": _SVG_HASH_SALT,
    "svg.fonttype": "path",
    "figure.dpi": 100,
    "savefig.dpi": _DPI,
    "image.interpolation": "nearest",
    "path.simplify": False,
    "hatch.linewidth": 0.6,
}

_OUTCOMES = {
    "prosecuted": "prosecuted defendants",
    "all_defendants": "all defendants",
    "as_arrested": "as arrested",
}
_PAIR_POPULATIONS = {
    "all_defendants": "all defendants",
    "both_prosecuted": "both prosecuted",
}
_SHAPLEY_COMPONENTS = {
    "district": "District",
    "criminal_history_category": "Criminal history\ncategory",
    "section_2l1_2_enhancement": "§ 2L1.2\nenhancement",
    "other_record": "Other record",
}
_SELECTION_PARTS = {
    "observed_gap_months": ("Observed gap", "#595959", None),
    "treatment_months": ("Treatment", OKABE_ITO[0], None),
    "composition_months": ("Composition", OKABE_ITO[4], "////"),
}
_ROMAN = ("I", "II", "III", "IV", "V", "VI")


# --- shared helpers --------------------------------------------------------------------------


@contextmanager
def _style() -> Iterator[None]:
    """Matplotlib's defaults plus :data:`_STYLE`, restored on exit (nothing global changes)."""
    with mpl_style.context(["default", _STYLE]):
        yield


def _new_axes(ax: Axes | None, width: float = _COLUMN_WIDTH, height: float = 2.6) -> Axes:
    if ax is not None:
        return ax
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure.add_subplot()


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    if table.empty:
        raise ValueError(f"{name}: the table is empty")


def _unique(values: Any) -> list[Any]:
    """Distinct values in order of first appearance (NaN/None dropped)."""
    return [v for v in dict.fromkeys(values) if v is not None and not pd.isna(v)]


def district_colors(districts: Sequence[str]) -> dict[str, str]:
    """Okabe–Ito colour of each district, by position (cycling after eight districts).

    Parameters
    ----------
    districts : sequence of str
        District codes in their stable order (the scenario's order).

    Returns
    -------
    dict of str to str
        Hex colour per district code.
    """
    return {code: OKABE_ITO[i % len(OKABE_ITO)] for i, code in enumerate(districts)}


def _series_style(index: int) -> dict[str, Any]:
    """Colour, dash and width of the ``index``-th line (unique for the first 32 lines); earlier
    lines are wider, so a later line drawn exactly on top leaves the earlier one visible."""
    return {
        "color": OKABE_ITO[index % len(OKABE_ITO)],
        "linestyle": _DASHES[(index + index // len(OKABE_ITO)) % len(_DASHES)],
        "linewidth": max(2.0 - 0.35 * index, 1.0),
    }


def _interval_errors(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where to draw 95% interval error bars: (x, (2, n) distances to the interval ends).

    ``x`` is the estimate, NaN where the interval is unknown (a single replication), so no
    error bar (not even a cap) is drawn there.
    """
    estimate = frame["estimate"].to_numpy(dtype=float)
    low = frame["ci95_low"].to_numpy(dtype=float)
    high = frame["ci95_high"].to_numpy(dtype=float)
    known = np.isfinite(estimate) & np.isfinite(low) & np.isfinite(high)
    errors = np.vstack(
        [np.where(known, estimate - low, 0.0), np.where(known, high - estimate, 0.0)]
    )
    return np.where(known, estimate, np.nan), np.clip(errors, 0.0, None)


def _signed(value: float) -> str:
    """One decimal with a true minus sign; a value that rounds to zero prints as 0.0."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text.replace("-", "−")


def _pair_label(a: str, b: str) -> str:
    return f"{a} − {b}"


def _weighted_ecdf(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(values, kind="stable")
    values = np.asarray(values, dtype=float)[order]
    weights = np.asarray(weights, dtype=float)[order]
    total = weights.sum()
    if total <= 0:
        return values, np.zeros_like(values)
    return values, np.cumsum(weights) / total


def _draw_ecdfs(
    ax: Axes, series: list[tuple[str, np.ndarray, np.ndarray, dict[str, Any]]], start: float
) -> None:
    """Step ECDFs from (``start``, 0) to a common right end at share 1."""
    right = max(float(np.max(v)) for _, v, _, _ in series if len(v))
    for label, values, shares, style in series:
        x = np.concatenate([[start], values, [right]])
        y = np.concatenate([[0.0], shares, [shares[-1] if len(shares) else 0.0]])
        ax.step(x, y, where="post", label=label, **style)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.grid(axis="y", color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)


# --- 1. district distributions ---------------------------------------------------------------


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
    rows = distributions[distributions["outcome"] == outcome]
    if rows.empty:
        known = ", ".join(map(str, _unique(distributions["outcome"])))
        raise ValueError(f"distributions: no rows for outcome {outcome!r} (have: {known})")
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
        _draw_ecdfs(ax, series, start=0.0)
        ax.set_xlim(left=0)
        declined = "; declined = 0" if outcome == "all_defendants" else ""
        ax.set_xlabel(f"Sentence (months{declined})")
        ax.set_ylabel("Sentenced to ≤ x months\n(share of defendants)")
        ax.set_title(f"Sentences, {_OUTCOMES.get(outcome, outcome)}", loc="left")
        ax.legend(loc="lower right", handlelength=2.6)
    return ax


# --- 2. paired differences -------------------------------------------------------------------


def paired_differences(
    pair_differences: pd.DataFrame,
    defendants: str = "all_defendants",
    ax: Axes | None = None,
    kind: str | None = None,
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

    Returns
    -------
    matplotlib.axes.Axes
        x: paired difference a − b (months); y: cumulative share (share of defendants, 0–1)
        for ``"ecdf"``, district pair for ``"quantiles"``.
    """
    columns = ["defendants", "district_a", "district_b", "difference_months", "count"]
    _require(pair_differences, columns, "pair_differences")
    rows = pair_differences[pair_differences["defendants"] == defendants]
    if rows.empty:
        known = ", ".join(map(str, _unique(pair_differences["defendants"])))
        raise ValueError(f"pair_differences: no rows for defendants {defendants!r} (have: {known})")
    pairs = _unique(zip(rows["district_a"], rows["district_b"], strict=True))
    kind = kind or ("ecdf" if len(pairs) <= len(OKABE_ITO) else "quantiles")
    if kind not in ("ecdf", "quantiles"):
        raise ValueError(f"paired_differences: kind {kind!r}; allowed: 'ecdf', 'quantiles'")
    distributions = []
    for a, b in pairs:
        group = rows[(rows["district_a"] == a) & (rows["district_b"] == b)]
        values, shares = _weighted_ecdf(
            group["difference_months"].to_numpy(), group["count"].to_numpy()
        )
        distributions.append((a, b, values, shares))
    low = min(float(rows["difference_months"].min()), 0.0)
    high = max(float(rows["difference_months"].max()), 0.0)
    margin = 0.04 * max(high - low, 1.0)
    declined = "; declined = 0" if defendants == "all_defendants" else ""
    population = _PAIR_POPULATIONS.get(defendants, defendants)
    with _style():
        if kind == "ecdf":
            ax = _new_axes(ax)
            series = [
                (_pair_label(a, b), values, shares, _series_style(index))
                for index, (a, b, values, shares) in enumerate(distributions)
            ]
            ax.axvline(0, color="#7f7f7f", linewidth=0.6, linestyle=":", zorder=0)
            _draw_ecdfs(ax, series, start=low - margin)
            ax.set_ylabel("Difference ≤ x months\n(share of defendants)")
            ax.legend(loc="lower right", handlelength=2.6, title="Pair (a − b)")
        else:
            ax = _new_axes(ax, height=min(max(1.3 + 0.2 * len(pairs), 2.4), 9.0))
            low, high = _draw_quantile_rows(ax, distributions)
            margin = 0.04 * max(high - low, 1.0)
            ax.set_ylabel("District pair (a − b)")
        ax.set_xlim(low - margin, high + margin)
        ax.set_xlabel(f"Paired difference, a − b (months{declined})")
        ax.set_title(f"Paired differences, {population}", loc="left")
    return ax


def _quantile(values: np.ndarray, shares: np.ndarray, q: float) -> float:
    """Type-1 quantile (smallest value whose cumulative share reaches q) of an ECDF."""
    index = int(np.searchsorted(shares, q - 1e-12, side="left"))
    return float(values[min(index, len(values) - 1)])


def _draw_quantile_rows(
    ax: Axes, distributions: list[tuple[str, str, np.ndarray, np.ndarray]]
) -> tuple[float, float]:
    """Draw one quantile row per pair; return the x extent drawn (months, including 0)."""
    color = OKABE_ITO[0]
    extent = [0.0]
    ax.axvline(0, color="#7f7f7f", linewidth=0.6, linestyle=":", zorder=0)
    for y, (_, _, values, shares) in enumerate(distributions):
        if not len(values) or shares[-1] <= 0:
            continue
        p05, p25, p50, p75, p95 = (_quantile(values, shares, q) for q in _QUANTILES)
        weights = np.diff(np.concatenate([[0.0], shares]))
        mean = float(np.sum(values * weights))
        extent += [p05, p95, mean]
        ax.plot([p05, p95], [y, y], color=color, linewidth=1.0, solid_capstyle="butt")
        ax.barh(y, max(p75 - p25, 0.0), left=p25, height=0.56, color=color, linewidth=0)
        if p75 == p25:  # a box of zero width: keep it visible
            ax.plot([p25], [y], "s", color=color, markersize=4.5)
        ax.plot([p50], [y], "|", color="black", markersize=7.5, mew=1.4)
        ax.plot([mean], [y], "D", color="white", markeredgecolor="black", markersize=3.8, mew=0.7)
    ax.set_yticks(range(len(distributions)), [_pair_label(a, b) for a, b, _, _ in distributions])
    ax.set_ylim(len(distributions) - 0.5, -0.5)
    ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)
    handles = [
        Patch(color=color, label="25th–75th pct."),
        Line2D([], [], color=color, linewidth=1.0, label="5th–95th pct."),
        Line2D([], [], color="black", marker="|", ls="none", markersize=7.5, mew=1.4,
               label="Median"),
        Line2D([], [], color="white", marker="D", ls="none", markeredgecolor="black",
               markersize=3.8, mew=0.7, label="Mean"),
    ]  # fmt: skip
    _legend_below(ax, handles, ncol=2)
    return min(extent), max(extent)


_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _legend_below(ax: Axes, handles: list[Any], ncol: int) -> None:
    """A legend centred a fixed distance (0.45 in) below the Axes, clear of the x label."""
    below = ax.transAxes + ScaledTranslation(0, -0.45, ax.get_figure(root=True).dpi_scale_trans)
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below,
        ncol=ncol,
        handlelength=1.6,
        columnspacing=1.2,
    )


# --- 3. gap heat map -------------------------------------------------------------------------


def gap_heatmap(
    gap_by_cell: pd.DataFrame,
    district_a: str,
    district_b: str,
    ax: Axes | None = None,
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
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None (the colour bar takes space
        from this Axes' figure).

    Returns
    -------
    matplotlib.axes.Axes
        x: criminal history category (I–VI); y: Chapter Two offense level (levels); colour bar:
        mean paired gap (months).
    """
    columns = [
        "district_a",
        "district_b",
        "offense_level",
        "criminal_history_category",
        "defendants",
        "mean_gap_months",
    ]
    _require(gap_by_cell, columns, "gap_by_cell")
    sign = 1.0
    rows = gap_by_cell[
        (gap_by_cell["district_a"] == district_a) & (gap_by_cell["district_b"] == district_b)
    ]
    if rows.empty:
        rows = gap_by_cell[
            (gap_by_cell["district_a"] == district_b) & (gap_by_cell["district_b"] == district_a)
        ]
        sign = -1.0
    if rows.empty:
        raise ValueError(f"gap_by_cell: no rows for the pair {district_a}, {district_b}")
    levels = sorted(int(v) for v in _unique(gap_by_cell["offense_level"]))
    level_index = {level: i for i, level in enumerate(levels)}
    grid = np.full((len(levels), len(_ROMAN)), np.nan)
    for level, category, n, gap in rows[
        ["offense_level", "criminal_history_category", "defendants", "mean_gap_months"]
    ].itertuples(index=False):
        if n > 0 and 1 <= int(category) <= len(_ROMAN) and not pd.isna(gap):
            grid[level_index[int(level)], int(category) - 1] = sign * float(gap)
    finite = grid[np.isfinite(grid)]
    limit = float(np.max(np.abs(finite))) if finite.size else 0.0
    limit = limit if limit > 0 else 1.0
    height = min(max(1.4 + 0.3 * len(levels), 2.4), 9.0)
    with _style():
        ax = _new_axes(ax, height=height)
        norm = Normalize(vmin=-limit, vmax=limit)
        cmap = mpl.colormaps["RdBu_r"]
        mesh = ax.pcolormesh(
            np.arange(len(_ROMAN) + 1),
            np.arange(len(levels) + 1),
            np.ma.masked_invalid(grid),
            cmap=cmap,
            norm=norm,
            edgecolors="#bfbfbf",
            linewidth=0.4,
        )
        # Outline every cell, occupied or not, so a blank cell reads as "no defendants".
        for i in range(len(levels) + 1):
            ax.axhline(i, color="#bfbfbf", linewidth=0.4, zorder=0.5)
        for j in range(len(_ROMAN) + 1):
            ax.axvline(j, color="#bfbfbf", linewidth=0.4, zorder=0.5)
        if len(levels) <= 30:
            for (i, j), value in np.ndenumerate(grid):
                if np.isfinite(value):
                    dark = abs(value) > 0.6 * limit
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        _signed(value),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "black",
                    )
        ax.set_xlim(0, len(_ROMAN))
        ax.set_ylim(len(levels), 0)  # level increasing downwards, as in the Sentencing Table
        ax.set_xticks(np.arange(len(_ROMAN)) + 0.5, _ROMAN)
        ax.set_yticks(np.arange(len(levels)) + 0.5, [str(level) for level in levels])
        ax.tick_params(length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel("Criminal history category (I–VI)")
        ax.set_ylabel("Chapter Two offense level (levels)")
        ax.set_title(f"Mean paired gap, {_pair_label(district_a, district_b)}", loc="left")
        colorbar = ax.get_figure().colorbar(mesh, ax=ax, fraction=0.08, pad=0.03)
        colorbar.set_label(f"Mean gap, {_pair_label(district_a, district_b)} (months)")
        colorbar.ax.tick_params(labelsize=7)
        colorbar.outline.set_linewidth(0.5)
    return ax


# --- 4. variance shares ----------------------------------------------------------------------


def variance_shares(variance_shares: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Shapley shares of sentence variance, with 95% Monte Carlo intervals.

    Horizontal bars for the four Shapley components, which sum to 1: district, criminal
    history category, § 2L1.2 enhancement and other record. Each bar is the estimate (mean
    over replications) with its 95% interval as an error bar and the value printed beside it.
    The table's two-way ANOVA rows (``district_main_effect``, ``record_main_effect``,
    ``district_record_interaction``) are not drawn: they split the same variance another way
    (the Shapley shares give each factor half the interaction), and drawing both would count it
    twice; they stay in the table.

    Parameters
    ----------
    variance_shares : pandas.DataFrame
        The ``variance_shares`` table: ``component``, ``estimate``, ``mcse``, ``ci95_low``,
        ``ci95_high`` (shares of the total variance of months on the balanced design).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        x: share of variance (0–1); y: component.
    """
    _require(variance_shares, ["component", "estimate", "ci95_low", "ci95_high"], "variance_shares")
    table = variance_shares.drop_duplicates("component").set_index("component")
    components = [c for c in _SHAPLEY_COMPONENTS if c in table.index]
    if not components:
        known = ", ".join(map(str, table.index))
        raise ValueError(f"variance_shares: no Shapley component among: {known}")
    rows = table.loc[components]
    estimate = rows["estimate"].to_numpy(dtype=float)
    centres, errors = _interval_errors(rows)
    with _style():
        ax = _new_axes(ax, height=2.0)
        y = np.arange(len(components))
        colors = [OKABE_ITO[0] if c == "district" else "#8c8c8c" for c in components]
        ax.barh(y, np.nan_to_num(estimate), height=0.62, color=colors)
        ax.errorbar(
            centres,
            y,
            xerr=errors,
            fmt="none",
            ecolor="black",
            elinewidth=0.8,
            capsize=2.5,
            capthick=0.8,
        )
        top = float(np.nanmax(np.concatenate([estimate + errors[1], [0.0]])))
        for yi, value, err in zip(y, estimate, errors[1], strict=True):
            if np.isfinite(value):
                ax.text(
                    value + err + 0.015,
                    yi,
                    f"{value:.3f}",
                    va="center",
                    ha="left",
                    fontsize=7,
                )
        ax.set_yticks(y, [_SHAPLEY_COMPONENTS[c] for c in components])
        ax.invert_yaxis()
        ax.set_xlim(0, max(min(top * 1.25 + 0.05, 1.0), top + 0.1))
        ax.set_xlabel("Variance explained (share of variance)")
        ax.set_ylabel("Component (Shapley share)")
        ax.set_title("Sources of sentence variance", loc="left")
        ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
        ax.set_axisbelow(True)
    return ax


# --- 5. selection vs policy ------------------------------------------------------------------


def selection_vs_policy(selection_vs_policy: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Observed as-arrested gap per district pair and its split into treatment and composition.

    For each pair (a − b), three horizontal bars with 95% interval error bars: the observed
    gap in mean sentences between the defendants each district arrested and prosecuted, the
    *treatment* part (what the two districts do to the same defendants, averaged over both
    caseloads) and the *composition* part (whom each prosecutes); treatment + composition =
    observed exactly. Composition bars are hatched so the figure survives grey-scale printing.

    Parameters
    ----------
    selection_vs_policy : pandas.DataFrame
        The ``selection_vs_policy`` table: ``district_a``, ``district_b``, ``part``
        (``observed_gap_months``, ``treatment_months``, ``composition_months``), ``estimate``,
        ``ci95_low``, ``ci95_high`` (months).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new one-column Figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        x: gap in mean sentence a − b (months); y: district pair.
    """
    columns = ["district_a", "district_b", "part", "estimate", "ci95_low", "ci95_high"]
    _require(selection_vs_policy, columns, "selection_vs_policy")
    table = selection_vs_policy
    pairs = _unique(zip(table["district_a"], table["district_b"], strict=True))
    parts = [p for p in _SELECTION_PARTS if p in set(table["part"])]
    bar = 0.8 / max(len(parts), 1)
    with _style():
        ax = _new_axes(ax, height=min(max(1.2 + 0.42 * len(pairs), 2.2), 9.0))
        for k, part in enumerate(parts):
            label, color, hatch = _SELECTION_PARTS[part]
            rows = (
                table[table["part"] == part]
                .set_index(["district_a", "district_b"])
                .reindex(pairs)
                .reset_index()
            )
            y = np.arange(len(pairs)) - 0.4 + bar * (k + 0.5)
            estimate = rows["estimate"].to_numpy(dtype=float)
            ax.barh(
                y,
                np.nan_to_num(estimate),
                height=bar * 0.92,
                color=color,
                hatch=hatch,
                edgecolor="white" if hatch else color,
                linewidth=0.0,
                label=label,
            )
            centres, errors = _interval_errors(rows)
            ax.errorbar(
                centres,
                y,
                xerr=errors,
                fmt="none",
                ecolor="black",
                elinewidth=0.7,
                capsize=1.8,
                capthick=0.7,
            )
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_yticks(np.arange(len(pairs)), [_pair_label(a, b) for a, b in pairs])
        ax.set_ylim(len(pairs) - 0.5, -0.5)
        ax.set_xlabel("Gap in mean sentence, a − b (months)")
        ax.set_ylabel("District pair (a − b)")
        ax.set_title("Treatment vs. composition", loc="left")
        ax.grid(axis="x", color="#d9d9d9", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.legend(loc="best", handlelength=1.6, handleheight=1.0)
    return ax


# --- 6. convergence --------------------------------------------------------------------------


_CONVERGENCE_LABELS = {
    "mean_difference_months": "Mean paired gap, {pair} (months)",
    "mean_months": "Mean sentence, {pair} (months)",
}


def convergence(
    replications: pd.DataFrame,
    ax: Axes | None = None,
    metric: str = "mean_difference_months",
    district_a: str | None = None,
    district_b: str | None = None,
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

    Returns
    -------
    matplotlib.axes.Axes
        x: replications included, k (count); y: running mean (the metric's unit, months).
    """
    columns = ["replication", "metric", "district_a", "district_b", "value"]
    _require(replications, columns, "replications")
    rows = replications[replications["metric"] == metric]
    if rows.empty:
        known = ", ".join(map(str, _unique(replications["metric"])))
        raise ValueError(f"replications: no rows for metric {metric!r} (have: {known})")
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
    if rows.empty:
        raise ValueError(f"replications: no rows for {metric!r}, {district_a}, {district_b}")
    values = rows.sort_values("replication", kind="stable")["value"].to_numpy(dtype=float)
    count = len(values)
    k = np.arange(1, count + 1)
    running = pd.Series(values)
    mean = running.expanding().mean().to_numpy()
    mcse = (running.expanding().std(ddof=1) / np.sqrt(k)).to_numpy()
    subject = district_a if district_b is None else _pair_label(district_a, district_b)
    label = _CONVERGENCE_LABELS.get(metric, metric.replace("_", " ") + ", {pair} (value)")
    with _style():
        ax = _new_axes(ax)
        color = OKABE_ITO[0]
        if count >= 3:
            ax.fill_between(
                k[1:],
                mean[1:] - 1.96 * mcse[1:],
                mean[1:] + 1.96 * mcse[1:],
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
                yerr=1.96 * mcse[1:],
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
        first = 2 if count >= 2 else 1
        if count <= 3:
            ax.set_xlim(first - 0.5, count + 0.5)
        else:
            ax.set_xlim(first, count)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.set_xlabel("Replications included, k (count)")
        ax.set_ylabel(label.format(pair=subject).replace(", ", ",\n", 1))
        ax.set_title(f"Convergence: {subject}", loc="left")
        ax.grid(axis="y", color="#d9d9d9", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.legend(loc="best")
    return ax


# --- 7. profiles -----------------------------------------------------------------------------


def profiles(
    profiles: pd.DataFrame,
    ax: Axes | None = None,
    district_order: Sequence[str] | None = None,
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

    Returns
    -------
    matplotlib.axes.Axes
        x: sentence (months); y: district (code), grouped by profile.
    """
    _require(profiles, ["profile", "district", "metric", "estimate"], "profiles")
    names = _unique(profiles["profile"])
    order = list(district_order or _unique(profiles["district"]))
    colors = district_colors(order)
    wide = profiles.pivot_table(
        index=["profile", "district"], columns="metric", values="estimate", aggfunc="first"
    )
    intervals = profiles[profiles["metric"] == "mean_months"].set_index(["profile", "district"])

    def value(key: tuple[str, str], metric: str) -> float:
        if metric not in wide.columns or key not in wide.index:
            return float("nan")
        return float(wide.at[key, metric])

    rows: list[tuple[float, str, str]] = []  # (y, profile, district)
    headers: list[tuple[float, str]] = []
    y = 0.0
    for name in names:
        headers.append((y, name))
        y += 1.0
        present = set(profiles.loc[profiles["profile"] == name, "district"])
        for code in order:
            if code in present:
                rows.append((y, name, code))
                y += 1.0
        y += 0.4
    total = y - 0.4
    with _style():
        ax = _new_axes(ax, height=min(max(0.9 + 0.24 * total, 2.4), 9.0))
        right = 0.0
        for yi, name, code in rows:
            key = (name, code)
            low, high = value(key, "final_range_min_months"), value(key, "final_range_max_months")
            cap = value(key, "statutory_maximum_months")
            if np.isfinite(low):
                top = high if np.isfinite(high) else cap
                ax.barh(yi, top - low, left=low, height=0.62, color="#c8c8c8", linewidth=0)
                if not np.isfinite(high):  # a life top: open-ended bar
                    ax.text(top, yi, " life", va="center", ha="left", fontsize=7)
            if np.isfinite(cap):
                ax.plot([cap], [yi], marker="|", markersize=9, mew=1.6, color="black", ls="none")
            least, most = value(key, "min_months"), value(key, "max_months")
            mean = value(key, "mean_months")
            color = colors.get(code, "black")
            if np.isfinite(least) and np.isfinite(most):
                ax.plot([least, most], [yi, yi], color=color, linewidth=1.6, solid_capstyle="butt")
                ax.plot([least, most], [yi, yi], "|", color=color, markersize=5, mew=1.2, ls="none")
            if np.isfinite(mean):
                if key in intervals.index and "ci95_low" in intervals.columns:
                    lo = float(intervals.at[key, "ci95_low"])
                    hi = float(intervals.at[key, "ci95_high"])
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
            right = max(right, *(v for v in (high, cap, most) if np.isfinite(v)), 0.0)
        ax.set_yticks([yi for yi, _, _ in rows], [code for _, _, code in rows])
        names_at = blended_transform_factory(ax.transAxes, ax.transData)
        for yh, name in headers:  # header rows hold no data: the name goes inside the axes
            ax.text(
                0.01,
                yh,
                name,
                transform=names_at,
                ha="left",
                va="center",
                fontsize=7.5,
                fontweight="bold",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8},
            )
        ax.set_ylim(total - 0.4, -0.6)
        ax.set_xlim(0, right * 1.06 if right > 0 else 1.0)
        ax.set_xlabel("Sentence (months)")
        ax.set_ylabel("District (code)")
        ax.set_title("Named defendants by district", loc="left")
        ax.grid(axis="x", color="#e3e3e3", linewidth=0.5)
        ax.set_axisbelow(True)
        handles = [
            Patch(color="#c8c8c8", label="No-deal final range"),
            Line2D([], [], marker="|", markersize=9, mew=1.6, color="black", ls="none",
                   label="Statutory maximum"),
            Line2D([], [], color="#595959", linewidth=1.6, marker="o", markersize=4.5,
                   markerfacecolor="#595959", markeredgecolor="black", markeredgewidth=0.6,
                   label="Simulated mean, min–max"),
        ]  # fmt: skip
        _legend_below(ax, handles, ncol=2)
    return ax


# --- rendering -------------------------------------------------------------------------------


def _figures(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, Any]]:
    """(stem, draw) for every figure whose table is present and not empty."""

    def table(name: str) -> pd.DataFrame | None:
        frame = tables.get(name)
        return None if frame is None or frame.empty else frame

    order = None
    if table("districts") is not None:
        order = _unique(tables["districts"]["district"])
    draws: list[tuple[str, Any]] = []
    if (frame := table("distributions")) is not None:
        draws.append(
            (
                "district_distributions",
                lambda f=frame: district_distributions(f, district_order=order),
            )
        )
    if (frame := table("pair_differences")) is not None:
        draws.append(("paired_differences", lambda f=frame: paired_differences(f)))
    if (frame := table("gap_by_cell")) is not None:
        a, b = frame["district_a"].iloc[0], frame["district_b"].iloc[0]
        draws.append(("gap_heatmap", lambda f=frame, a=a, b=b: gap_heatmap(f, a, b)))
    if (frame := table("variance_shares")) is not None:
        draws.append(("variance_shares", lambda f=frame: variance_shares(f)))
    if (frame := table("selection_vs_policy")) is not None:
        draws.append(("selection_vs_policy", lambda f=frame: selection_vs_policy(f)))
    if (frame := table("replications")) is not None:
        draws.append(("convergence", lambda f=frame: convergence(f)))
    if (frame := table("profiles")) is not None:
        draws.append(("profiles", lambda f=frame: profiles(f, district_order=order)))
    return draws


def render_figures(
    tables: dict[str, pd.DataFrame], out_dir: Path, identity: str, dpi: int = _DPI
) -> list[Path]:
    """Render every figure of a run to ``out_dir/<name>.png`` and ``out_dir/<name>.svg``.

    Figures (:data:`FIGURE_NAMES`): sentence distributions of prosecuted defendants, paired
    differences over all defendants, the gap heat map of the first district pair in
    ``gap_by_cell``, variance shares, selection vs. policy, convergence of the first pair's mean
    paired gap, and the named profiles. A figure whose table is absent or empty (e.g. a scenario
    without profiles) is skipped.

    Output is deterministic: the same tables give byte-identical files (fixed style, fixed
    ``svg.hashsalt``, no dates; the PNG carries no timestamp). ``identity`` is written into
    each file's metadata: the PNG ``Title`` and ``Description`` text chunks and the SVG
    ``<dc:title>`` and ``<dc:description>``.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        The run's tables (:func:`sim.output.tables.build_tables`).
    out_dir : pathlib.Path
        Folder to write into (created if needed); existing files of the same names are replaced.
    identity : str
        What identifies the run (scenario, config hash, seed); must not contain a timestamp.
    dpi : int, optional
        PNG resolution (dots per inch), 300 by default.

    Returns
    -------
    list of pathlib.Path
        The written files, sorted.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, draw in _figures(tables):
        with _style():
            ax = draw()
            figure = ax.get_figure(root=True)
            title = f"{name}: {identity}"
            png = out_dir / f"{name}.png"
            figure.savefig(
                png,
                format="png",
                dpi=dpi,
                metadata={"Title": title, "Description": identity},
            )
            svg = out_dir / f"{name}.svg"
            figure.savefig(
                svg,
                format="svg",
                metadata={"Date": None, "Title": title, "Description": identity},
            )
        written += [png, svg]
    return sorted(written)

"""Shared style of every figure: palette, dash patterns, sizes, the local Matplotlib style and
the small helpers the figure modules have in common (table checks, axes, ECDFs, legends)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib.style as mpl_style
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation

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

_COLUMN_WIDTH = 3.5  # inches: one journal column
_MAX_HEIGHT = 9.0  # inches: the tallest figure, however many rows
_DPI = 300
_SVG_HASH_SALT = "sim-plots"
_GRID_GREY = "#d9d9d9"
_ZERO_LINE_GREY = "#7f7f7f"

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
    "svg.fonttype": "none",  # text stays text, editable in a drawing program
    "pdf.fonttype": 42,  # TrueType, editable
    "figure.dpi": 100,
    "savefig.dpi": _DPI,
    "image.interpolation": "nearest",
    "path.simplify": False,
    "hatch.linewidth": 0.6,
}


# --- style and axes --------------------------------------------------------------------------


@contextmanager
def _style() -> Iterator[None]:
    """Matplotlib's defaults plus :data:`_STYLE`, restored on exit (nothing global changes)."""
    with mpl_style.context(["default", _STYLE]):
        yield


def _new_axes(ax: Axes | None, width: float = _COLUMN_WIDTH, height: float = 2.6) -> Axes:
    """``ax`` itself, or the Axes of a new constrained-layout Figure of the given size (in)."""
    if ax is not None:
        return ax
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure.add_subplot()


def _fit_height(rows: float, base: float, per_row: float, minimum: float) -> float:
    """Figure height (in) for ``rows`` rows: ``base + per_row * rows``, clamped to
    [``minimum``, 9 in]."""
    return min(max(base + per_row * rows, minimum), _MAX_HEIGHT)


def _light_grid(ax: Axes, axis: str, color: str = _GRID_GREY) -> None:
    """Thin grid lines along ``axis``, drawn below the data."""
    ax.grid(axis=axis, color=color, linewidth=0.5)
    ax.set_axisbelow(True)


def _zero_line(ax: Axes) -> None:
    """A dotted grey vertical line at x = 0 (no difference), behind everything else."""
    ax.axvline(0, color=_ZERO_LINE_GREY, linewidth=0.6, linestyle=":", zorder=0)


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


# --- tables ----------------------------------------------------------------------------------


def _require(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise ValueError when ``table`` (called ``name``) lacks a column or has no rows."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    if table.empty:
        raise ValueError(f"{name}: the table is empty")


def _unique(values: Any) -> list[Any]:
    """Distinct values in order of first appearance (NaN/None dropped)."""
    return [v for v in dict.fromkeys(values) if v is not None and not pd.isna(v)]


def _rows_where(table: pd.DataFrame, column: str, value: Any, name: str) -> pd.DataFrame:
    """Rows of ``table`` (called ``name``) whose ``column`` equals ``value``; ValueError listing
    the values present when there are none."""
    rows = table[table[column] == value]
    if rows.empty:
        known = ", ".join(map(str, _unique(table[column])))
        raise ValueError(f"{name}: no rows for {column} {value!r} (have: {known})")
    return rows


# --- colours and lines -----------------------------------------------------------------------


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


# --- numbers and labels ----------------------------------------------------------------------


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
    """``a − b`` with a true minus sign (``a`` alone when ``b`` is empty: a merged label)."""
    return f"{a} − {b}" if b else a


# --- empirical distribution functions --------------------------------------------------------


def _weighted_ecdf(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values and their cumulative share of the total weight (all 0 if the total is 0)."""
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
    _light_grid(ax, "y")


# --- district names --------------------------------------------------------------------------

#: Bluebook (T10) abbreviations of the states and territories that name federal districts.
_STATES = {
    "Alabama": "Ala.", "Alaska": "Alaska", "Arizona": "Ariz.", "Arkansas": "Ark.",
    "California": "Cal.", "Colorado": "Colo.", "Connecticut": "Conn.", "Delaware": "Del.",
    "Washington D.C.": "D.C.", "Columbia": "D.C.", "Florida": "Fla.", "Georgia": "Ga.",
    "Guam": "Guam", "Hawaii": "Haw.", "Idaho": "Idaho", "Illinois": "Ill.", "Indiana": "Ind.",
    "Iowa": "Iowa", "Kansas": "Kan.", "Kentucky": "Ky.", "Louisiana": "La.", "Maine": "Me.",
    "Maryland": "Md.", "Massachusetts": "Mass.", "Michigan": "Mich.", "Minnesota": "Minn.",
    "Mississippi": "Miss.", "Missouri": "Mo.", "Montana": "Mont.", "Nebraska": "Neb.",
    "Nevada": "Nev.", "New Hampshire": "N.H.", "New Jersey": "N.J.", "New Mexico": "N.M.",
    "New York": "N.Y.", "North Carolina": "N.C.", "North Dakota": "N.D.", "Ohio": "Ohio",
    "Oklahoma": "Okla.", "Oregon": "Or.", "Pennsylvania": "Pa.", "Puerto Rico": "P.R.",
    "Rhode Island": "R.I.", "South Carolina": "S.C.", "South Dakota": "S.D.",
    "Tennessee": "Tenn.", "Texas": "Tex.", "Utah": "Utah", "Vermont": "Vt.",
    "Virgin Islands": "V.I.", "Virginia": "Va.", "Washington": "Wash.",
    "West Virginia": "W. Va.", "Wisconsin": "Wis.", "Wyoming": "Wyo.",
    "Northern Mariana Islands": "N. Mar. I.",
}  # fmt: skip
_PARTS = {"Central": "C.D.", "Southern": "S.D.", "Eastern": "E.D.", "Northern": "N.D.",
          "Western": "W.D.", "Middle": "M.D."}  # fmt: skip


def district_short_name(name: str) -> str:
    """A district's name as courts cite it: ``"Central District of California"`` →
    ``"C.D. Cal."``, ``"District of Arizona"`` → ``"D. Ariz."`` (Bluebook T10 state
    abbreviations); a name of another form is returned as it is.

    >>> district_short_name("Southern District of California")
    'S.D. Cal.'
    >>> district_short_name("District of New Mexico")
    'D.N.M.'
    """
    part, sep, state = str(name).partition("District of ")
    part = part.strip()
    if not sep or (part and part not in _PARTS):
        return str(name)
    abbreviation = _STATES.get(state.strip(), state.strip())
    if not part:
        # Bluebook closes up a state of initials only: D.N.M., D.N.J., D. Ariz.
        initials = re.fullmatch(r"(?:[A-Z]\.)+", abbreviation) is not None
        return f"D.{abbreviation}" if initials else f"D. {abbreviation}"
    return f"{_PARTS[part]} {abbreviation}"


#: Districts a group's label lists by name; a larger group is "X and N other districts".
_LISTED_IN_LABEL = 4


def group_label(short_names: Sequence[str]) -> str:
    """One label for several districts: ``["S.D. Cal.", "E.D. Cal."]`` → ``"S.D., E.D. Cal."``
    when they share a state, else the names joined by commas.

    >>> group_label(["S.D. Cal.", "E.D. Cal.", "N.D. Cal."])
    'S.D., E.D., N.D. Cal.'
    """
    if len(short_names) == 1:
        return short_names[0]
    if len(short_names) > _LISTED_IN_LABEL:  # a national scenario's default districts
        return f"{short_names[0]} and {len(short_names) - 1} other districts"
    heads, states = zip(*(n.rpartition(" ")[::2] for n in short_names), strict=True)
    if len(set(states)) == 1 and all(heads):
        return f"{', '.join(heads)} {states[0]}"
    return ", ".join(short_names)


def identical_groups(table: pd.DataFrame, column: str, order: Sequence[str]) -> list[list[str]]:
    """Districts whose rows of ``table`` are identical (every column but ``column``, in the
    table's order), grouped, in ``order``; a district with no rows is left out.

    Under common random numbers two districts with identical policies sentence every defendant
    identically, so their tallies are identical; the figures draw them once.
    """
    groups: dict[bytes, list[str]] = {}
    others = [c for c in table.columns if c != column]
    for code in order:
        rows = table.loc[table[column] == code, others]
        if rows.empty:
            continue
        key = pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()
        groups.setdefault(key, []).append(code)
    return list(groups.values())


def merged_labels(
    groups: Sequence[Sequence[str]], names: Mapping[str, str] | None
) -> dict[str, str]:
    """Label of each group's first district: its short name, or for several districts the
    group's label followed by "(identical policies)"."""
    names = names or {}
    labels = {}
    for group in groups:
        shorts = [district_short_name(names.get(code, code)) for code in group]
        label = group_label(shorts)
        labels[group[0]] = f"{label} (identical policies)" if len(group) > 1 else label
    return labels


def profile_outcome(frame: pd.DataFrame, prose: bool = False) -> str:
    """A profile's sentences in one district in words: "70 mo." when every draw gets the same,
    "24 mo. (90%) / 60 mo. (10%)" when the draws get two values, else "mean 31.2 mo. (24–60)".

    Two values are read off the mean: with shares p at the minimum and 1 − p at the maximum,
    p = (max − mean) / (max − min); it is shown only when p is one of the deal shares (each deal
    gives one sentence), so the split is what the draws got, not a guess.
    """
    metric = frame.set_index("metric")["estimate"]
    low, high, mean = metric.get("min_months"), metric.get("max_months"), metric["mean_months"]
    if pd.isna(mean):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return f"mean {mean:.1f} mo."
    if low == high:
        return f"{low:.0f} months" if prose else f"{low:.0f} mo."
    share = (high - mean) / (high - low)
    deals = [v for k, v in metric.items() if str(k).startswith("deal_share:") and v > 0]
    if len(deals) == 2 and any(abs(share - d) < 1e-6 for d in deals):
        if prose:
            return (
                f"{low:.0f} months in {100 * share:.0f}% of draws and {high:.0f} months in "
                f"{100 * (1 - share):.0f}%"
            )
        return f"{low:.0f} mo. ({100 * share:.0f}%) / {high:.0f} mo. ({100 * (1 - share):.0f}%)"
    if prose:
        return f"{mean:.1f} months on average ({low:.0f} to {high:.0f})"
    return f"mean {mean:.1f} mo. ({low:.0f}–{high:.0f})"

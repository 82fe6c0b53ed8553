"""Figures 4 and 5: where the variance of sentences comes from (Shapley shares) and how the
as-arrested gap between two districts splits into treatment and composition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from sim.output.figures.style import (
    OKABE_ITO,
    _fit_height,
    _interval_errors,
    _light_grid,
    _new_axes,
    _pair_label,
    _require,
    _style,
    _unique,
    district_short_name,
)

_SHAPLEY_COMPONENTS = {
    "district": "District",
    "criminal_history_category": "Criminal history\ncategory",
    "section_2l1_2_enhancement": "§ 2L1.2\nenhancement",
    "other_record": "Other record",
}
_OTHER_COMPONENT_GREY = "#8c8c8c"
_SELECTION_PARTS = {
    "observed_gap_months": ("Observed gap", "#595959", None),
    "treatment_months": ("Treatment", OKABE_ITO[0], None),
    "composition_months": ("Composition", OKABE_ITO[4], "////"),
}


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
        colors = [OKABE_ITO[0] if c == "district" else _OTHER_COMPONENT_GREY for c in components]
        ax.barh(y, np.nan_to_num(estimate), height=0.62, color=colors)
        _interval_bars(ax, centres, y, errors, width=0.8, capsize=2.5)
        top = float(np.nanmax(np.concatenate([estimate + errors[1], [0.0]])))
        _print_shares(ax, y, estimate, errors[1])
        ax.set_yticks(y, [_SHAPLEY_COMPONENTS[c] for c in components])
        ax.invert_yaxis()
        ax.set_xlim(0, max(min(top * 1.25 + 0.05, 1.0), top + 0.1))
        ax.set_xlabel("Variance explained (share of variance)")
        ax.set_ylabel("Component (Shapley share)")
        ax.set_title("Sources of sentence variance", loc="left")
        _light_grid(ax, "x")
    return ax


def _interval_bars(
    ax: Axes, centres: np.ndarray, y: np.ndarray, errors: np.ndarray, width: float, capsize: float
) -> None:
    """Black horizontal 95% interval error bars (no markers) of line width ``width`` (pt)."""
    ax.errorbar(
        centres,
        y,
        xerr=errors,
        fmt="none",
        ecolor="black",
        elinewidth=width,
        capsize=capsize,
        capthick=width,
    )


def _print_shares(ax: Axes, y: np.ndarray, estimate: np.ndarray, upper: np.ndarray) -> None:
    """Each known share (three decimals) just right of its interval's upper end."""
    for yi, value, err in zip(y, estimate, upper, strict=True):
        if np.isfinite(value):
            ax.text(
                value + err + 0.015,
                yi,
                f"{value:.3f}",
                va="center",
                ha="left",
                fontsize=7,
            )


# --- 5. selection vs policy ------------------------------------------------------------------


def selection_vs_policy(
    selection_vs_policy: pd.DataFrame,
    ax: Axes | None = None,
    names: Mapping[str, str] | None = None,
) -> Axes:
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
    names : mapping of str to str, optional
        District names by code, shown as courts cite them ("C.D. Cal.").

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
        ax = _new_axes(ax, height=_fit_height(len(pairs), 1.2, 0.42, 2.2))
        for k, part in enumerate(parts):
            y = np.arange(len(pairs)) - 0.4 + bar * (k + 0.5)
            _draw_part(ax, _part_rows(table, part, pairs), y, _SELECTION_PARTS[part], bar)
        ax.axvline(0, color="black", linewidth=0.6)
        short = {c: district_short_name((names or {}).get(c, c)) for pair in pairs for c in pair}
        ax.set_yticks(np.arange(len(pairs)), [_pair_label(short[a], short[b]) for a, b in pairs])
        ax.set_ylim(len(pairs) - 0.5, -0.5)
        ax.set_xlabel("Gap in mean sentence, a − b (months)")
        ax.set_ylabel("District pair (a − b)")
        ax.set_title("Treatment vs. composition", loc="left")
        _light_grid(ax, "x")
        ax.legend(loc="best", handlelength=1.6, handleheight=1.0)
    return ax


def _part_rows(table: pd.DataFrame, part: str, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """The rows of one part, one per pair in ``pairs`` order (NaN where a pair lacks it)."""
    return (
        table[table["part"] == part]
        .set_index(["district_a", "district_b"])
        .reindex(pairs)
        .reset_index()
    )


def _draw_part(
    ax: Axes, rows: pd.DataFrame, y: np.ndarray, look: tuple[str, str, Any], bar: float
) -> None:
    """One part's bars at heights ``y`` (thickness ``bar``) with their 95% interval bars;
    ``look`` is the part's (legend label, colour, hatch or None)."""
    label, color, hatch = look
    ax.barh(
        y,
        np.nan_to_num(rows["estimate"].to_numpy(dtype=float)),
        height=bar * 0.92,
        color=color,
        hatch=hatch,
        edgecolor="white" if hatch else color,
        linewidth=0.0,
        label=label,
    )
    centres, errors = _interval_errors(rows)
    _interval_bars(ax, centres, y, errors, width=0.7, capsize=1.8)

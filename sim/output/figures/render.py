"""Every figure of a run, written as PNG, SVG (editable text) and PDF with deterministic bytes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.output.figures.by_category import months_by_category
from sim.output.figures.convergence import convergence
from sim.output.figures.decomposition import selection_vs_policy, variance_shares
from sim.output.figures.distributions import sentence_histogram
from sim.output.figures.gaps import gap_heatmap, paired_differences
from sim.output.figures.profiles import profiles
from sim.output.figures.style import _DPI, _style, _unique

#: Figure stems written by :func:`render_figures`, in drawing order.
FIGURE_NAMES = (
    "sentence_histogram",
    "months_by_category",
    "paired_differences",
    "gap_heatmap",
    "profiles",
    "selection_vs_policy",
    "variance_shares",
    "convergence",
)


def _figures(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, Callable[[], Axes]]]:
    """(stem, draw) for every figure whose table is present and not empty."""

    def table(name: str) -> pd.DataFrame | None:
        frame = tables.get(name)
        return None if frame is None or frame.empty else frame

    order = names = None
    if table("districts") is not None:
        order = _unique(tables["districts"]["district"])
        districts = tables["districts"]
        names = dict(zip(districts["district"], districts["name"], strict=True))
    draws: list[tuple[str, Callable[[], Axes]]] = []
    if (frame := table("distributions")) is not None and order is not None:
        draws.append(
            (
                "sentence_histogram",
                lambda f=frame, d=tables["districts"]: sentence_histogram(f, d),
            )
        )
    if (frame := table("months_by_category")) is not None:
        draws.append(
            ("months_by_category", lambda f=frame, n=names: months_by_category(f, names=n))
        )
    if (frame := table("pair_differences")) is not None:
        draws.append(
            ("paired_differences", lambda f=frame, n=names: paired_differences(f, names=n))
        )
    if (frame := table("gap_by_cell")) is not None:
        a, b = frame["district_a"].iloc[0], frame["district_b"].iloc[0]
        draws.append(
            ("gap_heatmap", lambda f=frame, a=a, b=b, n=names: gap_heatmap(f, a, b, names=n))
        )
    if (frame := table("profiles")) is not None:
        draws.append(
            ("profiles", lambda f=frame, n=names: profiles(f, district_order=order, names=n))
        )
    if (frame := table("selection_vs_policy")) is not None:
        draws.append(
            ("selection_vs_policy", lambda f=frame, n=names: selection_vs_policy(f, names=n))
        )
    if (frame := table("variance_shares")) is not None:
        draws.append(("variance_shares", lambda f=frame: variance_shares(f)))
    if (frame := table("replications")) is not None:
        draws.append(("convergence", lambda f=frame, n=names: convergence(f, names=n)))
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
            figure = draw().get_figure(root=True)
            written += _save(figure, out_dir, name, identity, dpi)
    return sorted(written)


def _save(figure: Figure, out_dir: Path, name: str, identity: str, dpi: int) -> list[Path]:
    """Write ``figure`` to ``out_dir/<name>.png`` (at ``dpi``) and ``out_dir/<name>.svg``, titled
    ``"<name>: <identity>"`` and described by ``identity``, with no date; return the two paths."""
    title = f"{name}: {identity}"
    png = out_dir / f"{name}.png"
    figure.savefig(png, format="png", dpi=dpi, metadata={"Title": title, "Description": identity})
    svg = out_dir / f"{name}.svg"
    figure.savefig(
        svg, format="svg", metadata={"Date": None, "Title": title, "Description": identity}
    )
    pdf = out_dir / f"{name}.pdf"
    # No CreationDate, no ModDate: the same run gives the same bytes.
    figure.savefig(
        pdf,
        format="pdf",
        metadata={"CreationDate": None, "ModDate": None, "Title": title, "Subject": identity},
    )
    return [png, svg, pdf]

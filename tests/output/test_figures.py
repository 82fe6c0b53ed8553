"""Publication charts (sim.output.figures): units on every axis, drawing into a given Axes,
deterministic files carrying the run's identity, no global Matplotlib state touched."""

import io
import json
import re
import warnings

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from sim.model.scenario import load_scenario
from sim.output import figures as plots
from sim.output.figures.gaps import _ROMAN, _quantile
from sim.output.tables import build_tables
from sim.run.runner import run_study

IDENTITY = "california-1995 config sha256 abc123def456… seed 20000969"
UNIT = re.compile(r"\([^()]+\)")


@pytest.fixture(scope="module")
def tables():
    scenario, _ = load_scenario(None, {"replications": 3, "defendants": 3000, "profile_draws": 50})
    return build_tables(run_study(scenario))


def _draw(name, tables, ax=None):
    """Call figure ``name`` with its table(s) and default arguments."""
    if name == "district_distributions":
        return plots.district_distributions(tables["distributions"], ax=ax)
    if name == "sentence_histogram":
        return plots.sentence_histogram(tables["distributions"], tables["districts"], ax=ax)
    if name == "months_by_category":
        return plots.months_by_category(tables["months_by_category"], ax=ax)
    if name == "paired_differences":
        return plots.paired_differences(tables["pair_differences"], ax=ax)
    if name == "gap_heatmap":
        return plots.gap_heatmap(tables["gap_by_cell"], "CAC", "CAS", ax=ax)
    if name == "variance_shares":
        return plots.variance_shares(tables["variance_shares"], ax=ax)
    if name == "selection_vs_policy":
        return plots.selection_vs_policy(tables["selection_vs_policy"], ax=ax)
    if name == "convergence":
        return plots.convergence(tables["replications"], ax=ax)
    if name == "profiles":
        return plots.profiles(tables["profiles"], ax=ax)
    raise AssertionError(name)


def _colorbar_label(ax):
    return ax.collections[0].colorbar.ax.get_ylabel()


@pytest.mark.parametrize("name", plots.FIGURE_NAMES)
def test_every_axis_label_names_its_unit(tables, name):
    ax = _draw(name, tables)
    assert isinstance(ax, Axes)
    assert isinstance(ax.get_figure(root=True), Figure)
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        assert label.strip()
        assert UNIT.search(label), label
    assert ax.get_title(loc="left")
    if name == "gap_heatmap":
        assert UNIT.search(_colorbar_label(ax))
        assert "months" in _colorbar_label(ax)


@pytest.mark.parametrize("name", plots.FIGURE_NAMES)
def test_draws_into_a_given_axes(tables, name):
    figure = Figure(figsize=(3.5, 2.6))
    ax = figure.add_subplot()
    assert _draw(name, tables, ax=ax) is ax
    assert ax.has_data() or ax.texts
    assert ax.get_xlabel()
    assert ax.get_ylabel()


def test_no_global_matplotlib_state_changes(tables, tmp_path):
    before = dict(mpl.rcParams)
    for name in plots.FIGURE_NAMES:
        _draw(name, tables)
    plots.render_figures({"variance_shares": tables["variance_shares"]}, tmp_path, IDENTITY)
    assert dict(mpl.rcParams) == before


def test_district_colours_are_okabe_ito_in_table_order(tables):
    ax = plots.district_distributions(tables["distributions"])
    colours = [mpl.colors.to_hex(line.get_color()).upper() for line in ax.get_lines()]
    assert colours == [c.upper() for c in plots.OKABE_ITO[:4]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["CAC", "CAS", "CAE", "CAN"]
    codes = ["CAC", "CAS", "CAE", "CAN"]
    assert plots.district_colors(codes) == dict(zip(codes, plots.OKABE_ITO, strict=False))


def test_ecdf_ends_at_one_and_respects_weights():
    table = pd.DataFrame(
        {
            "outcome": "prosecuted",
            "district": ["X", "X", "Y"],
            "months": [10, 30, 20],
            "defendants": [1, 3, 5],
        }
    )
    ax = plots.district_distributions(table)
    x_line = ax.get_lines()[0]
    assert list(x_line.get_ydata()) == [0.0, 0.25, 1.0, 1.0]
    assert x_line.get_xdata()[-1] == 30  # every district's curve runs to the common right end
    assert ax.get_lines()[1].get_xdata()[-1] == 30
    with pytest.raises(ValueError, match="outcome 'as_arrested'"):
        plots.district_distributions(table, outcome="as_arrested")


def test_gap_heatmap_blank_cells_reversed_pair_and_centred_colours():
    table = pd.DataFrame(
        {
            "district_a": "A",
            "district_b": "B",
            "offense_level": [8, 8, 24],
            "criminal_history_category": [1, 6, 3],
            "defendants": [10, 5, 7],
            "mean_gap_months": [-2.0, 4.0, 30.0],
        }
    )
    ax = plots.gap_heatmap(table, "A", "B")
    mesh = ax.collections[0]
    grid = mesh.get_array().reshape(2, 6)
    assert grid.mask.sum() == 12 - 3  # cells without defendants are blank
    assert grid[1, 2] == 30.0
    assert grid[0, 5] == 4.0
    assert mesh.norm.vmin == -mesh.norm.vmax == -30.0  # diverging, centred at 0
    assert [tick.get_text() for tick in ax.get_xticklabels()] == list(_ROMAN)
    # Each cell: its gap, and below it its defendants.
    assert {t.get_text() for t in ax.texts} == {"−2.0", "4.0", "30.0", "10", "5", "7"}
    reversed_ax = plots.gap_heatmap(table, "B", "A")
    assert reversed_ax.collections[0].get_array().reshape(2, 6)[1, 2] == -30.0
    assert "B − A" in _colorbar_label(reversed_ax)
    with pytest.raises(ValueError, match="no rows for the pair"):
        plots.gap_heatmap(table, "A", "C")


def test_variance_shares_draws_the_four_shapley_components(tables):
    ax = plots.variance_shares(tables["variance_shares"])
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    assert labels == [
        "District",
        "Criminal history category",
        "§ 2L1.2 enhancement",
        "Other record",
    ]
    assert len(ax.patches) == 4
    table = tables["variance_shares"].drop_duplicates("component").set_index("component")
    components = ["district", "criminal_history_category", "section_2l1_2_enhancement"]
    components.append("other_record")
    widths = [patch.get_width() for patch in ax.patches]
    np.testing.assert_allclose(widths, np.nan_to_num(table.loc[components, "estimate"]))


def test_paired_differences_switches_to_quantile_rows_for_many_pairs():
    codes = ["A", "B", "C", "D", "E"]
    rows = [
        {
            "defendants": "all_defendants",
            "district_a": a,
            "district_b": b,
            "difference_months": d,
            "count": n,
        }
        for i, a in enumerate(codes)
        for j, b in enumerate(codes[i + 1 :])
        for d, n in ((-3, 1), (0, 6), (12, 3 + 5 * i + j))  # no two pairs alike
    ]
    table = pd.DataFrame(rows)
    ax = plots.paired_differences(table)  # 10 pairs > 8 colours
    assert len(ax.get_yticklabels()) == 10
    assert ax.get_yticklabels()[0].get_text() == "A − B"
    assert UNIT.search(ax.get_xlabel())
    assert UNIT.search(ax.get_ylabel())
    ecdf = plots.paired_differences(table, kind="ecdf")
    assert len(ecdf.get_lines()) == 10 + 1  # one per pair plus the zero line
    assert _quantile(np.array([-3.0, 0.0, 12.0]), np.array([0.1, 0.7, 1.0]), 0.75) == 12.0
    with pytest.raises(ValueError, match="kind"):
        plots.paired_differences(table, kind="violin")


def test_convergence_band_is_running_mean_plus_minus_196_mcse():
    values = [10.0, 12.0, 11.0, 13.0]
    table = pd.DataFrame(
        {
            "replication": range(4),
            "metric": "mean_difference_months",
            "district_a": "A",
            "district_b": "B",
            "value": values,
        }
    )
    ax = plots.convergence(table)
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [2, 3, 4]
    np.testing.assert_allclose(line.get_ydata(), [11.0, 11.0, 11.5])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    for k in (2, 3, 4):
        head = np.asarray(values[:k])
        half = 1.96 * head.std(ddof=1) / np.sqrt(k)
        for edge in (head.mean() - half, head.mean() + half):
            assert np.isclose(band, edge).any(), (k, edge)
    single = plots.convergence(table[table["replication"] == 0])  # one replication: no band
    assert not single.collections
    assert single.get_xlabel()


def test_mean_months_convergence_and_profiles_legend(tables):
    ax = plots.convergence(tables["replications"], metric="mean_months", district_a="CAS")
    assert "CAS" in ax.get_title(loc="left")
    assert "(months)" in ax.get_ylabel()
    districts = tables["districts"]
    names = dict(zip(districts["district"], districts["name"], strict=True))
    ax = plots.profiles(tables["profiles"], names=names)
    texts = {t.get_text() for t in ax.texts}
    assert {"Banuelos-Rodriguez", "Worst-Offender"} <= texts
    # The seed's defendant: 70 months in C.D. Cal.; the deal's two sentences elsewhere.
    assert "70 mo." in texts
    assert any(re.fullmatch(r"24 mo\. \(\d+%\) / 60 mo\. \(\d+%\)", t) for t in texts)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["No-deal final range", "Statutory maximum", "Simulated mean, min–max"]
    ticks = ["C.D. Cal.", "S.D., E.D., N.D. Cal.\n(identical policies)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ticks * 2


def test_package_exports_the_public_names():
    assert set(plots.__all__) == {
        "FIGURE_NAMES",
        "OKABE_ITO",
        "convergence",
        "district_colors",
        "district_distributions",
        "gap_heatmap",
        "months_by_category",
        "paired_differences",
        "profiles",
        "render_figures",
        "selection_vs_policy",
        "sentence_histogram",
        "variance_shares",
    }
    for name in plots.__all__:
        assert getattr(plots, name) is not None, name
    for name in set(plots.__all__) - {"FIGURE_NAMES", "OKABE_ITO"}:
        assert callable(getattr(plots, name)), name  # not a submodule of the same name


@pytest.fixture
def archived_figures(archived_run):
    """The figures ``sim run`` rendered into the shared archive, and the identity it gave them."""
    manifest = json.loads((archived_run.folder / "manifest.json").read_text(encoding="utf-8"))
    return sorted((archived_run.folder / "figures").iterdir()), manifest["identity"]


def test_an_archive_holds_every_figure(archived_figures):
    paths, _ = archived_figures
    assert [p.name for p in paths] == sorted(
        f"{name}.{ext}" for name in plots.FIGURE_NAMES for ext in ("png", "svg", "pdf")
    )


@pytest.mark.slow
def test_two_renders_are_sorted_and_byte_identical(tables, tmp_path):
    first = plots.render_figures(tables, tmp_path / "first", IDENTITY)
    second = plots.render_figures(tables, tmp_path / "second", IDENTITY)
    assert first == sorted(first)
    assert [p.name for p in first] == sorted(
        f"{name}.{ext}" for name in plots.FIGURE_NAMES for ext in ("png", "svg", "pdf")
    )
    for a, b in zip(first, second, strict=True):
        assert a.name == b.name
        assert a.read_bytes() == b.read_bytes(), a.name


def test_identity_is_in_every_file_and_pngs_are_not_blank(archived_figures):
    paths, identity = archived_figures
    for path in paths:
        if path.suffix == ".png":
            with Image.open(path) as image:
                assert identity in image.text["Description"]
                assert identity in image.text["Title"]
                assert image.width >= 3.5 * 300 * 0.95  # one column at 300 dpi
                pixels = np.asarray(image.convert("RGB"))
                assert (pixels != pixels[0, 0]).any()  # more than one colour
        elif path.suffix == ".svg":
            text = path.read_text(encoding="utf-8")
            assert identity in text
            assert "<dc:date>" not in text
            assert "<text" in text  # text kept as text (svg.fonttype none), editable
        else:
            data = path.read_bytes()
            assert data.startswith(b"%PDF")
            assert b"CreationDate" not in data
            assert b"ModDate" not in data


def test_missing_or_empty_tables_are_skipped(tables, tmp_path):
    subset = {"variance_shares": tables["variance_shares"], "profiles": tables["profiles"][:0]}
    paths = plots.render_figures(subset, tmp_path, IDENTITY, dpi=72)
    assert [p.name for p in paths] == [f"variance_shares.{e}" for e in ("pdf", "png", "svg")]


def test_many_districts_show_the_reference_against_the_others_in_grey():
    # 20 districts: one coloured line (the first) and one grey legend entry for the other 19.
    rows = [
        {"outcome": "prosecuted", "district": f"D{k:02d}", "months": m, "defendants": 1 + k}
        for k in range(20)
        for m in (k, k + 10)
    ]
    ax = plots.district_distributions(pd.DataFrame(rows))
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["the other 19 districts", "D00"]
    assert len(ax.get_lines()) == 20
    assert ax.get_lines()[-1].get_label() == "D00"  # drawn last, on top


def test_many_identical_pairs_share_one_short_label_and_the_figure_keeps_its_axes():
    # Two districts on each side, four pairs with the same differences (as when every district
    # runs the same program): one counted label, not the four pairs joined into one legend line.
    rows = [
        ("all_defendants", a, b, d, n)
        for a, b in (("CAC", "CAS"), ("CAC", "CAE"), ("CAN", "CAS"), ("CAN", "CAE"))
        for d, n in ((0, 90), (6, 10))
    ]
    table = pd.DataFrame(
        rows, columns=["defendants", "district_a", "district_b", "difference_months", "count"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plots.paired_differences(table)
        ax.get_figure(root=True).savefig(io.BytesIO(), format="png")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["4 pairs with identical differences"]

"""What the command line prints: the summary tables and the progress bar (rich).

On a terminal the tables are drawn with rich's boxes, fitted to its width. When stdout is not a
terminal (piped to a file or a pager, captured by a notebook or CI log) they are plain text at
80 columns: a table that fits is printed as aligned columns, one that does not as one block per
row, "label  value" per line, so that no cell is squeezed into a column a few letters wide.

Owned by :mod:`sim.cli`; the library itself never prints.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.inputs import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = [
    "first_use_note",
    "kernels_compiled",
    "piece_progress",
    "print_attribution",
    "print_calibration",
    "print_comparison",
    "print_evaluation",
    "print_summary",
    "print_undocumented",
    "progress_bar",
]

#: Defendants above which a progress bar is shown on a terminal.
_PROGRESS_THRESHOLD = 500_000
#: Width of the plain layout (stdout not a terminal).
PLAIN_WIDTH = 80
#: Folders of the compiled-kernel cache, one per folder of kernel sources, that a run needs.
_RUN_KERNELS = ("guidelines", "model", "population", "run")


def kernels_compiled(cache: Path, folders: tuple[str, ...] = _RUN_KERNELS) -> bool:
    """Whether the compiled-kernel cache ``cache`` (:data:`sim.NUMBA_CACHE_DIR`) holds kernels
    compiled from each of the source ``folders`` (the cache names its subfolders
    ``<source folder>_<hash>`` and an index file per kernel ``*.nbi``)."""
    try:
        present = {
            entry.name.rpartition("_")[0]
            for entry in cache.iterdir()
            if entry.is_dir() and any(entry.glob("*.nbi"))
        }
    except OSError:
        return False
    return set(folders) <= present


def first_use_note(cache: Path, folders: tuple[str, ...] = _RUN_KERNELS) -> bool:
    """On stderr, before a command that needs compiled kernels the cache does not hold yet (a
    new checkout, or the first run after the simulation's code changed): say that compiling
    takes a while, once. Return whether the note was printed."""
    import sys

    if kernels_compiled(cache, folders):
        return False
    sys.stderr.write(
        "note: first use of this version of sim: compiling the simulation kernels (a minute "
        "or two, once; later runs load them from the cache)...\n"
    )
    sys.stderr.flush()
    return True


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a bar on stderr while the block runs: only
    on a terminal, and only for runs of more than 500,000 defendants."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    bar = Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} defendants"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=True,
    )
    task = None

    def advance(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.disable = not (enabled and console.is_terminal and total >= _PROGRESS_THRESHOLD)
            task = bar.add_task("run", total=total)
        bar.update(task, completed=done, total=total)

    with bar:
        yield advance


#: A batch log (stderr not a terminal) gets a line each time this share of pieces is done.
_LOG_STEP = 0.1


@contextmanager
def piece_progress(enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """An ``on_piece(done, total)`` callback for a run on a Dask cluster: on a terminal, a bar of
    completed pieces (tasks) on stderr; elsewhere (a batch job's log file), a line at every
    tenth of the pieces, with the seconds since the first piece was submitted."""
    import sys
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    terminal = enabled and console.is_terminal
    bar = Progress(
        TextColumn("on the cluster"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} pieces"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not terminal,
    )
    state: dict[str, Any] = {"task": None, "logged": 0.0, "started": time.monotonic()}

    def advance(done: int, total: int) -> None:
        if terminal:
            if state["task"] is None or bar.tasks[0].total != total:
                if state["task"] is not None:
                    bar.remove_task(state["task"])
                state["task"] = bar.add_task("pieces", total=total)
            bar.update(state["task"], completed=done)
        elif enabled and (done == total or done / total >= state["logged"] + _LOG_STEP):
            state["logged"] = done / total
            seconds = time.monotonic() - state["started"]
            sys.stderr.write(f"dask: {done:,}/{total:,} pieces done, {seconds:.1f} s in\n")
            sys.stderr.flush()
            if done == total:
                state["logged"] = 0.0  # the next map (a run to a target MCSE adds some)

    with bar:
        yield advance


def _figure(value: float | None, mcse: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return f"{text} ± {mcse:.{digits + 1}f}" if mcse is not None else text


def print_summary(summary: Mapping[str, Any]) -> None:
    """Print the headline tables of a run's summary (rich, stdout).

    Parameters
    ----------
    summary : mapping
        What :func:`sim.api.run_and_summarise` returns: the run's
        :attr:`sim.analysis.results.Results.summary` with ``wall_seconds`` (and ``target`` for
        a run to a target MCSE).
    """
    from rich.text import Text

    # User text (titles, names) is printed as it is: never read as markup or emoji codes, and
    # control characters (a terminal escape in a scenario title) are escaped.
    console = _console()
    show = functools.partial(_show, console)
    show(Text(printable(summary["title"], None), style="bold"))
    timing = f"{summary['wall_seconds']} s"
    if "simulation_seconds" in summary:
        timing += f" ({summary['simulation_seconds']} s simulating)"
    show(
        f"{summary['replications']} replications x "
        f"{summary['defendants']:,} defendants, seed {summary['seed']}, "
        f"{timing}; ± is the Monte Carlo standard error"
    )
    if "target" in summary:
        t = summary["target"]
        show(
            f"target MCSE {t['target_mcse_months']} months: "
            f"{'reached' if t['reached'] else 'NOT reached'} with {t['replications']} "
            f"replications (largest headline MCSE {t['headline_max_mcse_months']:.3f})"
        )
    if summary.get("headline") is not None:
        for line in _headline(summary["headline"]):
            show(line)
    show(_districts(summary["districts"]))
    show(_pairs(summary["pairwise"]))
    show(_variance(summary["variance_shares"]))
    show(_selection(summary["selection_vs_policy"]))
    inequality = summary["inequality"]
    show(
        "Inequality, every defendant in every district (declined = 0 months): Gini "
        f"{_estimate(inequality, 'gini', 3)}; Theil T between districts "
        f"{_estimate(inequality, 'theil_between', 3)}, within "
        f"{_estimate(inequality, 'theil_within', 3)}"
    )
    if "overall" in summary:
        show(_overall(summary["overall"]))
    if summary.get("validation"):
        show(_validation(summary["validation"]))
    for name, by_district in summary["profiles"].items():
        show(_profile(printable(name, None), by_district))


def _nested(entry: Mapping[str, Any] | None, digits: int = 1, percent: bool = False) -> str:
    """An ``{estimate, mcse, ci95}`` entry as ``x ± mcse`` (as percentages with ``percent``)."""
    if entry is None or entry["estimate"] is None:
        return "–"
    scale = 100 if percent else 1
    mcse = None if entry["mcse"] is None else entry["mcse"] * scale
    text = _figure(entry["estimate"] * scale, mcse, digits)
    return f"{text}%" if percent else text


def _headline(headline: Mapping[str, Any]) -> list[Text]:
    """The headline gap first, its interval, its population and the declined shares beside
    it; then its definition."""
    from rich.text import Text

    a, b = printable(headline["from"], None), printable(headline["to"], None)
    gap = headline["gap_months"]
    interval = (
        f" (95% CI {gap['ci95'][0]:.2f} to {gap['ci95'][1]:.2f})"
        if gap["ci95"] is not None and None not in gap["ci95"]
        else ""
    )
    declined = ", ".join(
        f"{printable(code, None)} {_nested(share, 1, percent=True)}"
        for code, share in headline["declined_share"].items()
    )
    return [
        Text(
            f"Headline gap {a} − {b}: {_nested(gap, 2)} months{interval}, among the "
            f"{_nested(headline['both_prosecuted_share'], 1, percent=True)} of defendants both "
            f"districts prosecute; declined: {declined}",
            style="bold",
        ),
        Text(printable(headline["definition"], None), style="italic"),
    ]


def _estimate(entry: Mapping[str, Any], key: str, digits: int = 1) -> str:
    """``entry[key] ± entry[key_mcse]`` of a summary entry."""
    return _figure(entry[key], entry[f"{key}_mcse"], digits)


class _Grid:
    """A table's title, column headers and rows of text, drawn by rich on a terminal
    (:meth:`rich`) or as plain text at a fixed width otherwise (:meth:`plain`)."""

    def __init__(self, title: str, columns: tuple[str, ...]) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[tuple[str, ...]] = []
        self.fold_first = False

    def add_row(self, *cells: str) -> None:
        self.rows.append(tuple(cells))

    def rich(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title)
        for column in self.columns:
            table.add_column(column, justify="right")
        if self.fold_first:
            table.columns[0].overflow = "fold"
        for row in self.rows:
            table.add_row(*row)
        return table

    def plain(self, width: int = PLAIN_WIDTH) -> str:
        """Aligned columns (headers wrapped, the first column left-aligned, the others right)
        when they fit in ``width``; else one block per row: its first cell, then each other
        column's header and value on a line of its own."""
        gap = "  "
        cells = [
            max((len(row[i]) for row in self.rows), default=0) for i in range(len(self.columns))
        ]
        words = [max(len(word) for word in (header.split() or [""])) for header in self.columns]
        widths = [max(c, w) for c, w in zip(cells, words, strict=True)]
        # A header wraps no narrower than its longest word; spare room goes to the header
        # wrapped onto the most lines, one line fewer at a time.
        total = sum(widths) + len(gap) * (len(widths) - 1)

        def depth(i: int, w: int) -> int:
            return len(textwrap.wrap(self.columns[i], w))

        while total < width:
            i = max(range(len(widths)), key=lambda k: depth(k, widths[k]))
            lines_now = depth(i, widths[i])
            wider = next(
                (
                    w
                    for w in range(widths[i] + 1, len(self.columns[i]) + 1)
                    if depth(i, w) < lines_now
                ),
                None,
            )
            if lines_now <= 1 or wider is None or total + wider - widths[i] > width:
                break
            total += wider - widths[i]
            widths[i] = wider
        lines = textwrap.wrap(self.title, width) or [""]
        if sum(widths) + len(gap) * (len(widths) - 1) <= width:
            headers = [
                textwrap.wrap(h, w) or [""] for h, w in zip(self.columns, widths, strict=True)
            ]
            depth = max(len(h) for h in headers)
            for k in range(depth):
                parts = [(h[k - depth + len(h)] if k >= depth - len(h) else "") for h in headers]
                lines.append(self._join(parts, widths, gap))
            lines.append(gap.join("-" * w for w in widths))
            lines += [self._join(row, widths, gap) for row in self.rows]
        else:
            label = max(len(header) for header in self.columns[1:])
            for row in self.rows:
                lines.append(f"  {row[0]}")
                for header, cell in zip(self.columns[1:], row[1:], strict=True):
                    if cell:
                        text = f"    {header:<{label}}  {cell}"
                        lines += textwrap.wrap(text, width, subsequent_indent=" " * (label + 6))
        return "\n".join(line.rstrip() for line in lines) + "\n"

    @staticmethod
    def _join(cells: tuple[str, ...] | list[str], widths: list[int], gap: str) -> str:
        first, *rest = cells
        return gap.join(
            [f"{first:<{widths[0]}}", *(f"{c:>{w}}" for c, w in zip(rest, widths[1:], strict=True))]
        )


def _console() -> Console:
    """stdout for the summary: user text never read as markup or emoji codes; a fixed width of
    :data:`PLAIN_WIDTH` when stdout is not a terminal."""
    from rich.console import Console

    console = Console(markup=False, emoji=False, highlight=False)
    if not console.is_terminal:
        console = Console(markup=False, emoji=False, highlight=False, width=PLAIN_WIDTH)
    return console


def _show(console: Console, item: _Grid | Text | str) -> None:
    """A table as rich draws it on a terminal, as plain text otherwise; a line of text wrapped
    at the console's width."""
    if console.is_terminal:
        console.print(item.rich() if isinstance(item, _Grid) else item)
    elif isinstance(item, _Grid):
        console.out("\n" + item.plain(), end="", highlight=False)
    else:
        text = item if isinstance(item, str) else item.plain
        console.out("\n".join(textwrap.wrap(text, PLAIN_WIDTH)), highlight=False)


def _table(title: str, columns: tuple[str, ...]) -> _Grid:
    return _Grid(title, columns)


def _districts(districts: Mapping[str, Any]) -> _Grid:
    table = _table(
        "Districts: every defendant sentenced in every district (months among prosecuted)",
        ("district", "prosecuted", "mean", "median", "90th pct", "as arrested: mean"),
    )
    for code, d in districts.items():
        table.add_row(
            printable(f"{code} {d['name']}", None),
            _estimate(d, "prosecuted_share", 3),
            _estimate(d, "mean_months"),
            _estimate(d, "median_months"),
            _estimate(d, "p90_months"),
            _estimate(d["as_arrested"], "mean_months"),
        )
    return table


def _pairs(pairwise: list[Mapping[str, Any]]) -> _Grid:
    table = _table(
        "Paired gaps, same defendants (a − b, months)",
        (
            "a − b",
            "every defendant (declined = 0): mean",
            "median",
            ">12 months apart",
            "both prosecute: mean",
        ),
    )
    for pair in pairwise:
        everyone, both = pair["all_defendants"], pair["both_prosecuted"]
        table.add_row(
            f"{pair['district_a']} − {pair['district_b']}",
            _figure(pair["mean_difference_months"], pair["mcse_months"], 2),
            _estimate(everyone, "median_difference_months"),
            _estimate(everyone, "share_differing_over_12_months", 3),
            _estimate(both, "mean_difference_months", 2),
        )
    return table


def _variance(shares: Mapping[str, Any]) -> _Grid:
    table = _table(
        "Share of sentence variance explained (Shapley values of R²)",
        ("district", "criminal history category", "§ 2L1.2 enhancement", "other record"),
    )
    keys = ("district", "criminal_history_category", "section_2l1_2_enhancement", "other_record")
    table.add_row(*(_estimate(shares, key, 3) for key in keys))
    return table


def _selection(rows: list[Mapping[str, Any]]) -> _Grid:
    table = _table(
        "As-arrested gap = treatment (same defendants) + composition (who)",
        ("a − b", "observed gap", "treatment", "composition"),
    )
    for row in rows:
        table.add_row(
            f"{row['district_a']} − {row['district_b']}",
            *(
                _estimate(row, key, 2)
                for key in ("observed_gap_months", "treatment_months", "composition_months")
            ),
        )
    return table


def _profile(name: str, by_district: Mapping[str, Any]) -> _Grid:
    table = _table(
        f"Profile {name}", ("district", "no-deal final range", "mean months", "min–max", "deals")
    )
    for code, p in by_district.items():
        low, high = p["final_range_months"]
        shares = p["deal_shares"].items()
        deals = printable(", ".join(f"{deal} {share:.0%}" for deal, share in shares if share), None)
        table.add_row(
            code,
            f"{low}–{high}",
            _estimate(p, "mean_months"),
            f"{p['min_months']}–{p['max_months']}",
            deals,
        )
    return table


def print_evaluation(count: int, values: list[float], figures: list[float]) -> None:
    """One line on stderr per simulation of a calibration: the parameters and the figures."""
    import sys

    shown = ", ".join(f"{v:.6g}" for v in values)
    got = ", ".join(f"{f:.6g}" for f in figures)
    sys.stderr.write(f"evaluation {count}: parameters {shown} -> {got}\n")


def print_undocumented(result: Mapping[str, Any]) -> None:
    """A warning on stderr for each target that is not a documented calibration target."""
    import sys

    for name in result.get("undocumented_targets", []):
        sys.stderr.write(
            f"warning: {printable(name)} is not a documented calibration target (the only one: "
            "overall.mean_months=18, FY2013; docs/calibration.md); fitted because "
            "--allow-undocumented-target was given, and marked so in the file and the table\n"
        )
    for name in result.get("fitted_validation_figures", []):
        sys.stderr.write(
            f"note: {printable(name)} is also listed under validation: in the scenario; fitted "
            "to it, the calibrated scenario reproduces it by construction, so it no longer tests "
            "the model\n"
        )


def print_calibration(result: Mapping[str, Any]) -> None:
    """Print the calibration table (rich, stdout): targets, then the fitted parameters.

    Parameters
    ----------
    result : mapping
        What :func:`sim.api.calibrate_scenario` returns (or
        :func:`sim.api.calibration_summary` of a failed fit).
    """
    console = _console()
    console.print(
        f"{result['method']}: {result['evaluations']} evaluations, "
        f"{'converged' if result['converged'] else 'NOT converged'} "
        f"({printable(result['message'])}); "
        f"seed {result['seed']}, {result['replications']} replications x "
        f"{result['defendants']:,} defendants; tolerance {result['tolerance']:g}"
    )
    targets = _table(
        "Targets", ("target", "published", "simulated", "residual", "MCSE", "documented")
    )
    parameters = _table(
        "Fitted parameters", ("parameter", "initial", "fitted", "MCSE", "bounds", "unit")
    )
    for row in result["rows"]:
        if row["kind"] == "target":
            targets.add_row(
                printable(row["name"]),
                f"{row['published']:g}",
                f"{row['simulated']:.4f}",
                f"{row['residual']:+.4f}",
                "–" if row["mcse"] is None else f"{row['mcse']:.4f}",
                "yes" if row["documented"] else "NO",
            )
        else:
            parameters.add_row(
                printable(row["name"]),
                f"{row['initial']:.6g}",
                f"{row['fitted']:.6g}",
                "–" if row["mcse"] is None else f"{row['mcse']:.2g}",
                f"{row['low']:g} to {row['high']:g}",
                printable(row["unit"]),
            )
    for table in (targets, parameters):
        table.fold_first = True
        _show(console, table)


def _overall(overall: Mapping[str, Any]) -> _Grid:
    table = _table(
        "Overall, as arrested (every district pooled, caseload-weighted; months among sentenced)",
        (
            "sentenced",
            "share",
            "mean",
            "median",
            "imprisoned",
            "≤ 120 months",
            "within range",
        ),
    )
    table.add_row(
        "all",
        "1",
        _estimate(overall, "mean_months"),
        _estimate(overall, "median_months", 0),
        _estimate(overall, "imprisonment_share", 3),
        _estimate(overall, "share_at_most_120_months", 3),
        _estimate(overall["position_shares"], "within_range", 3),
    )
    for levels, figures in overall["by_enhancement"].items():
        if not figures["share"]:  # a level no defendant reached
            continue
        table.add_row(
            f"§ 2L1.2(b) +{levels}",
            _estimate(figures, "share", 3),
            _estimate(figures, "mean_months"),
            "",
            "",
            "",
            _estimate(figures, "within_range_share", 3),
        )
    return table


def _validation(entries: list[Mapping[str, Any]]) -> _Grid:
    table = _table(
        "Validation: published figures beside the simulated ones (not calibrated to)",
        ("figure", "published", "simulated", "difference", "source"),
    )
    for entry in entries:
        simulated = entry["simulated"]
        difference = entry["difference"]
        table.add_row(
            printable(entry["name"], None),
            f"{entry['published']:g}",
            _figure(simulated["estimate"], simulated["mcse"], 3),
            "–" if difference is None else f"{difference:+.3f}",
            printable(entry["source"], 200),
        )
    return table


def print_attribution(summary: Mapping[str, Any]) -> None:
    """Print a lever attribution (rich, stdout): one row per lever with A's and B's settings, its
    Shapley value ± MCSE and share of the gap, then the total and the sum of the values.

    Parameters
    ----------
    summary : mapping
        What :func:`sim.api.attribute_gap` returns.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console(markup=False, emoji=False, highlight=False)
    a, b = summary["from"], summary["to"]
    console.print(
        f"{printable(summary['scenario'])}: {a} → {b}, {summary['subsets']} subsets of "
        f"{len(summary['levers'])} levers ({summary['districts_simulated']} distinct policies "
        f"simulated); seed {summary['seed']}, {summary['replications']} replications x "
        f"{summary['defendants']:,} defendants"
    )
    table = Table(title=f"Lever attribution of the {a} − {b} gap ({summary['measure']})")
    for column in ("lever", "Shapley (months)", "share", "first", "last", f"{b}'s setting"):
        table.add_column(column, justify="left" if column == "lever" else "right")
    for name, lever in summary["levers"].items():
        share = lever["share_of_gap"]
        table.add_row(
            printable(name),
            _figure(lever["shapley_months"], lever["mcse_months"], 2),
            "–" if share is None else f"{round(100 * share) or 0}%",  # never "-0%"
            _figure(lever["switched_first_months"], None, 2),
            _figure(lever["switched_last_months"], None, 2),
            "differs" if lever["differs"] else f"same as {a}'s",
        )
    console.print(table)
    console.print(
        f"{a} mean {_figure(summary['mean_from_months'], None, 2)} → {b} mean "
        f"{_figure(summary['mean_to_months'], None, 2)}; gap "
        f"{_figure(summary['total_gap_months'], summary['total_gap_mcse_months'], 2)} months; "
        f"Σ Shapley {_figure(summary['shapley_sum_months'], None, 6)}"
    )
    for name, lever in summary["levers"].items():
        if lever["differs"]:
            console.print(
                f"{printable(name)}: {printable(lever['from'])} → {printable(lever['to'])}"
            )
    console.print(
        "first / last: the lever's contribution switched first (alone, into "
        f"{a}'s policy) and last (into {b}'s); the Shapley value averages every order"
    )
    console.print(printable(summary["definition"], None), style="italic")


def print_comparison(result: Mapping[str, Any]) -> None:
    """Print a comparison (:func:`sim.api.compare`): the pairing, then one row per headline
    figure with A, B, B − A and the MCSE of the difference and how it was computed.

    Parameters
    ----------
    result : mapping
        ``{a, b, paired, pairing, figures: {PATH: {label, unit, a, a_mcse, b, b_mcse,
        difference, mcse, method}}}``.
    """
    console = _console()
    console.print(f"A: {printable(result['a'], None)}")
    console.print(f"B: {printable(result['b'], None)}")
    console.print(
        f"{printable(result['pairing'], None)}; ± is the Monte Carlo standard error; paired "
        "MCSE: from the per-replication differences, unpaired: √(MCSE_A² + MCSE_B²)"
    )
    table = _table(
        "Headline figures side by side (B − A)", ("figure", "A", "B", "B − A", "MCSE", "method")
    )
    for entry in result["figures"].values():
        digits = 2 if entry["unit"] == "months" else 4
        difference = entry["difference"]
        table.add_row(
            printable(entry["label"], None),
            _figure(entry["a"], entry["a_mcse"], digits),
            _figure(entry["b"], entry["b_mcse"], digits),
            "–" if difference is None else f"{difference:+.{digits}f}",
            "–" if entry["mcse"] is None else f"{entry['mcse']:.{digits + 1}f}",
            entry["method"],
        )
    _show(console, table)
    for side in ("a", "b"):
        if result.get(f"only_in_{side}"):
            console.print(f"only in {side.upper()}: {', '.join(result[f'only_in_{side}'])}")


def print_assumption_interval(summary: Mapping[str, Any]) -> None:
    """Each headline figure with its Monte Carlo error and its spread across assumptions
    (``sim run --assumption-interval N``): "12.5 months (Monte Carlo ± 0.02; across assumptions
    2.3–14.1)"."""
    from rich.console import Console

    console = Console(markup=False, emoji=False, highlight=False)
    headline, meta = summary.get("headline"), summary.get("assumption_interval")
    if not headline or not meta:
        return
    console.print(
        f"Across assumptions: 5th-95th percentile over a {meta['points']}-point Latin hypercube "
        f"of {len(meta['factors'])} ranged assumptions and alternatives (common random numbers"
        f"; {meta.get('rejected_points', 0)} points left out where the scenario is invalid)"
    )

    def line(name: str, entry: Mapping[str, Any], scale: float, unit: str) -> None:
        if entry.get("estimate") is None or "assumption_p05" not in entry:
            return
        mcse = "–" if entry["mcse"] is None else f"{entry['mcse'] * scale:.2f}"
        console.print(
            f"  {name}: {entry['estimate'] * scale:.2f}{unit} (Monte Carlo ± {mcse}; across "
            f"assumptions {entry['assumption_p05'] * scale:.2f}–"
            f"{entry['assumption_p95'] * scale:.2f})"
        )

    a, b = printable(headline["from"], None), printable(headline["to"], None)
    line(f"headline gap {a} − {b}", headline["gap_months"], 1, " months")
    line("both prosecuted", headline["both_prosecuted_share"], 100, "%")
    for code, share in headline["declined_share"].items():
        line(f"declined in {printable(code, None)}", share, 100, "%")


def print_sweep(summary: Mapping[str, Any], run: Mapping[str, Any]) -> None:
    """A sweep's outputs (spread over the points) and, for a Sobol' design, each output's
    indices with their bootstrap 95% intervals (``sim sweep``)."""
    console = _console()
    console.print(
        f"{summary['points']:,} points x {run['replications']} replications x "
        f"{run['defendants']:,} defendants, {run['wall_seconds']} s; common random numbers"
    )
    table = _table("Outputs over the sweep", ("output", "min", "p05", "median", "p95", "max"))
    for name, spread in summary["outputs"].items():
        table.add_row(
            printable(name, None),
            *(
                "–" if spread[k] is None else f"{spread[k]:.2f}"
                for k in ("min", "p05", "median", "p95", "max")
            ),
        )
    _show(console, table)
    for output, by_parameter in summary["sobol"].items():
        table = _table(
            f"Sobol' indices of {printable(output, None)} (bootstrap 95%)",
            ("parameter", "S1", "ST"),
        )
        ranked = sorted(by_parameter.items(), key=lambda kv: -(kv[1]["ST"] or 0))
        for parameter, e in ranked:
            cells = []
            for key in ("S1", "ST"):
                if e[key] is None:
                    cells.append("–")
                else:
                    low, high = e[f"{key}_ci95"]
                    cells.append(f"{e[key]:.3f} [{low:.3f}, {high:.3f}]")
            table.add_row(printable(parameter, None), *cells)
        _show(console, table)

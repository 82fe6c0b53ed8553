"""What the command line prints: the summary tables and the progress bar (rich).

Owned by :mod:`sim.cli`; the library itself never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sim.inputs import printable

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

__all__ = [
    "print_calibration",
    "print_evaluation",
    "print_summary",
    "print_undocumented",
    "progress_bar",
]

#: Defendants above which a progress bar is shown on a terminal.
_PROGRESS_THRESHOLD = 500_000


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
    from rich.console import Console
    from rich.text import Text

    # User text (titles, names) is printed as it is: never read as markup or emoji codes, and
    # control characters (a terminal escape in a scenario title) are escaped.
    console = Console(markup=False, emoji=False, highlight=False)
    console.print(Text(printable(summary["title"], None), style="bold"))
    console.print(
        f"{summary['replications']} replications x "
        f"{summary['defendants']:,} defendants, seed {summary['seed']}, "
        f"{summary['wall_seconds']} s; ± is the Monte Carlo standard error"
    )
    if "target" in summary:
        t = summary["target"]
        console.print(
            f"target MCSE {t['target_mcse_months']} months: "
            f"{'reached' if t['reached'] else 'NOT reached'} with {t['replications']} "
            f"replications (largest headline MCSE {t['headline_max_mcse_months']:.3f})"
        )
    if summary.get("headline") is not None:
        for line in _headline(summary["headline"]):
            console.print(line)
    console.print(_districts(summary["districts"]))
    console.print(_pairs(summary["pairwise"]))
    console.print(_variance(summary["variance_shares"]))
    console.print(_selection(summary["selection_vs_policy"]))
    inequality = summary["inequality"]
    console.print(
        "Inequality, every defendant in every district (declined = 0 months): Gini "
        f"{_estimate(inequality, 'gini', 3)}; Theil T between districts "
        f"{_estimate(inequality, 'theil_between', 3)}, within "
        f"{_estimate(inequality, 'theil_within', 3)}"
    )
    if "overall" in summary:
        console.print(_overall(summary["overall"]))
    if summary.get("validation"):
        console.print(_validation(summary["validation"]))
    for name, by_district in summary["profiles"].items():
        console.print(_profile(printable(name, None), by_district))


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


def _table(title: str, columns: tuple[str, ...]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    return table


def _districts(districts: Mapping[str, Any]) -> Table:
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


def _pairs(pairwise: list[Mapping[str, Any]]) -> Table:
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


def _variance(shares: Mapping[str, Any]) -> Table:
    table = _table(
        "Share of sentence variance explained (Shapley values of R²)",
        ("district", "criminal history category", "§ 2L1.2 enhancement", "other record"),
    )
    keys = ("district", "criminal_history_category", "section_2l1_2_enhancement", "other_record")
    table.add_row(*(_estimate(shares, key, 3) for key in keys))
    return table


def _selection(rows: list[Mapping[str, Any]]) -> Table:
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


def _profile(name: str, by_district: Mapping[str, Any]) -> Table:
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
    from rich.console import Console

    console = Console(markup=False, emoji=False, highlight=False)
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
        table.columns[0].overflow = "fold"
        console.print(table)


def _overall(overall: Mapping[str, Any]) -> Table:
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


def _validation(entries: list[Mapping[str, Any]]) -> Table:
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
    from rich.console import Console

    console = Console(markup=False, emoji=False, highlight=False)
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
    console.print(table)
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
        console.print(table)

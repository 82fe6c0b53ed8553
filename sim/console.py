"""What the command line prints: the summary tables and the progress bar (rich).

Owned by :mod:`sim.cli`; the library itself never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["print_summary", "progress_bar"]

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


def print_summary(summary: dict[str, Any]) -> None:
    """Print the headline tables of a summary (rich, stdout)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{summary['title']}[/bold]\n{summary['replications']} replications x "
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

    table = Table(title="Districts: every defendant sentenced everywhere (months among prosecuted)")
    for column in ("district", "prosecuted", "mean", "median", "90th pct", "as arrested: mean"):
        table.add_column(column, justify="right")
    for code, d in summary["districts"].items():
        table.add_row(
            f"{code} {d['name']}",
            _figure(d["prosecuted_share"], d["prosecuted_share_mcse"], 3),
            _figure(d["mean_months"], d["mean_months_mcse"]),
            _figure(d["median_months"], d["median_months_mcse"]),
            _figure(d["p90_months"], d["p90_months_mcse"]),
            _figure(d["as_arrested"]["mean_months"], d["as_arrested"]["mean_months_mcse"]),
        )
    console.print(table)

    pairs = Table(
        title="Paired gaps, same defendants (a − b, months; declined = 0 unless both prosecuted)"
    )
    for column in ("a − b", "mean gap", "median", ">12 months apart", "both prosecuted: mean"):
        pairs.add_column(column, justify="right")
    for pair in summary["pairwise"]:
        everyone, both = pair["all_defendants"], pair["both_prosecuted"]
        pairs.add_row(
            f"{pair['district_a']} − {pair['district_b']}",
            _figure(pair["mean_difference_months"], pair["mcse_months"], 2),
            _figure(
                everyone["median_difference_months"], everyone["median_difference_months_mcse"]
            ),
            _figure(
                everyone["share_differing_over_12_months"],
                everyone["share_differing_over_12_months_mcse"],
                3,
            ),
            _figure(both["mean_difference_months"], both["mean_difference_months_mcse"], 2),
        )
    console.print(pairs)

    shares = summary["variance_shares"]
    variance = Table(title="Share of sentence variance explained (Shapley values of R²)")
    for column in ("district", "criminal history category", "§ 2L1.2 enhancement", "other record"):
        variance.add_column(column, justify="right")
    variance.add_row(
        *(
            _figure(shares[key], shares[f"{key}_mcse"], 3)
            for key in (
                "district",
                "criminal_history_category",
                "section_2l1_2_enhancement",
                "other_record",
            )
        )
    )
    console.print(variance)

    selection = Table(title="As-arrested gap = treatment (same defendants) + composition (who)")
    for column in ("a − b", "observed gap", "treatment", "composition"):
        selection.add_column(column, justify="right")
    for row in summary["selection_vs_policy"]:
        selection.add_row(
            f"{row['district_a']} − {row['district_b']}",
            *(
                _figure(row[key], row[f"{key}_mcse"], 2)
                for key in ("observed_gap_months", "treatment_months", "composition_months")
            ),
        )
    console.print(selection)

    inequality = summary["inequality"]
    console.print(
        "Inequality (declined = 0): Gini "
        f"{_figure(inequality['gini'], inequality['gini_mcse'], 3)}; Theil T between districts "
        f"{_figure(inequality['theil_between'], inequality['theil_between_mcse'], 3)}, within "
        f"{_figure(inequality['theil_within'], inequality['theil_within_mcse'], 3)}"
    )

    for name, by_district in summary["profiles"].items():
        profile = Table(title=f"Profile {name}")
        for column in ("district", "no-deal final range", "mean months", "min–max", "deals"):
            profile.add_column(column, justify="right")
        for code, p in by_district.items():
            low, high = p["final_range_months"]
            deals = ", ".join(
                f"{deal} {share:.0%}" for deal, share in p["deal_shares"].items() if share
            )
            profile.add_row(
                code,
                f"{low}–{high}",
                _figure(p["mean_months"], p["mean_months_mcse"]),
                f"{p['min_months']}–{p['max_months']}",
                deals,
            )
        console.print(profile)

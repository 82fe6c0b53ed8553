"""The study report: ``report.md`` and a self-contained ``report.html`` in an archive.

Every number in the report comes from the run's tables, so a reader can trace it to a table.
While a run is archived the report reads its :class:`~sim.analysis.results.Results` (tables and
assumptions); ``sim report DIR`` rebuilds it from the archive's files (tables, resolved config,
figures, manifest) without re-running, to the same bytes. The HTML embeds its figures as data
URIs and needs no network.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.results import Results
from sim.model.scenario import assumptions as scenario_assumptions
from sim.model.scenario import load_scenario
from sim.output.manifest import MANIFEST, load_manifest, sha256_file

__all__ = ["CAPTIONS", "rebuild_report", "write_report"]

#: Figure captions by file stem (sim.output.figures.render_figures).
CAPTIONS = {
    "district_distributions": "Sentence distributions by district: every synthetic defendant "
    "sentenced in every district (months, among prosecuted defendants).",
    "paired_differences": "Paired differences: the same defendants' sentences in two districts "
    "(district a minus district b, months; a declined defendant counts 0 months).",
    "gap_heatmap": "Mean paired gap by Chapter Two offense level and criminal history category "
    "(months, first district pair).",
    "variance_shares": "Share of sentence variance explained by district, criminal history "
    "category, § 2L1.2 enhancement and other record features (Shapley values of R², 95% "
    "intervals).",
    "selection_vs_policy": "As-arrested gap in mean sentences split into treatment (what the "
    "districts do to the same defendants) and composition (whom they prosecute), 95% intervals.",
    "convergence": "Convergence of a headline figure with replications: running mean with a "
    "±1.96 Monte Carlo standard error band.",
    "profiles": "Named defendants in each district: no-deal final range, statutory maximum and "
    "simulated sentences.",
}


def _interval(row: pd.Series, digits: int = 1) -> str:
    estimate = row["estimate"]
    if pd.isna(estimate):
        return "–"
    text = f"{estimate:.{digits}f}"
    if not pd.isna(row.get("ci95_low")) and not pd.isna(row.get("mcse")):
        text += f" [{row['ci95_low']:.{digits}f}, {row['ci95_high']:.{digits}f}]"
    return text


def _headline_tables(
    tables: Mapping[str, pd.DataFrame],
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of the report's headline tables."""
    districts = tables["districts"]
    counterfactual = districts[districts["view"] == "counterfactual"]
    rows = []
    for code, group in counterfactual.groupby("district", sort=False):
        metric = group.set_index("metric")
        rows.append(
            [
                f"{code} {group['name'].iloc[0]}",
                _interval(metric.loc["prosecuted_share"], 3),
                _interval(metric.loc["mean_months"]),
                _interval(metric.loc["median_months"], 0),
                _interval(metric.loc["p90_months"], 0),
            ]
        )
    out = [
        (
            "Districts (every defendant sentenced in every district; months among prosecuted)",
            ["district", "prosecuted share", "mean months", "median", "90th percentile"],
            rows,
        )
    ]
    pairwise = tables["pairwise"]
    population = pairwise[(pairwise["subject"] == "population")]
    pair_rows = []
    for (a, b), group in population.groupby(["district_a", "district_b"], sort=False):
        everyone = group[group["defendants"] == "all_defendants"].set_index("metric")
        both = group[group["defendants"] == "both_prosecuted"].set_index("metric")
        pair_rows.append(
            [
                f"{a} − {b}",
                _interval(everyone.loc["mean_difference_months"], 2),
                _interval(everyone.loc["share_differing_over_12_months"], 3),
                _interval(both.loc["mean_difference_months"], 2),
            ]
        )
    out.append(
        (
            "Paired gaps, same defendants (months, a − b)",
            [
                "pair",
                "mean gap (declined = 0)",
                "share > 12 months apart",
                "mean gap (both prosecuted)",
            ],
            pair_rows,
        )
    )
    shares = tables["variance_shares"].set_index("component")
    out.append(
        (
            "Share of sentence variance explained (Shapley values of R²)",
            ["component", "share"],
            [[name, _interval(shares.loc[name], 3)] for name in shares.index],
        )
    )
    selection = tables["selection_vs_policy"]
    sel_rows = []
    for (a, b), group in selection.groupby(["district_a", "district_b"], sort=False):
        part = group.set_index("part")
        sel_rows.append(
            [f"{a} − {b}"]
            + [
                _interval(part.loc[p], 2)
                for p in ("observed_gap_months", "treatment_months", "composition_months")
            ]
        )
    out.append(
        (
            "Selection vs policy: as-arrested gap = treatment + composition (months)",
            ["pair", "observed gap", "treatment", "composition"],
            sel_rows,
        )
    )
    return out


def _reproduce_commands(folder: Path, manifest: dict[str, Any]) -> list[str]:
    name = manifest.get("archive_name", folder.name)
    return [
        f"sim verify {name}",
        f"sim reproduce {name}",
        f"sim run {name}/config.resolved.yaml --seed {manifest['seed']} --out NEW_FOLDER",
    ]


def _markdown(folder: Path, manifest: dict[str, Any], tables, figures, assumptions) -> str:
    lines = [
        f"# {manifest['title']}",
        "",
        f"Scenario `{manifest['scenario']}`, {manifest['replications']} replications of "
        f"{manifest['defendants']:,} defendants, seed {manifest['seed']}. "
        f"Config SHA-256 `{manifest['config_sha256']}`.",
        "",
        "Figures are means over replications with a 95% interval in brackets (t interval from the "
        "Monte Carlo standard error).",
        "",
    ]
    for title, header, rows in _headline_tables(tables):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    lines += ["## Figures", ""]
    for figure in figures:
        caption = CAPTIONS.get(figure.stem, figure.stem)
        lines += [f"![{caption}](figures/{figure.name})", "", f"*{caption}*", ""]
    lines += [
        "## Assumptions",
        "",
        "Every number below is an assumption of the scenario (no source supports it):",
        "",
    ]
    for item in assumptions:
        lines.append(f"- `{item['field']}` = {item['value']}: {item['source']}")
    lines += ["", "## Reproduce", "", "```sh", *_reproduce_commands(folder, manifest), "```", ""]
    return "\n".join(lines)


_STYLE = """
body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
th,td{border:1px solid #999;padding:0.25rem 0.5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
figure{margin:1.5rem 0}figure img{width:min(100%,34rem);height:auto}
figcaption{font-style:italic;font-size:0.9rem}
code,pre{background:#f3f3f3}
"""


def _html(folder: Path, manifest: dict[str, Any], tables, figures, assumptions) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(manifest['title'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(manifest['title'])}</h1>",
        f"<p>Scenario <code>{esc(manifest['scenario'])}</code>, {manifest['replications']} "
        f"replications of {manifest['defendants']:,} defendants, seed {manifest['seed']}. "
        f"Config SHA-256 <code>{esc(manifest['config_sha256'])}</code>.</p>",
        "<p>Figures are means over replications with a 95% interval in brackets (t interval "
        "from the Monte Carlo standard error).</p>",
    ]
    for title, header, rows in _headline_tables(tables):
        parts.append(f"<h2>{esc(title)}</h2><table><tr>")
        parts += [f"<th>{esc(h)}</th>" for h in header]
        parts.append("</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>")
        parts.append("</table>")
    parts.append("<h2>Figures</h2>")
    for figure in figures:
        data = base64.b64encode(figure.read_bytes()).decode("ascii")
        caption = esc(CAPTIONS.get(figure.stem, figure.stem))
        parts.append(
            f'<figure><img alt="{caption}" src="data:image/png;base64,{data}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    parts.append("<h2>Assumptions</h2><ul>")
    for item in assumptions:
        parts.append(
            f"<li><code>{esc(item['field'])}</code> = {esc(str(item['value']))}: "
            f"{esc(item['source'])}</li>"
        )
    parts.append("</ul><h2>Reproduce</h2><pre>")
    parts.append(esc("\n".join(_reproduce_commands(folder, manifest))))
    parts.append("</pre></body></html>")
    return "\n".join(parts) + "\n"


def write_report(folder: Path, manifest: dict[str, Any], results: Results | None = None) -> None:
    """Write ``report.md`` and ``report.html`` into an archive folder.

    Parameters
    ----------
    folder : pathlib.Path
        The archive folder; its ``figures/*.png`` are shown.
    manifest : dict
        The archive's manifest (title, scenario, size, seed, config hash, name).
    results : sim.analysis.results.Results, optional
        The run's results, whose tables and assumptions the report shows; when omitted they
        are read from the archive's ``tables/*.parquet`` and ``config.resolved.yaml``.
    """
    if results is None:
        tables = {p.stem: pd.read_parquet(p) for p in sorted((folder / "tables").glob("*.parquet"))}
        listed = scenario_assumptions(load_scenario(folder / "config.resolved.yaml")[0])
    else:
        tables, listed = results.tables, results.summary["assumptions"]
    figures = sorted((folder / "figures").glob("*.png"))
    (folder / "report.md").write_text(
        _markdown(folder, manifest, tables, figures, listed), encoding="utf-8"
    )
    (folder / "report.html").write_text(
        _html(folder, manifest, tables, figures, listed), encoding="utf-8"
    )


def rebuild_report(folder: Path) -> None:
    """Rebuild an archive's report from its files and update the manifest's hashes for it.

    Raises
    ------
    sim.inputs.InputError
        Not an archive.
    """
    manifest = load_manifest(folder)
    write_report(folder, manifest)
    for name in ("report.md", "report.html"):
        manifest.setdefault("files", {})[name] = sha256_file(folder / name)
    staging = folder / f".{MANIFEST}.partial"
    staging.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    staging.replace(folder / MANIFEST)

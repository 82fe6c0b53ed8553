"""The study report: ``report.md`` and a self-contained ``report.html`` in an archive.

Every number in the report comes from the run's tables, so a reader can trace it to a table.
While a run is archived the report reads its :class:`~sim.analysis.results.Results` (tables and
assumptions); ``sim report DIR`` rebuilds it from the archive's files (tables, resolved config,
figures, manifest) without re-running, to the same bytes. The HTML embeds its figures as data
URIs and needs no network.

An archive may come from anyone (docs/archives.md): ``sim report`` verifies it first and reads
only the bytes it verified; every text that comes from the scenario or the tables (titles, names,
sources, values) is escaped for Markdown and HTML, its control characters shown as ``\\x1b``-style
escapes; and the report and the manifest are replaced atomically, never written through a link.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa

from sim.analysis.measures import HEADLINE_DEFINITION
from sim.analysis.results import Results
from sim.inputs import InputError, printable
from sim.model.scenario import assumptions as scenario_assumptions
from sim.output.manifest import (
    MANIFEST,
    open_folder,
    read_archive,
    refusal,
    regular_files,
    replace_file,
)

__all__ = [
    "CAPTIONS",
    "REPORT_FILES",
    "html_text",
    "markdown_text",
    "rebuild_report",
    "write_report",
]

#: The files ``sim report`` rebuilds (missing or altered, they do not stop a rebuild).
REPORT_FILES = ("report.md", "report.html")
#: The tables the report reads.
_REPORT_TABLES = ("districts", "pairwise", "variance_shares", "selection_vs_policy")
#: Tables the report shows when the archive has them (archives written before issue 12 do not).
_OPTIONAL_TABLES = ("headline", "overall", "validation")
#: Figures the report shows: PNG files with plain names.
_FIGURE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}\.png")
_PNG = b"\x89PNG\r\n\x1a\n"
#: An archive name the reproduce commands show as is (otherwise a placeholder).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}")
#: Text shown as code as is (field paths); anything else is shown as escaped text.
_PLAIN_CODE = re.compile(r"[\w.\[\]()§:+/-]+(?: [\w.\[\]()§:+/-]+)*")
#: What Markdown would read as markup (links, emphasis, code, tables, escapes); an underscore
#: inside a word is never emphasis (CommonMark) and is left as it is.
_MARKDOWN = re.compile(r"([\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")

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


def _one_line(value: object) -> str:
    """Text on one line (runs of whitespace, newlines included, become one space), its control
    characters escaped."""
    return printable(" ".join(str(value).split()), limit=2000)


def markdown_text(value: object) -> str:
    """User text for ``report.md``: one line, controls escaped, ``&``, ``<`` and ``>`` as HTML
    entities (no raw HTML passes through) and Markdown's markup characters backslash-escaped."""
    return _MARKDOWN.sub(r"\\\1", html.escape(_one_line(value), quote=False))


def _markdown_code(value: object) -> str:
    """A field path as code when it is plain, otherwise as escaped text."""
    text = str(value)
    return f"`{text}`" if _PLAIN_CODE.fullmatch(text) else markdown_text(text)


def html_text(value: object) -> str:
    """User text for ``report.html``: one line, controls escaped, HTML-escaped (quotes too)."""
    return html.escape(_one_line(value), quote=True)


def _interval(row: pd.Series, digits: int = 1) -> str:
    estimate = row["estimate"]
    if pd.isna(estimate):
        return "–"
    text = f"{estimate:.{digits}f}"
    if not pd.isna(row.get("ci95_low")) and not pd.isna(row.get("mcse")):
        text += f" [{row['ci95_low']:.{digits}f}, {row['ci95_high']:.{digits}f}]"
    return text


def _percent(row: pd.Series) -> str:
    """A share as a percentage with its 95% interval in brackets."""
    if pd.isna(row["estimate"]):
        return "–"
    text = f"{100 * row['estimate']:.1f}%"
    if not pd.isna(row.get("ci95_low")) and not pd.isna(row.get("mcse")):
        text += f" [{100 * row['ci95_low']:.1f}, {100 * row['ci95_high']:.1f}]"
    return text


class _Headline(NamedTuple):
    """The headline's parts as text (escaped): the title, the gap, what it is among, the
    declined shares, and the definition."""

    title: str
    gap: str
    among: str
    declined: str
    definition: str


def _headline(tables: Mapping[str, pd.DataFrame], esc: Callable[[object], str]) -> _Headline | None:
    """The headline gap from the ``headline`` table (None without one, or with no rows)."""
    frame = tables.get("headline")
    if frame is None or frame.empty:
        return None
    a, b = frame["district_from"].iloc[0], frame["district_to"].iloc[0]
    rows = frame.set_index(["metric", frame["district"].fillna("")])
    declined = "; ".join(
        f"{esc(code)} {_percent(rows.loc[('declined_share', code)])}"
        for code in frame.loc[frame["metric"] == "declined_share", "district"]
    )
    return _Headline(
        title=f"Headline: {esc(a)} − {esc(b)} paired gap",
        gap=f"{_interval(rows.loc[('gap_months', '')], 2)} months",
        among=f"{esc(a)} minus {esc(b)}, among the defendants both districts prosecute "
        f"({_percent(rows.loc[('both_prosecuted_share', '')])} of defendants)",
        declined=f"Declined (no § 1326 sentence; not counted as 0 months): {declined}.",
        definition=esc(HEADLINE_DEFINITION.format(a=a, b=b)),
    )


#: Labels of the overall table's figures, and the digits they are shown with.
_OVERALL_LABELS = {
    "prosecuted_share": ("prosecuted, share of defendants", 3),
    "mean_months": ("mean months", 1),
    "median_months": ("median months", 0),
    "imprisonment_share": ("imprisoned (more than 0 months), share", 3),
    "share_at_most_120_months": ("at most 120 months, share", 3),
}
#: The USSC position categories as the report names them.
_POSITION_LABELS = {
    "within_range": "within range",
    "early_disposition_5k3_1": "early disposition (§ 5K3.1)",
    "other_government_below": "other government-sponsored below range",
    "non_government_below": "non-government-sponsored below range",
    "above_range": "above range",
}


def _overall_tables(
    tables: Mapping[str, pd.DataFrame], esc: Callable[[object], str]
) -> list[tuple[str, list[str], list[list[str]]]]:
    """The overall (as-arrested, pooled) figures and their split by § 2L1.2(b) levels."""
    frame = tables.get("overall")
    if frame is None or frame.empty:
        return []
    pooled = frame[frame["enhancement_levels"].isna()]
    rows = []
    for _, row in pooled.iterrows():
        metric = row["metric"]
        if metric in _OVERALL_LABELS:
            label, digits = _OVERALL_LABELS[metric]
        else:  # position_shares:CATEGORY
            category = metric.partition(":")[2]
            label, digits = f"{_POSITION_LABELS.get(category, category)}, share", 3
        rows.append([esc(label), _interval(row, digits)])
    levels = []
    by_level = frame[frame["enhancement_levels"].notna()]
    for level, group in by_level.groupby("enhancement_levels", sort=False):
        metric = group.set_index("metric")
        if not metric.loc["share", "estimate"] > 0:  # a level no sentenced defendant reached
            continue
        levels.append(
            [
                f"+{esc(level)}",
                _interval(metric.loc["share"], 3),
                _interval(metric.loc["mean_months"]),
                _interval(metric.loc["within_range_share"], 3),
            ]
        )
    return [
        (
            "Overall, as arrested (every district pooled, caseload-weighted; months among "
            "sentenced defendants)",
            ["figure", "estimate"],
            rows,
        ),
        (
            "Overall, by § 2L1.2(b) levels applied",
            ["levels", "share of sentenced", "mean months", "within-range share"],
            levels,
        ),
    ]


def _validation_table(
    tables: Mapping[str, pd.DataFrame], esc: Callable[[object], str]
) -> list[tuple[str, list[str], list[list[str]]]]:
    """Published figures beside the simulated ones, when the scenario lists any."""
    frame = tables.get("validation")
    if frame is None or frame.empty:
        return []

    def number(value: float, digits: int = 3, sign: str = "") -> str:
        return "–" if pd.isna(value) else f"{value:{sign}.{digits}f}"

    rows = [
        [
            esc(row["name"]),
            number(row["published"]),
            number(row["estimate"]),
            number(row["mcse"], 4),
            number(row["difference"], sign="+"),
            esc(row["source"]),
        ]
        for _, row in frame.iterrows()
    ]
    return [
        (
            "Validation: published figures beside the simulated ones (reported, not calibrated to)",
            ["figure", "published", "simulated", "MCSE", "simulated − published", "source"],
            rows,
        )
    ]


def _figure_tables(
    tables: Mapping[str, pd.DataFrame], esc: Callable[[object], str]
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of the report's tables; every text read from the tables
    (district codes and names, components) is passed through ``esc``."""
    districts = tables["districts"]
    counterfactual = districts[districts["view"] == "counterfactual"]
    rows = []
    for code, group in counterfactual.groupby("district", sort=False):
        metric = group.set_index("metric")
        rows.append(
            [
                esc(f"{code} {group['name'].iloc[0]}"),
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
                f"{esc(a)} − {esc(b)}",
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
                "mean gap, every defendant (declined = 0 months)",
                "share > 12 months apart",
                "mean gap, both prosecute",
            ],
            pair_rows,
        )
    )
    shares = tables["variance_shares"].set_index("component")
    out.append(
        (
            "Share of sentence variance explained (Shapley values of R²)",
            ["component", "share"],
            [[esc(name), _interval(shares.loc[name], 3)] for name in shares.index],
        )
    )
    selection = tables["selection_vs_policy"]
    sel_rows = []
    for (a, b), group in selection.groupby(["district_a", "district_b"], sort=False):
        part = group.set_index("part")
        sel_rows.append(
            [f"{esc(a)} − {esc(b)}"]
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
    return out + _overall_tables(tables, esc) + _validation_table(tables, esc)


def _reproduce_commands(folder_name: str, manifest: Mapping[str, Any]) -> list[str]:
    """The commands a reader runs; an archive name that is not plain (spaces, quotes, shell or
    Markdown characters) is shown as the placeholder ``ARCHIVE`` rather than quoted."""
    name = manifest.get("archive_name", folder_name)
    name = name if _PLAIN_NAME.fullmatch(name) else "ARCHIVE"
    return [
        f"sim verify {name}",
        f"sim reproduce {name}",
        f"sim run {name}/config.resolved.yaml --seed {int(manifest['seed'])} --out NEW_FOLDER",
    ]


def _markdown(
    folder_name: str,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: list[tuple[str, bytes]],
    assumptions: list[dict[str, Any]],
) -> str:
    esc = markdown_text
    lines = [
        f"# {esc(manifest['title'])}",
        "",
        f"Scenario {_markdown_code(manifest['scenario'])}, {int(manifest['replications'])} "
        f"replications of {int(manifest['defendants']):,} defendants, seed "
        f"{int(manifest['seed'])}. Config SHA-256 {_markdown_code(manifest['config_sha256'])}.",
        "",
        "Figures are means over replications with a 95% interval in brackets (t interval from the "
        "Monte Carlo standard error).",
        "",
    ]
    if (headline := _headline(tables, esc)) is not None:
        lines += [
            f"## {headline.title}",
            "",
            f"**{headline.gap}**: {headline.among}. {headline.declined}",
            "",
            f"*{headline.definition}*",
            "",
        ]
    for title, header, rows in _figure_tables(tables, esc):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    lines += ["## Figures", ""]
    for name, _ in figures:
        caption = esc(CAPTIONS.get(name.removesuffix(".png"), name.removesuffix(".png")))
        lines += [f"![{caption}](figures/{name})", "", f"*{caption}*", ""]
    lines += [
        "## Assumptions",
        "",
        "Every number below is an assumption of the scenario (no source supports it):",
        "",
    ]
    for item in assumptions:
        lines.append(
            f"- {_markdown_code(item['field'])} = {esc(item['value'])}: {esc(item['source'])}"
        )
    commands = _reproduce_commands(folder_name, manifest)
    lines += ["", "## Reproduce", "", "```sh", *commands, "```", ""]
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


def _html(
    folder_name: str,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: list[tuple[str, bytes]],
    assumptions: list[dict[str, Any]],
) -> str:
    esc = html_text
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(manifest['title'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{esc(manifest['title'])}</h1>",
        f"<p>Scenario <code>{esc(manifest['scenario'])}</code>, "
        f"{int(manifest['replications'])} replications of {int(manifest['defendants']):,} "
        f"defendants, seed {int(manifest['seed'])}. "
        f"Config SHA-256 <code>{esc(manifest['config_sha256'])}</code>.</p>",
        "<p>Figures are means over replications with a 95% interval in brackets (t interval "
        "from the Monte Carlo standard error).</p>",
    ]
    if (headline := _headline(tables, esc)) is not None:
        parts += [
            f"<h2>{headline.title}</h2>",
            f"<p><strong>{headline.gap}</strong>: {headline.among}. {headline.declined}</p>",
            f"<p><em>{headline.definition}</em></p>",
        ]
    for title, header, rows in _figure_tables(tables, esc):
        parts.append(f"<h2>{html.escape(title)}</h2><table><tr>")
        parts += [f"<th>{html.escape(h)}</th>" for h in header]
        parts.append("</tr>")
        for row in rows:  # the cells' texts are escaped already (esc)
            parts.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
        parts.append("</table>")
    parts.append("<h2>Figures</h2>")
    for name, data in figures:
        encoded = base64.b64encode(data).decode("ascii")
        caption = esc(CAPTIONS.get(name.removesuffix(".png"), name.removesuffix(".png")))
        parts.append(
            f'<figure><img alt="{caption}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    parts.append("<h2>Assumptions</h2><ul>")
    for item in assumptions:
        parts.append(
            f"<li><code>{esc(item['field'])}</code> = {esc(item['value'])}: "
            f"{esc(item['source'])}</li>"
        )
    parts.append("</ul><h2>Reproduce</h2><pre>")
    parts.append(html.escape("\n".join(_reproduce_commands(folder_name, manifest))))
    parts.append("</pre></body></html>")
    return "\n".join(parts) + "\n"


def _figures(files: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    """The figures to show, by name: PNG files (by their signature) with plain names."""
    return [
        (name, files[name])
        for name in sorted(files)
        if _FIGURE_NAME.fullmatch(name) and files[name].startswith(_PNG)
    ]


def _render(
    folder_name: str,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: list[tuple[str, bytes]],
    assumptions: list[dict[str, Any]],
) -> dict[str, bytes]:
    """report.md and report.html, as bytes."""
    return {
        "report.md": _markdown(folder_name, manifest, tables, figures, assumptions).encode(),
        "report.html": _html(folder_name, manifest, tables, figures, assumptions).encode(),
    }


def write_report(folder: Path, manifest: dict[str, Any], results: Results | None = None) -> None:
    """Write ``report.md`` and ``report.html`` into an archive folder being written.

    Parameters
    ----------
    folder : pathlib.Path
        The archive folder; its ``figures/*.png`` are shown (regular files only, read without
        following links).
    manifest : dict
        The archive's manifest (title, scenario, size, seed, config hash, name).
    results : sim.analysis.results.Results, optional
        The run's results, whose tables and assumptions the report shows; when omitted the
        archive is verified and its report rebuilt from its files (:func:`rebuild_report`, which
        also updates the manifest).
    """
    if results is None:
        rebuild_report(folder)
        return
    reports = _render(
        folder.name,
        manifest,
        results.tables,
        _figures(regular_files(folder, "figures")),
        results.summary["assumptions"],
    )
    root = open_folder(folder)
    try:
        for name, data in reports.items():
            replace_file(root, name, data)
    finally:
        os.close(root)


def _used_by_report(path: str) -> bool:
    shown = (*_REPORT_TABLES, *_OPTIONAL_TABLES)
    return path.startswith("figures/") or path in {f"tables/{t}.parquet" for t in shown}


#: What a damaged or forged table raises while the report reads it.
_TABLE_ERRORS = (LookupError, ValueError, TypeError, AttributeError, OSError, pa.ArrowException)


def rebuild_report(folder: Path) -> str:
    """Verify an archive, rebuild its report from the verified files and update the manifest's
    hashes for it; return the new manifest's SHA-256.

    A missing or altered ``report.md`` or ``report.html`` does not stop the rebuild (it is what
    the rebuild replaces); any other problem :func:`sim.output.manifest.read_archive` finds does.
    The two reports and then the manifest are each replaced atomically
    (:func:`sim.output.manifest.replace_file`).

    Raises
    ------
    sim.inputs.InputError
        Not an archive, an archive that fails verification, or tables the report cannot read.
    """
    archive = read_archive(folder, keep=_used_by_report)
    blocking = [
        p
        for p in archive.problems
        if not (p.path in REPORT_FILES and p.kind in ("missing", "altered"))
    ]
    if blocking or archive.scenario is None:
        raise refusal(archive, blocking, "rebuild its report")
    shown = printable(folder, 500)
    tables = {}
    for name in (*_REPORT_TABLES, *_OPTIONAL_TABLES):
        data = archive.contents.get(f"tables/{name}.parquet")
        if data is None and name in _OPTIONAL_TABLES:
            continue
        if data is None:
            raise InputError(
                f"{shown}: the report needs tables/{name}.parquet; the archive has none"
            )
        try:
            tables[name] = pd.read_parquet(io.BytesIO(data))
        except _TABLE_ERRORS as error:
            raise InputError(
                f"{shown}: tables/{name}.parquet: not a readable Parquet table: {printable(error)}"
            ) from None
    figures = _figures(
        {
            path.removeprefix("figures/"): data
            for path, data in archive.contents.items()
            if path.startswith("figures/")
        }
    )
    try:
        reports = _render(
            folder.name,
            archive.manifest,
            tables,
            figures,
            scenario_assumptions(archive.scenario),
        )
    except _TABLE_ERRORS as error:
        raise InputError(
            f"{shown}: the report cannot be built from the archive's tables "
            f"({type(error).__name__}: {printable(error)})"
        ) from None
    files = dict(archive.manifest["files"])
    root = open_folder(folder)
    try:
        for name, data in reports.items():
            files[name] = replace_file(root, name, data)
        manifest = {**archive.manifest, "files": dict(sorted(files.items()))}
        text = (json.dumps(manifest, indent=2) + "\n").encode()
        replace_file(root, MANIFEST, text)
    finally:
        os.close(root)
    return hashlib.sha256(text).hexdigest()

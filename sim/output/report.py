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

import jinja2
import pandas as pd
import pyarrow as pa

from sim.analysis.measures import HEADLINE_DEFINITION
from sim.analysis.results import Results
from sim.inputs import InputError, printable
from sim.model.scenario import assumptions as scenario_assumptions
from sim.output.figures.style import (
    _unique,
    district_short_name,
    group_label,
    identical_groups,
    profile_outcome,
)
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
    "cited_sources",
    "copy_sources",
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
_OPTIONAL_TABLES = (
    "headline",
    "overall",
    "validation",
    "inequality",
    "profiles",
    "distributions",
    "gap_by_cell",
)
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


class _Format(NamedTuple):
    """How one output format writes text: escape user text, show code, emphasise."""

    esc: Callable[[object], str]
    code: Callable[[object], str]
    strong: Callable[[str], str]


_MD = _Format(
    esc=lambda v: markdown_text(v),
    code=lambda v: _markdown_code(v),
    strong=lambda s: f"**{s}**",
)
_HTML = _Format(
    esc=lambda v: html_text(v),
    code=lambda v: f"<code>{html_text(v)}</code>",
    strong=lambda s: f"<strong>{s}</strong>",
)


def _names(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Each district's short name ("C.D. Cal.") by code, from the districts table."""
    districts = tables["districts"]
    return {
        code: district_short_name(name)
        for code, name in zip(districts["district"], districts["name"], strict=True)
    }


def _groups(tables: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> list[list[str]]:
    """Districts with identical policies (identical sentence tallies), in table order."""
    order = _unique(tables["districts"]["district"])
    frame = tables.get("distributions")
    if frame is None or frame.empty:
        return [[code] for code in order]
    # The counterfactual tallies only: as arrested, each district sentences its own arrests.
    return identical_groups(frame[frame["outcome"] != "as_arrested"], "district", order)


def _group_name(group: list[str], names: Mapping[str, str]) -> str:
    return group_label([names.get(c, c) for c in group])


class _Headline(NamedTuple):
    """The headline's parts as text (escaped): the title, the gap, what it is among, the
    declined shares, and the definition."""

    title: str
    gap: str
    among: str
    declined: str
    definition: str


def _headline(
    tables: Mapping[str, pd.DataFrame], fmt: _Format, names: Mapping[str, str]
) -> _Headline | None:
    """The headline gap from the ``headline`` table (None without one, or with no rows)."""
    frame = tables.get("headline")
    if frame is None or frame.empty:
        return None
    esc = fmt.esc
    a, b = frame["district_from"].iloc[0], frame["district_to"].iloc[0]
    na, nb = names.get(a, a), names.get(b, b)
    rows = frame.set_index(["metric", frame["district"].fillna("")])
    declined = "; ".join(
        f"{esc(names.get(code, code))} {_percent(rows.loc[('declined_share', code)])}"
        for code in frame.loc[frame["metric"] == "declined_share", "district"]
    )
    return _Headline(
        title=f"Headline: {esc(na)} − {esc(nb)} paired gap",
        gap=f"{_interval(rows.loc[('gap_months', '')], 2)} months",
        among=f"{esc(na)} minus {esc(nb)}, among the defendants both districts prosecute "
        f"({_percent(rows.loc[('both_prosecuted_share', '')])} of defendants)",
        declined=f"Declined (no § 1326 sentence; not counted as 0 months): {declined}.",
        definition=esc(HEADLINE_DEFINITION.format(a=na, b=nb)),
    )


def _months(value: float) -> str:
    return f"{value:.1f}"


def _findings(
    tables: Mapping[str, pd.DataFrame],
    fmt: _Format,
    names: Mapping[str, str],
    groups: list[list[str]],
) -> str:
    """The key-findings paragraph: the run's main numbers in plain words."""
    esc = fmt.esc
    sentences = []
    headline = tables.get("headline")
    if headline is not None and not headline.empty:
        a, b = headline["district_from"].iloc[0], headline["district_to"].iloc[0]
        na, nb = esc(names.get(a, a)), esc(names.get(b, b))
        rows = headline.set_index(["metric", headline["district"].fillna("")])
        gap = rows.loc[("gap_months", "")]
        both = rows.loc[("both_prosecuted_share", "")]["estimate"]
        sign = 1 if gap["estimate"] >= 0 else -1  # "less" with the interval's signs turned
        amount = fmt.strong(f"{abs(gap['estimate']):.1f} months")
        sentence = (
            f"The same defendants receive on average {amount} "
            f"{'more' if sign > 0 else 'less'} in {na} than in {nb} when both districts "
            "prosecute them"
        )
        if not pd.isna(gap.get("ci95_low")) and not pd.isna(gap.get("mcse")):
            low, high = sorted((sign * gap["ci95_low"], sign * gap["ci95_high"]))
            sentence += f" (95% interval {low:.2f} to {high:.2f})"
        sentences.append(sentence + f"; that is {100 * both:.0f}% of defendants.")
        declined = [
            (code, rows.loc[("declined_share", code)]["estimate"])
            for code in headline.loc[headline["metric"] == "declined_share", "district"]
        ]
        declining = [(c, s) for c, s in declined if s > 0]
        if declining:
            sentences.append(
                " ".join(
                    f"{esc(names.get(c, c))} declines to prosecute {100 * s:.0f}% of all defendants"
                    for c, s in declining
                )
                + " (they get no § 1326 sentence and are not counted in the gap)."
            )
    same = [g for g in groups if len(g) > 1]
    for group in same:
        sentences.append(
            f"{esc(_and(_group_name(group, names)))} have identical policies and sentence "
            "every defendant alike, so they are reported together."
        )
    selection = tables.get("selection_vs_policy")
    if selection is not None and not selection.empty:
        first = selection[
            (selection["district_a"] == selection["district_a"].iloc[0])
            & (selection["district_b"] == selection["district_b"].iloc[0])
        ].set_index("part")["estimate"]
        a, b = selection["district_a"].iloc[0], selection["district_b"].iloc[0]
        observed = first["observed_gap_months"]
        sentences.append(
            f"As arrested, defendants sentenced in {esc(names.get(a, a))} get "
            f"{abs(observed):.1f} months {'more' if observed >= 0 else 'less'} on average than "
            f"those sentenced in {esc(names.get(b, b))}; of the difference "
            f"({_signed(observed)} months), {_signed(first['treatment_months'])} is due to the "
            f"districts treating the same defendants differently (treatment) and "
            f"{_signed(first['composition_months'])} to their prosecuting different defendants "
            "(composition)."
        )
    shares = tables.get("variance_shares")
    if shares is not None and not shares.empty and "district" in set(shares["component"]):
        part = shares.set_index("component")["estimate"]
        sentences.append(
            f"The district explains {_share(part['district'])} of the variation in sentences; "
            f"the defendant's record (criminal history, § 2L1.2 enhancement, other) explains "
            f"{_share(sum(part.get(k, 0.0) for k in _RECORD_PARTS))}."
        )
    profiles = tables.get("profiles")
    if profiles is not None and not profiles.empty:
        name = profiles["profile"].iloc[0]
        rows = profiles[profiles["profile"] == name]
        outcomes = []
        for group in groups:
            code = group[0]
            frame = rows[rows["district"] == code]
            if not frame.empty:
                outcomes.append(
                    f"{profile_outcome(frame, prose=True)} in "
                    f"{esc(_and(_group_name(group, names)))}"
                )
        if outcomes:
            text = f"The named defendant {esc(_title(name))} would get " + " but ".join(outcomes)
            sentences.append(text if text.endswith(".") else text + ".")
    return " ".join(sentences)


_RECORD_PARTS = ("criminal_history_category", "section_2l1_2_enhancement", "other_record")
#: The variance components as the report names them (Shapley decomposition).
_COMPONENTS = {
    "district": "district",
    "criminal_history_category": "criminal history category",
    "section_2l1_2_enhancement": "§ 2L1.2 enhancement",
    "other_record": "other record features",
}
#: The two-way ANOVA rows of the variance table, shown apart from the Shapley shares.
_ANOVA = {
    "district_main_effect": "district (main effect)",
    "record_main_effect": "record (main effect)",
    "district_record_interaction": "district × record interaction",
}


def _share(value: float) -> str:
    """A share in words' precision: whole percent, one decimal below 1% (0.4%)."""
    return f"{100 * value:.1f}%" if 0 < abs(value) < 0.01 else f"{100 * value:.0f}%"


def _signed(value: float) -> str:
    """One decimal with a true minus sign (−2.5)."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text.replace("-", "−")


def _and(label: str) -> str:
    """``"S.D., E.D., N.D. Cal."`` → ``"S.D., E.D. and N.D. Cal."`` (prose)."""
    head, comma, tail = label.rpartition(", ")
    return f"{head} and {tail}" if comma else label


def _title(slug: str) -> str:
    """A profile's slug as a name: ``banuelos-rodriguez`` → ``Banuelos-Rodriguez``."""
    return "-".join(part.capitalize() for part in str(slug).split("-"))


class _Table(NamedTuple):
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def _district_table(tables, fmt, names, groups) -> _Table:
    districts = tables["districts"]
    counterfactual = districts[districts["view"] == "counterfactual"]
    rows = []
    for group in groups:
        metric = counterfactual[counterfactual["district"] == group[0]].set_index("metric")
        if metric.empty:
            continue
        rows.append(
            [
                fmt.esc(_group_name(group, names)),
                _percent(metric.loc["prosecuted_share"]),
                _interval(metric.loc["mean_months"]),
                _interval(metric.loc["median_months"], 0),
                _interval(metric.loc["p90_months"], 0),
            ]
        )
    return _Table(
        "Every defendant sentenced in every district (months among prosecuted defendants)",
        ["district", "prosecuted", "mean months", "median", "90th percentile"],
        rows,
    )


def _pair_tables(tables, fmt, names, groups) -> list[_Table]:
    first = {code: group[0] for group in groups for code in group}
    pairwise = tables["pairwise"]
    population = pairwise[pairwise["subject"] == "population"]
    rows = []
    for (a, b), group in population.groupby(["district_a", "district_b"], sort=False):
        if first.get(a, a) != a or first.get(b, b) != b or first.get(a) == first.get(b):
            continue  # drawn once per group of identical districts
        ga = next(g for g in groups if g[0] == a) if a in first else [a]
        gb = next(g for g in groups if g[0] == b) if b in first else [b]
        everyone = group[group["defendants"] == "all_defendants"].set_index("metric")
        both = group[group["defendants"] == "both_prosecuted"].set_index("metric")
        rows.append(
            [
                f"{fmt.esc(_group_name(ga, names))} − {fmt.esc(_group_name(gb, names))}",
                _interval(both.loc["mean_difference_months"], 2),
                _interval(everyone.loc["mean_difference_months"], 2),
                _percent(everyone.loc["share_differing_over_12_months"]),
            ]
        )
    out = [
        _Table(
            "Paired gaps: the same defendants in two districts (months, first minus second)",
            [
                "pair",
                "mean gap, both prosecute",
                "mean gap, everyone (declined = 0 months)",
                "more than 12 months apart",
            ],
            rows,
            "Pairs of districts with identical policies differ by 0 months and are not listed.",
        )
    ]
    return out


def _profile_table(tables, fmt, names, groups) -> list[_Table]:
    profiles = tables.get("profiles")
    if profiles is None or profiles.empty:
        return []
    rows = []
    for name in _unique(profiles["profile"]):
        for group in groups:
            frame = profiles[(profiles["profile"] == name) & (profiles["district"] == group[0])]
            if frame.empty:
                continue
            metric = frame.set_index("metric")["estimate"]
            low, high = metric.get("final_range_min_months"), metric.get("final_range_max_months")
            rows.append(
                [
                    fmt.esc(_title(name)),
                    fmt.esc(_group_name(group, names)),
                    "–"
                    if pd.isna(low)
                    else f"{low:.0f}–{'life' if pd.isna(high) else f'{high:.0f}'}",
                    "–"
                    if pd.isna(metric.get("statutory_maximum_months"))
                    else f"{metric['statutory_maximum_months']:.0f}",
                    profile_outcome(frame),
                ]
            )
    return [
        _Table(
            "Named defendants",
            ["defendant", "district", "no-deal range (months)", "statutory maximum", "sentence"],
            rows,
            "Percentages are the shares of simulated draws (plea offers accepted or not).",
        )
    ]


def _inequality_tables(tables, fmt, names, groups) -> list[_Table]:
    frame = tables.get("inequality")
    if frame is None or frame.empty:
        return []
    labels = {
        "gini": "Gini coefficient (0 = everyone the same sentence, 1 = one gets all)",
        "theil_total": "Theil T index, total",
        "theil_between": "Theil T, between districts",
        "theil_within": "Theil T, within districts",
    }
    rows = [
        [fmt.esc(labels[m]), _interval(frame[frame["metric"] == m].iloc[0], 3)]
        for m in labels
        if (frame["metric"] == m).any()
    ]
    first = {code: group[0] for group in groups for code in group}
    distances = []
    for (a, b), group in frame[frame["district_a"].notna()].groupby(
        ["district_a", "district_b"], sort=False
    ):
        if first.get(a, a) != a or first.get(b, b) != b or first.get(a) == first.get(b):
            continue
        ga = next((g for g in groups if g[0] == a), [a])
        gb = next((g for g in groups if g[0] == b), [b])
        metric = group.set_index("metric")
        distances.append(
            [
                f"{fmt.esc(_group_name(ga, names))} – {fmt.esc(_group_name(gb, names))}",
                _interval(metric.loc["wasserstein_months"], 2)
                if "wasserstein_months" in metric.index
                else "–",
                _interval(metric.loc["kolmogorov_smirnov"], 3)
                if "kolmogorov_smirnov" in metric.index
                else "–",
            ]
        )
    out = [
        _Table(
            "Inequality of sentences (every defendant in every district)",
            ["measure", "estimate"],
            rows,
        )
    ]
    if distances:
        out.append(
            _Table(
                "Distance between districts' sentence distributions",
                ["districts", "Wasserstein (months)", "Kolmogorov–Smirnov"],
                distances,
            )
        )
    return out


def _as_arrested_tables(tables, fmt, names, groups) -> list[_Table]:
    out = []
    districts = tables["districts"]
    arrested = districts[districts["view"] == "as_arrested"]
    rows = []
    for code in _unique(arrested["district"]):
        metric = arrested[arrested["district"] == code].set_index("metric")
        cells = [fmt.esc(names.get(code, code))]
        for key, digits in (("arrest_share", None), ("prosecuted_share", None), ("mean_months", 1)):
            cells.append(
                "–"
                if key not in metric.index
                else (
                    _percent(metric.loc[key])
                    if digits is None
                    else _interval(metric.loc[key], digits)
                )
            )
        rows.append(cells)
    if rows:
        out.append(
            _Table(
                "Each defendant where he was arrested",
                ["district", "share of arrests", "prosecuted", "mean months"],
                rows,
            )
        )
    selection = tables["selection_vs_policy"]
    sel_rows = []  # every pair: as arrested, identical policies still meet different caseloads
    for (a, b), group in selection.groupby(["district_a", "district_b"], sort=False):
        part = group.set_index("part")
        sel_rows.append(
            [f"{fmt.esc(names.get(a, a))} − {fmt.esc(names.get(b, b))}"]
            + [
                _interval(part.loc[p], 2)
                for p in ("observed_gap_months", "treatment_months", "composition_months")
            ]
        )
    out.append(
        _Table(
            "As-arrested gap = treatment + composition (months)",
            ["pair", "as-arrested gap", "treatment", "composition"],
            sel_rows,
        )
    )
    return out


def _variance_tables(tables, fmt, names, groups) -> list[_Table]:
    shares = tables["variance_shares"].set_index("component")
    shapley = [
        [fmt.esc(_COMPONENTS.get(name, name)), _percent(shares.loc[name])]
        for name in shares.index
        if name not in _ANOVA
    ]
    anova = [
        [fmt.esc(_ANOVA[name]), _percent(shares.loc[name])]
        for name in shares.index
        if name in _ANOVA
    ]
    out = [
        _Table(
            "Share of sentence variance explained (Shapley values of R²)",
            ["component", "share"],
            shapley,
        )
    ]
    if anova:
        out.append(
            _Table("Two-way analysis of variance, district × record", ["term", "share"], anova)
        )
    return out


#: Captions by figure stem, in narrative order (:data:`sim.output.figures.FIGURE_NAMES`).
CAPTIONS = {
    "sentence_histogram": "Sentences of the same synthetic defendants in each district "
    "(share of all defendants per 6-month bin; the left bar is the share the district declines "
    "to prosecute). Districts with identical policies are drawn once.",
    "months_by_category": "Mean sentence by criminal history category in each district "
    "(months; every defendant in every district, a declined defendant counted as 0 months). "
    "Districts with identical policies are drawn once.",
    "district_distributions": "Sentence distributions by district: every synthetic defendant "
    "sentenced in every district (months, among prosecuted defendants).",
    "paired_differences": "Paired differences: the same defendants' sentences in two districts "
    "(first minus second, months; a declined defendant counts 0 months).",
    "gap_heatmap": "Mean paired gap by Chapter Two offense level and criminal history category "
    "(months, first district pair; the number in italics is the cell's defendants). A "
    "negative cell means the second district's sentences are longer there on average; a "
    "declined defendant counts 0 months here.",
    "profiles": "Named defendants in each district: no-deal final range, statutory maximum and "
    "simulated sentences.",
    "selection_vs_policy": "As-arrested gap in mean sentences split into treatment (what the "
    "districts do to the same defendants) and composition (whom they prosecute), 95% intervals.",
    "variance_shares": "Share of sentence variance explained by district, criminal history "
    "category, § 2L1.2 enhancement and other record features (Shapley values of R², 95% "
    "intervals).",
    "convergence": "Convergence of a headline figure with replications: running mean with a "
    "±1.96 Monte Carlo standard error band.",
}

_GLOSSARY = (
    ("Paired gap", "the difference between the sentences the same synthetic defendant gets in "
     "two districts (first minus second), averaged over defendants."),
    ("Headline gap", "the paired gap among defendants both districts prosecute; the one figure "
     "to cite (defined above)."),
    ("Declined", "the district does not prosecute the defendant under § 1326 (administrative "
     "removal, a state referral or a § 1325 misdemeanor instead)."),
    ("Every defendant in every district", "the counterfactual view: each synthetic defendant is "
     "sentenced in every district, so differences are due to the districts alone."),
    ("As arrested", "each defendant is sentenced only in the district that arrested him, as in "
     "real caseloads."),
    ("Treatment", "the part of an as-arrested gap due to what the districts do to the same "
     "defendants."),
    ("Composition", "the part of an as-arrested gap due to which defendants each district "
     "arrests and prosecutes."),
    ("Fast track (early disposition)", "a plea program offering a lower charge or a departure "
     "(§ 5K3.1 from 2003) for a quick guilty plea."),
    ("No-deal final range", "the Guidelines range a defendant faces without a plea deal, after "
     "the statutory maximum."),
    ("Statutory maximum", "the longest sentence the statute allows (§ 1326(a) 24 months, "
     "(b)(1) 120, (b)(2) 240)."),
    ("Criminal history category", "I to VI, from the defendant's prior sentences (Chapter Four)."),
    ("Offense level", "the Chapter Two offense level, here § 2L1.2's base and specific offense "
     "characteristics."),
    ("§ 2L1.2 enhancement", "the levels § 2L1.2(b) adds for prior convictions (e.g. +16 for an "
     "aggravated felony under the 1995 Manual)."),
    ("Shapley value of R²", "the share of the variance of sentences a factor explains, averaged "
     "over every order in which the factors can be added; the shares add up to the R²."),
    ("Two-way analysis of variance", "the variance split into district, record and their "
     "interaction."),
    ("Gini coefficient", "inequality of sentences: 0 when all are equal, near 1 when one "
     "defendant gets nearly all the months."),
    ("Theil T index", "an inequality index that splits into a between-district and a "
     "within-district part."),
    ("Wasserstein distance", "the average number of months sentences must move to turn one "
     "district's distribution into the other's."),
    ("Kolmogorov–Smirnov distance", "the largest difference between two districts' cumulative "
     "shares of defendants sentenced to at most x months."),
    ("Identical policies", "districts whose every sentence tally is the same; they are shown "
     "once."),
    ("Replication", "one independent simulated population; figures are means over them."),
    ("95% interval", "the mean over replications ± the t quantile times the Monte Carlo "
     "standard error."),
    ("Monte Carlo standard error (MCSE)", "the standard deviation of the replications' values "
     "divided by the square root of their number: the simulation's own noise."),
    ("Common random numbers", "each defendant's random draws are the same in every district, "
     "so paired differences carry no sampling noise from the draws."),
    ("Assumption", "a number or choice no source supports, listed in the appendix with whose "
     "guess it is."),
)  # fmt: skip

#: Where the archive's cited shared files are found, relative to the repository root.
_SHARED = "../shared"
#: The assumption groups, by field prefix (first match wins).
_TOPICS = (
    ("population.", "_mix", "Population: mix of prior convictions"),
    ("population.", "_median_months", "Population: lengths of prior sentences"),
    ("population.", "_sigma", "Population: lengths of prior sentences"),
    ("population.", "", "Population: records and removals"),
    ("districts.", "", "Districts: prosecution and plea policies"),
    ("judge", "", "Sentencing judge"),
    ("profiles", "", "Named defendants"),
    ("choices", "", "Modelling choices"),
    ("aggravated_felony", "", "Aggravated felony"),
)


def _topic(field: str) -> str:
    for prefix, suffix, topic in _TOPICS:
        if field.startswith(prefix) and field.endswith(suffix):
            return topic
    return "Other"


def _assumption_groups(assumptions: list[dict[str, Any]], fmt: _Format) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for item in assumptions:
        groups.setdefault(_topic(str(item["field"])), []).append(
            f"{fmt.code(item['field'])} = {fmt.esc(item['value'])}: {fmt.esc(item['source'])}"
        )
    order = [topic for *_, topic in _TOPICS] + ["Other"]
    return [
        {"topic": topic, "items": groups[topic]}
        for topic in dict.fromkeys(order)
        if topic in groups
    ]


def _archive_path(folder_name: str, manifest: Mapping[str, Any]) -> str:
    """The archive as the run's command named it (``--out``), else ``results/<name>``; a path
    that is not plain is shown as the placeholder ``ARCHIVE``."""
    name = manifest.get("archive_name", folder_name)
    words = str(manifest.get("command", "")).split()
    path = words[words.index("--out") + 1] if "--out" in words[:-1] else f"results/{name}"
    if not path.endswith(name):
        path = f"results/{name}"
    parts = path.split("/")
    plain = all(_PLAIN_NAME.fullmatch(p) for p in parts if p) and ".." not in parts
    return path if plain and _PLAIN_NAME.fullmatch(name) else "ARCHIVE"


def _reproduce_commands(folder_name: str, manifest: Mapping[str, Any]) -> list[str]:
    """The commands a reader runs from the repository root (after ``make``, ``sim`` is
    ``.venv/bin/sim``)."""
    path = _archive_path(folder_name, manifest)
    return [
        f".venv/bin/sim verify {path}",
        f".venv/bin/sim reproduce {path}",
        f".venv/bin/sim run {path}/config.resolved.yaml --seed {int(manifest['seed'])} "
        "--out NEW_FOLDER",
    ]


def _overall_tables(tables, fmt, names, groups) -> list[_Table]:
    """The overall (as-arrested, pooled) figures and their split by § 2L1.2(b) levels."""
    esc = fmt.esc
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
        _Table(
            "Every district pooled, caseload-weighted (months among sentenced defendants)",
            ["figure", "estimate"],
            rows,
        ),
        _Table(
            "By § 2L1.2(b) levels applied",
            ["levels", "share of sentenced", "mean months", "within-range share"],
            levels,
        ),
    ]


def _validation_tables(tables, fmt, names, groups) -> list[_Table]:
    """Published figures beside the simulated ones, when the scenario lists any."""
    frame = tables.get("validation")
    if frame is None or frame.empty:
        return []

    def number(value: float, digits: int = 3, sign: str = "") -> str:
        return "–" if pd.isna(value) else f"{value:{sign}.{digits}f}"

    rows = [
        [
            fmt.esc(row["name"]),
            number(row["published"]),
            number(row["estimate"]),
            number(row["mcse"], 4),
            number(row["difference"], sign="+"),
            fmt.esc(row["source"]),
        ]
        for _, row in frame.iterrows()
    ]
    return [
        _Table(
            "",
            ["figure", "published", "simulated", "MCSE", "simulated − published", "source"],
            rows,
        )
    ]


#: The report's sections in narrative order: (id, title, intro, table builders, figure stems).
_SECTIONS: tuple[tuple[str, str, str, tuple[Callable[..., Any], ...], tuple[str, ...]], ...] = (
    ("districts", "Districts: the same defendants in every district",
     "Every synthetic defendant is sentenced in every district, so the districts' figures "
     "differ only because their policies do.",
     (lambda t, f, n, g: [_district_table(t, f, n, g)],),
     ("sentence_histogram", "months_by_category", "district_distributions")),
    ("gaps", "Paired gaps", "How far apart the same defendants' sentences are.",
     (_pair_tables,), ("paired_differences", "gap_heatmap")),
    ("profiles", "Named defendants", "Defendants with a given record, drawn many times.",
     (_profile_table,), ("profiles",)),
    ("as-arrested", "As arrested: treatment and composition",
     "Real caseloads: each defendant only in the district that arrested him.",
     (_as_arrested_tables,), ("selection_vs_policy",)),
    ("variance", "What explains the variation in sentences", "",
     (_variance_tables,), ("variance_shares",)),
    ("inequality", "Inequality", "", (_inequality_tables,), ()),
    ("overall", "Overall, as arrested", "", (_overall_tables,), ()),
    ("validation", "Validation: published figures beside the simulated ones",
     "Reported, not calibrated to.", (_validation_tables,), ()),
)  # fmt: skip
_APPENDIX_FIGURES = ("convergence",)


def _caption(stem: str, tables: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> str:
    """A figure's caption; the heat map's says why its negative cells are negative when the
    first district of its pair declines defendants the second prosecutes."""
    caption = CAPTIONS.get(stem, stem)
    cells = tables.get("gap_by_cell")
    if stem != "gap_heatmap" or cells is None or cells.empty:
        return caption
    a, b = cells["district_a"].iloc[0], cells["district_b"].iloc[0]
    districts = tables["districts"]
    shares = districts[
        (districts["view"] == "counterfactual") & (districts["metric"] == "prosecuted_share")
    ].set_index("district")["estimate"]
    declined_a = 1 - float(shares.get(a, 1.0))
    if declined_a > float(1 - shares.get(b, 1.0)) and declined_a > 0:
        caption += (
            f" {names.get(a, a)} declines {100 * declined_a:.0f}% of defendants, so a cell "
            "where it declines many can be negative even where it sentences those it "
            f"prosecutes longer than {names.get(b, b)} does."
        )
    return caption


def _context(
    folder_name: str,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: list[tuple[str, bytes]],
    assumptions: list[dict[str, Any]],
    fmt: _Format,
    sources: list[str],
) -> dict[str, Any]:
    """Everything a template shows, its texts escaped for ``fmt``."""
    esc = fmt.esc
    names = _names(tables)
    groups = _groups(tables, names)
    by_stem = {name.removesuffix(".png"): (name, data) for name, data in figures}
    shown: set[str] = set()
    number = 0

    def figure_list(stems: tuple[str, ...]) -> list[dict[str, Any]]:
        nonlocal number
        out = []
        for stem in stems:
            if stem not in by_stem or stem in shown:
                continue
            if stem == "district_distributions" and "sentence_histogram" in by_stem:
                continue
            shown.add(stem)
            number += 1
            name, data = by_stem[stem]
            out.append(
                {
                    "name": name,
                    "number": number,
                    "caption": esc(_caption(stem, tables, names)),
                    "data": base64.b64encode(data).decode("ascii"),
                }
            )
        return out

    sections = []
    for key, title, intro, builders, stems in _SECTIONS:
        built = [t for build in builders for t in build(tables, fmt, names, groups)]
        if not built:
            continue
        sections.append(
            {
                "id": key,
                "title": esc(title),
                "intro": esc(intro),
                "tables": [
                    t._replace(
                        title=esc(t.title), header=[esc(h) for h in t.header], note=esc(t.note)
                    )
                    for t in built
                ],
                "figures": figure_list(stems),
            }
        )
    rest = tuple(s for s in by_stem if s not in shown and s not in _APPENDIX_FIGURES)
    if others := figure_list(rest):
        sections.append({"id": "more-figures", "title": "More figures", "intro": "",
                         "tables": [], "figures": others})  # fmt: skip
    appendix = []
    if convergence := figure_list(_APPENDIX_FIGURES):
        appendix.append(
            {"id": "convergence", "title": "Appendix A: convergence", "figures": convergence,
             "intro": esc("Whether the replications are enough: the headline figures settle "
                          "as replications are added."), "groups": []}
        )  # fmt: skip
    appendix.append(
        {
            "id": "assumptions",
            "title": "Appendix B: assumptions",
            "intro": esc(
                f"Every number or choice below ({len(assumptions)} in all) is an assumption of "
                "the scenario: no source supports it; its source line says whose guess it is."
            ),
            "figures": [],
            "groups": _assumption_groups(assumptions, fmt),
        }
    )
    if sources:
        appendix.append(
            {
                "id": "sources",
                "title": "Appendix C: cited sources",
                "intro": esc(
                    f"The {_SHARED}/ files the scenario cites are copied into this archive's "
                    "sources/ folder, so every citation resolves offline."
                ),
                "figures": [],
                "groups": [
                    {"topic": "Files", "items": [fmt.code(f"sources/{s}") for s in sources]}
                ],
            }
        )
    versions = manifest.get("versions") or {}
    created = str(manifest.get("created_utc") or "")
    run_date = created[:10] if re.fullmatch(r"\d{4}-\d\d-\d\d.*", created) else "unknown"
    meta = (
        f"Run {esc(run_date)} with sim {esc(versions.get('sim') or 'unknown')}. Scenario "
        f"{fmt.code(manifest['scenario'])}, {int(manifest['replications'])} replications of "
        f"{int(manifest['defendants']):,} defendants, seed {int(manifest['seed'])}; config "
        f"SHA-256 {fmt.code(manifest['config_sha256'])}."
    )
    return {
        "title": esc(manifest["title"]),
        "meta": meta,
        "reading": esc(
            "Figures are means over replications with a 95% interval in brackets (t interval "
            "from the Monte Carlo standard error). Terms are explained in the glossary."
        ),
        "findings": _findings(tables, fmt, names, groups),
        "headline": _headline(tables, fmt, names),
        "sections": sections,
        "glossary": [(esc(term), esc(meaning)) for term, meaning in _GLOSSARY],
        "appendix": appendix,
        "reproduce_intro": esc(
            "From the repository root (where the run was started; after make, sim is "
            ".venv/bin/sim): check the archive, recompute its tables byte for byte, or run "
            "the scenario again."
        ),
        "commands": [
            html.escape(c) if fmt is _HTML else c
            for c in _reproduce_commands(folder_name, manifest)
        ],
        "style": _STYLE,
    }


_STYLE = """
body{font-family:Georgia,serif;max-width:54rem;margin:2rem auto;padding:0 1rem;color:#111;
line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}
.meta{color:#444;font-size:0.9rem}.findings{font-size:1.08rem}
.table{overflow-x:auto}
table{border-collapse:collapse;margin:0.5rem 0 0.5rem;font-size:0.92rem}
caption{text-align:left;font-weight:bold;padding:0.25rem 0}
th,td{border:1px solid #999;padding:0.25rem 0.5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
.note{font-size:0.85rem;color:#444;margin-top:0}
figure{margin:1.5rem 0}figure img{width:min(100%,34rem);height:auto;display:block}
figcaption{font-style:italic;font-size:0.9rem}
code,pre{background:#f3f3f3;white-space:pre-wrap;overflow-wrap:anywhere}
dt{font-weight:bold}dd{margin:0 0 0.4rem 1.5rem}
.appendix li{font-size:0.88rem}
"""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("sim.output", "templates"),
    autoescape=False,  # every text is escaped for its format before it reaches a template
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def _render(
    folder_name: str,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: list[tuple[str, bytes]],
    assumptions: list[dict[str, Any]],
    sources: list[str] | None = None,
) -> dict[str, bytes]:
    """report.md and report.html, as bytes, from the same content and templates."""
    out = {}
    for name, fmt in (("report.md", _MD), ("report.html", _HTML)):
        context = _context(folder_name, manifest, tables, figures, assumptions, fmt, sources or [])
        out[name] = _ENVIRONMENT.get_template(f"{name}.j2").render(context).encode()
    return out


#: What a scenario's sources cite in the shared folder: a path under it, a domain file by name,
#: or the seed opinion ("Seed:", "(seed)").
_CITED_PATH = re.compile(rb"\.\./shared/((?:domain|data|seed)/[A-Za-z0-9_.-]+)")
_CITED_DOMAIN = re.compile(rb"\b(scenarios|guidelines|calibration)\.md\b")
_CITED_SEED = re.compile(rb"\b[Ss]eed\b[:)]")


def cited_sources(config: bytes, shared: Path | None = None) -> dict[str, Path]:
    """The shared files a resolved scenario cites, by the name they get in ``sources/``.

    Parameters
    ----------
    config : bytes
        The resolved scenario (``config.resolved.yaml``).
    shared : pathlib.Path, optional
        The shared folder; by default ``../shared`` beside the repository the package is in.

    Returns
    -------
    dict of str to pathlib.Path
        Sorted by name; a cited file that does not exist is left out (the archive is still
        complete without it, its citation then points outside the archive).
    """
    shared = shared or Path(__file__).resolve().parents[2].parent / "shared"
    cited = {m.decode() for m in _CITED_PATH.findall(config)}
    cited |= {f"domain/{m.decode()}.md" for m in _CITED_DOMAIN.findall(config)}
    if _CITED_SEED.search(config) and (shared / "seed").is_dir():
        cited |= {f"seed/{p.name}" for p in (shared / "seed").iterdir() if p.suffix == ".txt"}
    found = {}
    for relative in sorted(cited):
        path = shared / relative
        if path.is_file() and not path.is_symlink():
            found[path.name] = path
    return dict(sorted(found.items()))


def copy_sources(folder: Path, config: bytes) -> list[str]:
    """Copy the shared files ``config`` cites into ``folder/sources/`` (bytes as they are, so
    the same files give the same archive); return their names."""
    sources = cited_sources(config)
    if sources:
        (folder / "sources").mkdir(exist_ok=True)
        for name, path in sources.items():
            (folder / "sources" / name).write_bytes(path.read_bytes())
    return list(sources)


def _figures(files: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    """The figures to show, by name: PNG files (by their signature) with plain names."""
    return [
        (name, files[name])
        for name in sorted(files)
        if _FIGURE_NAME.fullmatch(name) and files[name].startswith(_PNG)
    ]


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
        sorted(regular_files(folder, "sources")),
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
            sorted(
                path.removeprefix("sources/")
                for path in archive.manifest.get("files", {})
                if path.startswith("sources/")
            ),
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

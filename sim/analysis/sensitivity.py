"""Sweeps over a scenario's assumptions and their Sobol sensitivity indices (``sim sweep``).

A **sweep file** names a scenario, the parameters to vary (each by its path, drawn from the
range or distribution the scenario declares for it, or from a range given inline; a named
``alternatives`` entry as a discrete factor), a design, the outputs (paths into ``sim run
--json``) and a study. Every point is simulated with common random numbers and the population
shared (:mod:`sim.run.sweep`). Sampling and the indices are SALib's (Saltelli/Sobol' sampling,
Jansen/Saltelli estimators, bootstrap 95% intervals; Herman & Usher 2017, Iwanaga et al. 2022):
nothing here estimates an index by hand.

Each factor is drawn as a uniform ``u`` on [0, 1) and mapped through its belief: a numeric
parameter's quantile function (:meth:`sim.model.parameters.Distribution.quantile`), an
alternative's ``k`` options as ``floor(u k)`` (each equally likely). The indices are therefore
those of the beliefs the scenario declares, not of arbitrary bounds. See docs/sensitivity.md.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from sim.analysis.calibration import _effective, _shown, _walk_model, override_mapping, parse_path
from sim.analysis.measures import (
    DistrictFigures,
    district_figures,
    headline_figures,
    pair_figures,
)
from sim.analysis.results import analyse
from sim.analysis.summary import (
    _flat,
    _headline_entry,
    _pair_entry,
    _with_declined,
    figure_index,
)
from sim.inputs import InputError, load_mapping, printable, validate_model
from sim.model.parameters import Distribution, Months, Parameter
from sim.model.scenario import (
    _NOT_FROM_OPTION_FILES,
    _REFERENCE,
    Scenario,
    _merge,
    assumptions,
    load_scenario,
    with_alternative,
)
from sim.run.backends import Backend
from sim.run.runner import StudyResult, check_fits, run_study
from sim.run.sweep import evaluate_points

__all__ = [
    "DESIGNS",
    "Factor",
    "FigureReducer",
    "Sweep",
    "SweepResult",
    "assumption_interval",
    "design_points",
    "figure_path",
    "inline_alternatives",
    "load_sweep",
    "run_sweep",
    "sobol_indices",
    "sweep_from_archive",
]

#: Designs a sweep file may name.
DESIGNS = ("sobol", "one-at-a-time", "grid", "latin")
_KEYS = {"scenario", "vary", "design", "outputs", "study"}
_STUDY_KEYS = {"defendants", "replications", "seed", "block_size"}
_DESIGN_KEYS = {"method", "base_samples", "levels", "seed", "bootstrap"}
#: The most points a sweep may have (memory of its table; about a day at 10⁵ defendants).
MOST_POINTS = 200_000


@dataclass(frozen=True)
class Factor:
    """One varied input: a documented number (with its belief) or a named alternative."""

    name: str  # the path as written, e.g. districts.CAS.offers[0].offer_probability
    path: tuple[str | int, ...]
    belief: Distribution | None = None
    labels: tuple[str, ...] = ()
    current: float | str = 0.0
    unit: str = ""
    source: str = ""
    assumption: bool = True
    #: Whole months (a term or time served the rules impose in whole months): drawn as whole
    #: numbers, each equally likely under a uniform belief.
    whole: bool = False

    @property
    def discrete(self) -> bool:
        """Whether the factor is an alternative (its values are option names)."""
        return bool(self.labels)

    def value(self, u: float) -> float | str:
        """The factor's value at ``u`` in [0, 1] (a quantile, or an option's name)."""
        if self.discrete:
            return self.labels[min(int(u * len(self.labels)), len(self.labels) - 1)]
        assert self.belief is not None
        u = min(max(u, 0.0), 1.0)
        if self.whole:
            low, high = self.belief.low, self.belief.high
            if self.belief.kind == "uniform":
                return float(low + min(math.floor(u * (high - low + 1)), high - low))
            return float(round(self.belief.quantile(u)))
        return self.belief.quantile(u)

    def levels(self, count: int) -> list[float]:
        """``u`` of ``count`` evenly spaced levels (each option once for an alternative)."""
        if self.discrete:
            k = len(self.labels)
            return [(i + 0.5) / k for i in range(k)]
        return [i / (count - 1) for i in range(count)] if count > 1 else [0.5]


@dataclass
class Sweep:
    """A validated sweep file: its scenario, factors, design, outputs and study."""

    path: Path
    scenario_path: Path
    scenario: Scenario
    resolved: dict[str, Any]
    factors: list[Factor]
    method: str
    base_samples: int
    levels: int
    design_seed: int
    bootstrap: int
    outputs: list[str]
    spec: dict[str, Any] = field(default_factory=dict)

    def scenario_at(self, values: Sequence[float | str]) -> Scenario:
        """The scenario with every factor at its value (alternatives applied first)."""
        mapping = self.resolved
        numbers = {}
        for factor, value in zip(self.factors, values, strict=True):
            if factor.discrete:
                mapping = with_alternative(
                    mapping, str(factor.path[1]), str(value), self.scenario_path
                )
            else:
                numbers[factor.path] = value
        if numbers:
            parameters = {}
            for factor in self.factors:
                if factor.path in numbers:
                    # The point's value replaces the belief (an inline range may be wider).
                    own = _parameter_at(mapping, factor.path)
                    parameters[factor.path] = {
                        **{k: v for k, v in own.items() if k not in ("range", "distribution")},
                        "value": float(numbers[factor.path]),
                    }
            mapping = _merge(mapping, override_mapping(mapping, parameters))
        return validate_model(Scenario, mapping, self.scenario_path, reference=_REFERENCE)


def _parameter_at(mapping: Mapping[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    """The documented parameter's mapping at ``path`` (from district_defaults if need be)."""
    found = _effective(mapping, path)
    return dict(found) if isinstance(found, Mapping) else {}


# ---------------------------------------------------------------------------------------------
# Reading a sweep file


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _factor(
    scenario: Scenario, name: str, inline: Any, where: str
) -> tuple[Factor | None, list[tuple[str, str]]]:
    path = parse_path(name)
    if path is None:
        return None, [
            (
                where,
                f"{printable(name, 120)}: not a path; allowed: e.g. "
                "districts.CAS.offers[0].offer_probability or alternatives.NAME",
            )
        ]
    if path[-1] == "value":
        path = path[:-1]
    if path[0] == "alternatives":
        if len(path) != 2 or path[1] not in scenario.alternatives:
            known = ", ".join(scenario.alternatives) or "none"
            return None, [(where, f"{name}: not a declared alternative; declared: {known}")]
        if inline is not None:
            return None, [(where, f"{name}: an alternative takes no range (its options vary)")]
        alternative = scenario.alternatives[str(path[1])]
        return (
            Factor(
                name=_shown(path),
                path=path,
                labels=tuple(alternative.labels),
                current=alternative.current_label,
                source=alternative.source,
            ),
            [],
        )
    node, why = _walk_model(scenario, path)
    if why is not None:
        return None, [(where, why)]
    if not isinstance(node, Parameter):
        return None, [
            (
                where,
                f"{name}: not a documented number ({{value, unit, source}}); "
                "allowed: a parameter's path or alternatives.NAME",
            )
        ]
    belief = node.belief
    if inline is not None:
        if not (isinstance(inline, list) and len(inline) == 2 and all(map(_number, inline))):
            return None, [(where, f"range: {printable(inline, 80)}: allowed: [low, high]")]
        try:
            belief = (
                type(node)
                .model_validate(
                    {
                        **node.model_dump(exclude={"distribution", "range_source"}),
                        "range": inline,
                        "value": min(max(node.value, inline[0]), inline[1]),
                    }
                )
                .belief
            )
        except Exception as error:  # pydantic's message names what is allowed
            text = str(error).splitlines()
            return None, [(where, f"range {inline}: {text[2].strip() if len(text) > 2 else text}")]
    if belief is None:
        return None, [
            (
                where,
                f"{name}: declares no range or distribution; allowed: declare one in the "
                "scenario, or give it inline as {path: ..., range: [low, high]}",
            )
        ]
    return (
        Factor(
            name=_shown(path),
            path=path,
            belief=belief,
            current=node.value,
            unit=node.unit,
            source=node.range_source or node.source,
            assumption=node.assumption,
            whole=isinstance(node, Months)
            and all(float(x).is_integer() for x in (node.value, belief.low, belief.high)),
        ),
        [],
    )


def _all_assumptions(scenario: Scenario) -> list[str]:
    """Every assumption that carries a range or is an alternative, by path."""
    found = []
    for entry in assumptions(scenario):
        path = parse_path(entry["field"]) if entry["field"] else None
        if path is None:
            continue
        if path[0] == "alternatives":
            found.append(entry["field"])
            continue
        node, why = _walk_model(scenario, path)
        if why is None and isinstance(node, Parameter) and node.belief is not None:
            found.append(entry["field"])
    return list(dict.fromkeys(found))


def load_sweep(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """Read and check a sweep file: every problem at once.

    Parameters
    ----------
    path : path
        The sweep file; its ``scenario`` is relative to it.
    overrides : mapping, optional
        ``study`` settings that replace the file's (``seed``, ``replications``, ...).

    Raises
    ------
    InputError
        Naming the file, the key, the value and what is allowed.
    """
    path = Path(path)
    data, _ = load_mapping(path)
    name = data.get("scenario")
    scenario_path = path.parent / name if isinstance(name, str) else None

    def loader(settings: Mapping[str, Any]) -> tuple[Scenario, dict[str, Any]]:
        assert scenario_path is not None
        scenario, resolved = load_scenario(scenario_path, settings)
        return scenario, inline_alternatives(resolved, scenario_path)

    return check_sweep(data, path, loader, scenario_path, overrides)


def inline_alternatives(resolved: Mapping[str, Any], scenario_path: Path) -> dict[str, Any]:
    """The mapping with every ``{file: PATH}`` option replaced by the file's own keys, so that
    the mapping is complete without the files (an archive's config is a closed world)."""
    table = resolved.get("alternatives")
    if not isinstance(table, Mapping) or not table:
        return dict(resolved)
    inlined = {}
    for name, entry in table.items():
        options = entry.get("options") if isinstance(entry, Mapping) else None
        if not isinstance(options, Mapping):
            inlined[name] = entry
            continue
        fixed = {}
        for label, option in options.items():
            if isinstance(option, Mapping) and set(option) == {"file"}:
                own, _ = load_mapping(scenario_path.parent / str(option["file"]))
                option = {k: v for k, v in own.items() if k not in _NOT_FROM_OPTION_FILES}
            fixed[label] = option
        inlined[name] = {**entry, "options": fixed}
    return {**resolved, "alternatives": inlined}


def sweep_from_archive(spec: Mapping[str, Any], config: Mapping[str, Any], where: Path) -> Sweep:
    """The sweep an archive records (its ``sweep.yaml`` and resolved config), checked as a
    sweep file is (``sim reproduce``)."""

    def loader(settings: Mapping[str, Any]) -> tuple[Scenario, dict[str, Any]]:
        return validate_model(Scenario, config, where / "config.resolved.yaml"), dict(config)

    return check_sweep(dict(spec), where / "sweep.yaml", loader, where / "config.resolved.yaml")


def check_sweep(
    data: dict[str, Any],
    path: Path,
    loader: Callable[[Mapping[str, Any]], tuple[Scenario, dict[str, Any]]],
    scenario_path: Path | None,
    overrides: Mapping[str, Any] | None = None,
) -> Sweep:
    """A sweep file's mapping checked (every problem at once), its scenario loaded by
    ``loader(study settings)``."""
    problems: list[tuple[str, str]] = []
    for key in sorted(set(data) - _KEYS):
        problems.append((key, f"unknown key; allowed: {', '.join(sorted(_KEYS))}"))
    for key in ("scenario", "vary", "outputs"):
        if key not in data:
            problems.append((key, "required key is missing"))
    study = data.get("study", {})
    if not isinstance(study, Mapping):
        problems.append(("study", "allowed: a mapping {defendants, replications, seed}"))
        study = {}
    for key in sorted(set(study) - _STUDY_KEYS):
        problems.append((f"study.{key}", f"unknown key; allowed: {', '.join(sorted(_STUDY_KEYS))}"))
    design = data.get("design", {"method": "sobol"})
    if not isinstance(design, Mapping):
        problems.append(("design", "allowed: a mapping {method, base_samples}"))
        design = {}
    for key in sorted(set(design) - _DESIGN_KEYS):
        problems.append(
            (f"design.{key}", f"unknown key; allowed: {', '.join(sorted(_DESIGN_KEYS))}")
        )
    method = design.get("method", "sobol")
    if method not in DESIGNS:
        problems.append(
            ("design.method", f"{printable(method, 40)}: allowed: {', '.join(DESIGNS)}")
        )
    base_samples = design.get("base_samples", 64)
    if not _whole(base_samples, 1, 65_536):
        problems.append(("design.base_samples", f"{printable(base_samples, 40)}: allowed: 1-65536"))
    elif method == "sobol" and base_samples & (base_samples - 1):
        problems.append(
            (
                "design.base_samples",
                f"{base_samples}: a Sobol' sequence needs a power of 2 (64, 128, 256, ...)",
            )
        )
    levels = design.get("levels", 3)
    if not _whole(levels, 2, 100):
        problems.append(("design.levels", f"{printable(levels, 40)}: allowed: 2-100"))
    bootstrap = design.get("bootstrap", 1000)
    if not _whole(bootstrap, 10, 100_000):
        problems.append(("design.bootstrap", f"{printable(bootstrap, 40)}: allowed: 10-100000"))
    outputs = data.get("outputs", [])
    if not (isinstance(outputs, list) and outputs and all(isinstance(o, str) for o in outputs)):
        problems.append(
            (
                "outputs",
                "allowed: a list of paths into sim run --json, e.g. "
                "[headline.gap_months, districts.CAS.mean_months]",
            )
        )
        outputs = []
    scenario_name = data.get("scenario")
    if scenario_name is not None and not isinstance(scenario_name, str):
        problems.append(("scenario", "allowed: the path of a scenario file, relative to the sweep"))
    settings = {k: study[k] for k in _STUDY_KEYS & set(study)}
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    scenario = resolved = None
    if scenario_path is not None:
        try:
            scenario, resolved = loader(settings)
        except InputError as error:
            problems.append(("scenario", f"{scenario_name}: {error}"))
    factors: list[Factor] = []
    vary = data.get("vary")
    if scenario is not None and vary is not None:
        items = vary if isinstance(vary, list) else [vary]
        for index, item in enumerate(items):
            where = f"vary[{index}]"
            if isinstance(item, Mapping) and set(item) == {"assumptions"}:
                if item["assumptions"] != "all":
                    problems.append((where, "allowed: {assumptions: all}"))
                    continue
                for name in _all_assumptions(scenario):
                    if all(f.name != name for f in factors):
                        factor, found = _factor(scenario, name, None, where)
                        problems += found
                        if factor is not None:
                            factors.append(factor)
                continue
            if isinstance(item, Mapping):
                extra = set(item) - {"path", "range"}
                if extra or not isinstance(item.get("path"), str):
                    problems.append(
                        (
                            where,
                            f"{printable(dict(item), 100)}: allowed: a path, "
                            "{path, range: [low, high]} or {assumptions: all}",
                        )
                    )
                    continue
                name, inline = item["path"], item.get("range")
            elif isinstance(item, str):
                name, inline = item, None
            else:
                problems.append(
                    (
                        where,
                        f"{printable(item, 80)}: allowed: a path, {{path, range}}"
                        " or {assumptions: all}",
                    )
                )
                continue
            factor, found = _factor(scenario, name, inline, where)
            problems += found
            if factor is not None:
                if any(f.path == factor.path for f in factors):
                    problems.append((where, f"{factor.name}: varied twice"))
                else:
                    factors.append(factor)
        if not factors and not problems:
            problems.append(("vary", "no parameter to vary; allowed: paths with a declared range"))
    if problems:
        raise InputError(f"{path}", problems=[(f"{path}: {k}", v) for k, v in problems])
    assert scenario is not None
    assert resolved is not None
    assert scenario_path is not None
    sweep = Sweep(
        path=path,
        scenario_path=scenario_path,
        scenario=scenario,
        resolved=resolved,
        factors=factors,
        method=method,
        base_samples=base_samples,
        levels=levels,
        design_seed=design.get("seed", scenario.study.seed) % 2**32,
        bootstrap=bootstrap,
        outputs=list(outputs),
        spec=dict(data),
    )
    count = len(design_points(sweep))
    if count > MOST_POINTS:
        raise InputError(f"{path}: design: {count:,} points; allowed: at most {MOST_POINTS:,}")
    _check_outputs(sweep)
    return sweep


def figure_path(summary: Mapping[str, Any], name: str) -> str:
    """The :func:`sim.analysis.summary.figure_index` path an output names: a pair may be named
    by its districts (``pairwise.CAC-CAS.mean_difference_months`` is
    ``pairwise[i].all_defendants.mean_difference_months`` of the row comparing C.D. with S.D.;
    its top-level gap is the all-defendants one, as in ``sim run --json``)."""
    head, _, rest = name.partition(".")
    if head != "pairwise" or not rest or rest.startswith("["):
        return name
    pair, _, tail = rest.partition(".")
    a, _, b = pair.partition("-")
    for i, row in enumerate(summary.get("pairwise") or []):
        if row.get("district_a") == a and row.get("district_b") == b:
            if tail in ("mean_difference_months", "mcse_months"):
                tail = "all_defendants.mean_difference_months"
            return f"pairwise[{i}].{tail}"
    return name


def _probe(scenario: Scenario) -> Scenario:
    study = scenario.study.model_copy(
        update={"defendants": 1000, "replications": 2, "profile_draws": 50, "block_size": 1000}
    )
    return scenario.model_copy(update={"study": study})


def _check_outputs(sweep: Sweep) -> None:
    """Every output names a figure of ``sim run --json`` (checked on a 1,000-defendant probe)."""
    summary = analyse(run_study(_probe(sweep.scenario))).summary
    index = figure_index(summary)
    problems = []
    for name in sweep.outputs:
        if figure_path(summary, name) not in index:
            close = [k for k in index if k.endswith(name.rsplit(".", 1)[-1])][:3]
            hint = f"; e.g. {', '.join(close)}" if close else ""
            problems.append(
                (
                    f"{sweep.path}: outputs",
                    f"{printable(name, 120)}: not a figure of sim run --json{hint}",
                )
            )
    if problems:
        raise InputError(str(sweep.path), problems=problems)


# ---------------------------------------------------------------------------------------------
# Designs


def _problem(count: int) -> dict[str, Any]:
    return {
        "num_vars": count,
        "names": [f"x{i}" for i in range(count)],
        "bounds": [[0.0, 1.0]] * count,
    }


def design_points(sweep: Sweep) -> np.ndarray:
    """The design's points in the unit hypercube (rows: points; columns: factors).

    ``sobol``: SALib's Saltelli extension of a scrambled Sobol' sequence, N·(k + 2) points
    (first and total order). ``latin``: N points of a Latin hypercube. ``one-at-a-time``: the
    scenario as written, then each factor at each of its ``levels`` with the others as written.
    ``grid``: every combination of ``levels`` per factor (each option of an alternative).
    """
    k, n = len(sweep.factors), sweep.base_samples
    if sweep.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(_problem(k), n, calc_second_order=False, seed=sweep.design_seed)
    if sweep.method == "latin":
        from SALib.sample import latin

        return latin.sample(_problem(k), n, seed=sweep.design_seed)
    levels = [f.levels(sweep.levels) for f in sweep.factors]
    if sweep.method == "grid":
        total = math.prod(len(lv) for lv in levels)
        if total > MOST_POINTS:
            return np.empty((total, k))  # refused by load_sweep
        return np.array(list(itertools.product(*levels)), dtype=float).reshape(-1, k)
    base = [_current_u(f) for f in sweep.factors]
    rows = [base]
    for i, lv in enumerate(levels):
        for u in lv:
            row = list(base)
            row[i] = u
            rows.append(row)
    return np.array(rows, dtype=float)


def _current_u(factor: Factor) -> float:
    """The ``u`` at which the factor takes its value as written (the base of one-at-a-time)."""
    if factor.discrete:
        k = len(factor.labels)
        return (factor.labels.index(str(factor.current)) + 0.5) / k
    assert factor.belief is not None
    low, high = 0.0, 1.0
    for _ in range(60):  # bisection on the quantile function
        mid = (low + high) / 2
        if factor.belief.quantile(mid) < float(factor.current):
            low = mid
        else:
            high = mid
    return (low + high) / 2


# ---------------------------------------------------------------------------------------------
# Evaluation and analysis


#: Summary sections a point's figures are computed from alone (the rest: the whole summary).
_SECTIONS = ("headline", "pairwise", "districts")


def _partial_summary(
    result: StudyResult,
    sections: set[str],
    named_pairs: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The summary's ``sections``, computed by the same functions as the whole summary
    (:func:`sim.analysis.summary.summary_of`) but nothing else: a sweep reads a few figures of
    thousands of points, and the whole summary takes twice as long as the simulation."""
    if not sections <= set(_SECTIONS):
        return dict(analyse(result).summary)
    out: dict[str, Any] = {}
    scenario = result.scenario
    if "headline" in sections:
        out["headline"] = _headline_entry(headline_figures(result))
    if "pairwise" in sections:
        tally, pairs = result.tally, list(scenario.district_pairs)
        if named_pairs is not None:  # only the pairs the outputs name, by their districts
            codes = scenario.district_codes
            chosen = [p for p, (a, b) in enumerate(pairs) if (codes[a], codes[b]) in named_pairs]
            tally = tally._replace(
                pair_difference=tally.pair_difference[:, chosen],
                pair_both_difference=tally.pair_both_difference[:, chosen],
                pair_both_sums=tally.pair_both_sums[:, chosen],
            )
            pairs = [pairs[p] for p in chosen]
        figures = pair_figures(tally, scenario.district_codes, pairs)
        out["pairwise"] = [_pair_entry(pair) for pair in figures]
    if "districts" in sections:
        districts = {
            code: {
                "name": district.name,
                **_flat(district, DistrictFigures),
                "as_arrested": _flat(district.as_arrested),
            }
            for code, district in district_figures(result).items()
        }
        out["districts"] = _with_declined(SimpleNamespace(study=result), districts)  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class FigureReducer:
    """A point's figures: the summary's figures at ``paths`` as (estimates, mcse) (picklable)."""

    paths: tuple[str, ...]

    def __call__(self, result: StudyResult) -> tuple[np.ndarray, np.ndarray]:
        named: set[tuple[str, str]] | None = set()
        for path in self.paths:
            head, _, rest = path.partition(".")
            if path.startswith("pairwise["):
                named = None  # a pair by its place in the list: every pair
            elif head == "pairwise" and named is not None:
                a, _, b = rest.partition(".")[0].partition("-")
                named.add((a, b))
        sections = {p.split(".")[0].split("[")[0] for p in self.paths}
        summary = _partial_summary(result, sections, named)
        index = figure_index(summary)
        estimates, mcse = [], []
        for path in self.paths:
            value, error = index.get(figure_path(summary, path), (None, None))
            estimates.append(math.nan if value is None else float(value))
            mcse.append(math.nan if error is None else float(error))
        return np.array(estimates), np.array(mcse)


@dataclass(frozen=True)
class _PointBuilder:
    """A point's scenario from its factor values (picklable: built in the worker)."""

    sweep: Sweep
    needs_profiles: bool

    def __call__(self, values: Sequence[float | str]) -> Scenario:
        scenario = self.sweep.scenario_at(values)
        if not self.needs_profiles:  # profiles have their own streams: the figures stay
            scenario = scenario.model_copy(update={"profiles": {}})
        return scenario


@dataclass
class SweepResult:
    """A sweep's points, their inputs and figures, and the indices (when the design has them)."""

    sweep: Sweep
    unit: np.ndarray  # (points, factors) in [0, 1]
    inputs: list[list[float | str]]
    estimates: np.ndarray  # (points, outputs)
    mcse: np.ndarray
    sobol: dict[str, dict[str, dict[str, Any]]]
    #: Points left out because the scenario is invalid there (``skip_invalid``).
    rejected: int = 0

    def summary(self) -> dict[str, Any]:
        """What ``sim sweep --json`` prints: points, each output's spread, the Sobol indices."""
        outputs = {}
        for j, name in enumerate(self.sweep.outputs):
            column = self.estimates[:, j]
            column = column[np.isfinite(column)]
            if column.size == 0:
                outputs[name] = dict.fromkeys(("min", "p05", "median", "p95", "max"))
                continue
            q = np.quantile(column, [0.05, 0.5, 0.95])
            outputs[name] = {
                "min": float(column.min()),
                "p05": float(q[0]),
                "median": float(q[1]),
                "p95": float(q[2]),
                "max": float(column.max()),
            }
        return {"points": len(self.inputs), "outputs": outputs, "sobol": self.sobol}


def sobol_indices(
    unit: np.ndarray,
    values: np.ndarray,
    names: Sequence[str],
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """First-order and total Sobol' indices of one output with bootstrap 95% intervals (SALib's
    ``sobol.analyze`` on a Saltelli design without second order).

    Parameters
    ----------
    unit : array (points, factors)
        The design (only its shape is checked; SALib reads the order of the points).
    values : array (points,)
    names : sequence of str
    resamples : int
        Bootstrap resamples.
    seed : int

    Returns
    -------
    dict
        ``{name: {"S1", "S1_ci95", "ST", "ST_ci95"}}``; each interval is the estimate ± SALib's
        bootstrap half-width at 95%.
    """
    from SALib.analyze import sobol

    k = len(names)
    if unit.shape[0] % (k + 2):
        raise ValueError(f"{unit.shape[0]} points are not a Saltelli design of {k} factors")
    if not np.all(np.isfinite(values)) or np.ptp(values) == 0:
        zero = {"S1": 0.0, "S1_ci95": [0.0, 0.0], "ST": 0.0, "ST_ci95": [0.0, 0.0]}
        undefined = dict.fromkeys(("S1", "S1_ci95", "ST", "ST_ci95"))
        return {name: dict(zero if np.ptp(values) == 0 else undefined) for name in names}
    found = sobol.analyze(
        _problem(k),
        np.asarray(values, dtype=float),
        calc_second_order=False,
        num_resamples=resamples,
        conf_level=0.95,
        seed=seed,
    )
    out = {}
    for i, name in enumerate(names):
        s1, s1c, st, stc = (float(found[key][i]) for key in ("S1", "S1_conf", "ST", "ST_conf"))
        out[name] = {
            "S1": s1,
            "S1_ci95": [s1 - s1c, s1 + s1c],
            "ST": st,
            "ST_ci95": [st - stc, st + stc],
        }
    return out


def run_sweep(
    sweep: Sweep,
    workers: int | Backend = 1,
    progress: Callable[[int, int], None] | None = None,
    chunk: int | None = None,
    skip_invalid: bool = False,
) -> SweepResult:
    """Every point of the sweep's design, simulated with common random numbers, and (for a
    ``sobol`` design) the indices of every output.

    Parameters
    ----------
    sweep : Sweep
    workers : int or Backend
        Worker processes, or an open backend (:mod:`sim.run.backends`); the figures are the
        same on any.
    progress : callable, optional
    chunk : int, optional
        Points per worker task (results do not depend on it).
    skip_invalid : bool
        Leave out points at which the scenario is invalid (a cross-field rule, e.g. prior
        removals below what the histories imply): the joint belief truncated to the scenario's
        valid region. Not for ``sobol`` designs, whose estimators need every point. The number
        left out is ``SweepResult.rejected``.

    Raises
    ------
    InputError
        A point at which the scenario is invalid, unless ``skip_invalid``.
    """
    unit = design_points(sweep)
    inputs = [[f.value(u) for f, u in zip(sweep.factors, row, strict=True)] for row in unit]
    needs_profiles = any(o.startswith("profiles") for o in sweep.outputs)
    builder = _PointBuilder(sweep, needs_profiles)
    check_fits(sweep.scenario)  # every point has its districts and study

    def refuse(index: int, message: str) -> None:
        if skip_invalid and sweep.method != "sobol":
            return
        values = inputs[index]
        shown = ", ".join(
            f"{f.name}={v:.6g}" if isinstance(v, float) else f"{f.name}={v}"
            for f, v in zip(sweep.factors, values, strict=True)
        )
        raise InputError(
            f"{sweep.path}: point {index} ({shown}) makes the scenario invalid (narrow the "
            f"ranges):\n{message}"
        )

    estimates, mcse, kept = evaluate_points(
        inputs,
        FigureReducer(tuple(sweep.outputs)),
        workers,
        progress,
        chunk,
        build=builder,
        on_invalid=refuse,
    )
    if not kept:
        raise InputError(f"{sweep.path}: every point makes the scenario invalid")
    rejected = len(inputs) - len(kept)
    unit, inputs = unit[kept], [inputs[i] for i in kept]
    sobol: dict[str, dict[str, dict[str, Any]]] = {}
    if sweep.method == "sobol":
        names = [f.name for f in sweep.factors]
        for j, output in enumerate(sweep.outputs):
            sobol[output] = sobol_indices(
                unit, estimates[:, j], names, sweep.bootstrap, sweep.design_seed
            )
    return SweepResult(sweep, unit, inputs, estimates, mcse, sobol, rejected)


def assumption_interval(
    scenario_path: str | Path,
    overrides: Mapping[str, Any] | None,
    outputs: Sequence[str],
    points: int,
    workers: int | Backend = 1,
) -> tuple[dict[str, tuple[float, float]], list[str], int]:
    """Each output's 5th and 95th percentiles over an N-point Latin hypercube of every
    assumption that carries a range or alternatives, with common random numbers
    (``sim run --assumption-interval N``).

    Returns
    -------
    (dict, list, int)
        ``{output: (p05, p95)}`` (empty when the scenario declares no ranges), the factors and
        the points left out because the scenario is invalid there (a cross-field rule: the
        belief is truncated to the valid region).
    """
    scenario, resolved = load_scenario(scenario_path, overrides)
    resolved = inline_alternatives(resolved, Path(scenario_path))
    names = _all_assumptions(scenario)
    factors = []
    for name in names:
        factor, _ = _factor(scenario, name, None, "assumption")
        if factor is not None:
            factors.append(factor)
    if not factors:
        return {}, [], 0
    sweep = Sweep(
        path=Path(scenario_path),
        scenario_path=Path(scenario_path),
        scenario=scenario,
        resolved=resolved,
        factors=factors,
        method="latin",
        base_samples=points,
        levels=2,
        design_seed=scenario.study.seed % 2**32,
        bootstrap=100,
        outputs=list(outputs),
    )
    result = run_sweep(sweep, workers=workers, skip_invalid=True)
    interval = {}
    for j, name in enumerate(outputs):
        column = result.estimates[:, j]
        column = column[np.isfinite(column)]
        if column.size:
            low, high = np.quantile(column, [0.05, 0.95])
            interval[name] = (float(low), float(high))
    return interval, [f.name for f in factors], result.rejected

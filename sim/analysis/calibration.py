"""Calibration: fit documented scenario parameters so that simulated figures hit published ones
(``sim calibrate``; docs/calibration.md).

A **target** is a path into the run summary (what ``sim run --json`` prints), e.g.
``overall.mean_months``, with the published value to hit. A **free parameter** is a path to a
documented parameter of the scenario (a ``{value, unit, source}`` mapping), e.g.
``districts.CAS.offers[0].offer_probability``, fitted within its own bounds or narrower ones.

Every evaluation runs the study with the same seed, so every defendant and every uniform is the
same (common random numbers, :mod:`sim.run.streams`): the simulated figure is a deterministic
function of the parameters. It is piecewise constant (a defendant changes sentence only when a
parameter crosses one of its uniforms or thresholds), so the fit stops as soon as every residual is
within a tolerance in the target's own units (0.01 months by default), and a target that falls
inside one step of the function cannot be reached at that study size.

The methods: one target and one parameter, bracketing (Brent's method, ``scipy.optimize.brentq``,
on the difference simulated - published, which needs the target between the values at the two
bounds); otherwise ``scipy.optimize.least_squares`` with bounds, on the residuals in units of the
tolerance, the parameters scaled to [0, 1] within their bounds and finite differences of a fixed
share of that width (a step of 1e-8 would see a piecewise-constant function as flat).

Only one published outcome may be a target (``../shared/domain/calibration.md`` §5):
:data:`DOCUMENTED_TARGETS`. Any other target is refused unless acknowledged, and then marked as
undocumented in the table, the warnings and every fitted parameter's source.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from sim.analysis.results import analyse
from sim.inputs import InputError, printable, validate_model
from sim.model.parameters import Parameter
from sim.model.scenario import (
    _REFERENCE,
    Scenario,
    _merge,
    _override_problems,
    resolve_scenario_mapping,
)
from sim.run.runner import check_fits, run_study

__all__ = [
    "DOCUMENTED_TARGETS",
    "Calibration",
    "CalibrationError",
    "DocumentedTarget",
    "FreeParameter",
    "Problem",
    "Target",
    "fit",
    "fitted_mcse",
    "parse_path",
    "prepare",
]


@dataclass(frozen=True)
class DocumentedTarget:
    """A published outcome figure a scenario may be fitted to."""

    name: str
    value: float
    manuals: tuple[int, ...]
    source: str


#: The only published outcome a scenario may be fitted to (../shared/domain/calibration.md §5):
#: the mean sentence of offenders sentenced under § 2L1.2 in FY2013 (Oct 1, 2012 - Sep 30, 2013,
#: sentenced under the Nov 1, 2011 and Nov 1, 2012 Manuals). Every other outcome figure is
#: validation: reported, never tuned to.
DOCUMENTED_TARGETS = (
    DocumentedTarget(
        name="overall.mean_months",
        value=18.0,
        manuals=(2011, 2012),
        source="USSC, Illegal Reentry Offenses (2015), key findings: FY2013 mean sentence of "
        "offenders sentenced under § 2L1.2",
    ),
)

#: A problem with one command-line argument: (option, detail).
Problem = tuple[str, str]

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


def parse_path(text: str) -> tuple[str | int, ...] | None:
    """``a.b[0].c`` as ``("a", "b", 0, "c")``; None when it is not such a path.

    >>> parse_path("districts.CAS.offers[0].offer_probability")
    ('districts', 'CAS', 'offers', 0, 'offer_probability')
    >>> parse_path("a..b") is None
    True
    """
    tokens: list[str | int] = []
    position = 0
    while position < len(text):
        if tokens and text[position] == ".":
            position += 1
            if position < len(text) and text[position] == "[":
                return None
        match = _TOKEN.match(text, position)
        if match is None or (match[1] is not None and tokens and text[position - 1] != "."):
            return None
        tokens.append(match[1] if match[1] is not None else int(match[2]))
        position = match.end()
    return tuple(tokens) if tokens and isinstance(tokens[0], str) else None


def _shown(tokens: Sequence[str | int]) -> str:
    text = ""
    for token in tokens:
        text += f"[{token}]" if isinstance(token, int) else (f".{token}" if text else token)
    return text


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Target:
    """A figure of the run summary to hit."""

    name: str
    path: tuple[str | int, ...]
    value: float
    #: Whether it is one of :data:`DOCUMENTED_TARGETS` (name, value and Manual).
    documented: bool
    #: The published source (documented targets), else why it is not documented.
    source: str


@dataclass(frozen=True)
class FreeParameter:
    """A documented scenario parameter to fit."""

    name: str
    path: tuple[str | int, ...]
    low: float
    high: float
    initial: float
    unit: str
    original_source: str


@dataclass
class Calibration:
    """A finished fit: the targets, the parameters, where the fit ended and how."""

    targets: list[Target]
    parameters: list[FreeParameter]
    fitted: list[float]
    simulated: list[float]
    mcse: list[float | None]
    tolerance: float
    method: str
    evaluations: int
    converged: bool
    message: str
    seed: int
    defendants: int
    replications: int
    history: list[tuple[list[float], list[float]]] = field(default_factory=list)
    #: Monte Carlo standard error of each fitted value (delta method: the figures' MCSEs through
    #: the inverse of their derivatives); None where a derivative is zero or an MCSE unknown.
    fitted_mcse: list[float | None] = field(default_factory=list)

    @property
    def residuals(self) -> list[float]:
        """Simulated minus published, per target."""
        return [s - t.value for s, t in zip(self.simulated, self.targets, strict=True)]

    def rows(self) -> list[dict[str, Any]]:
        """The calibration table: one row per target, then one per free parameter."""
        common = {
            "method": self.method,
            "evaluations": self.evaluations,
            "converged": self.converged,
            "seed": self.seed,
            "defendants": self.defendants,
            "replications": self.replications,
        }
        empty = dict.fromkeys(
            ("published", "documented", "source", "simulated", "residual", "mcse", "tolerance")
        ) | dict.fromkeys(("initial", "fitted", "low", "high", "unit"))
        rows = []
        for target, simulated, residual, mcse in zip(
            self.targets, self.simulated, self.residuals, self.mcse, strict=True
        ):
            rows.append(
                {
                    "kind": "target",
                    "name": target.name,
                    **empty,
                    "published": target.value,
                    "documented": target.documented,
                    "source": target.source,
                    "simulated": simulated,
                    "residual": residual,
                    "mcse": mcse,
                    "tolerance": self.tolerance,
                    **common,
                }
            )
        fitted_mcse = self.fitted_mcse or [None] * len(self.parameters)
        for parameter, value, mcse in zip(self.parameters, self.fitted, fitted_mcse, strict=True):
            rows.append(
                {
                    "kind": "parameter",
                    "name": parameter.name,
                    **empty,
                    "initial": parameter.initial,
                    "fitted": value,
                    "mcse": mcse,
                    "low": parameter.low,
                    "high": parameter.high,
                    "unit": parameter.unit,
                    **common,
                }
            )
        return rows

    def fitted_source(self, index: int) -> str:
        """The ``source`` of fitted parameter ``index`` in the calibrated scenario."""
        parts = []
        for target in self.targets:
            note = (
                target.source
                if target.documented
                else f"NOT a documented calibration target: {target.source}; acknowledged with "
                "--allow-undocumented-target"
            )
            parts.append(f"{target.name}={target.value:g} ({note})")
        residuals = ", ".join(f"{r:.4g}" for r in self.residuals)
        parameter = self.parameters[index]
        mcse = self.fitted_mcse[index] if self.fitted_mcse else None
        uncertainty = "" if mcse is None else f", Monte Carlo SE of the value {mcse:.2g}"
        text = (
            f"fitted to {'; '.join(parts)} by sim calibrate (seed {self.seed}, "
            f"{self.defendants} defendants x {self.replications} replications, "
            f"residual{'s' if len(self.residuals) > 1 else ''} {residuals}{uncertainty}; "
            f"{self.method}, {self.evaluations} evaluations); the scenario's value was "
            f"{parameter.initial:g} ({parameter.original_source})"
        )
        return text if len(text) <= 2000 else text[:1999] + "…"


class CalibrationError(Exception):
    """The fit did not reach the targets (not bracketed, a step of the simulated figure, or no
    convergence): nothing is written. ``calibration`` holds where it ended."""

    def __init__(self, message: str, calibration: Calibration) -> None:
        super().__init__(message)
        self.calibration = calibration


# ---------------------------------------------------------------------------------------------
# Reading the arguments


def _walk_model(scenario: Scenario, path: tuple[str | int, ...]) -> tuple[Any, str | None]:
    """The object at ``path`` in a validated scenario, or (None, why not)."""
    node: Any = scenario
    for depth, token in enumerate(path):
        where = _shown(path[:depth]) or "(top level)"
        if isinstance(token, int):
            if not isinstance(node, list | tuple):
                return None, f"{where} is not a list; [{token}] is not allowed there"
            if token >= len(node):
                return None, f"{where} has {len(node)} items; allowed: [0]-[{len(node) - 1}]"
            node = node[token]
        elif isinstance(node, Parameter) and token == "value" and depth == len(path) - 1:
            return node, None
        elif hasattr(type(node), "model_fields"):
            names = list(type(node).model_fields)
            if token not in names:
                return None, _unknown(token, names, where)
            node = getattr(node, token)
        elif isinstance(node, Mapping):
            if token not in node:
                return None, _unknown(token, [str(k) for k in node], where)
            node = node[token]
        else:
            return None, f"{where} holds a value, not fields"
        if node is None:
            return None, f"{_shown(path[: depth + 1])} is not set in the scenario"
    return node, None


def _unknown(token: str, names: list[str], where: str) -> str:
    close = difflib.get_close_matches(token, names, n=2, cutoff=0.7)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    listed = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f"no {token!r} at {where}; {hint}allowed: {listed}"


def _raw_parameter(node: Any) -> bool:
    """Whether ``node`` is a ``{value, unit, source}`` mapping with a numeric value."""
    return (
        isinstance(node, Mapping)
        and {"value", "unit", "source"} <= set(node)
        and isinstance(node["value"], int | float)
        and not isinstance(node["value"], bool)
        and math.isfinite(node["value"])
    )


def _own_bounds(parameter: Parameter) -> tuple[float, float, bool, bool]:
    """The ``value`` bounds of a parameter's type: (low, high, low is open, high is open)."""
    low, high, low_open, high_open = -math.inf, math.inf, False, False
    for constraint in type(parameter).model_fields["value"].metadata:
        for name in ("ge", "gt"):
            bound = getattr(constraint, name, None)
            if bound is not None and bound >= low:
                low, low_open = float(bound), name == "gt"
        for name in ("le", "lt"):
            bound = getattr(constraint, name, None)
            if bound is not None and bound <= high:
                high, high_open = float(bound), name == "lt"
    return low, high, low_open, high_open


def _free_parameter(text: str, scenario: Scenario) -> tuple[FreeParameter | None, list[Problem]]:
    option = f"--free {printable(text, 120)}"
    name, equals, bounds = text.partition("=")
    path = parse_path(name.strip())
    if path is None:
        return None, [
            (
                option,
                "allowed: PATH or PATH=LOW:HIGH, PATH like judge.departures."
                "non_government_below_rate or districts.CAS.offers[0].offer_probability",
            )
        ]
    if path[-1] == "value":
        path = path[:-1]
    if path[0] == "anchors":
        return None, [
            (
                option,
                "anchors only hold YAML text the districts copy when the file is read; changing "
                "one changes nothing; allowed: the path where it is used, e.g. districts.CAS...",
            )
        ]
    node, why = _walk_model(scenario, path)
    if why is not None:
        return None, [(option, why)]
    if isinstance(node, Parameter):
        own_low, own_high, low_open, high_open = _own_bounds(node)
        initial, unit, source = node.value, node.unit, node.source
    elif _raw_parameter(node):
        # A documented number the scenario keeps as written (e.g. under district_defaults,
        # checked only once merged into the districts): its type's range is not known here, so
        # bounds must be given, and each bound is checked by validating the scenario there.
        own_low, own_high, low_open, high_open = -math.inf, math.inf, True, True
        initial, unit, source = float(node["value"]), str(node["unit"]), str(node["source"])
    else:
        kind = "a number" if isinstance(node, int | float) else "not a number"
        return None, [
            (
                option,
                f"{_shown(path)} is {kind} without unit and source; allowed: a documented "
                "numeric parameter ({value, unit, source})",
            )
        ]
    own = f"{'(' if low_open else '['}{own_low:g}, {own_high:g}{')' if high_open else ']'}"
    if equals:
        low_text, colon, high_text = bounds.partition(":")
        low, high = _number(low_text), _number(high_text)
        if not colon or low is None or high is None:
            return None, [(option, f"bounds {bounds!r}: allowed: LOW:HIGH, two finite numbers")]
        problems = []
        if not low < high:
            problems.append((option, f"LOW {low:g} is not below HIGH {high:g}"))
        if (
            low < own_low
            or (low_open and low == own_low)
            or high > own_high
            or (high_open and high == own_high)
        ):
            problems.append(
                (option, f"bounds {low:g}:{high:g} leave the parameter's own range {own}")
            )
        if problems:
            return None, problems
    else:
        if low_open or high_open or own_high - own_low > 1e6:
            return None, [
                (
                    option,
                    f"the parameter's own range {own} is open or unbounded; allowed: "
                    "PATH=LOW:HIGH within it",
                )
            ]
        low, high = own_low, own_high
    return (
        FreeParameter(
            name=_shown(path),
            path=path,
            low=low,
            high=high,
            initial=initial,
            unit=unit,
            original_source=source,
        ),
        [],
    )


def _target(
    text: str, scenario: Scenario, acknowledged: bool
) -> tuple[Target | None, list[Problem]]:
    option = f"--target {printable(text, 120)}"
    name, equals, value_text = text.partition("=")
    path = parse_path(name.strip())
    value = _number(value_text)
    if path is None or not equals or value is None:
        return None, [
            (
                option,
                "allowed: NAME=VALUE, NAME a path into sim run --json (e.g. "
                "overall.mean_months) and VALUE a finite number",
            )
        ]
    name = _shown(path)
    documented = [d for d in DOCUMENTED_TARGETS if d.name == name]
    reason = None
    if not documented:
        reason = "not a published outcome documented for calibration"
    elif value != documented[0].value:
        reason = f"the published value is {documented[0].value:g}, not {value:g}"
    elif scenario.manual not in documented[0].manuals:
        manuals = ", ".join(str(m) for m in documented[0].manuals)
        reason = (
            f"published for FY2013 (the {manuals} Manuals), not for a {scenario.manual} "
            "Manual scenario"
        )
    if reason is None:
        return Target(name, path, value, True, documented[0].source), []
    only = "; ".join(f"{d.name}={d.value:g} ({d.source})" for d in DOCUMENTED_TARGETS)
    target = Target(name, path, value, False, reason)
    if not acknowledged:
        return target, [
            (
                option,
                f"not a documented calibration target ({reason}). The only one: {only} "
                "(docs/calibration.md); other outcome figures are validation. To fit to it "
                "anyway: --allow-undocumented-target",
            )
        ]
    return target, []


def _figure(summary: Mapping[str, Any], path: tuple[str | int, ...]) -> tuple[Any, str | None]:
    """A figure of a run summary and its MCSE: ``(estimate, mcse)``, or (None, why not)."""
    node: Any = summary
    parent: Any = None
    for depth, token in enumerate(path):
        where = _shown(path[:depth]) or "(top level)"
        parent = node
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                return None, f"{where} is not a list with an item [{token}]"
            node = node[token]
        elif isinstance(node, Mapping):
            if token not in node:
                names = [k for k in node if not re.search(r"_(mcse|ci95)$", k)]
                return None, "no such figure in sim run --json: " + _unknown(token, names, where)
            node = node[token]
        else:
            return None, f"{where} is a value, not a group of figures"
    if isinstance(node, Mapping) and "estimate" in node:
        return (node["estimate"], node.get("mcse")), None
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None, f"{_shown(path)} is not a number in sim run --json"
    mcse = parent.get(f"{path[-1]}_mcse") if isinstance(parent, Mapping) else None
    return (node, mcse), None


# ---------------------------------------------------------------------------------------------
# The scenario at given parameter values


def _unshared(value: Any) -> Any:
    """A copy with no shared parts: a YAML anchor's list is one object in every district that
    names it, and a fitted value must change only the district its path names."""
    if isinstance(value, Mapping):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value


def _effective(resolved: Mapping[str, Any], path: Sequence[str | int]) -> Any:
    """What the merged mapping holds at ``path`` (a list); under ``districts.CODE`` a key the
    district does not set comes from ``district_defaults`` (lists are never merged)."""

    def walk(node: Any, tokens: Sequence[str | int]) -> Any:
        for token in tokens:
            if isinstance(token, int):
                node = node[token] if isinstance(node, list) and token < len(node) else None
            else:
                node = node.get(token) if isinstance(node, Mapping) else None
            if node is None:
                return None
        return node

    found = walk(resolved, path)
    if found is None and len(path) > 2 and path[0] == "districts":
        found = walk(resolved.get("district_defaults"), path[2:])
    return found


def override_mapping(
    resolved: Mapping[str, Any], values: Mapping[tuple[str | int, ...], Mapping[str, Any]]
) -> dict[str, Any]:
    """The mapping a calibrated file holds besides ``extends:``: each parameter at its path.

    Mappings on the way are partial (the loader merges them key by key); a list on the way is
    written whole, with its other items as the scenario has them, because the loader replaces
    lists.

    Parameters
    ----------
    resolved : mapping
        The scenario's merged mapping (:func:`sim.model.scenario.resolve_scenario_mapping`).
    values : mapping
        Each parameter path and its new ``{value, unit, source, assumption}`` mapping.
    """
    override: dict[str, Any] = {}
    for path, parameter in values.items():
        node: Any = override
        first_list = next(
            (i for i in range(len(path) - 1) if isinstance(path[i + 1], int)), len(path) - 1
        )
        for token in path[:first_list]:
            node = node.setdefault(token, {})
        key = path[first_list]
        if first_list == len(path) - 1:
            node[key] = dict(parameter)
            continue
        if key not in node:
            node[key] = _unshared(_effective(resolved, path[: first_list + 1]))
        node = node[key]
        for token in path[first_list + 1 : -1]:
            node = node[token] if isinstance(token, int) else node.setdefault(token, {})
        node[path[-1]] = dict(parameter)
    return override


def _parameter_mapping(parameter: FreeParameter, value: float, source: str) -> dict[str, Any]:
    # A fitted value stays an assumption: it makes the model reproduce a published figure
    # given every other assumption of the scenario; it is not a measurement of the parameter.
    return {"value": float(value), "unit": parameter.unit, "source": source, "assumption": True}


@dataclass
class Prepared:
    """Everything checked before the fit: the scenario, its merged mapping, targets, parameters."""

    config: Any
    scenario: Scenario
    resolved: dict[str, Any]
    targets: list[Target]
    parameters: list[FreeParameter]

    @property
    def validation_targets(self) -> list[str]:
        """Targets the scenario also lists under ``validation:``: once fitted, such a figure
        no longer tests the model (it is reproduced by construction)."""
        listed = self.resolved.get("validation")
        names = {
            entry.get("name")
            for entry in (listed if isinstance(listed, list) else [])
            if isinstance(entry, Mapping)
        }
        return [t.name for t in self.targets if t.name in names]

    def scenario_at(self, values: Sequence[float], source: str = "calibration trial") -> Scenario:
        """The scenario with the free parameters at ``values`` (merged as the calibrated file
        will be, so that it runs exactly what the file will say).

        Raises
        ------
        InputError
            The values make the scenario invalid (a cross-field rule such as departure rates
            that sum to more than 1).
        """
        override = override_mapping(
            self.resolved,
            {
                p.path: _parameter_mapping(p, v, source)
                for p, v in zip(self.parameters, values, strict=True)
            },
        )
        scenario = validate_model(
            Scenario, _merge(self.resolved, override), self.config, reference=_REFERENCE
        )
        check_fits(scenario)
        return scenario


def prepare(
    config: Any,
    targets: Sequence[str],
    free: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
    *,
    acknowledge_undocumented: bool = False,
    tolerance: float = 0.01,
) -> Prepared:
    """Check every argument of a calibration before any fit: all problems at once.

    A small probe run (1,000 defendants, 2 replications) checks that each target names a
    number in ``sim run --json``; each free parameter is tried at both bounds.

    Raises
    ------
    InputError
        One line per problem: a malformed, unknown, non-numeric or undocumented target, a
        malformed, unknown or non-numeric parameter, bounds outside the parameter's range or
        that make the scenario invalid, a parameter given twice, more free parameters than
        targets, a bad study override or tolerance.
    """
    study_overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    problems: list[Problem] = []
    if problems := _override_problems(study_overrides):
        raise InputError("bad study overrides", problems=problems)
    resolved = resolve_scenario_mapping(config)
    if study_overrides:
        study = resolved.get("study")
        resolved["study"] = _merge(study if isinstance(study, Mapping) else {}, study_overrides)
    scenario = validate_model(Scenario, resolved, config, reference=_REFERENCE)
    check_fits(scenario)
    if not (tolerance > 0 and math.isfinite(tolerance)):
        problems.append(("--tolerance", f"{tolerance}: allowed: a positive number"))
    if not targets:
        problems.append(("--target", "at least one NAME=VALUE is required"))
    if not free:
        problems.append(("--free", "at least one PATH is required"))
    parsed_targets, parameters = [], []
    for text in targets:
        target, found = _target(text, scenario, acknowledge_undocumented)
        problems += found
        if target is not None:
            if any(t.name == target.name for t in parsed_targets):
                problems.append((f"--target {target.name}", "given twice"))
            else:
                parsed_targets.append(target)
    for text in free:
        parameter, found = _free_parameter(text, scenario)
        problems += found
        if parameter is not None:
            if any(p.path == parameter.path for p in parameters):
                problems.append((f"--free {parameter.name}", "given twice"))
            else:
                parameters.append(parameter)
    if len(free) > len(targets) and targets:
        problems.append(
            (
                "--free",
                f"{len(free)} free parameters for {len(targets)} target(s): the fit would not "
                "be determined; allowed: at most as many free parameters as targets",
            )
        )
    prepared = Prepared(config, scenario, resolved, parsed_targets, parameters)
    problems += _bound_problems(prepared)
    if parsed_targets:
        problems += _target_path_problems(prepared)
    if problems:
        raise InputError("bad calibration", problems=problems)
    return prepared


def _bound_problems(prepared: Prepared) -> list[Problem]:
    """Each parameter at its bounds (the others as the scenario has them) must be valid."""
    problems = []
    initial = [p.initial for p in prepared.parameters]
    for index, parameter in enumerate(prepared.parameters):
        for bound in (parameter.low, parameter.high):
            values = list(initial)
            values[index] = bound
            try:
                prepared.scenario_at(values)
            except InputError as error:
                first = str(error).splitlines()[0]
                problems.append(
                    (f"--free {parameter.name}", f"at {bound:g} the scenario is invalid: {first}")
                )
    return problems


def _probe_study(scenario: Scenario) -> Scenario:
    study = scenario.study.model_copy(
        update={
            "defendants": min(scenario.study.defendants, 1000),
            "replications": min(scenario.study.replications, 2),
            "profile_draws": min(scenario.study.profile_draws, 100),
        }
    )
    return scenario.model_copy(update={"study": study})


def _target_path_problems(prepared: Prepared) -> list[Problem]:
    summary = analyse(run_study(_probe_study(prepared.scenario))).summary
    problems = []
    for target in prepared.targets:
        _, why = _figure(summary, target.path)
        if why is not None:
            problems.append((f"--target {target.name}", why))
    return problems


# ---------------------------------------------------------------------------------------------
# The fit


class _Reached(Exception):  # noqa: N818 (a signal, not an error)
    """Every residual within tolerance: stop the optimiser there."""


#: ``evaluate(values) -> (simulated figures, their MCSEs)``, one per target.
Evaluator = Callable[[Sequence[float]], tuple[list[float], list[float | None]]]


@dataclass
class _Memo:
    """Evaluations by parameter values: the objective is deterministic, so a point is never
    simulated twice; the best point (smallest largest |residual| in tolerances) is kept."""

    evaluate: Evaluator
    published: np.ndarray
    tolerance: float
    limit: int
    seen: dict[tuple[float, ...], tuple[list[float], list[float | None]]] = field(
        default_factory=dict
    )
    order: list[tuple[float, ...]] = field(default_factory=list)
    best: tuple[float, ...] | None = None

    def __call__(self, values: Sequence[float]) -> np.ndarray:
        key = tuple(float(v) for v in values)
        if key not in self.seen:
            if len(self.seen) >= self.limit:
                raise _OutOfEvaluations
            self.seen[key] = self.evaluate(list(key))
            self.order.append(key)
            if not all(math.isfinite(f) for f in self.seen[key][0]):
                raise _Undefined(key)
            if self.best is None or self._worst(key) < self._worst(self.best):
                self.best = key
        residuals = np.asarray(self.seen[key][0], dtype=float) - self.published
        if np.all(np.abs(residuals) <= self.tolerance):
            raise _Reached
        return residuals

    def _worst(self, key: tuple[float, ...]) -> float:
        residuals = np.asarray(self.seen[key][0], dtype=float) - self.published
        return float(np.max(np.abs(residuals)))


class _OutOfEvaluations(Exception):  # noqa: N818 (a signal, not an error)
    """The evaluation budget is spent."""


class _Undefined(Exception):  # noqa: N818 (a signal, not an error)
    """A simulated figure is not a number (e.g. a mean over no sentenced defendant)."""

    def __init__(self, key: tuple[float, ...]) -> None:
        super().__init__(key)
        self.key = key

    def message(self) -> str:
        values = ", ".join(f"{v:.6g}" for v in self.key)
        return f"a simulated figure is not a number at parameters {values}: nothing to fit"


def fit(
    evaluate: Evaluator,
    published: Sequence[float],
    bounds: Sequence[tuple[float, float]],
    initial: Sequence[float],
    *,
    tolerance: float = 0.01,
    max_evaluations: int = 200,
    step: float = 0.01,
) -> tuple[list[float], str, bool, str, _Memo]:
    """Find parameter values whose simulated figures are within ``tolerance`` of ``published``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(values) -> (figures, mcses)``: deterministic (common random numbers).
    published : sequence of float
        The targets, in the figures' units.
    bounds : sequence of (low, high)
        Per parameter.
    initial : sequence of float
        Where a least-squares fit starts (clipped into the bounds).
    tolerance : float
        A residual at most this (in the figures' units) is a hit.
    max_evaluations : int
        Simulations allowed.
    step : float
        Finite-difference step of least squares, as a share of each parameter's bounds.

    Returns
    -------
    (values, method, converged, message, memo)
        The best values found, the method used, whether every residual is within tolerance (or,
        with more targets than parameters, least squares reported convergence), a one-line
        account, and the evaluations.
    """
    target = np.asarray(published, dtype=float)
    memo = _Memo(evaluate, target, tolerance, max(max_evaluations, 2))
    low = np.array([b[0] for b in bounds], dtype=float)
    high = np.array([b[1] for b in bounds], dtype=float)
    if len(bounds) == 1 and len(target) == 1:
        return _bracket(memo, float(low[0]), float(high[0]))
    method = "scipy.optimize.least_squares (trf, bounds)"
    width = high - low
    start = np.clip((np.asarray(initial, dtype=float) - low) / width, 0.0, 1.0)

    def residuals(scaled: np.ndarray) -> np.ndarray:
        values = low + np.clip(scaled, 0.0, 1.0) * width
        return memo(values) / tolerance

    try:
        result = optimize.least_squares(
            residuals,
            start,
            bounds=(np.zeros_like(start), np.ones_like(start)),
            method="trf",
            diff_step=step,
            x_scale=1.0,
            max_nfev=max_evaluations,
        )
    except _Reached:
        return list(memo.best), method, True, "every residual within tolerance", memo
    except _OutOfEvaluations:
        return list(memo.best), method, False, f"stopped after {max_evaluations} evaluations", memo
    except _Undefined as undefined:
        return list(undefined.key), method, False, undefined.message(), memo
    hit = memo._worst(memo.best) <= tolerance
    overdetermined = len(target) > len(bounds)
    converged = hit or (overdetermined and result.status > 0)
    return list(memo.best), method, converged, printable(result.message, 300), memo


def _bracket(memo: _Memo, low: float, high: float) -> tuple[list[float], str, bool, str, _Memo]:
    method = "scipy.optimize.brentq (bracketing)"

    def difference(x: float) -> float:
        return float(memo([x])[0])

    try:
        at_low, at_high = difference(low), difference(high)
        if at_low * at_high > 0:
            published = float(memo.published[0])
            message = (
                f"the target {published:g} is not bracketed: the simulated figure is "
                f"{at_low + published:.4g} at {low:g} and {at_high + published:.4g} at {high:g}; "
                "widen the bounds, free another parameter, or choose another one"
            )
            return [memo.best[0]], method, False, message, memo
        # xtol far below any meaningful change: the early stop (|residual| <= tolerance) ends
        # a normal fit; a tiny bracket with no hit means the target lies inside one step.
        optimize.brentq(difference, low, high, xtol=1e-12 * (high - low) + 1e-15, maxiter=500)
    except _Reached:
        return [memo.best[0]], method, True, "residual within tolerance", memo
    except _OutOfEvaluations:
        return [memo.best[0]], method, False, "stopped: evaluation budget spent", memo
    except _Undefined as undefined:
        return list(undefined.key), method, False, undefined.message(), memo
    # The closest evaluated points on either side of the target: the step lies between them.
    published = float(memo.published[0])
    points = sorted((key[0], memo.seen[key][0][0]) for key in memo.seen)
    below = [p for p in points if (p[1] - published) * at_low > 0]
    above = [p for p in points if (p[1] - published) * at_high > 0]
    near_low, near_high = max(below), min(above)
    return (
        [memo.best[0]],
        method,
        False,
        f"the target {published:g} lies inside a step of the simulated figure, from "
        f"{near_low[1]:.6g} at {near_low[0]:.15g} to {near_high[1]:.6g} at {near_high[0]:.15g}: "
        "no value reaches it within the tolerance at this study size; use more defendants or "
        "replications, or a larger --tolerance",
        memo,
    )


def fitted_mcse(
    evaluate: Evaluator,
    values: Sequence[float],
    bounds: Sequence[tuple[float, float]],
    mcse: Sequence[float | None],
    step: float = 0.01,
) -> list[float | None]:
    """Monte Carlo standard errors of fitted values by the delta method.

    The figures' derivatives J (targets x parameters) are central differences over ``step`` of
    each parameter's bounds (one-sided at a bound); with the figures' MCSEs as a diagonal
    covariance S, the fitted values' covariance is J⁺ S J⁺ᵀ (J⁺ the pseudo-inverse: J⁻¹ for as
    many targets as parameters). Two simulations per parameter.

    Returns
    -------
    list of float or None
        Per parameter; all None when an MCSE is unknown or a derivative is zero (a flat figure
        does not determine the parameter).
    """
    if any(m is None for m in mcse):
        return [None] * len(values)
    jacobian = np.zeros((len(mcse), len(values)))
    for j, (low, high) in enumerate(bounds):
        h = step * (high - low)
        up, down = list(values), list(values)
        up[j], down[j] = min(values[j] + h, high), max(values[j] - h, low)
        jacobian[:, j] = (np.asarray(evaluate(up)[0]) - np.asarray(evaluate(down)[0])) / (
            up[j] - down[j]
        )
    if not np.all(np.isfinite(jacobian)) or np.any(np.all(jacobian == 0, axis=0)):
        return [None] * len(values)
    inverse = np.linalg.pinv(jacobian)
    covariance = inverse @ np.diag(np.square(np.asarray(mcse, dtype=float))) @ inverse.T
    return [float(math.sqrt(max(v, 0.0))) for v in np.diag(covariance)]


def calibrate(
    prepared: Prepared,
    *,
    tolerance: float = 0.01,
    max_evaluations: int = 200,
    step: float = 0.01,
    workers: int = 1,
    on_evaluation: Callable[[int, list[float], list[float]], None] | None = None,
) -> Calibration:
    """Fit a prepared calibration (:func:`prepare`).

    Returns
    -------
    Calibration
        The fit, when it converged.

    Raises
    ------
    CalibrationError
        With the calibration where it ended, when it did not.
    InputError
        The optimiser tried values that make the scenario invalid.
    """
    needs_profiles = any(str(t.path[0]).startswith("profile") for t in prepared.targets)
    count = 0

    def evaluate(values: Sequence[float]) -> tuple[list[float], list[float | None]]:
        nonlocal count
        try:
            scenario = prepared.scenario_at(values)
        except InputError as error:
            tried = ", ".join(
                f"{p.name}={v:.6g}" for p, v in zip(prepared.parameters, values, strict=True)
            )
            raise InputError(
                f"the fit tried {tried}, which the scenario does not allow (narrow the bounds):"
                f"\n{error}"
            ) from None
        if not needs_profiles:  # profiles have their own streams: the figures do not change
            scenario = scenario.model_copy(update={"profiles": {}})
        summary = analyse(run_study(scenario, workers=workers)).summary
        figures = [_figure(summary, t.path)[0] for t in prepared.targets]
        estimates = [float(f[0]) for f in figures]
        count += 1
        if on_evaluation is not None:
            on_evaluation(count, list(values), estimates)
        return estimates, [None if f[1] is None else float(f[1]) for f in figures]

    values, method, converged, message, memo = fit(
        evaluate,
        [t.value for t in prepared.targets],
        [(p.low, p.high) for p in prepared.parameters],
        [p.initial for p in prepared.parameters],
        tolerance=tolerance,
        max_evaluations=max_evaluations,
        step=step,
    )
    simulated, mcse = memo.seen[tuple(values)]
    bounds = [(p.low, p.high) for p in prepared.parameters]
    uncertainty = (
        fitted_mcse(evaluate, values, bounds, mcse, step) if converged else [None] * len(values)
    )
    study = prepared.scenario.study
    calibration = Calibration(
        targets=prepared.targets,
        parameters=prepared.parameters,
        fitted=list(values),
        simulated=list(simulated),
        mcse=list(mcse),
        tolerance=tolerance,
        method=method,
        evaluations=count,
        converged=converged,
        message=message,
        seed=study.seed,
        defendants=study.defendants,
        replications=study.replications,
        history=[(list(k), list(memo.seen[k][0])) for k in memo.order],
        fitted_mcse=uncertainty,
    )
    if not converged:
        raise CalibrationError(message, calibration)
    return calibration

"""Scenario files: YAML → strict pydantic models, with ``extends:`` inheritance.

A scenario may name another file in ``extends:`` (a path relative to itself); the parent is loaded
first (recursively) and the child's mappings are merged into it key by key, lists and values
replacing the parent's. A documented parameter (a mapping with ``value``) is replaced whole, so an
override cannot inherit the parent's ``source`` for a new number. A partial file (for example
only ``population:``) can serve as a parent.
``district_defaults:`` is merged under every district the same way (the district's keys win) before
validation, so that a rule shared by 94 districts is written once; a problem in a merged value is
reported at the district's field path and says the value came from ``district_defaults``.
Command-line overrides (``--defendants`` …) are applied to the merged mapping before validation,
so the resolved configuration an archive stores is exactly what ran.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from sim.guidelines.aggravated_felony import (
    FIREARMS_READINGS,
    READINGS,
    AggravatedFelonyLaw,
    law_in_force,
)
from sim.guidelines.casefile import prior_problems
from sim.guidelines.editions import FIRST_MANUAL, LAST_MANUAL, edition
from sim.guidelines.statutes import ADAA_1988
from sim.inputs import (
    Date,
    InputError,
    load_mapping,
    problems_error,
    shown_path,
    validate_model,
)
from sim.model.districts import DISTRICTS
from sim.model.judge import JudgeConfig
from sim.model.parameters import StrictModel
from sim.model.policy import DistrictPolicy, Eligibility
from sim.model.population import PopulationParameters
from sim.model.profiles import ProfileRecord

__all__ = [
    "DEFAULT_SCENARIO",
    "Alternative",
    "HeadlinePair",
    "ProfileRecord",
    "PublishedFigure",
    "Scenario",
    "StudySettings",
    "assumptions",
    "load_scenario",
    "resolve_scenario_mapping",
    "with_alternative",
]

#: The built-in default scenario: California, 1995 (the seed opinion's setting).
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "configs" / "california-1995.yaml"
#: Where a reader finds every key of a scenario written out.
_REFERENCE = "configs/california-1995.yaml"


#: Up to this many districts, ``pairs: auto`` tallies every pair (45 at 10 districts); beyond,
#: every district against the first, so that the cost per district stays that of a small study.
ALL_PAIRS_UP_TO = 10


class StudySettings(StrictModel):
    """Size and seed of a study run."""

    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    replications: Annotated[int, Field(ge=1, le=100_000)]
    defendants: Annotated[int, Field(ge=1, le=10**10)]
    #: Results are identical for any block size; below 1,000 defendants the per-block overhead
    #: (about 9 ms: streams, tallies) dominates the run.
    block_size: Annotated[int, Field(ge=1_000, le=10**7)] = 50_000
    #: Each replication sentences a profile's draws at once: 100,000 take about 0.2 GB and
    #: 0.13 s per replication (measured on the default scenario's first profile); a deal's
    #: share is then known to ±0.3 percentage points (95%).
    profile_draws: Annotated[int, Field(ge=1, le=100_000)] = 2_000
    #: Which district pairs get paired-gap tallies: ``all`` (every pair: their number grows as
    #: the square of the districts), ``reference`` (every district against the first listed), or
    #: ``auto``: every pair up to :data:`ALL_PAIRS_UP_TO` districts, else ``reference``.
    pairs: Literal["auto", "all", "reference"] = "auto"


class AggravatedFelonyDefinition(StrictModel):
    """How the population's priors are classified under 8 U.S.C. § 1101(a)(43) as in force on
    the offense date (docs/aggravated-felony.md). Readings of the sources that disagree are named
    alternatives; the choice made is a labelled assumption."""

    #: None: the definition the edition's § 2L1.2 uses (Note 7 under the 1995-96 Manuals, the
    #: statute from 1997).
    reading: Literal[READINGS] | None = None
    smuggling_for_commercial_advantage: bool = False
    firearms: Literal[FIREARMS_READINGS] = "listed"
    source: Annotated[str, Field(min_length=1)] = (
        "docs/aggravated-felony.md: the edition's definition; alien smuggling not assumed for "
        "commercial advantage; firearms priors read as possession offenses"
    )
    assumption: bool = True


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# --- headline and validation (issue 12) -------------------------------------------------------
class HeadlinePair(StrictModel):
    """The district pair the headline gap compares (``from`` − ``to``); each defaults to the
    first listed district the other does not name."""

    from_: Annotated[str | None, Field(alias="from")] = None
    to: str | None = None


class PublishedFigure(StrictModel):
    """A published outcome figure reported beside the simulated one (validation, never a
    calibration target): ``name`` is a path to a figure of ``sim run --json``, e.g.
    ``overall.mean_months`` (checked against the summary's structure by
    :func:`sim.analysis.validation.check_validation`)."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\[\]-]+$")]
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]
    source: Annotated[str, Field(min_length=1, max_length=2000)]


class ModellingChoice(StrictModel):
    """A modelling choice with no number of its own (e.g. one offense date for every defendant,
    two districts' programs assumed identical): stated, sourced and, where no source supports it,
    labelled ``assumption: true`` so that ``sim run --json`` lists it with the assumptions."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    statement: Annotated[str, Field(min_length=1, max_length=2000)]
    source: Annotated[str, Field(min_length=1, max_length=2000)]
    assumption: bool = False


# --- alternatives (issue 13) ------------------------------------------------------------------
#: Keys a ``file`` option never brings over: the sweep's identity, size and alternatives.
_NOT_FROM_OPTION_FILES = ("extends", "scenario", "title", "description", "study", "alternatives")


class Alternative(StrictModel):
    """Readings of a block that disagree, each a named option (docs/sensitivity.md).

    ``block`` is the dotted path of the block an option is merged into (empty: the whole
    scenario). An option is a mapping merged there, or ``{file: PATH}``: the own keys of another
    scenario file (what it sets itself, not what it ``extends``), merged over the whole scenario;
    PATH is relative to the scenario file that is run. ``current`` names the option the scenario
    as written is (choosing it changes nothing), and defaults to the first.

    >>> a = Alternative.model_validate({"source": "x", "options": {"bottom": {}, "middle":
    ...     {"range_position": {"distribution": "middle"}}}, "block": "judge"})
    >>> a.labels, a.current_label
    (['bottom', 'middle'], 'bottom')
    """

    block: Annotated[
        str, Field(max_length=200, pattern=r"^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$")
    ] = ""
    source: Annotated[str, Field(min_length=1, max_length=2000)]
    current: str | None = None
    options: Annotated[dict[str, dict[str, Any]], Field(min_length=2, max_length=50)]
    assumption: bool = True

    @model_validator(mode="after")
    def _known_current(self) -> Alternative:
        if self.current is not None and self.current not in self.options:
            raise ValueError(
                f"current {self.current!r} is not an option; allowed: {', '.join(self.options)}"
            )
        for label, option in self.options.items():
            if not _SLUG.match(label):
                raise ValueError(f"option {label!r}: allowed: lower-case letters, digits, hyphens")
            if "file" in option and (set(option) != {"file"} or self.block):
                raise ValueError(
                    f"option {label!r}: a file option is {{file: PATH}} alone, on the whole "
                    "scenario (no block)"
                )
        return self

    @property
    def labels(self) -> list[str]:
        """The options' names, in order."""
        return list(self.options)

    @property
    def current_label(self) -> str:
        """The option the scenario as written is."""
        return self.current or self.labels[0]

    @property
    def value(self) -> str:
        """The current option (what :func:`assumptions` lists as the value)."""
        return self.current_label


def with_alternative(
    resolved: Mapping[str, Any], name: str, label: str, scenario_path: str | Path
) -> dict[str, Any]:
    """The merged scenario mapping with alternative ``name`` set to option ``label``.

    Raises
    ------
    InputError
        An unknown alternative or option, or an option file that cannot be read.
    """
    table = resolved.get("alternatives")
    entry = table.get(name) if isinstance(table, Mapping) else None
    if not isinstance(entry, Mapping):
        known = ", ".join(table) if isinstance(table, Mapping) and table else "none"
        raise InputError(f"alternatives.{name}: not declared by the scenario; declared: {known}")
    alternative = Alternative.model_validate(entry)
    if label not in alternative.options:
        raise InputError(
            f"alternatives.{name}: no option {label!r}; allowed: {', '.join(alternative.labels)}"
        )
    if label == alternative.current_label:
        return dict(resolved)
    option = alternative.options[label]
    if "file" in option:
        other = Path(scenario_path).parent / str(option["file"])
        if other.suffix.lower() not in _SCENARIO_SUFFIXES:
            raise InputError(
                f"alternatives.{name}.options.{label}.file: {option['file']!r}: "
                "allowed: a scenario file (.yaml, .yml, .json)"
            )
        own, _ = load_mapping(other)
        delta = {k: v for k, v in own.items() if k not in _NOT_FROM_OPTION_FILES}
        merged = _merge(resolved, delta)
    else:
        delta: Any = dict(option)
        for key in reversed(alternative.block.split(".") if alternative.block else []):
            delta = {key: delta}
        merged = _merge(resolved, delta)
    # The chosen option becomes the current one, so the mapping says which reading it is.
    merged["alternatives"] = {
        **resolved["alternatives"],
        name: {**entry, "current": label},
    }
    return merged


# --- end of alternatives ---------------------------------------------------------------------


class Scenario(StrictModel):
    """A complete study scenario."""

    scenario: Annotated[str, Field(min_length=1, max_length=80)]
    title: Annotated[str, Field(min_length=1)]
    description: str = ""
    manual: Annotated[int, Field(ge=FIRST_MANUAL, le=LAST_MANUAL)]
    offense_date: Date | None = None
    study: StudySettings
    population: PopulationParameters
    #: Merged under every district before validation (mappings key by key, the district's keys
    #: winning; lists, values and documented parameters replaced whole).
    district_defaults: dict[str, Any] = Field(default_factory=dict)
    districts: Annotated[dict[str, DistrictPolicy], Field(min_length=1)]
    judge: JudgeConfig
    profiles: dict[str, ProfileRecord] = Field(default_factory=dict)
    aggravated_felony: AggravatedFelonyDefinition = Field(
        default_factory=AggravatedFelonyDefinition
    )
    #: A place for YAML anchors (``&name``) shared by several districts; otherwise ignored.
    anchors: dict[str, Any] = Field(default_factory=dict)
    # --- headline and validation (issue 12) ---------------------------------------------------
    #: The pair the headline gap compares (default: the first two listed districts).
    headline: HeadlinePair | None = None
    #: Published outcome figures to report beside the simulated ones.
    validation: Annotated[list[PublishedFigure], Field(max_length=500)] = Field(
        default_factory=list
    )
    # --- modelling choices without a number (issue 12) ------------------------------------------
    choices: Annotated[list[ModellingChoice], Field(max_length=200)] = Field(default_factory=list)

    @property
    def headline_pair(self) -> tuple[int, int] | None:
        """District indices (from, to) of the headline gap; None with a single district."""
        codes = self.district_codes
        chosen = self.headline or HeadlinePair()
        start = chosen.from_ or next((c for c in codes if c != chosen.to), None)
        end = chosen.to or next((c for c in codes if c != start), None)
        if start not in codes or end not in codes or start == end:
            return None
        return codes.index(start), codes.index(end)

    def _headline_problems(self) -> list[tuple[tuple[str | int, ...], Any, str]]:
        """A headline pair that names an unlisted district, one district twice, or a pair whose
        paired gaps are not tallied (``study.pairs``)."""
        if self.headline is None:
            return []
        codes, problems = self.district_codes, []
        for key, code in (("from", self.headline.from_), ("to", self.headline.to)):
            if code is not None and code not in codes:
                allowed = (
                    f"allowed: a listed district ({', '.join(codes[:8])}{', …' * (len(codes) > 8)})"
                )
                problems.append((("headline", key), code, f"not a listed district; {allowed}"))
        if problems:
            return problems
        pair = self.headline_pair
        if pair is None:
            problems.append(
                (
                    ("headline",),
                    self.headline.model_dump(by_alias=True),
                    "the headline compares two different listed districts; allowed: two distinct "
                    "listed districts",
                )
            )
        elif pair not in self.district_pairs and pair[::-1] not in self.district_pairs:
            problems.append(
                (
                    ("headline",),
                    self.headline.model_dump(by_alias=True),
                    f"this pair's paired gaps are not tallied (study.pairs: {self.study.pairs} "
                    f"tallies each district against {codes[0]} only); allowed: a pair with "
                    f"{codes[0]}, or study.pairs: all",
                )
            )
        return problems

    # --- alternatives (issue 13) --------------------------------------------------------------
    #: Named alternative readings of the scenario's choices (:class:`Alternative`), which a sweep
    #: varies as discrete factors; the scenario as written is each one's ``current`` option.
    alternatives: dict[str, Alternative] = Field(default_factory=dict)

    # --- end of headline and validation -------------------------------------------------------

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: Any) -> Scenario:
        """``district_defaults`` merged under every district; field errors first; then every
        cross-field problem at once, each at its field."""
        merged, inherited, owned = _with_district_defaults(data)
        merged, from_population = _with_district_populations(merged)
        try:
            scenario = handler(merged)
        except ValidationError as error:
            if not inherited and not from_population:
                raise
            raise _blame_defaults(cls.__name__, error, inherited, owned, from_population) from None
        problems = scenario._problems()
        if problems:
            raise problems_error(cls.__name__, problems)
        return scenario

    def _problems(self) -> list[tuple[tuple[str | int, ...], Any, str]]:
        """Contradictions between fields, as (location, value, message)."""
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if not _SLUG.match(self.scenario):
            problems.append(
                (("scenario",), self.scenario, "allowed: lower-case letters, digits and hyphens")
            )
        for code in self.districts:
            if code not in DISTRICTS:
                problems.append(
                    (
                        ("districts", code),
                        code,
                        "unknown district code; allowed: the 94 USSC codes, e.g. "
                        f"{', '.join(list(DISTRICTS)[:8])}, … (sim/model/districts.py)",
                    )
                )
        if sum(d.caseload_weight.value for d in self.districts.values()) <= 0:
            problems.append(
                (("districts",), None, "the caseload weights sum to zero; allowed: a positive sum")
            )
        problems += self._edition_problems()
        for name in self.profiles:
            if not _SLUG.match(name):
                problems.append(
                    (("profiles", name), name, "allowed: lower-case letters, digits and hyphens")
                )
        problems += self._headline_problems()
        return problems

    def _edition_problems(self) -> list[tuple[tuple[str | int, ...], Any, str]]:
        """What the Manual and the offense date do not allow."""
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        allowed = edition(self.manual).early_disposition
        for code, district in self.districts.items():
            for k, offer in enumerate(district.offers):
                levels = offer.early_disposition_levels
                most = max(levels.values(), default=0) if isinstance(levels, dict) else levels
                if most > allowed.max_levels:
                    problems.append(
                        (
                            ("districts", code, "offers", k, "early_disposition_levels"),
                            most,
                            f"not available under the {self.manual} Manual ({allowed.source}); "
                            f"allowed: 0-{allowed.max_levels}",
                        )
                    )
        if self.date < ADAA_1988:
            problems.append(
                (
                    ("offense_date",),
                    self.date,
                    f"before {ADAA_1988:%b %-d, %Y}, when 8 U.S.C. § 1326(b) was created: the "
                    "districts' § 1326(b) charges would not exist; allowed: that date or later",
                )
            )
        for name, profile in self.profiles.items():
            for k, prior in enumerate(profile.priors):
                raw = prior.model_dump(exclude_none=True)
                for field, message in prior_problems(raw, self.manual, self.date):
                    loc = ("profiles", name, "priors", k, field)
                    problems.append((loc, raw.get(field), message))
        return problems

    @property
    def own_populations(self) -> dict[int, PopulationParameters]:
        """District index → the population of the defendants arrested there, for each district
        whose merged ``population`` differs in some number from the scenario's (a district that
        restates the scenario's numbers has no population of its own)."""
        top = _numbers(self.population)
        return {
            d: policy.population
            for d, policy in enumerate(self.districts.values())
            if policy.population is not None and _numbers(policy.population) != top
        }

    @property
    def district_codes(self) -> list[str]:
        """District codes in declaration order."""
        return list(self.districts)

    @property
    def district_pairs(self) -> tuple[tuple[int, int], ...]:
        """The district index pairs (a, b) tallied and reported, by ``study.pairs``: every pair
        a < b in declaration order, or (0, b) for every later district b."""
        count, rule = len(self.districts), self.study.pairs
        if rule == "all" or (rule == "auto" and count <= ALL_PAIRS_UP_TO):
            return tuple(itertools.combinations(range(count), 2))
        return tuple((0, b) for b in range(1, count))

    @property
    def date(self) -> dt.date:
        """Every defendant's offense date (the edition's default when none is given)."""
        return self.offense_date or edition(self.manual).default_offense_date

    def aggravated_felony_law(self) -> AggravatedFelonyLaw:
        """8 U.S.C. § 1101(a)(43) as in force on the offense date, in the scenario's reading."""
        options = self.aggravated_felony
        return law_in_force(
            self.date,
            options.reading or edition(self.manual).reentry.aggravated_felony_reading,
            smuggling_for_commercial_advantage=options.smuggling_for_commercial_advantage,
            firearms=options.firearms,
        )


def _leaves(mapping: Mapping[str, Any], prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    """The paths a merge takes whole from ``mapping``: keys down to values, lists and parameters."""
    paths: set[tuple[Any, ...]] = set()
    for key, value in mapping.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value and "value" not in value:
            paths |= _leaves(value, path)
        else:
            paths.add(path)
    return paths


def _with_district_defaults(
    data: Any,
) -> tuple[Any, set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """``data`` with ``district_defaults`` merged under every district, and the field paths
    (``("districts", code, ...)``) whose values came from the defaults: a path the defaults set
    (a key down to a value, a list or a parameter) that the district does not set, at that path
    or above it; and the paths the districts set themselves."""
    if not isinstance(data, Mapping):
        return data, set(), set()
    defaults, districts = data.get("district_defaults"), data.get("districts")
    if not defaults or not isinstance(defaults, Mapping) or not isinstance(districts, Mapping):
        return data, set(), set()
    merged_districts: dict[Any, Any] = {}
    inherited: set[tuple[Any, ...]] = set()
    owned: set[tuple[Any, ...]] = set()
    default_paths = _leaves(defaults)
    for code, district in districts.items():
        if not isinstance(district, Mapping):
            merged_districts[code] = district  # reported as not a mapping
            continue
        own = _leaves(district)
        owned |= {("districts", code, *path) for path in own}
        for path in default_paths:
            if not any(path[:k] in own for k in range(1, len(path) + 1)):
                inherited.add(("districts", code, *path))
        merged_districts[code] = _merge(defaults, district)
    return {**data, "districts": merged_districts}, inherited, owned


def _numbers(parameters: PopulationParameters) -> tuple[float, ...]:
    """Every number of a population, in field order (sources and labels left out)."""
    return tuple(getattr(parameters, name).value for name in type(parameters).model_fields)


def _with_district_populations(data: Any) -> tuple[Any, set[tuple[Any, ...]]]:
    """``data`` with each district's partial ``population`` (its own, or from
    ``district_defaults``) merged over the top-level ``population`` (the district's keys win;
    each documented parameter replaced whole), and the field paths (``("districts", code,
    "population", name)``) whose values came from the top-level population: a problem there is
    the top-level population's, reported once at ``population.name``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("districts"), Mapping):
        return data, set()
    top = data.get("population")
    # Every field the district does not set is the top-level's (present there or not).
    top_names = set(PopulationParameters.model_fields) | (
        set(top) if isinstance(top, Mapping) else set()
    )
    merged_districts: dict[Any, Any] = {}
    inherited: set[tuple[Any, ...]] = set()
    for code, district in data["districts"].items():
        own = district.get("population") if isinstance(district, Mapping) else None
        if not isinstance(own, Mapping):  # none, or reported as not a mapping
            merged_districts[code] = district
            continue
        inherited |= {("districts", code, "population", name) for name in top_names - set(own)}
        population = _merge(top, own) if isinstance(top, Mapping) else dict(own)
        merged_districts[code] = {**district, "population": population}
    return {**data, "districts": merged_districts}, inherited


def _from_defaults(
    loc: tuple[Any, ...], inherited: set[tuple[Any, ...]], owned: set[tuple[Any, ...]]
) -> str | None:
    """Where the value at ``loc`` came from: "value from district_defaults" (an inherited path at
    or above it, or every path below a mapping it names), "partly from district_defaults" (a
    mapping merged from both), or None (the district's own)."""
    if any(loc[:k] in inherited for k in range(3, len(loc) + 1)):
        return "value from district_defaults"
    if len(loc) < 3 or loc[0] != "districts":
        return None
    if not any(path[: len(loc)] == loc for path in inherited):
        return None
    if any(path[: len(loc)] == loc for path in owned):
        return "partly from district_defaults"
    return "value from district_defaults"


def _blame_defaults(
    title: str,
    error: ValidationError,
    inherited: set[tuple[Any, ...]],
    owned: set[tuple[Any, ...]],
    from_population: set[tuple[Any, ...]] = frozenset(),
) -> ValidationError:
    """``error`` with each problem in a value inherited from ``district_defaults`` saying so; a
    problem in a district population's value taken from the top-level ``population`` left to
    the top-level's own report, and a problem with a whole district population saying it is the
    district's values merged over the top-level one."""
    errors = []
    for problem in error.errors(include_url=False):
        loc = tuple(problem["loc"])
        if loc[:4] in from_population:
            continue  # reported at population.<name>
        if (
            len(loc) == 3
            and loc[2] == "population"
            and any(path[:3] == loc for path in from_population)
        ):
            problem = {
                **problem,
                "msg": f"{problem['msg']} (the district's population merged over the top-level "
                "population)",
            }
        if origin := _from_defaults(loc, inherited, owned):
            message = problem["msg"].removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                message = "unknown key"
            elif problem["type"] == "missing":
                message = "required key is missing"
            problem = {
                **problem,
                "type": "from_district_defaults",
                "msg": f"{message} ({origin})",
            }
        errors.append(problem)
    return problems_error(title, [], errors)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        # A documented parameter ({value, unit, source, assumption}) is replaced whole: a child
        # that changes a value must also say where the new value comes from.
        is_parameter = isinstance(value, Mapping) and "value" in value
        if not is_parameter and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_scenario_mapping(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Load a scenario file and every file it ``extends:``, merged (child over parent).

    Raises
    ------
    InputError
        An unreadable or malformed file, a bad ``extends`` value or a cycle.
    """
    path = Path(path)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links (Python < 3.13)
        raise InputError(f"{shown_path(path)}: cannot be read: a loop of symbolic links") from None
    if resolved in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, resolved))
        raise InputError(f"{path}: extends: cycle of scenario files: {cycle}")
    if len(_chain) >= _MAX_EXTENDS:
        raise InputError(f"{path}: extends: more than {_MAX_EXTENDS} files deep; allowed: fewer")
    data, _ = load_mapping(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    allowed = f"allowed: the path of another scenario file ({', '.join(_SCENARIO_SUFFIXES)})"
    if not isinstance(parent, str) or not parent or len(parent) > 500:
        raise InputError(f"{path}: extends: {_cut(parent)}: {allowed}")
    parent_path = path.parent / parent
    # Only a scenario file is read: the suffix is checked before anything is opened, so that
    # extends: cannot make the tool read (and echo, in its error messages) any other file.
    if parent_path.suffix.lower() not in _SCENARIO_SUFFIXES:
        raise InputError(f"{path}: extends: {_cut(parent)}: {allowed}")
    return _merge(resolve_scenario_mapping(parent_path, (*_chain, resolved)), data)


#: Files ``extends:`` may name, and how deep a chain of them may go.
_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
_MAX_EXTENDS = 10


def _cut(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _override_problems(overrides: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each override (a ``study`` setting given apart from the file: ``replications``, ...)
    checked against its field's type and bounds, so its problem is reported as the override's,
    not blamed on the file."""
    problems = []
    for name, value in overrides.items():
        field = StudySettings.model_fields.get(name)
        if field is None:
            allowed = ", ".join(StudySettings.model_fields)
            problems.append((name, f"not a study setting; allowed: {allowed}"))
            continue
        try:
            TypeAdapter(Annotated[field.annotation, *field.metadata]).validate_python(
                value, strict=True
            )
        except ValidationError as error:
            message = error.errors(include_url=False)[0]["msg"]
            problems.append((name, f"{_cut(value)}: {message}"))
    return problems


def load_scenario(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Scenario, dict[str, Any]]:
    """Load, merge, override and validate a scenario.

    Parameters
    ----------
    path : path, optional
        The scenario file; the built-in default when omitted.
    overrides : mapping, optional
        ``study`` settings to override (``seed``, ``replications``, ``defendants``,
        ``block_size``); ``None`` values are ignored.

    Returns
    -------
    (scenario, resolved_mapping)
        The validated scenario and the merged mapping it came from (for archiving).

    Raises
    ------
    InputError
        Naming the file, the field path, the value and what is allowed.
    """
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    study_overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if problems := _override_problems(study_overrides):
        raise InputError("bad study overrides", problems=problems)
    data = resolve_scenario_mapping(path)
    if study_overrides:
        study = data.get("study")
        data["study"] = _merge(study if isinstance(study, Mapping) else {}, study_overrides)
    return validate_model(Scenario, data, path, reference=_REFERENCE), data


def _assumed_value(model: BaseModel) -> Any:
    """What a labelled model assumes: a parameter's value, a distribution's name, a modelling
    choice's statement, or what a profile's record assumes."""
    for name in ("value", "distribution", "statement", "assumed"):
        if name in type(model).model_fields:
            return getattr(model, name)
    return None


def assumptions(model: BaseModel, path: str = "") -> list[dict[str, Any]]:
    """Every parameter of a scenario labelled ``assumption: true``, with its field path.

    Besides documented numbers and choices: eligibility rules labelled ``assumption: true`` or
    stating conditions without a ``source`` (their value is the conditions), the default
    declination split where ``prosecution.declined`` is absent, a judge's ``time_served_months``
    and each district's own ``judge``. Values inherited from ``district_defaults`` are listed at
    every district's path; a district population's parameters only where they differ from the
    top-level ``population``'s (value or source).
    """
    if isinstance(model, Scenario) and not path:
        found = _assumptions(model, path)
        top = {
            entry["field"].removeprefix("population."): entry
            for entry in found
            if entry["field"].startswith("population.")
        }
        return [entry for entry in found if not _restated(entry, top)]
    return _assumptions(model, path)


def _restated(entry: dict[str, Any], top: Mapping[str, dict[str, Any]]) -> bool:
    """Whether ``entry`` is a district population's parameter as the top-level one states it."""
    parts = entry["field"].split(".")
    if len(parts) != 4 or parts[0] != "districts" or parts[2] != "population":
        return False
    same = top.get(parts[3])
    return same is not None and (same["value"], same["source"]) == (
        entry["value"],
        entry["source"],
    )


def _assumptions(model: BaseModel, path: str = "") -> list[dict[str, Any]]:
    """:func:`assumptions` without leaving out restated district populations."""
    found: list[dict[str, Any]] = []
    if isinstance(model, Eligibility):  # a rule: its conditions are what it assumes
        if model.assumption or model.undocumented:
            source = model.source or (
                "undocumented: the scenario gives this eligibility rule no source, so it is "
                "listed as an assumption"
            )
            found.append({"field": path, "value": model.conditions, "source": source})
        return found
    if "assumption" in type(model).model_fields:  # a documented number or choice
        if model.assumption:
            found.append(
                {
                    "field": path,
                    "value": _assumed_value(model),
                    "source": model.source,
                }
            )
        return found
    for name in type(model).model_fields:
        value = getattr(model, name)
        child = f"{path}.{name}" if path else name
        if isinstance(value, BaseModel):
            found += _assumptions(value, child)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    found += _assumptions(item, f"{child}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += _assumptions(item, f"{child}[{index}]")
    return found

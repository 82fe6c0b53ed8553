"""Shared test helpers: run the engine on case mappings and compare with the reference."""

from __future__ import annotations

from typing import Any

from sim.guidelines.casefile import CaseFile
from sim.guidelines.worksheet import build_worksheet

#: Worksheet fields every oracle (corpus, scalar reference) states.
COMPARED_FIELDS = (
    "base_offense_level",
    "adjustments",
    "total_offense_level",
    "criminal_history_points",
    "criminal_history_category",
    "guideline_range_months",
    "statutory_maximum_months",
    "final_range_months",
    "zone",
)


def summary(worksheet: dict[str, Any]) -> dict[str, Any]:
    """The compared fields of a worksheet, adjustments without their reasons."""
    result = {field: worksheet[field] for field in COMPARED_FIELDS}
    result["adjustments"] = [
        {"rule": a["rule"], "levels": a["levels"]} for a in worksheet["adjustments"]
    ]
    return result


def engine_summary(case: dict[str, Any]) -> dict[str, Any]:
    """Validate a case mapping and summarise the engine's worksheet for it."""
    return summary(build_worksheet(CaseFile.model_validate(case)))


#: The shared archived run's arguments (conftest ``archived_run``): 3 replications of 3,000.
SMALL_RUN = ["--defendants", "3000", "--replications", "3", "--defendant-sample", "20"]

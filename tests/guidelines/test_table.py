"""Sentencing Table invariants for every cell, independent cell checks, categories and zones."""

import numpy as np
import pytest

from sim.guidelines.editions import edition
from sim.guidelines.table import LIFE_MONTHS, TABLE, category_from_points, guideline_range, zone

LEVELS = np.arange(1, 44)
CATEGORIES = np.arange(1, 7)
LOW = TABLE.min_months[1:, 1:]
HIGH = TABLE.max_months[1:, 1:]


def zones_of(minima, manual):
    """Zone numbers under the edition's definitions, through the engine's own function."""
    ceilings = edition(manual).numbers.zone_ceilings
    return np.array([zone(int(m), ceilings) for m in minima])


def test_shape_is_43_by_6():
    assert LOW.shape == HIGH.shape == (43, 6)


@pytest.mark.parametrize("months", [LOW, HIGH], ids=["minimum", "maximum"])
def test_rows_and_columns_never_decrease(months):
    assert (np.diff(months, axis=0) >= 0).all(), "a higher offense level lowered a bound"
    assert (np.diff(months, axis=1) >= 0).all(), "a higher category lowered a bound"


def test_every_range_is_well_formed():
    assert (LOW <= HIGH).all()
    assert (LOW >= 0).all()


def test_width_rule_of_28_usc_994_b_2():
    # "the maximum ... shall not exceed the minimum ... by more than the greater of 25 percent
    # or 6 months" (28 U.S.C. § 994(b)(2)); life tops are outside the rule.
    finite = HIGH < LIFE_MONTHS
    allowed = np.maximum(1.25 * LOW, LOW + 6)
    assert (HIGH[finite] <= allowed[finite]).all()
    assert finite.sum() == 43 * 6 - 6 - 21  # 6 "life" cells and 21 "360-life" cells


def test_life_cells():
    assert (LOW[42] == LIFE_MONTHS).all()  # offense level 43: life
    top = HIGH[36:42] == LIFE_MONTHS  # levels 37-42: 360-life in a triangle widening to the left
    assert top.sum() == 21  # 1 + 2 + ... + 6
    assert (LOW[36:42][top] == 360).all()


# Cells checked against sources independent of the transcription (guidelines.md §1.2).
@pytest.mark.parametrize(
    ("level", "category", "expected", "source"),
    [
        (21, 5, (70, 87), "Banuelos-Rodriguez, 215 F.3d at 973"),
        (24, 6, (100, 125), "Banuelos-Rodriguez, 215 F.3d at 983 (dissent)"),
        (20, 1, (33, 41), "USSG § 5C1.1 comment. n.1 (2016)"),
        (15, 3, (24, 30), "Sentencing Table comment. n.1"),
        (21, 3, (46, 57), "Rabanal"),
        (17, 3, (30, 37), "Hernandez-Arango"),
        (21, 2, (41, 51), "Estrada-Barrios"),
        (22, 4, (63, 78), "Martinez-Lugo"),
        (21, 4, (57, 71), "Alegria-Alvarez"),
        (32, 6, (210, 262), "texascriminallawyerblog.com (2010)"),
        (1, 1, (0, 6), "App. C Amend. 270"),
        (8, 1, (0, 6), "App. C Amend. 462"),
    ],
)
def test_cell_matches_independent_source(level, category, expected, source):
    assert guideline_range(level, category) == expected, source


def test_offense_level_is_clamped_to_1_and_43():
    got = [
        guideline_range(level, category) for level, category in ((-3, 6), (0, 6), (44, 1), (50, 1))
    ]
    assert got == [(0, 6), (0, 6), (LIFE_MONTHS, LIFE_MONTHS), (LIFE_MONTHS, LIFE_MONTHS)]


def test_points_to_category_bands():
    expected = [1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6]
    assert [category_from_points(p) for p in range(20)] == expected


@pytest.mark.parametrize(
    ("manual", "zones"),
    [
        # Amend. 462 (1992): B 1-6, C 8-10, D 12+; Amend. 738 (2010): B 1-9, C 10-12, D 15+.
        (
            2009,
            {
                "0-6": "A",
                "1-7": "B",
                "6-12": "B",
                "8-14": "C",
                "9-15": "C",
                "10-16": "C",
                "12-18": "D",
                "15-21": "D",
            },
        ),
        (
            2010,
            {
                "0-6": "A",
                "1-7": "B",
                "6-12": "B",
                "8-14": "B",
                "9-15": "B",
                "10-16": "C",
                "12-18": "C",
                "15-21": "D",
            },
        ),
    ],
)
def test_zones_under_each_definition(manual, zones):
    minima = np.array([int(cell.split("-")[0]) for cell in zones])
    letters = ["ABCD"[z - 1] for z in zones_of(minima, manual)]
    assert letters == list(zones.values())


def test_zone_changes_of_amendment_738_are_exactly_three_ranges():
    # Its Reason for Amendment: 8-14 and 9-15 moved C -> B; 12-18 moved D -> C.
    changed = zones_of(LOW.ravel(), 2009) != zones_of(LOW.ravel(), 2010)
    ranges = {
        f"{lo}-{hi}" for lo, hi in zip(LOW.ravel()[changed], HIGH.ravel()[changed], strict=True)
    }
    assert ranges == {"8-14", "9-15", "12-18"}

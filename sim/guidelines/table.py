"""USSG Chapter 5, Part A: the Sentencing Table, criminal history categories and zones.

The month values are identical in every Manual from Nov 1, 1992 through Nov 1, 2025: only App. C
Amends. 270 (1989) and 462 (1992) changed cells, and Amend. 738 (Nov 1, 2010) changed zone
boundaries alone (``../shared/domain/guidelines.md`` §1.4). The 2017-2025 months were not checked
against Appendix C amendment by amendment; no source reports a change (**assumption**, same note).
The zone definitions differ by edition: they are in the edition rulebook.

The look-ups the engine's kernels make are compiled functions callable from Python too:

>>> guideline_range(21, 5), guideline_range(50, 1)
((70, 87), (99999, 99999))
>>> [category_from_points(p) for p in (0, 1, 2, 13, 40)]
[1, 1, 2, 6, 6]
>>> zone(8, np.array([0, 6, 10])), zone(8, np.array([0, 9, 12]))
(3, 2)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.guidelines.editions import edition

__all__ = [
    "CATEGORY_NAMES",
    "LIFE_MONTHS",
    "TABLE",
    "ZONE_NAMES",
    "SentencingTable",
    "category_from_points",
    "format_months",
    "format_range",
    "guideline_range",
    "sentencing_table_text",
    "table_rows",
    "zone",
]

#: Sentinel for "life imprisonment" in month arrays. It exceeds every statutory maximum, so
#: comparisons in § 5G1.1 need no special case; it is shown as "life".
LIFE_MONTHS = 99_999

#: Roman numerals by category number (index 0 unused).
CATEGORY_NAMES = ("", "I", "II", "III", "IV", "V", "VI")

#: Zone letters by zone number (index 0 = no guideline applies).
ZONE_NAMES = ("", "A", "B", "C", "D")

# Sentencing Table (USSG Ch. 5 Pt. A), months, offense levels 1-43 by criminal history category
# I-VI. Transcribed from ../shared/domain/guidelines.md §1.2 (2016 Manual's table, cells checked
# against the seed opinion, USSG commentary and court opinions listed there).
_TABLE_TEXT = """\
 1      0-6      0-6      0-6      0-6      0-6      0-6
 2      0-6      0-6      0-6      0-6      0-6      1-7
 3      0-6      0-6      0-6      0-6      2-8      3-9
 4      0-6      0-6      0-6      2-8     4-10     6-12
 5      0-6      0-6      1-7     4-10     6-12     9-15
 6      0-6      1-7      2-8     6-12     9-15    12-18
 7      0-6      2-8     4-10     8-14    12-18    15-21
 8      0-6     4-10     6-12    10-16    15-21    18-24
 9     4-10     6-12     8-14    12-18    18-24    21-27
10     6-12     8-14    10-16    15-21    21-27    24-30
11     8-14    10-16    12-18    18-24    24-30    27-33
12    10-16    12-18    15-21    21-27    27-33    30-37
13    12-18    15-21    18-24    24-30    30-37    33-41
14    15-21    18-24    21-27    27-33    33-41    37-46
15    18-24    21-27    24-30    30-37    37-46    41-51
16    21-27    24-30    27-33    33-41    41-51    46-57
17    24-30    27-33    30-37    37-46    46-57    51-63
18    27-33    30-37    33-41    41-51    51-63    57-71
19    30-37    33-41    37-46    46-57    57-71    63-78
20    33-41    37-46    41-51    51-63    63-78    70-87
21    37-46    41-51    46-57    57-71    70-87    77-96
22    41-51    46-57    51-63    63-78    77-96   84-105
23    46-57    51-63    57-71    70-87   84-105   92-115
24    51-63    57-71    63-78    77-96   92-115  100-125
25    57-71    63-78    70-87   84-105  100-125  110-137
26    63-78    70-87    78-97   92-115  110-137  120-150
27    70-87    78-97   87-108  100-125  120-150  130-162
28    78-97   87-108   97-121  110-137  130-162  140-175
29   87-108   97-121  108-135  121-151  140-175  151-188
30   97-121  108-135  121-151  135-168  151-188  168-210
31  108-135  121-151  135-168  151-188  168-210  188-235
32  121-151  135-168  151-188  168-210  188-235  210-262
33  135-168  151-188  168-210  188-235  210-262  235-293
34  151-188  168-210  188-235  210-262  235-293  262-327
35  168-210  188-235  210-262  235-293  262-327  292-365
36  188-235  210-262  235-293  262-327  292-365  324-405
37  210-262  235-293  262-327  292-365  324-405 360-life
38  235-293  262-327  292-365  324-405 360-life 360-life
39  262-327  292-365  324-405 360-life 360-life 360-life
40  292-365  324-405 360-life 360-life 360-life 360-life
41  324-405 360-life 360-life 360-life 360-life 360-life
42 360-life 360-life 360-life 360-life 360-life 360-life
43     life     life     life     life     life     life
"""


def _parse_cell(cell: str) -> tuple[int, int]:
    if cell == "life":
        return LIFE_MONTHS, LIFE_MONTHS
    low, high = cell.split("-")
    return int(low), LIFE_MONTHS if high == "life" else int(high)


class SentencingTable(NamedTuple):
    """The table as arrays ``[offense_level, category]`` (levels 1-43, categories 1-6; row and
    column 0 are padding), and the points at which categories II-VI start."""

    min_months: np.ndarray
    max_months: np.ndarray
    category_floor_points: np.ndarray


def _build_table() -> SentencingTable:
    low = np.zeros((44, 7), dtype=np.int64)
    high = np.zeros((44, 7), dtype=np.int64)
    for line in _TABLE_TEXT.splitlines():
        level, *cells = line.split()
        for category, cell in enumerate(cells, start=1):
            low[int(level), category], high[int(level), category] = _parse_cell(cell)
    # Column headings since App. C Amend. 270 (guidelines.md §1.1): I 0-1, II 2-3, III 4-6,
    # IV 7-9, V 10-12, VI 13+.
    floors = np.array([2, 4, 7, 10, 13], dtype=np.int64)
    for array in (low, high, floors):
        array.setflags(write=False)
    return SentencingTable(low, high, floors)


#: The Sentencing Table of every encoded edition.
TABLE = _build_table()


@njit(cache=True)
def category_from_points(points, floors=TABLE.category_floor_points):
    """Criminal history category (1-6) for total points: one more than the number of category
    floors (II-VI) the points reach."""
    category = 1
    for floor in floors:
        category += points >= floor
    return category


@njit(cache=True)
def guideline_range(offense_level, category, table=TABLE):
    """Guideline range ``(min, max)`` in months; levels below 1 read as 1 and above 43 as 43
    (Sentencing Table commentary n.2). ``LIFE_MONTHS`` marks life imprisonment."""
    level = min(max(offense_level, 1), 43)
    return table.min_months[level, category], table.max_months[level, category]


@njit(cache=True)
def zone(minimum, ceilings):
    """Zone (1 = A ... 4 = D) of a range with this minimum: one more than the number of zone
    ceilings (the edition's greatest minima of zones A, B and C) below it."""
    z = 1
    for ceiling in ceilings:
        z += ceiling < minimum
    return z


def format_months(months: int) -> str:
    """``"life"`` for the life sentinel, else the number."""
    return "life" if months >= LIFE_MONTHS else str(int(months))


def format_range(min_months: int, max_months: int) -> str:
    """A range as the Manual prints it: ``70-87``, ``360-life``, ``life``.

    >>> format_range(360, LIFE_MONTHS), format_range(LIFE_MONTHS, LIFE_MONTHS)
    ('360-life', 'life')
    """
    if min_months >= LIFE_MONTHS:
        return "life"
    return f"{format_months(min_months)}-{format_months(max_months)}"


def table_rows() -> list[tuple[int, list[str]]]:
    """The table as printed: ``(offense_level, [cell for I..VI])`` for levels 1-43."""
    return [
        (
            level,
            [
                format_range(TABLE.min_months[level, c], TABLE.max_months[level, c])
                for c in range(1, 7)
            ],
        )
        for level in range(1, 44)
    ]


def sentencing_table_text(manual: int, output_format: str) -> str:
    """The Sentencing Table of the ``manual`` edition as CSV or Markdown text.

    CSV: header ``offense_level,I,II,III,IV,V,VI`` and cells such as ``70-87``, ``360-life``,
    ``life`` (USSG Ch. 5 Pt. A; identical 1995-2025).

    Raises
    ------
    ValueError
        An edition that is not encoded, or a format other than ``csv`` and ``markdown``.

    >>> print(sentencing_table_text(1995, "csv").splitlines()[21])
    21,37-46,41-51,46-57,57-71,70-87,77-96
    """
    edition(manual)  # ValueError for an edition that is not encoded
    rows = table_rows()
    categories = list(CATEGORY_NAMES[1:])
    if output_format == "csv":
        lines = [",".join(["offense_level", *categories])]
        lines += [",".join([str(level), *cells]) for level, cells in rows]
    elif output_format == "markdown":
        lines = [
            f"Sentencing Table (months), Guidelines Manual in force on November 1, {manual} "
            "(USSG Ch. 5 Pt. A)",
            "",
            "| Offense level | " + " | ".join(categories) + " |",
            "|---:|" + "---:|" * len(categories),
        ]
        lines += [f"| {level} | " + " | ".join(cells) + " |" for level, cells in rows]
    else:
        raise ValueError(f"format {output_format!r}: allowed: csv, markdown")
    return "\n".join(lines) + "\n"

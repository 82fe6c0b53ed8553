"""USSG Chapter 5, Part A: the Sentencing Table, criminal history categories and zones.

The month values are identical in every Manual from Nov 1, 1992 through Nov 1, 2025: only App. C
Amends. 270 (1989) and 462 (1992) changed cells, and Amend. 738 (Nov 1, 2010) changed zone
boundaries alone (``../shared/domain/guidelines.md`` §1.4). The 2017-2025 months were not checked
against Appendix C amendment by amendment; no source reports a change (**assumption**, same note).

>>> int(GUIDELINE_MIN_MONTHS[21, 5]), int(GUIDELINE_MAX_MONTHS[21, 5])
(70, 87)
>>> category_from_points(np.array([0, 1, 2, 13, 40]))
array([1, 1, 2, 6, 6], dtype=int8)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CATEGORY_FLOOR_POINTS",
    "CATEGORY_NAMES",
    "GUIDELINE_MAX_MONTHS",
    "GUIDELINE_MIN_MONTHS",
    "LIFE_MONTHS",
    "ZONE_NAMES",
    "category_from_points",
    "format_months",
    "format_range",
    "guideline_range",
    "table_rows",
    "zone_ceilings",
    "zone_from_minimum",
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


def _build_table() -> tuple[np.ndarray, np.ndarray]:
    # Row 0 is padding so that an offense level indexes its own row.
    low = np.zeros((44, 7), dtype=np.int32)
    high = np.zeros((44, 7), dtype=np.int32)
    for line in _TABLE_TEXT.splitlines():
        level, *cells = line.split()
        for category, cell in enumerate(cells, start=1):
            low[int(level), category], high[int(level), category] = _parse_cell(cell)
    low.setflags(write=False)
    high.setflags(write=False)
    return low, high


#: Guideline range minimum and maximum, indexed ``[offense_level, category]`` (1-43, 1-6).
GUIDELINE_MIN_MONTHS, GUIDELINE_MAX_MONTHS = _build_table()

#: Criminal history points at which categories II-VI start (Sentencing Table column headings since
#: App. C Amend. 270; guidelines.md §1.1): I 0-1, II 2-3, III 4-6, IV 7-9, V 10-12, VI 13+.
CATEGORY_FLOOR_POINTS = np.array([2, 4, 7, 10, 13])
CATEGORY_FLOOR_POINTS.setflags(write=False)


def category_from_points(points: np.ndarray) -> np.ndarray:
    """Criminal history category (1-6) for total points.

    Parameters
    ----------
    points : ndarray of int, shape (n,)
        Criminal history points, >= 0.

    Returns
    -------
    ndarray of int8, shape (n,)
        Category number, 1 (I) to 6 (VI).
    """
    return (np.searchsorted(CATEGORY_FLOOR_POINTS, points, side="right") + 1).astype(np.int8)


def guideline_range(
    offense_level: np.ndarray, category: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Look up guideline ranges (months) for offense levels and categories.

    Offense levels below 1 are read as 1 and above 43 as 43 (Sentencing Table commentary n.2).

    Parameters
    ----------
    offense_level : ndarray of int, shape (n,)
    category : ndarray of int, shape (n,)
        1 (I) to 6 (VI).

    Returns
    -------
    (min_months, max_months) : two ndarrays of int32, shape (n,)
        ``LIFE_MONTHS`` marks life imprisonment.
    """
    level = np.clip(offense_level, 1, 43)
    return GUIDELINE_MIN_MONTHS[level, category], GUIDELINE_MAX_MONTHS[level, category]


# Zone upper bounds on the range minimum (months), zones A, B, C; anything above is D.
# 1992 definitions (App. C Amend. 462, Nov 1, 1992): A 0, B 1-6, C 8-10, D 12+.
# 2010 definitions (App. C Amend. 738, Nov 1, 2010): A 0, B 1-9, C 10-12, D 15+.
# guidelines.md §1.3. Minima between the printed bands (7, 11, 13, 14) occur in no table cell.
_ZONE_CEILINGS_1992 = np.array([0, 6, 10])
_ZONE_CEILINGS_2010 = np.array([0, 9, 12])
_ZONE_CEILINGS_1992.setflags(write=False)
_ZONE_CEILINGS_2010.setflags(write=False)


def zone_ceilings(manual: int) -> np.ndarray:
    """Upper bounds (months, inclusive) of the range minimum in zones A, B and C under the
    ``manual`` edition; a greater minimum is zone D.

    >>> zone_ceilings(2009), zone_ceilings(2010)
    (array([ 0,  6, 10]), array([ 0,  9, 12]))
    """
    return _ZONE_CEILINGS_2010 if manual >= 2010 else _ZONE_CEILINGS_1992


def zone_from_minimum(min_months: np.ndarray, manual: int) -> np.ndarray:
    """Zone (1=A … 4=D) of ranges with the given minima under the edition's definitions.

    >>> zone_from_minimum(np.array([0, 6, 8, 12, 15]), 1995)
    array([1, 2, 3, 4, 4], dtype=int8)
    >>> zone_from_minimum(np.array([0, 6, 8, 12, 15]), 2010)
    array([1, 2, 2, 3, 4], dtype=int8)
    """
    return (np.searchsorted(zone_ceilings(manual), min_months, side="left") + 1).astype(np.int8)


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
                format_range(GUIDELINE_MIN_MONTHS[level, c], GUIDELINE_MAX_MONTHS[level, c])
                for c in range(1, 7)
            ],
        )
        for level in range(1, 44)
    ]

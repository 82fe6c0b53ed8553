"""Publication charts of a run, drawn from its tidy result tables (:mod:`sim.output.tables`).

One function per figure. Each takes the table(s) it needs and an optional ``ax``; it draws into
that Axes (or into a new :class:`matplotlib.figure.Figure` sized for one journal column, about
3.5 in wide, when ``ax`` is None) and returns the Axes. :func:`render_figures` writes every
figure of a run as PNG and SVG with byte-identical output for identical tables.

Modules, one kind of figure each:

- :mod:`~sim.output.figures.style`: palette, dash patterns, the local Matplotlib style and the
  helpers the figures share (table checks, axes, ECDFs, legends).
- :mod:`~sim.output.figures.distributions`: :func:`district_distributions`.
- :mod:`~sim.output.figures.gaps`: paired differences of the same defendants,
  :func:`paired_differences` and :func:`gap_heatmap`.
- :mod:`~sim.output.figures.decomposition`: :func:`variance_shares` and
  :func:`selection_vs_policy`.
- :mod:`~sim.output.figures.convergence`: :func:`convergence`.
- :mod:`~sim.output.figures.profiles`: :func:`profiles`.
- :mod:`~sim.output.figures.render`: :data:`FIGURE_NAMES` and :func:`render_figures`.

The functions :func:`convergence` and :func:`profiles` have the names of their modules; the
package attribute is the function, so reach a module's helpers with
``from sim.output.figures.<module> import ...``.

Conventions, the same in every figure:

- Colours are the Okabe–Ito colour-blind-safe palette; each district keeps one colour, assigned
  in the order the districts first appear in the table (the scenario's order), so a district has
  the same colour in every figure of a run. Lines also differ in dash pattern, so the figures
  survive grey-scale printing and lines that coincide stay visible.
- Every axis label names its unit in parentheses; text is at least 7 pt.
- Nothing global is changed: no ``pyplot`` state, no style or ``rcParams`` mutation. Drawing
  and saving run inside a local :func:`matplotlib.style.context` (Matplotlib's defaults plus
  the package's sizes), so a user's ``matplotlibrc`` cannot change the output.
"""

from __future__ import annotations

from sim.output.figures.by_category import months_by_category
from sim.output.figures.convergence import convergence
from sim.output.figures.decomposition import selection_vs_policy, variance_shares
from sim.output.figures.distributions import district_distributions, sentence_histogram
from sim.output.figures.gaps import gap_heatmap, paired_differences
from sim.output.figures.profiles import profiles
from sim.output.figures.render import FIGURE_NAMES, render_figures
from sim.output.figures.style import OKABE_ITO, district_colors

__all__ = [
    "FIGURE_NAMES",
    "OKABE_ITO",
    "convergence",
    "district_colors",
    "district_distributions",
    "gap_heatmap",
    "months_by_category",
    "paired_differences",
    "profiles",
    "render_figures",
    "selection_vs_policy",
    "sentence_histogram",
    "variance_shares",
]

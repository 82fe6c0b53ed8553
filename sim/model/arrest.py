"""Arrest: which district each defendant is found in, for the as-arrested view.

The counterfactual view sentences every defendant in every district; court statistics instead see
each defendant once, in the district that arrested him. The model assigns him one district with
probability proportional to the scenario's caseload weights (``caseload_weight`` of each
district, documented parameters), by inverting the cumulative shares at the defendant's
``arrest.district`` uniform.

>>> from types import SimpleNamespace as N
>>> weights = {"A": N(caseload_weight=N(value=1.0)), "B": N(caseload_weight=N(value=3.0))}
>>> arrest_districts(N(districts=weights), np.array([0.1, 0.25, 0.9])).tolist()
[0, 1, 1]
"""

from __future__ import annotations

import numpy as np

__all__ = ["arrest_districts"]


def arrest_districts(scenario, uniforms: np.ndarray) -> np.ndarray:
    """Index of each defendant's arresting district (declaration order), shape (n,).

    Parameters
    ----------
    scenario : Scenario
        Its districts' ``caseload_weight`` values, summing to more than zero.
    uniforms : ndarray of float, shape (n,)
        The defendants' ``arrest.district`` uniforms in [0, 1).
    """
    weights = np.array([d.caseload_weight.value for d in scenario.districts.values()])
    cumulative = np.cumsum(weights) / weights.sum()
    arrest = np.searchsorted(cumulative, uniforms, side="right")
    return np.minimum(arrest, len(weights) - 1)

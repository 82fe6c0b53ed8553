"""How many examples a property test draws, by Hypothesis profile.

Each property test states the examples it deserves in a thorough run (``make test``, profile
``ci``); the inner loop (profile ``dev``, the default) draws a tenth of that, at least ten, so that
``pytest -m "not slow"`` stays fast while still exercising every property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: The profile in force: ``dev`` unless ``HYPOTHESIS_PROFILE`` says otherwise.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")


def examples(thorough: int) -> settings:
    """Settings drawing ``thorough`` examples under ``ci``, a tenth (at least 10) under ``dev``."""
    count = thorough if PROFILE == "ci" else max(10, thorough // 10)
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])

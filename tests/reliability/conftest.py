"""The reliability suite: hostile input over a real channel, linear time, deadlines, cancellation.

Example counts scale with ``NEWSBRIEF_FUZZ_SCALE`` (``make fuzz`` sets 10: >= 20,000 examples;
``make test`` runs the scale of 1: >= 2,000).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FUZZ_SCALE = max(1, int(os.environ.get("NEWSBRIEF_FUZZ_SCALE", "1")))

settings.register_profile(
    "newsbrief-reliability",
    deadline=None,  # no timed assertions: a slow example on a busy machine is not a failure
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,  # a failure prints the @reproduce_failure line
)


def examples(n: int) -> settings:
    """Hypothesis settings for ``n`` examples at scale 1."""
    return settings(settings.get_profile("newsbrief-reliability"), max_examples=n * FUZZ_SCALE)

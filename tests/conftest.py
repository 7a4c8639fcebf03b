"""Fixtures shared across test folders, and the property tests' profiles.

Property tests draw new examples on every run, so a developer's run keeps exploring.
``.ci/run`` selects the ``ci`` profile (``HYPOTHESIS_PROFILE=ci``): the same examples on
every run, so a submission that passed once passes again. ``HYPOTHESIS_PROFILE=deep``
draws ten times as many examples, to hunt for bugs before a release (tests that set
their own count scale it by :data:`DEPTH`).
"""

import os

from hypothesis import settings

pytest_plugins = ["tests.redis_loopback", "tests.approver"]

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("deep", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DEPTH = max(1, settings().max_examples // 100)
"""How many times its usual examples a property test with its own count draws."""

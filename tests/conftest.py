"""Suite-wide settings. Kept small: fixtures live next to the tests that use them, and
shared helpers in tests/support/ (import them as `tests.support.<module>`; pytest runs in
importlib mode, so test directories are not on sys.path and files may share names).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Two cores shared by several processes: a wall-clock deadline per example would make
# property tests flaky without finding anything. A failure prints the blob to reproduce it.
settings.register_profile(
    "tandem",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tandem"))

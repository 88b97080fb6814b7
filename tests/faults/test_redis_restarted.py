"""The redis_restarted fault scenario in CI: Redis killed and restarted mid-minute with the
compose file's settings under a 60-per-minute plan (about 45-65 s here: building the stack, and
up to 10 s waiting for a fresh minute window)."""

from __future__ import annotations

import pytest

from faults.scenarios import redis_restarted


@pytest.mark.slow
def test_a_redis_killed_mid_window_keeps_the_plans_count() -> None:
    row = redis_restarted.run(quick=True)
    assert row.ok, row.measured
    assert "then 429" in row.measured

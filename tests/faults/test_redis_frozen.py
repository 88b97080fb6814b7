"""The redis_frozen fault scenario in CI: a 4 s SIGSTOP of Redis under load on /me (about 60 s
here, most of it building the stack)."""

from __future__ import annotations

import pytest

from faults.scenarios import redis_frozen


@pytest.mark.slow
def test_a_frozen_redis_keeps_at_least_half_the_throughput_and_logs_once_per_worker() -> None:
    row = redis_frozen.run(quick=True)
    assert row.ok, row.measured
    assert "statuses {200: " in row.measured  # nothing but 200s, before, during and after

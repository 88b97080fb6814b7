"""The redis_frozen fault scenario in CI: a 4 s SIGSTOP of Redis under load on /me (about 30 s
here, most of it building the stack).

The test holds what the circuit breaker guarantees on any machine: every answer a 200, one log
line per worker each way, no request waiting on more than a few socket timeouts, and no timeout
per request (before the breaker, throughput fell to 4% of before; the bound here is 25%). The
issue's throughput target (>= 50% over a 10 s freeze) is a speed target: ``make faults`` reports
it (its ``redis_frozen`` row), as speed targets live in benchmarks, not in tests.
"""

from __future__ import annotations

import pytest

from faults.scenarios import redis_frozen


@pytest.mark.slow
def test_a_frozen_redis_costs_no_timeout_per_request_and_logs_once_per_worker() -> None:
    freeze = redis_frozen.measure(quick=True)
    assert set(freeze.statuses) == {200}, freeze
    assert freeze.logged_once_per_worker, freeze
    assert freeze.max_frozen < 2.0, freeze  # a few 0.25 s timeouts at most, never one per call
    assert freeze.share >= 0.25, freeze

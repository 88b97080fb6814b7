"""The fault scenarios, one module each, every one exposing ``run(quick: bool) -> Row``.

``quick=True`` is the CI test's run: shorter load, the same requirement.
"""

from __future__ import annotations

from collections.abc import Callable

from faults.report import Row
from faults.scenarios import (
    baseline,
    postgres_restarted,
    postgres_stopped,
    redis_frozen,
    redis_restarted,
    worker_killed,
)

SCENARIOS: dict[str, Callable[[bool], Row]] = {
    "baseline": baseline.run,
    "postgres_restarted": postgres_restarted.run,
    "postgres_stopped": postgres_stopped.run,
    "redis_frozen": redis_frozen.run,
    "redis_restarted": redis_restarted.run,
    "worker_killed": worker_killed.run,
}
# The fast ones also run as tests in CI (tests/faults/), each bounded in time.
FAST = frozenset(
    {
        "baseline",
        "postgres_restarted",
        "postgres_stopped",
        "redis_frozen",
        "redis_restarted",
        "worker_killed",
    }
)

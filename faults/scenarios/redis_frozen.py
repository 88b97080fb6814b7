"""Redis frozen (``SIGSTOP``: connections are accepted, nothing is answered) under load on /me.

Each worker pays one socket timeout when it first meets the frozen Redis, then one per probe
interval (``waqti.redis_cache.RETRY_SECONDS``); in between its circuit breaker skips Redis and
the API serves as it does without Redis (tokens read from PostgreSQL, no limits). Requirement:
throughput during the freeze at least half of before, every answer a 200, and per worker at most
one log line when its breaker opens and one when it closes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from faults.harness import Row, Stack, in_background, load
from waqti.redis_cache import RETRY_SECONDS

CLIENTS = 8
WORKERS = 4
OPENED = "Redis unreachable ("
CLOSED = "Redis reachable again"


@dataclass(frozen=True)
class Freeze:
    """What one freeze measured."""

    frozen_seconds: float
    rate_before: float
    rate_frozen: float
    rate_after: float
    p50_frozen: float
    max_frozen: float
    statuses: dict[int, int]
    opened: int  # "Redis unreachable" lines (one per worker whose breaker opened)
    closed: int  # "Redis reachable again" lines

    @property
    def share(self) -> float:
        return self.rate_frozen / self.rate_before if self.rate_before else 0.0

    @property
    def logged_once_per_worker(self) -> bool:
        return 1 <= self.opened <= WORKERS and self.closed == self.opened


def measure(quick: bool) -> Freeze:
    before, frozen = (3.0, 4.0) if quick else (10.0, 10.0)
    after = RETRY_SECONDS + 3.0  # every worker's probe has closed its breaker after RETRY_SECONDS
    with Stack(workers=WORKERS) as stack:
        load(stack, "/api/v1/me", seconds=1, clients=CLIENTS)  # warm the workers' caches
        running = in_background(
            stack, "/api/v1/me", seconds=before + frozen + after, clients=CLIENTS
        )
        time.sleep(before)
        frozen_at = time.monotonic()
        stack.redis.freeze()
        time.sleep(frozen)
        stack.redis.thaw()
        thawed_at = time.monotonic()
        result = running.result()
        log = stack.log_text()
    return Freeze(
        frozen_seconds=frozen,
        rate_before=result.rate(result.started, frozen_at),
        rate_frozen=result.rate(frozen_at, thawed_at),
        rate_after=result.rate(thawed_at + RETRY_SECONDS + 0.5, result.finished),
        p50_frozen=result.p50(frozen_at, thawed_at),
        max_frozen=result.max_seconds(frozen_at, thawed_at),
        statuses=dict(sorted(result.statuses().items())),
        opened=log.count(OPENED),
        closed=log.count(CLOSED),
    )


def run(quick: bool) -> Row:
    freeze = measure(quick)
    return Row(
        fault=(
            f"Redis frozen {freeze.frozen_seconds:.0f} s (SIGSTOP), {CLIENTS} clients on /me, "
            f"{WORKERS} workers"
        ),
        measured=(
            f"throughput {freeze.rate_before:.0f} -> {freeze.rate_frozen:.0f} req/s "
            f"({freeze.share:.0%}) during the freeze, p50 {freeze.p50_frozen * 1000:.1f} ms, max "
            f"{freeze.max_frozen * 1000:.0f} ms; {freeze.rate_after:.0f} req/s after; statuses "
            f"{freeze.statuses}; log: {freeze.opened} 'unreachable', {freeze.closed} "
            "'reachable again'"
        ),
        requirement=">= 50% of before, every answer a 200, <= 1 log line per worker each way",
        ok=(
            freeze.share >= 0.5 and set(freeze.statuses) == {200} and freeze.logged_once_per_worker
        ),
    )

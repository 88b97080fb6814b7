"""Redis frozen (``SIGSTOP``: connections are accepted, nothing is answered) under load on /me.

Each worker pays one socket timeout when it first meets the frozen Redis, then one per probe
interval (``waqti.redis_cache.RETRY_SECONDS``); in between its circuit breaker skips Redis and
the API serves as it does without Redis (tokens read from PostgreSQL, no limits). Requirement:
throughput during the freeze at least half of before, every answer a 200, and per worker at most
one log line when its breaker opens and one when it closes.
"""

from __future__ import annotations

import time

from faults.harness import Row, Stack, in_background, load
from waqti.redis_cache import RETRY_SECONDS

CLIENTS = 8
WORKERS = 4
OPENED = "Redis unreachable ("
CLOSED = "Redis reachable again"


def run(quick: bool) -> Row:
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
    rate_before = result.rate(result.started, frozen_at)
    rate_frozen = result.rate(frozen_at, thawed_at)
    rate_after = result.rate(thawed_at + RETRY_SECONDS + 0.5, result.finished)
    share = rate_frozen / rate_before if rate_before else 0.0
    statuses = result.statuses()
    opened, closed = log.count(OPENED), log.count(CLOSED)
    return Row(
        fault=f"Redis frozen {frozen:.0f} s (SIGSTOP), {CLIENTS} clients on /me, {WORKERS} workers",
        measured=(
            f"throughput {rate_before:.0f} -> {rate_frozen:.0f} req/s ({share:.0%}) during the "
            f"freeze, p50 {result.p50(frozen_at, thawed_at) * 1000:.1f} ms, max "
            f"{result.max_seconds(frozen_at, thawed_at) * 1000:.0f} ms; {rate_after:.0f} req/s "
            f"after; statuses {dict(sorted(statuses.items()))}; log: {opened} 'unreachable', "
            f"{closed} 'reachable again'"
        ),
        requirement=">= 50% of before, every answer a 200, <= 1 log line per worker each way",
        ok=(
            share >= 0.5 and set(statuses) == {200} and 1 <= opened <= WORKERS and closed == opened
        ),
    )

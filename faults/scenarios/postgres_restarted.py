"""PostgreSQL restarted (pg_ctl's fast restart) under load on /me and on the purchase-order list.

Every server session is cut; each worker's kept connection is dead until Django's health check
replaces it. Measured: the answers during the restart by status, how long after PostgreSQL is
back failures go on, the slowest request, and answers without a JSON body.
"""

from __future__ import annotations

import time
from collections import Counter

from faults.harness import LoadResult, Row, Stack, in_background

CLIENTS_PER_PATH = 4
PATHS = ("/api/v1/me", "/api/v1/purchase-orders?per_page=15")
RECOVERY_SECONDS = 2.0  # failures may go on at most this long after PostgreSQL is back
HANG_SECONDS = 10.0  # no request may take longer, restart or not


def run(quick: bool) -> Row:
    before, after = (2.0, 3.0) if quick else (5.0, 8.0)
    with Stack(workers=4) as stack:
        loads = [
            in_background(stack, path, seconds=before + after, clients=CLIENTS_PER_PATH)
            for path in PATHS
        ]
        time.sleep(before)
        down = time.monotonic()
        stack.postgres.restart()
        back = time.monotonic()
        results = [future.result() for future in loads]
    return measure(results, down, back)


def measure(results: list[LoadResult], down: float, back: float) -> Row:
    """The row for load ``results`` around a restart that began at ``down`` and ended at
    ``back`` (time.monotonic())."""
    samples = [s for result in results for s in result.samples]
    failed_after = [s.started for s in samples if s.started >= back and s.status != 200]
    recovery = max(failed_after, default=back) - back
    answered_after = sum(1 for s in samples if s.started >= back and s.status == 200)
    during = Counter(s.status for s in samples if down <= s.started < back)
    failures = Counter(s.status for s in samples if s.status != 200)
    slowest = max((s.seconds for s in samples), default=0.0)
    without_json = sum(result.without_json() for result in results)
    by_path = "; ".join(
        f"{path.split('?')[0]} {dict(sorted(result.statuses().items()))}"
        for path, result in zip(PATHS, results, strict=True)
    )
    ok = recovery <= RECOVERY_SECONDS and slowest < HANG_SECONDS and answered_after > 0
    return Row(
        fault=(
            f"PostgreSQL restarted (fast), {CLIENTS_PER_PATH} clients on /me and "
            f"{CLIENTS_PER_PATH} on the purchase-order list"
        ),
        measured=(
            f"restart took {back - down:.2f} s; non-200 by status {dict(sorted(failures.items()))} "
            f"(started during the restart: {dict(sorted(during.items()))}); failures went on "
            f"{recovery:.2f} s after PostgreSQL was back; slowest request {slowest:.2f} s; "
            f"{without_json} answers without a JSON body (all answers: {by_path})"
        ),
        requirement=(
            f"normal answers within {RECOVERY_SECONDS:.0f} s of PostgreSQL being back; "
            f"no request over {HANG_SECONDS:.0f} s"
        ),
        ok=ok,
    )

"""PostgreSQL stopped (pg_ctl's fast stop) for 10 s (quick: 4 s) under load on a cached /me and
on the purchase-order list.

Issue 13, item 3: every request that needs the database gets the JSON 503 with ``Retry-After``
and none a 500; a cached /me keeps answering 200 (it needs no SQL; a warm-up has every worker
read the token first, as a long-running worker has); each worker that saw the
outage logs exactly one line when it starts and one when it ends, and no traceback; the requests
answered during the outage reach the activity log once PostgreSQL is back (buffered meanwhile);
normal answers resume by themselves once PostgreSQL is back.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections import Counter
from dataclasses import dataclass

from faults.harness import NO_ANSWER, LoadResult, Row, Stack, in_background, load
from waqti.database_outage import RETRY_AFTER_SECONDS

CLIENTS_PER_PATH = 4
ME, ORDERS = "/api/v1/me", "/api/v1/purchase-orders"
UNAVAILABLE = {"message": "Service temporarily unavailable.", "errors": {}}
EXACT_503 = "exact 503"
ME_SUCCESS_DURING = 0.99  # share of /me answered 200 among those started during the outage
RECOVERY_SECONDS = 2.0  # failures may go on at most this long after PostgreSQL is back
ACTIVITY_WAIT_SECONDS = 15.0
WARM_UP_SECONDS = 2.0
START_LINE = re.compile(r" waqti\.database database unavailable in pid (\d+) ")
END_LINE = re.compile(r" waqti\.database database available again in pid (\d+) ")
COUNT_LOGGED = "SELECT count(*), count(*) FILTER (WHERE status = 503) FROM tokens_apirequestlog"


def classify(response: http.client.HTTPResponse, body: bytes) -> str:
    """A 503 with exactly the documented body and ``Retry-After``, or not."""
    if response.status != 503:
        return ""
    try:
        exact_body = json.loads(body) == UNAVAILABLE
    except ValueError:
        exact_body = False
    exact_header = response.getheader("Retry-After") == str(RETRY_AFTER_SECONDS)
    return EXACT_503 if exact_body and exact_header else "other 503"


@dataclass(frozen=True)
class Activity:
    """API requests the activity log holds after the run (beyond those before it), against
    those the clients were answered."""

    written: int
    written_503: int
    answered: int
    answered_503: int


def run(quick: bool) -> Row:
    before, outage, after = (2.0, 4.0, 3.0) if quick else (3.0, 10.0, 5.0)
    with Stack(workers=4) as stack:
        logged_before = stack.sql(COUNT_LOGGED)[0]
        # Every worker reads the token once (its per-worker cache), as long-running workers
        # have: a worker that never saw a token needs SQL for it, outage or not.
        warm_up = load(stack, ME, seconds=WARM_UP_SECONDS, clients=2 * stack.workers)
        loads = [
            in_background(
                stack,
                path,
                seconds=before + outage + after,
                clients=CLIENTS_PER_PATH,
                classify=classify,
            )
            for path in (ME, ORDERS)
        ]
        time.sleep(before)
        down = time.monotonic()
        stack.postgres.stop()
        time.sleep(max(0.0, outage - (time.monotonic() - down)))
        stack.postgres.start()
        back = time.monotonic()
        me, orders = (future.result() for future in loads)
        activity = _activity(stack, logged_before, [warm_up, me, orders])
        log = stack.log_text()
    return measure(me, orders, down, back, log, activity)


def _activity(stack: Stack, logged_before: tuple[int, int], results: list[LoadResult]) -> Activity:
    """Wait (bounded) until the workers have written what they buffered, then count it."""
    samples = [s for result in results for s in result.samples if s.status != NO_ANSWER]
    answered, answered_503 = len(samples), sum(1 for s in samples if s.status == 503)
    deadline = time.monotonic() + ACTIVITY_WAIT_SECONDS
    while True:
        written, written_503 = (
            now - then for now, then in zip(stack.sql(COUNT_LOGGED)[0], logged_before, strict=True)
        )
        if written >= answered or time.monotonic() > deadline:
            return Activity(written, written_503, answered, answered_503)
        time.sleep(0.5)


def incident_lines(log: str) -> tuple[Counter[str], Counter[str]]:
    """Per worker pid: its incident start lines, its end lines."""
    return Counter(START_LINE.findall(log)), Counter(END_LINE.findall(log))


def measure(
    me: LoadResult, orders: LoadResult, down: float, back: float, log: str, activity: Activity
) -> Row:
    """The row for the loads around a stop at ``down`` and a start done at ``back``
    (time.monotonic()), the servers' ``log`` and the activity log's counts."""
    samples = me.samples + orders.samples
    statuses = Counter(s.status for s in samples)
    exact_503 = sum(1 for s in samples if s.label == EXACT_503)
    unexpected = Counter(s.status for s in samples if s.status != 200 and s.label != EXACT_503)
    me_during = me.window(down, back)
    me_ok = sum(1 for s in me_during if s.status == 200) / len(me_during) if me_during else 0.0
    failed_after = [s.started for s in samples if s.started >= back and s.status != 200]
    recovery = max(failed_after, default=back) - back
    starts, ends = incident_lines(log)
    workers = sorted(set(starts) | set(ends))
    one_each = bool(workers) and all(starts[pid] == 1 and ends[pid] == 1 for pid in workers)
    tracebacks = log.count("Traceback")
    request_lines = sum(
        log.count(f" django.request {kind}")
        for kind in ("Service Unavailable", "Internal Server Error")
    )
    activity_ok = activity.written == activity.answered and (
        activity.written_503 == activity.answered_503
    )
    ok = (
        statuses[500] == 0
        and not unexpected
        and exact_503 > 0
        and me_ok >= ME_SUCCESS_DURING
        and recovery <= RECOVERY_SECONDS
        and one_each
        and tracebacks == 0
        and request_lines == 0
        and activity_ok
    )
    lines = ", ".join(f"pid {pid}: {starts[pid]} start + {ends[pid]} end" for pid in workers)
    return Row(
        fault=(
            f"PostgreSQL stopped {back - down:.0f} s (fast), {CLIENTS_PER_PATH} clients on a "
            f"cached /me and {CLIENTS_PER_PATH} on the purchase-order list"
        ),
        measured=(
            f"{exact_503} x 503 with the exact body and Retry-After, {statuses[500]} x 500, "
            f"other non-200 {dict(sorted(unexpected.items()))}; /me {me_ok:.1%} 200 during the "
            f"outage ({len(me_during)} requests, {me.rate(down, back):.0f} req/s against "
            f"{me.rate(me.started, down):.0f} before); incident log lines {lines or 'none'}; "
            f"{tracebacks} tracebacks, {request_lines} per-request error lines; normal answers "
            f"{recovery:.2f} s after PostgreSQL was back; activity log {activity.written} of "
            f"{activity.answered} answered requests written afterwards "
            f"({activity.written_503} of {activity.answered_503} 503s)"
        ),
        requirement=(
            f"0 x 500, every failure the exact 503; /me >= {ME_SUCCESS_DURING:.0%} 200; one "
            "start + one end line per worker that saw it, no traceback; every request logged; "
            f"recovered within {RECOVERY_SECONDS:.0f} s"
        ),
        ok=ok,
    )

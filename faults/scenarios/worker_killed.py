"""A gunicorn worker killed with SIGKILL under load on a logged endpoint.

Clients send ``GET /api/v1/me`` with a valid token, each request with its own ``X-Request-ID``,
while two more send a wrong secret from the same address, past the per-IP guard's budget. One
worker is killed in the middle of the load; gunicorn starts a replacement. Measured: how many
answered requests never reach the activity log (lost) or reach it twice, how many valid-token
requests were answered 429 (the plan is raised far above the load, so any is wrong), and how
many entries the recovery of the dead worker's spool wrote (from its log line).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from faults.harness import Row, Stack

VALID_CLIENTS = 6
INVALID_CLIENTS = 2
SETTLE_SECONDS = 15.0  # the dead worker's entries must be in the log this soon after the load
RECOVERED = re.compile(r"recovered (\d+) entries of a worker that died")


@dataclass
class Sent:
    """Answers by request id (``None``: no answer: the connection died with the worker)."""

    answers: dict[str, int | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(stack: Stack, token: str, prefix: str, stop_at: float, sent: Sent) -> None:
    n = 0
    while time.monotonic() < stop_at:
        request_id = f"{prefix}-{n}"
        n += 1
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
        status: int | None
        try:
            conn.request(
                "GET",
                "/api/v1/me",
                headers={
                    "Host": stack.host,
                    "Authorization": f"Bearer {token}",
                    "X-Request-ID": request_id,
                },
            )
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = None
            time.sleep(0.01)
        finally:
            conn.close()
        with sent.lock:
            sent.answers[request_id] = status


def run(quick: bool) -> Row:
    before, after = (2.0, 3.0) if quick else (5.0, 10.0)
    run_id = uuid.uuid4().hex[:8]
    with (
        tempfile.TemporaryDirectory(prefix="waqti-spool-") as spool,
        Stack(workers=4, env={"WAQTI_ACTIVITY_SPOOL_DIR": spool}) as stack,
    ):
        bad = stack.admin_token.split("|")[0] + "|" + "x" * 40
        valid, invalid = Sent(), Sent()
        stop_at = time.monotonic() + before + after
        threads = [
            threading.Thread(
                target=_client, args=(stack, stack.admin_token, f"ok-{run_id}-{i}", stop_at, valid)
            )
            for i in range(VALID_CLIENTS)
        ] + [
            threading.Thread(
                target=_client, args=(stack, bad, f"bad-{run_id}-{i}", stop_at, invalid)
            )
            for i in range(INVALID_CLIENTS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(before)
        _master, workers = stack.server_pids()
        os.kill(workers[0], signal.SIGKILL)
        for thread in threads:
            thread.join()
        answered = {rid for rid, status in valid.answers.items() if status is not None}
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            logged = Counter(
                dict(
                    stack.sql(
                        "SELECT request_id, count(*) FROM tokens_apirequestlog "
                        "WHERE request_id LIKE %s GROUP BY request_id",
                        f"ok-{run_id}-%",
                    )
                )
            )
            if answered <= set(logged) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        recovered = sum(int(n) for n in RECOVERED.findall(stack.log_text()))
    return measure(valid, invalid, logged, recovered)


def measure(valid: Sent, invalid: Sent, logged: Counter[str], recovered: int) -> Row:
    """The row for the answers ``valid`` and ``invalid`` and the ``logged`` request ids."""
    answered = {rid for rid, status in valid.answers.items() if status is not None}
    lost = len(answered - set(logged))
    twice = sum(1 for count in logged.values() if count > 1)
    statuses = Counter(valid.answers.values())
    refused = statuses[429]
    unanswered = statuses[None]
    guard = Counter(invalid.answers.values())
    return Row(
        fault=(
            f"a worker killed (SIGKILL) of 4, {VALID_CLIENTS} clients on /me with a valid token "
            f"and {INVALID_CLIENTS} with a wrong one from the same address"
        ),
        measured=(
            f"{len(answered)} valid requests answered, {lost} activity entries lost, {twice} "
            f"logged twice, {refused} answered 429, {unanswered} unanswered (cut with the "
            f"worker); {recovered} entries recovered from the dead worker's spool; wrong-token "
            f"answers {dict(sorted((k or 0, v) for k, v in guard.items()))}"
        ),
        requirement="0 entries lost or doubled; 0 valid requests answered 429",
        ok=lost == 0 and twice == 0 and refused == 0 and len(answered) > 0,
    )

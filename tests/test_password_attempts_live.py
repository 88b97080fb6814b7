"""A parallel burst of password attempts against a real gunicorn: at most the limit reach the check.

Runs on both caches: two workers of 8 threads share the counter in Redis; without Redis (as
``make run``), one worker with 16 threads shares the process-local counter, which is exact
within one process.
"""

from __future__ import annotations

import http.client
import os
import re
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from tests.live_server import gunicorn, manage, server_env, throwaway_database

pytestmark = pytest.mark.slow

HOST = "burst.localhost"
SCHEMA = "t_burst"
PASSWORD = "burst-admin-passphrase"
BURST = 20
LIMIT = 10  # WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT, per 15 minutes
PERIOD = 15 * 60


def account_far_from_its_window_end(prefix: str, min_left: int = 120) -> str:
    """An account whose fixed window (django-ratelimit: period edge + crc32 jitter of the key)
    will not roll over during the burst, chosen instead of sleeping."""
    now = int(time.time())
    for n in range(1000):
        account = f"{prefix}{n}@burst.example"
        end = now - now % PERIOD + zlib.crc32(f"{SCHEMA}:{account}".encode()) % PERIOD
        if end < now:
            end += PERIOD
        if end - now >= min_left:
            return account
    raise AssertionError("no account found")


def get_form(port: int, path: str) -> tuple[str, str]:
    """The login page's CSRF cookie and form token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": HOST})
        response = conn.getresponse()
        body = response.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    finally:
        conn.close()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    return cookie, token


def post_login(port: int, path: str, csrf: tuple[str, str], account: str, password: str) -> int:
    cookie, token = csrf
    body = urlencode({"csrfmiddlewaretoken": token, "username": account, "password": password})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Host": HOST,
                "Cookie": f"csrftoken={cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def burst(port: int, path: str, account: str) -> list[int]:
    """BURST wrong-password attempts released at the same moment; their statuses."""
    csrf = get_form(port, path)
    start = threading.Barrier(BURST)

    def one(_: int) -> int:
        start.wait()
        return post_login(port, path, csrf, account, "wrong-password")

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        return list(pool.map(one, range(BURST)))


@pytest.mark.parametrize("cache", ["redis", "process-local"])
def test_a_parallel_burst_gets_no_more_than_the_limit_to_the_password_check(
    django_db_blocker, cache
):
    workers, threads = (2, 8) if cache == "redis" else (1, 16)
    settings_account = account_far_from_its_window_end("settings")
    admin_account = account_far_from_its_window_end("admin")
    with django_db_blocker.unblock(), throwaway_database(f"waqti_pw_{os.getpid()}") as database:
        env = server_env(database)
        if cache == "process-local":
            env.pop("REDIS_URL")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(
            env, "add_tenant", "burst", "--name", "Burst", "--domain", HOST, "--plan", "ultimate"
        )
        for account in (settings_account, admin_account):
            manage(env, "create_tenant_admin", "burst", "--email", account, "--password", PASSWORD)
        with gunicorn(env, workers=workers, threads=threads) as port:
            for path, account in (
                ("/settings/login/", settings_account),
                ("/admin/login/", admin_account),
            ):
                statuses = burst(port, path, account)
                # 200: the password was checked (and was wrong); 429: refused before the check.
                assert statuses.count(200) == LIMIT, (path, statuses)
                assert statuses.count(429) == BURST - LIMIT, (path, statuses)
                csrf = get_form(port, path)
                assert post_login(port, path, csrf, account, PASSWORD) == 429, path

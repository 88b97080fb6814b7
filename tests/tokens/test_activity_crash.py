"""Workers killed with SIGKILL under the production gunicorn configuration: every answered
request's activity entry reaches the log exactly once, and the replacements serve valid tokens.

The flush interval is 60 s, so before the kill nothing but the spool holds the entries (without
the spool, every one of them is lost: the in-memory buffer dies with the worker).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from faults.servers import free_port
from tenancy.services import schema_name_for_slug
from tests.live_server import ROOT, manage, request, server_env, throwaway_database

pytestmark = pytest.mark.slow

WORKERS = 3
LOGGED = 60  # answered before the kill
VALID_AFTER = 60  # valid-token requests to the replacements
INVALID_AFTER = 400  # bad-token requests from the same address: sent until the guard answers 429
HOST = "crash.localhost"


@contextlib.contextmanager
def production_gunicorn(env: dict[str, str], log: Path) -> Iterator[tuple[int, psutil.Process]]:
    """gunicorn with ``waqti.gunicorn_conf`` (its hooks) and WORKERS workers: (port, master)."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:waqti.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--access-logfile",
                os.devnull,
                "waqti.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(OSError):
                if request(port, "GET", "/health", host="localhost")[0] == 200:
                    break
            assert time.monotonic() < deadline, "gunicorn did not answer /health within 60 s"
            time.sleep(0.2)
        yield port, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def get_me(port: int, token: str, request_id: str = "") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": HOST, "Authorization": f"Bearer {token}"}
    if request_id:
        headers["X-Request-ID"] = request_id
    try:
        conn.request("GET", "/api/v1/me", headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def kill_every_worker(master: psutil.Process) -> None:
    """SIGKILL the workers and wait until gunicorn has started as many new ones."""
    victims = {child.pid for child in master.children()}
    assert len(victims) == WORKERS
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        alive = {c.pid for c in master.children() if c.status() != psutil.STATUS_ZOMBIE}
        if len(alive) == WORKERS and not alive & victims:
            return
        assert time.monotonic() < deadline, "gunicorn did not replace its killed workers"
        time.sleep(0.1)


def logged_ids(database: str, schema: str, prefix: str) -> Counter[str]:
    with psycopg.connect(database, autocommit=True) as conn:
        query = sql.SQL("SELECT request_id FROM {}.tokens_apirequestlog WHERE request_id LIKE %s")
        rows = conn.execute(query.format(sql.Identifier(schema)), [prefix + "%"]).fetchall()
    return Counter(request_id for (request_id,) in rows)


def test_killed_workers_lose_no_answered_entry_and_replacements_serve_valid_tokens(
    django_db_blocker, tmp_path
):
    with django_db_blocker.unblock(), throwaway_database(f"waqti_crash_{os.getpid()}") as database:
        env = server_env(
            database,
            REDIS_URL=settings.REDIS_URL,
            WAQTI_ACTIVITY_FLUSH_SECONDS="60",
            WAQTI_ACTIVITY_SPOOL_DIR=str(tmp_path / "spool"),
            WAQTI_RATE_LIMITS='{"enterprise": [1000000, null]}',
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(
            env, "add_tenant", "crash", "--name", "Crash", "--domain", HOST, "--plan", "enterprise"
        )
        token = manage(env, "issue_token", "crash", "--name", "erp", "--abilities", "read").strip()
        prefix = f"crash-{uuid.uuid4().hex[:8]}-"
        with production_gunicorn(env, tmp_path / "gunicorn.log") as (port, master):
            with ThreadPoolExecutor(max_workers=4) as pool:
                before = list(
                    pool.map(lambda i: get_me(port, token, f"{prefix}{i}"), range(LOGGED))
                )
            assert before == [200] * LOGGED
            kill_every_worker(master)

            bad = token.split("|")[0] + "|" + "x" * 40
            with ThreadPoolExecutor(max_workers=4) as pool:
                invalid_statuses: Counter[int] = Counter()
                while not invalid_statuses[429] and invalid_statuses.total() < INVALID_AFTER:
                    invalid_statuses.update(pool.map(lambda _: get_me(port, bad), range(50)))
                valid_statuses = Counter(
                    pool.map(lambda _: get_me(port, token), range(VALID_AFTER))
                )

            deadline = time.monotonic() + 60
            while (found := logged_ids(database, schema_name_for_slug("crash"), prefix)) != {
                f"{prefix}{i}": 1 for i in range(LOGGED)
            } and time.monotonic() < deadline:
                time.sleep(0.5)

    assert invalid_statuses[429] > 0, invalid_statuses  # the guard was spent for this address ...
    assert valid_statuses == {200: VALID_AFTER}, valid_statuses  # ... no valid token refused
    assert sum(found.values()) == LOGGED, f"{LOGGED - len(found)} entries lost"
    assert found == {f"{prefix}{i}": 1 for i in range(LOGGED)}  # each exactly once

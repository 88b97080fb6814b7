"""Real server processes for tests: a throwaway database, CLI calls, gunicorn on loopback."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from django.conf import settings

from faults.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _admin_dsn() -> str:
    db = settings.DATABASES["default"]
    parts = [f"dbname=postgres user={db['USER'] or 'postgres'}"]
    if db["HOST"]:
        parts.append(f"host={db['HOST']}")
    if db["PORT"]:
        parts.append(f"port={db['PORT']}")
    if db["PASSWORD"]:
        parts.append(f"password={db['PASSWORD']}")
    return " ".join(parts)


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] or "postgres"
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    if str(db["HOST"]).startswith("/"):
        return f"postgresql://{auth}@/{name}?host={db['HOST']}"
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@contextlib.contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Create database ``name`` (dropping any leftover), yield its URL, drop it afterwards."""
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(database: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database,
        DJANGO_SETTINGS_MODULE="waqti.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="test-only-secret-key-for-live-server-tests-0123456789",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS=".localhost,localhost,127.0.0.1",
    )
    env.update(extra)
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` in a fresh process with ``env``; the caller reads the outcome."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def manage(env: dict[str, str], *args: str) -> str:
    """``run_manage`` that must succeed; its standard output."""
    result = run_manage(env, *args)
    if result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int, threads: int = 1, port: int | None = None
) -> Iterator[int]:
    """Run gunicorn with ``workers`` processes (of ``threads`` threads each); yield its port once
    /health answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "waqti.wsgi:application",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"gunicorn exited: {process.stderr.read() if process.stderr else ''}"
                )
            with contextlib.suppress(OSError):
                status, _, _ = request(port, "GET", "/health", host="localhost")
                if status == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError("gunicorn did not answer /health within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def request(
    port: int,
    method: str,
    path: str,
    *,
    host: str,
    token: str | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()

"""A fault stack: private PostgreSQL and Redis, a migrated database with one tenant, gunicorn."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
import psycopg

from bench.config import RAISED_LIMITS
from faults.servers import PrivatePostgres, PrivateRedis, ServerStartError, free_port

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "waqti"
READY_SECONDS = 60.0


class Stack:
    """The API as production runs it, on servers of its own: ``with Stack(workers=4) as stack:``
    starts a PrivatePostgres (migrated, one enterprise tenant at ``host`` with limits raised far
    above any load, ``orders`` seeded purchase orders, ``admin_token`` holding every ability), a
    PrivateRedis (``redis_args`` added to its command line) and gunicorn with
    ``-c python:waqti.gunicorn_conf`` and ``DJANGO_DEBUG=0`` on a free loopback port
    (``base_url``), ``WEB_CONCURRENCY=workers``; ``env`` adds or overrides the servers'
    environment. gunicorn's own output and the application's log go to one file
    (``log_text()``), the access log to another. Leaving the block stops everything and removes
    the temporary directories."""

    def __init__(
        self,
        workers: int = 4,
        redis_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        *,
        orders: int = 20,
        slug: str = "acme",
        host: str = "acme.localhost",
    ) -> None:
        self.workers = workers
        self.redis_args = tuple(redis_args)
        self.extra_env = dict(env or {})
        self.orders = orders
        self.slug = slug
        self.host = host
        self.folder = Path(tempfile.mkdtemp(prefix="waqti-faults-"))
        self.log = self.folder / "server.log"
        self.access_log = self.folder / "access.log"
        self.redis: PrivateRedis
        self.postgres: PrivatePostgres
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.admin_token = ""
        self.schema = ""
        self.env: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Stack:
        try:
            self.postgres = PrivatePostgres()
            with psycopg.connect(self.postgres.url(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')  # a constant, not input
            self.redis = PrivateRedis(self.redis_args)
            self.redis.start()
            self.env = self._environment()
            prepared = subprocess.run(
                [sys.executable, "-m", "faults.prepare", self.slug, self.host, str(self.orders)],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if prepared.returncode != 0:
                raise ServerStartError(f"faults.prepare failed:\n{prepared.stderr[-3000:]}")
            facts = json.loads(prepared.stdout.strip().splitlines()[-1])
            self.admin_token, self.schema = facts["token"], facts["schema"]
            self._start_gunicorn()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            DJANGO_SETTINGS_MODULE="waqti.settings",
            DATABASE_URL=self.postgres.url(DATABASE),
            REDIS_URL=self.redis.url,
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_ALLOWED_HOSTS=".localhost,localhost,127.0.0.1",
            WAQTI_RATE_LIMITS=json.dumps(RAISED_LIMITS),
            WEB_CONCURRENCY=str(self.workers),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def _start_gunicorn(self) -> None:
        self.port = free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:waqti.gunicorn_conf",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--access-logfile",
                    str(self.access_log),
                    "waqti.wsgi:application",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_SECONDS
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ServerStartError(f"gunicorn did not become ready:\n{self.log_text()[-3000:]}")
            time.sleep(0.2)

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/health", headers={"Host": "localhost"})
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def server_pids(self) -> tuple[int, list[int]]:
        """gunicorn's master and its current workers."""
        assert self.process is not None
        return self.process.pid, [
            child.pid for child in psutil.Process(self.process.pid).children()
        ]

    def log_text(self) -> str:
        """What gunicorn and the application have logged so far (not the access log)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run ``query`` on the private database in the tenant's schema; the rows, if any."""
        with psycopg.connect(self.postgres.url(DATABASE), autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{self.schema}", public')
            cursor = conn.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        redis_server = getattr(self, "redis", None)
        if redis_server is not None:
            redis_server.thaw()  # workers flushing on their way out must not wait on it
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        for server in (getattr(self, "redis", None), getattr(self, "postgres", None)):
            if server is not None:
                server.close()
        shutil.rmtree(self.folder, ignore_errors=True)

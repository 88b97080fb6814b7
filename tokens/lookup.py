"""Finding the token behind a presented ``{id}|{secret}``, with a per-worker cache.

The cache holds immutable snapshots of token rows and, per tenant, the highest token id and the
ids at or below it found absent. All of it is trusted only while the tenant's token version in
the shared cache (Redis) is unchanged: create, revoke and regenerate bump it after their commit,
and knowledge is stamped with the version read BEFORE the query that produced it, so any later
change moves the version away from the stamp. It also ages out after MAX_SNAPSHOT_AGE_SECONDS
(bounds the damage of a bump lost while Redis was unreachable). Without a readable shared cache
(or with a process-local one, no REDIS_URL) every lookup goes to PostgreSQL.

Valid token, steady state: one Redis round trip. The limits step rides on it: ``find_token``
takes the request's plan budget (``tokens.ratelimit.plans.PlanBudget``) and has the counter
check the snapshot's version and count the budget's windows in one script call
(``tokens.ratelimit.counter.count_at``); the counts come back with the token (``Found.usages``)
for the throttle. If the version moved, nothing was counted and the row is re-read; the throttle
then counts.
A secret with a wrong checksum for an id issued with checksums never gets here
(``tokens.secrets.refused_by_checksum``, applied by the callers).
Invalid token, steady state: no SQL and at most one Redis GET (the version): ids are sequential
per tenant, so an id above the known highest, a known-absent id, or a snapshot refusing the
secret (constant-time) is invalid without a query (``TokenCache.rejects``); anything else is
looked up. The early refusals reuse a version read within VERSION_TRUST_SECONDS: create and
regenerate wait twice that long after their bump before the new secret is shown (commit-wait).

The early refusal (``tokens.early_refusal``) uses ``known_invalid`` for the per-IP guard and
young snapshots for the plan's windows.

The version is a random integer written with Django's cache API into the counter cache
(``tokens.ratelimit.counter.counter_cache``), which stores it as plain digits; it is read back
raw (``tokens.ratelimit.counter.read_raw``), as the count script compares it.

The tenant's token policy (``tokens.policy``) rides in every snapshot: it is read in the same
statement as the row (``read_row``), at the same version, so a policy change
(which bumps the version like revoke does) applies on the next request in every process and
costs nothing per request in steady state. Without the shared cache (Redis down, its breaker
open) every request reads row and policy, still in one statement.

Secret-key rotation: a secret matching only under a previous key (``SECRET_KEY_FALLBACKS``) is
never served from the cache; ``find_token`` re-reads the row and sets ``rehash`` on its result
for the caller (``tokens.services.token_rehash``). The accepted secrets do not change, so there
is no version bump; other workers re-read the row at their next such match.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max

from tokens.models import ApiToken, TokenPolicy
from tokens.ratelimit.counter import WindowUsage, count_at, counter_cache, peek_at, read_raw
from tokens.ratelimit.memo import exhausted
from tokens.ratelimit.plans import PLAN_KEY, PlanBudget
from tokens.snapshot import CURRENT, PREVIOUS, SecretMatch, TokenSnapshot

logger = logging.getLogger("waqti.tokens")

VERSION_KEY = "tokens:version"
# Even with an unchanged version, re-read a row after this long (bounds the damage of a revoke
# made while Redis was unreachable).
MAX_SNAPSHOT_AGE_SECONDS = 30.0
# A version read from Redis is relied on this long to REJECT a token without SQL (known_invalid).
# Create and regenerate wait twice as long after their bump before the new secret can be known
# to anyone (a commit-wait; twice: a margin for clock rates), so no worker rejects it on a
# version read before the bump.
VERSION_TRUST_SECONDS = 0.005


def new_version() -> int:
    """A fresh token version: random, so two workers bumping at once still both change it."""
    return uuid.uuid4().int >> 66  # 62 bits


@dataclass
class TenantTokens:
    """Which token ids exist in one tenant, as of ``version``: none above ``highest_id``, and
    none of ``absent_ids`` (ids at or below it that were looked up and not found)."""

    version: bytes
    highest_id: int  # 0 when the tenant has no token
    loaded_at: float
    absent_ids: set[int] = field(default_factory=set)


class TokenCache:
    """Per-process snapshots keyed by (schema, token id), and per schema the ids that exist,
    validated against a shared version."""

    clock = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)
    # Absent ids remembered per tenant (they are at or below the highest id, so few in practice).
    max_absent_ids = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[str, int], TokenSnapshot] = {}
        self._tenants: dict[str, TenantTokens] = {}
        # schema -> (clock when the read started, version read)
        self._versions: dict[str, tuple[float, bytes]] = {}

    @property
    def enabled(self) -> bool:
        return settings.WAQTI_TOKEN_CACHE

    def clear(self) -> None:
        """Forget every snapshot, tenant id range and exhausted window this worker knows."""
        with self._lock:
            self._snapshots.clear()
            self._tenants.clear()
            self._versions.clear()
        exhausted.clear()

    def current_version(self) -> bytes | None:
        """The tenant's token version (raw, as stored) from the shared cache; None when it
        cannot be read."""
        started = self.clock()
        try:
            version = read_raw(VERSION_KEY)
            if version is None:
                counter_cache().add(VERSION_KEY, new_version(), timeout=None)
                version = read_raw(VERSION_KEY)
        except Exception:  # Redis down: fall back to PostgreSQL
            self.clear()
            return None
        if version is not None:
            self._versions[connection.schema_name] = (started, version)
        return version

    def recent_version(self) -> bytes | None:
        """The tenant's token version as read at most ``VERSION_TRUST_SECONDS`` ago, else now."""
        seen = self._versions.get(connection.schema_name)
        if seen is not None and self.clock() - seen[0] < VERSION_TRUST_SECONDS:
            return seen[1]
        return self.current_version()

    def invalidate_tenant(self, *, outwait_readers: bool = False) -> None:
        """Bump the current tenant's version so every process drops its snapshots and ids.

        ``outwait_readers``: then wait out every worker's trust in the old version (twice
        ``VERSION_TRUST_SECONDS``), for a change that makes a new secret valid; run after commit,
        before the secret is shown to anyone.
        """
        schema = connection.schema_name
        with self._lock:
            for key in [k for k in self._snapshots if k[0] == schema]:
                del self._snapshots[key]
            self._tenants.pop(schema, None)
            self._versions.pop(schema, None)
        if not self.enabled:
            return
        try:
            counter_cache().set(VERSION_KEY, new_version(), timeout=None)
        except Exception:
            logger.exception(
                "could not bump the token version; other workers notice within %ss",
                MAX_SNAPSHOT_AGE_SECONDS,
            )
            return
        if outwait_readers:
            self.sleep(2 * VERSION_TRUST_SECONDS)

    def _young(self, loaded_at: float) -> bool:
        return self.clock() - loaded_at <= MAX_SNAPSHOT_AGE_SECONDS

    def get(self, token_id: int, version: bytes | None = None) -> TokenSnapshot | None:
        """The snapshot of ``token_id`` if it is young enough and (when given) at ``version``."""
        snapshot = self._snapshots.get((connection.schema_name, token_id))
        if snapshot is None or (version is not None and snapshot.version != version):
            return None
        return snapshot if self._young(snapshot.loaded_at) else None

    def put(self, snapshot: TokenSnapshot) -> None:
        with self._lock:
            self._snapshots[(connection.schema_name, snapshot.id)] = snapshot

    def forget(self, token_id: int) -> None:
        """Drop this worker's snapshot of ``token_id`` (its next use re-reads the row)."""
        with self._lock:
            self._snapshots.pop((connection.schema_name, token_id), None)

    def note_used(self, token_id: int, when: datetime) -> None:
        """The token's ``last_used_at`` was just written as ``when``: keep the snapshot's too."""
        with self._lock:
            key = (connection.schema_name, token_id)
            if key in self._snapshots:
                self._snapshots[key] = replace(self._snapshots[key], last_used_at=when)

    def _tenant(self, version: bytes) -> TenantTokens | None:
        known = self._tenants.get(connection.schema_name)
        if known is None or known.version != version or not self._young(known.loaded_at):
            return None
        return known

    def known_absent(self, token_id: int, version: bytes) -> bool:
        """At ``version``, ``token_id`` is above the tenant's highest id or known absent."""
        known = self._tenant(version)
        return known is not None and (token_id > known.highest_id or token_id in known.absent_ids)

    def rejects(
        self,
        token_id: int,
        secret: str,
        now: datetime,
        version: bytes,
        refused_by: TokenSnapshot | None = None,
    ) -> bool:
        """True only when what this worker knows at ``version`` (the tenant's current token
        version) proves ``{token_id}|{secret}`` unusable; False means "look it up". No SQL.

        ``refused_by``: a snapshot the caller already saw refuse this secret at ``now`` (saves
        computing the same HMAC again when it is the one at ``version``).
        """
        if self.known_absent(token_id, version):
            return True
        snapshot = self.get(token_id, version)
        if snapshot is None:
            return False
        return snapshot is refused_by or snapshot.match(secret, now) is None

    def note_absent(self, token_id: int, version: bytes) -> None:
        """Remember that ``token_id`` was not found at ``version``; learns the tenant's highest
        id (one query) if this worker does not know it at that version yet."""
        known = self._tenant(version)
        if known is None:
            highest = ApiToken.objects.aggregate(highest=Max("id"))["highest"] or 0
            known = TenantTokens(version=version, highest_id=highest, loaded_at=self.clock())
            with self._lock:
                self._tenants[connection.schema_name] = known
        if token_id <= known.highest_id and len(known.absent_ids) < self.max_absent_ids:
            with self._lock:
                known.absent_ids.add(token_id)


token_cache = TokenCache()


@dataclass(frozen=True, slots=True)
class Found:
    """A usable token for the presented secret."""

    snapshot: TokenSnapshot
    # The plan budget's windows, when they were counted with the version check (else the
    # throttle counts them).
    usages: list[WindowUsage] | None = None
    # Set when the secret matched only under a previous secret key: the caller re-hashes it
    # (``tokens.services.token_rehash``).
    rehash: SecretMatch | None = None
    # The budget's own window (``PlanBudget.own``), when it was counted with the version check;
    # ``usages`` then holds the plan's windows as read, not counted.
    own_usage: WindowUsage | None = None


@functools.cache
def _row_sql() -> str:
    """The token row and the tenant's token policy (its rule columns as JSON text, NULL without
    a policy row), written once from the models' metadata (``read_row``)."""
    quote = connection.ops.quote_name
    token, policy = ApiToken._meta, TokenPolicy._meta
    rules = ", ".join(
        f"'{name}', p.{quote(policy.get_field(name).column)}" for name in TokenPolicy.RULE_FIELDS
    )
    return (  # identifiers from the models, quoted; the values are parameters
        f"SELECT t.*, (SELECT json_build_object({rules})::text FROM {quote(policy.db_table)} p "  # noqa: S608
        f"WHERE p.{quote(policy.pk.column)} = %s) AS policy "
        f"FROM {quote(token.db_table)} t WHERE t.{quote(token.pk.column)} = %s"
    )


def read_row(token_id: int) -> ApiToken | None:
    """The token's row with ``policy`` (the tenant's token policy as JSON text, or None), in one
    statement of fixed SQL: the path of every request while Redis is down, where compiling the
    same query through the ORM each time cost more CPU than the round trip it saved."""
    rows = ApiToken.objects.raw(_row_sql(), [TokenPolicy.SINGLETON_ID, token_id])
    return next(iter(rows), None)


def find_token(
    token_id: int, secret: str, now: datetime, budget: PlanBudget | None = None
) -> Found | None:
    """The usable token with this id and secret in the current schema, or None.

    Steady state with Redis: zero PostgreSQL queries and one Redis call, which validates the
    snapshot's version and counts ``budget``'s windows (or, for an invalid token, reads the
    version). Otherwise: one query by primary key (two the first time an absent id is seen at a
    version: the highest id is learned with it). A secret matching only under a previous secret
    key is always checked against the row and returned with ``rehash`` set.
    """
    if token_cache.enabled:
        snapshot = token_cache.get(token_id)
        if snapshot is not None and budget is not None:
            match = snapshot.match(secret, now)
            if match is not None and not match.under_fallback and budget.own is not None:
                peeked = peek_at(
                    budget.windows,
                    PLAN_KEY,
                    budget.own,
                    budget.own_key,
                    version_key=VERSION_KEY,
                    version=snapshot.version,
                )
                if peeked is not None:
                    return Found(snapshot, peeked.read, own_usage=peeked.own)
            elif match is not None and not match.under_fallback:
                usages = count_at(
                    budget.windows,
                    PLAN_KEY,
                    version_key=VERSION_KEY,
                    version=snapshot.version,
                )
                if usages is not None:
                    return Found(snapshot, usages)
    version = token_cache.current_version() if token_cache.enabled else None
    if version is not None:
        if token_cache.rejects(token_id, secret, now, version):
            return None
        snapshot = token_cache.get(token_id, version)
        if snapshot is not None and snapshot.match(secret, now) in (CURRENT, PREVIOUS):
            return Found(snapshot)
    read_at = token_cache.clock()
    row = read_row(token_id)
    if row is None:
        if version is not None:
            token_cache.note_absent(token_id, version)
        return None
    policy = json.loads(row.policy) if row.policy is not None else None
    snapshot = TokenSnapshot.from_row(row, version, read_at, TokenPolicy.rules_from(policy))
    if version is not None:
        token_cache.put(snapshot)
    match = snapshot.match(secret, now)
    if match is None:
        return None
    return Found(snapshot, rehash=match if match.under_fallback else None)


def known_invalid(
    token_id: int, secret: str, now: datetime, refused_by: TokenSnapshot | None = None
) -> bool:
    """Whether this worker can prove ``{token_id}|{secret}`` unusable without PostgreSQL: the
    tenant's token version (a Redis GET, reused for ``VERSION_TRUST_SECONDS``), then
    ``TokenCache.rejects`` (``refused_by`` as there). False without the shared token cache, or
    when Redis cannot be read (then only a lookup can tell)."""
    if not token_cache.enabled:
        return False
    version = token_cache.recent_version()
    return version is not None and token_cache.rejects(token_id, secret, now, version, refused_by)

"""An immutable copy of a token row with its tenant's token policy, and which of its secrets a
presented secret matches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tokens import allowlist, secrets
from tokens.models import ApiToken
from tokens.policy import DEFAULT_RULES, TokenRules

# The fields of ApiToken a snapshot gives views and services (``as_token``), in the model's order.
TOKEN_FIELDS = (
    "id",
    "name",
    "abilities",
    "allowed_ips",
    "created_at",
    "expires_at",
    "last_used_at",
)


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """Which stored hash a presented secret matched, and whether under a previous key."""

    field: str  # "secret_hash" or "previous_secret_hash"
    under_fallback: bool = False


CURRENT = SecretMatch("secret_hash")
PREVIOUS = SecretMatch("previous_secret_hash")
CURRENT_UNDER_FALLBACK = SecretMatch("secret_hash", under_fallback=True)
PREVIOUS_UNDER_FALLBACK = SecretMatch("previous_secret_hash", under_fallback=True)


@dataclass(frozen=True, slots=True)
class TokenSnapshot:
    """A token row as read at ``version`` of the tenant's tokens (``tokens.lookup``), with the
    tenant's token policy read at the same version (``rules``)."""

    id: int
    name: str
    abilities: tuple[str, ...]
    allowed_ips: tuple[str, ...]  # canonical CIDRs (tokens.allowlist); empty: anywhere
    allowlist: allowlist.CompiledAllowlist  # the same, ready for the per-request check
    secret_hash: str
    previous_secret_hash: str
    previous_secret_valid_until: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    # The tenant's token version (raw) read before the row; None without the shared cache.
    version: bytes | None
    loaded_at: float
    rules: TokenRules = DEFAULT_RULES
    # The abilities the token may use under ``rules`` (computed once, not per request).
    granted: tuple[str, ...] = ()

    @classmethod
    def from_row(
        cls,
        row: ApiToken,
        version: bytes | None,
        loaded_at: float,
        rules: TokenRules = DEFAULT_RULES,
    ) -> TokenSnapshot:
        return cls(
            id=row.pk,
            name=row.name,
            abilities=tuple(row.abilities),
            allowed_ips=tuple(row.allowed_ips),
            allowlist=allowlist.compile_allowlist(tuple(row.allowed_ips)),
            secret_hash=row.secret_hash,
            previous_secret_hash=row.previous_secret_hash,
            previous_secret_valid_until=row.previous_secret_valid_until,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            created_at=row.created_at,
            version=version,
            loaded_at=loaded_at,
            rules=rules,
            granted=rules.granted(row.abilities),
        )

    def match(self, secret: str, now: datetime) -> SecretMatch | None:
        """Which hash ``secret`` matches if the token is usable now: its current secret, or the
        previous one within its grace period; under the current key first (one HMAC when that
        matches), then under each previous key (none without ``SECRET_KEY_FALLBACKS``).
        A token unused for longer than the policy allows is not usable."""
        if self.revoked_at is not None:
            return None
        if self.expires_at is not None and self.expires_at <= now:
            return None
        if self.rules.unused_expired(self.last_used_at, self.created_at, now):
            return None
        if secrets.secret_matches(secret, self.secret_hash):
            return CURRENT
        in_grace = (
            self.previous_secret_valid_until is not None and now < self.previous_secret_valid_until
        )
        if in_grace and secrets.secret_matches(secret, self.previous_secret_hash):
            return PREVIOUS
        if secrets.secret_matches_fallback(secret, self.secret_hash):
            return CURRENT_UNDER_FALLBACK
        if in_grace and secrets.secret_matches_fallback(secret, self.previous_secret_hash):
            return PREVIOUS_UNDER_FALLBACK
        return None

    def as_token(self) -> ApiToken:
        """The token as views and services see it, as if just read from the database (only
        ``TOKEN_FIELDS`` are loaded; a new instance per request, as they may change it). Its
        ``abilities`` are those the policy lets it use (``granted``)."""
        values = (
            self.id,
            self.name,
            list(self.granted),
            list(self.allowed_ips),
            self.created_at,
            self.expires_at,
            self.last_used_at,
        )
        token = ApiToken.from_db(None, TOKEN_FIELDS, values)
        token.compiled_allowlist = self.allowlist  # computed once per snapshot, not per request
        return token

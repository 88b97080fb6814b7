"""A tenant's token policy as data, and its rules as pure functions.

``TokenRules`` is an immutable copy of the tenant's ``TokenPolicy`` row (or of the defaults when
the tenant never set one). The per-worker token cache keeps it inside every token snapshot
(``tokens.snapshot``), stamped with the tenant's token version like the row itself, so applying
the policy on a request costs no SQL and no extra Redis call; changing the policy bumps the
version (``tokens.services.token_policy_update``).

The rules:

* ``max_lifetime_days``: a token created or regenerated must expire at most that many days
  after the action (``lifetime_error``).
* ``expire_unused_after_days``: a token not used for that long (since ``last_used_at``, else
  ``created_at``) stops authenticating and shows as expired with reason ``"unused"``
  (``unused_deadline``). ``last_used_at`` is written at most once a minute
  (``tokens.services.LAST_USED_RESOLUTION``), so the deadline is exact to about a minute.
* ``rotation_days``: a live token's secret is due for rotation that many days after it was
  created or last regenerated (``rotation_due_at``).
* ``allowed_abilities``: a ceiling. New tokens may only hold these; an existing token holding
  others keeps them stored but cannot use them while the policy stands (``granted``): its
  requests needing them get the seed's 403. Loosening the policy gives them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tokens.abilities import ALL_ABILITIES

DEFAULT_ROTATION_DAYS = 90  # the seed: "Rotate regularly - Regenerate tokens every 90 days"
MAX_DAYS = 3650  # ten years: the largest value any of the day counts accepts

# Why a token shows as expired (``expired_reason`` in the token API).
EXPIRED_AT_EXPIRY = "expires_at"
EXPIRED_UNUSED = "unused"


@dataclass(frozen=True, slots=True)
class TokenRules:
    """A tenant's token policy; the defaults are the policy of a tenant that never set one."""

    max_lifetime_days: int | None = None
    expire_unused_after_days: int | None = None
    rotation_days: int = DEFAULT_ROTATION_DAYS
    allowed_abilities: tuple[str, ...] = ALL_ABILITIES

    def granted(self, abilities: Iterable[str]) -> tuple[str, ...]:
        """The abilities of ``abilities`` a token may use under this policy."""
        return tuple(a for a in abilities if a in self.allowed_abilities)

    def withheld(self, abilities: Iterable[str]) -> list[str]:
        """The abilities a token holds that this policy does not let it use."""
        return [a for a in abilities if a not in self.allowed_abilities]

    def latest_expiry(self, now: datetime) -> datetime | None:
        """The latest ``expires_at`` a token created or regenerated at ``now`` may have."""
        if self.max_lifetime_days is None:
            return None
        return now + timedelta(days=self.max_lifetime_days)

    def lifetime_allows(self, expires_at: datetime | None, now: datetime) -> bool:
        latest = self.latest_expiry(now)
        return latest is None or (expires_at is not None and expires_at <= latest)

    def unused_deadline(
        self, last_used_at: datetime | None, created_at: datetime
    ) -> datetime | None:
        """When a token last used at ``last_used_at`` (None: never) stops working for want of
        use; None when the policy never expires unused tokens."""
        if self.expire_unused_after_days is None:
            return None
        return (last_used_at or created_at) + timedelta(days=self.expire_unused_after_days)

    def unused_expired(
        self, last_used_at: datetime | None, created_at: datetime, now: datetime
    ) -> bool:
        deadline = self.unused_deadline(last_used_at, created_at)
        return deadline is not None and deadline <= now

    def expired_reason(
        self,
        expires_at: datetime | None,
        last_used_at: datetime | None,
        created_at: datetime,
        now: datetime,
    ) -> str | None:
        """Why a (not revoked) token is expired at ``now``, or None when it is not."""
        if expires_at is not None and expires_at <= now:
            return EXPIRED_AT_EXPIRY
        if self.unused_expired(last_used_at, created_at, now):
            return EXPIRED_UNUSED
        return None

    def rotation_due_at(self, created_at: datetime, regenerated_at: datetime | None) -> datetime:
        """When the token's secret (since created or last regenerated) is due for rotation."""
        return (regenerated_at or created_at) + timedelta(days=self.rotation_days)

    def as_dict(self) -> dict[str, object]:
        """The policy's fields as the API shows them and the audit records them."""
        return {
            "max_lifetime_days": self.max_lifetime_days,
            "expire_unused_after_days": self.expire_unused_after_days,
            "rotation_days": self.rotation_days,
            "allowed_abilities": list(self.allowed_abilities),
        }


DEFAULT_RULES = TokenRules()

"""API tokens and their lifecycle events, stored in each tenant's schema.

The app's other model, the API activity log, lives with the code that writes it
(``tokens.activity.models``); it is imported here because Django finds an app's models through
its ``models`` module.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from tokens import allowlist
from tokens.abilities import Ability
from tokens.activity.models import ApiRequestLog
from tokens.policy import DEFAULT_ROTATION_DAYS, DEFAULT_RULES, TokenRules

__all__ = [
    "ApiRequestLog",
    "ApiToken",
    "ApiTokenQuerySet",
    "TokenEvent",
    "TokenPolicy",
    "TokenPolicyEvent",
]


class CidrField(models.Field):
    """An IPv4 or IPv6 network in PostgreSQL's ``cidr`` type, as text in Python.

    The database refuses host bits set and prints one canonical spelling (``10.0.0.5/32``), the
    one ``tokens.allowlist.normalize_entry`` produces; Django has no field for it
    (``GenericIPAddressField`` is ``inet``, one address without a prefix).
    """

    description = "IPv4 or IPv6 network (cidr)"

    def db_type(self, connection: Any) -> str:
        return "cidr"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return None if value is None else str(value)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self) -> ApiTokenQuerySet:
        """Tokens not revoked (expired ones are still listed, with their expiry)."""
        return self.filter(revoked_at__isnull=True)

    def usable(self, now: datetime) -> ApiTokenQuerySet:
        return self.live().filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A Bearer token ``{id}|{secret}``; only an HMAC of the secret is stored."""

    name = models.CharField(max_length=255)
    abilities = ArrayField(models.CharField(max_length=16, choices=Ability.choices))
    # Where the token may be used from (tokens.allowlist); empty: from anywhere.
    allowed_ips = ArrayField(CidrField(), default=list, blank=True)
    secret_hash = models.CharField(max_length=64)
    # After a regeneration with a grace period, the old secret keeps working until this moment.
    previous_secret_hash = models.CharField(max_length=64, blank=True, default="")
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    regenerated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_token = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

    # DRF treats whatever authenticate() returns as request.user; a token is an authenticated actor.
    is_authenticated = True

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @functools.cached_property
    def compiled_allowlist(self) -> allowlist.CompiledAllowlist:
        """``allowed_ips`` ready for the check; a token served from the per-worker cache gets
        its snapshot's, computed once when the row was read (``tokens.snapshot``)."""
        return allowlist.compile_allowlist(tuple(self.allowed_ips))

    def permits_address(self, client: str) -> bool:
        """Whether this token may be used from ``client`` (``waqti.client_ip``): always with an
        empty allowlist; otherwise one binary search in its ranges."""
        if not self.allowed_ips:
            return True
        return allowlist.permits(self.compiled_allowlist, client)


class TokenEvent(models.Model):
    """Audit trail of token lifecycle actions: who did what, from where."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        REGENERATED = "regenerated", "Regenerated"
        REVOKED = "revoked", "Revoked"
        UPDATED = "updated", "Updated"
        # By the system (tokens/reminders.py): the admins were reminded of a deadline
        # (changes: what, at); the token policy expired it for want of use (reason, at).
        REMINDED = "reminded", "Reminded"
        EXPIRED = "expired", "Expired"

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # What an "updated" event changed: {field: {"before": ..., "after": ...}}; {} otherwise.
    changes = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} token #{self.token_id} by {self.actor_label or 'system'}"


def _all_abilities() -> list[str]:
    return list(Ability.values)


class TokenPolicy(models.Model):
    """The tenant's token policy (``tokens.policy``): at most one row, id 1, created by the
    first change; without it the defaults apply."""

    SINGLETON_ID = 1

    max_lifetime_days = models.PositiveIntegerField(null=True, blank=True)
    expire_unused_after_days = models.PositiveIntegerField(null=True, blank=True)
    rotation_days = models.PositiveIntegerField(default=DEFAULT_ROTATION_DAYS)
    allowed_abilities = ArrayField(
        models.CharField(max_length=16, choices=Ability.choices), default=_all_abilities
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "token policy"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="token_policy_single_row"),
        ]

    def __str__(self) -> str:
        return "Token policy"

    # The columns that make the rules (TokenRules' fields, same names).
    RULE_FIELDS = (
        "max_lifetime_days",
        "expire_unused_after_days",
        "rotation_days",
        "allowed_abilities",
    )

    def rules(self) -> TokenRules:
        return self.rules_from({name: getattr(self, name) for name in self.RULE_FIELDS})

    @staticmethod
    def rules_from(values: dict[str, Any] | None) -> TokenRules:
        """The rules of a policy row's rule columns by name (``tokens.lookup.read_row`` reads them
        as one JSON object); None: no row, the defaults."""
        if values is None:
            return DEFAULT_RULES
        return TokenRules(**{**values, "allowed_abilities": tuple(values["allowed_abilities"])})


class TokenPolicyEvent(models.Model):
    """Audit trail of the token policy: who changed it, when, from where, before and after."""

    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"token policy changed by {self.actor_label or 'system'}"

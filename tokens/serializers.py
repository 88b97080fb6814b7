"""Token API shapes: output never carries a secret or hash; input lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tokens import allowlist
from tokens.abilities import Ability, normalize_abilities
from tokens.models import ApiToken
from tokens.policy import DEFAULT_RULES, EXPIRED_AT_EXPIRY, EXPIRED_UNUSED, MAX_DAYS, TokenRules
from tokens.services import MAX_GRACE_MINUTES
from waqti.api.serializers import ApiModelSerializer, UtcDateTimeField, utc_timestamp

POLICY_FIELDS = (
    "max_lifetime_days",
    "expire_unused_after_days",
    "rotation_days",
    "allowed_abilities",
)

ALLOWED_IPS_HELP = _(
    "Where the token may be used from: IPv4 or IPv6 addresses and CIDRs, at most 50. Stored "
    "and shown as networks (203.0.113.9 becomes 203.0.113.9/32; IPv4-mapped IPv6 becomes IPv4); "
    "a CIDR with host bits set is refused. Empty: from anywhere."
)


class AllowedIpEntryField(serializers.CharField):
    """One allowlist entry, returned in its canonical spelling (``tokens.allowlist``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", allowlist.MAX_ENTRY_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if len(text) > allowlist.MAX_ENTRY_LENGTH:  # before parsing it, and named as such
            self.fail("max_length", max_length=allowlist.MAX_ENTRY_LENGTH)
        try:
            return allowlist.normalize_entry(text)
        except allowlist.InvalidEntry:
            raise serializers.ValidationError(entry_refusal(text)) from None


def entry_refusal(text: str) -> str:
    """Why ``text`` is not an allowlist entry (the API's and the Settings form's message): the
    network or the address it probably means when it has host bits set, else what an entry
    looks like."""
    suggested = allowlist.suggestions(text)
    if suggested is None:
        return str(_("Enter an IPv4 or IPv6 address or CIDR, e.g. 203.0.113.9 or 203.0.113.0/24."))
    return _(
        "%(entry)s has host bits set: write %(network)s for the network or "
        "%(address)s for the one address."
    ) % {"entry": text.strip(), "network": suggested[0], "address": suggested[1]}


def allowed_ips_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=AllowedIpEntryField(),
        max_length=allowlist.MAX_ENTRIES,
        help_text=ALLOWED_IPS_HELP,
        **kwargs,
    )


class TokenSerializer(ApiModelSerializer):
    """A token as the tenant's token policy sees it (``context["rules"]``, at ``context["now"]``):
    why it is expired if it is, when its secret is due for rotation, and which of its abilities
    the policy withholds."""

    allowed_ips = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=ALLOWED_IPS_HELP
    )
    expired_reason = serializers.SerializerMethodField(
        help_text=(
            "Why the token no longer authenticates (revoked tokens are not listed): "
            f"`{EXPIRED_AT_EXPIRY}` (its expires_at has passed) or `{EXPIRED_UNUSED}` (unused "
            "for longer than the token policy's expire_unused_after_days); null while usable."
        )
    )
    rotation_due_at = serializers.SerializerMethodField(
        help_text="When the secret (since created or last regenerated) reaches the token "
        "policy's rotation_days: regenerate it by then."
    )
    withheld_abilities = serializers.SerializerMethodField(
        help_text="Abilities the token holds that the token policy's allowed_abilities does not "
        "let it use (its requests needing them get 403); they work again if the policy allows them."
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "abilities",
            "allowed_ips",
            "created_at",
            "expires_at",
            "last_used_at",
            "expired_reason",
            "rotation_due_at",
            "withheld_abilities",
        ]

    def _rules(self) -> TokenRules:
        return self.context.get("rules", DEFAULT_RULES)

    def _now(self) -> datetime:
        return self.context.get("now") or timezone.now()

    @extend_schema_field(
        serializers.ChoiceField(choices=[EXPIRED_AT_EXPIRY, EXPIRED_UNUSED], allow_null=True)
    )
    def get_expired_reason(self, token: ApiToken) -> str | None:
        return self._rules().expired_reason(
            token.expires_at, token.last_used_at, token.created_at, self._now()
        )

    @extend_schema_field(UtcDateTimeField())
    def get_rotation_due_at(self, token: ApiToken) -> str | None:
        due = self._rules().rotation_due_at(token.created_at, token.regenerated_at)
        return utc_timestamp(due)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_withheld_abilities(self, token: ApiToken) -> list[str]:
        return self._rules().withheld(token.abilities)


class IssuedTokenSerializer(TokenSerializer):
    """The only shape that carries the plaintext ``token``: create and regenerate answers."""

    token = serializers.CharField(read_only=True)

    class Meta(TokenSerializer.Meta):
        fields = [
            "id",
            "name",
            "abilities",
            "allowed_ips",
            "token",
            "created_at",
            "expires_at",
            "last_used_at",
            "expired_reason",
            "rotation_due_at",
            "withheld_abilities",
        ]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, min_length=1, trim_whitespace=True)
    abilities = serializers.ListField(
        child=serializers.ChoiceField(choices=Ability.choices), allow_empty=False, max_length=16
    )
    expires_at = UtcDateTimeField(required=False, allow_null=True)
    allowed_ips = allowed_ips_field(required=False)

    def validate_abilities(self, value: list[str]) -> list[str]:
        return normalize_abilities(value)

    def validate_expires_at(self, value: datetime | None) -> datetime | None:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must be in the future."))
        return value


class TokenRegenerateSerializer(serializers.Serializer):
    grace_period_minutes = serializers.IntegerField(
        min_value=0, max_value=MAX_GRACE_MINUTES, default=0, required=False
    )
    allowed_ips = allowed_ips_field(required=False)
    expires_at = UtcDateTimeField(
        required=False,
        allow_null=True,
        help_text="A new expiry (null: none); omitted, the token keeps its expiry. Under the "
        "token policy's max_lifetime_days the expiry it ends up with must be within it.",
    )

    def validate_expires_at(self, value: datetime | None) -> datetime | None:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must be in the future."))
        return value


class TokenUpdateSerializer(serializers.Serializer):
    """``PATCH /tokens/{id}``: the name and the IP allowlist; nothing else is editable."""

    name = serializers.CharField(max_length=255, min_length=1, trim_whitespace=True, required=False)
    allowed_ips = allowed_ips_field(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        fixed = sorted(set(self.initial_data) - set(self.fields))
        if fixed:
            message = _(
                "This field cannot be changed; only name and allowed_ips can. Create a new token "
                "for other abilities or expiry."
            )
            raise serializers.ValidationError({name: [message] for name in fixed})
        return attrs


class RateLimitWindowSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=["minute", "day"], help_text="The plan's window.")
    limit = serializers.IntegerField(help_text="Requests allowed in the window.")
    remaining = serializers.IntegerField(min_value=0, help_text="Requests left in the window.")
    reset = serializers.IntegerField(
        help_text="Unix time (seconds) when the window starts counting from zero again "
        "(as X-RateLimit-Reset)."
    )


class RateLimitSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="The tenant's plan.")
    windows = RateLimitWindowSerializer(
        many=True, help_text="Minute first; a window without a limit is absent."
    )


class TokenPolicySerializer(serializers.Serializer):
    """``PUT /api/v1/token-policy``: all four fields, nothing else."""

    max_lifetime_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        allow_null=True,
        help_text="Tokens created or regenerated must expire within this many days (null: any "
        "expiry, or none).",
    )
    expire_unused_after_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        allow_null=True,
        help_text="A token unused this long (since last_used_at, else created_at; to about a "
        "minute) stops authenticating (null: never).",
    )
    rotation_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        help_text="A token's secret is due for rotation this many days after it was created or "
        "last regenerated (rotation_due_at).",
    )
    allowed_abilities = serializers.ListField(
        child=serializers.ChoiceField(choices=Ability.choices),
        allow_empty=False,
        max_length=16,
        help_text="New tokens may hold only these; existing tokens cannot use the others "
        "(withheld_abilities) while the policy stands.",
    )

    def validate_allowed_abilities(self, value: list[str]) -> list[str]:
        return normalize_abilities(value)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Also refuses fields it does not know (a typo must not pass for "no change")."""
        unknown = (
            sorted(str(name) for name in data if name not in POLICY_FIELDS)
            if isinstance(data, dict)
            else []
        )
        errors: dict[str, Any] = {name: [_("Unknown field.")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if not isinstance(invalid.detail, dict):
                raise
            errors = {**invalid.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


class TokenPolicyChangeSerializer(serializers.Serializer):
    """One recorded change of the token policy."""

    occurred_at = UtcDateTimeField()
    actor = serializers.CharField(source="actor_label")
    ip_address = serializers.IPAddressField(allow_null=True)
    before = serializers.DictField()
    after = serializers.DictField()


class TokenPolicyOutputSerializer(serializers.Serializer):
    """The tenant's token policy with its recent changes (newest first)."""

    max_lifetime_days = serializers.IntegerField(allow_null=True)
    expire_unused_after_days = serializers.IntegerField(allow_null=True)
    rotation_days = serializers.IntegerField()
    allowed_abilities = serializers.ListField(child=serializers.CharField())
    updated_at = UtcDateTimeField(allow_null=True)
    changes = TokenPolicyChangeSerializer(many=True)


class MeSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    tenant_name = serializers.CharField()
    token_name = serializers.CharField()
    abilities = serializers.ListField(child=serializers.CharField())
    last_used_at = UtcDateTimeField(allow_null=True)

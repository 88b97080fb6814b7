"""Token API shapes: output never carries a secret or hash; input lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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


class TokenSerializer(ApiModelSerializer):
    """A token as the tenant's token policy sees it (``context["rules"]``, at ``context["now"]``):
    why it is expired if it is, when its secret is due for rotation, and which of its abilities
    the policy withholds."""

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

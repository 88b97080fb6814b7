"""Token API shapes: output never carries a secret or hash; input lists its fields."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tokens.abilities import Ability, normalize_abilities
from tokens.models import ApiToken
from tokens.services import MAX_GRACE_MINUTES
from waqti.api.serializers import ApiModelSerializer, UtcDateTimeField


class TokenSerializer(ApiModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "abilities", "created_at", "expires_at", "last_used_at"]


class IssuedTokenSerializer(TokenSerializer):
    """The only shape that carries the plaintext ``token``: create and regenerate answers."""

    token = serializers.CharField(read_only=True)

    class Meta(TokenSerializer.Meta):
        fields = ["id", "name", "abilities", "token", "created_at", "expires_at", "last_used_at"]


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


class MeSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    tenant_name = serializers.CharField()
    token_name = serializers.CharField()
    abilities = serializers.ListField(child=serializers.CharField())
    last_used_at = UtcDateTimeField(allow_null=True)

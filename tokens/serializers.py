"""Token API shapes: output never carries a secret or hash; input lists its fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tokens import allowlist
from tokens.abilities import Ability, normalize_abilities
from tokens.models import ApiToken
from tokens.services import MAX_GRACE_MINUTES
from waqti.api.serializers import ApiModelSerializer, UtcDateTimeField

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
            suggested = allowlist.suggestions(text)
            if suggested is not None:
                message = _(
                    "%(entry)s has host bits set: write %(network)s for the network or "
                    "%(address)s for the one address."
                ) % {"entry": text.strip(), "network": suggested[0], "address": suggested[1]}
            else:
                message = _(
                    "Enter an IPv4 or IPv6 address or CIDR, e.g. 203.0.113.9 or 203.0.113.0/24."
                )
            raise serializers.ValidationError(message) from None


def allowed_ips_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=AllowedIpEntryField(),
        max_length=allowlist.MAX_ENTRIES,
        help_text=ALLOWED_IPS_HELP,
        **kwargs,
    )


class TokenSerializer(ApiModelSerializer):
    allowed_ips = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=ALLOWED_IPS_HELP
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
        ]


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


class MeSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    tenant_name = serializers.CharField()
    token_name = serializers.CharField()
    abilities = serializers.ListField(child=serializers.CharField())
    last_used_at = UtcDateTimeField(allow_null=True)

"""Webhook subscriptions and deliveries as the API reads and shows them."""

from __future__ import annotations

from rest_framework import serializers

from waqti.api.serializers import ApiModelSerializer
from waqti.domain_events import EVENT_TYPES
from webhooks import services
from webhooks.models import Delivery, Subscription


class SubscriptionSerializer(ApiModelSerializer):
    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "url",
            "events",
            "is_active",
            "failure_count",
            "last_triggered_at",
            "created_at",
        ]


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    """The create answer, the only one with the signing secret."""

    secret = serializers.CharField(
        help_text="Standard Webhooks signing secret (whsec_...): shown once, here; never again."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SubscriptionInputSerializer(serializers.Serializer):
    """POST and PUT: name, url and events; PATCH (``partial``): any of them, and is_active."""

    name = serializers.CharField(max_length=100)
    url = serializers.URLField(
        max_length=500,
        help_text="https:// (plain http only on a development server). Delivered only to public "
        "addresses, checked again at every connection.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
    )
    is_active = serializers.BooleanField(required=False)

    def validate_url(self, value: str) -> str:
        problem = services.url_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class DeliverySerializer(ApiModelSerializer):
    event = serializers.CharField(source="event_type")
    webhook_id = serializers.CharField(source="message_id")
    status_code = serializers.IntegerField(source="last_status_code", allow_null=True)
    duration_ms = serializers.FloatField(source="last_duration_ms", allow_null=True)
    error = serializers.CharField(source="last_error")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "webhook_id",
            "status",
            "attempts",
            "status_code",
            "duration_ms",
            "error",
            "next_retry_at",
            "created_at",
            "delivered_at",
        ]

"""Shapes of the API activity log: the ``/api/v1/api-logs`` rows and its query filters."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tokens.activity.models import LOG_FIELDS
from tokens.models import ApiRequestLog
from tokens.secrets import MAX_TOKEN_ID
from waqti.api.serializers import ApiModelSerializer, UtcDateTimeField

HTTP_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


class ApiRequestLogSerializer(ApiModelSerializer):
    class Meta:
        model = ApiRequestLog
        fields = ["id", *LOG_FIELDS]


class _MethodField(serializers.ChoiceField):
    """An HTTP method in any letter case, returned upper-case."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(str(data).upper())


class ApiLogFilterSerializer(serializers.Serializer):
    """Query filters of ``GET /api/v1/api-logs``; ``from``/``to`` are inclusive ISO 8601 bounds."""

    token_id = serializers.IntegerField(min_value=1, max_value=MAX_TOKEN_ID, required=False)
    status = serializers.IntegerField(min_value=100, max_value=599, required=False)
    method = _MethodField(choices=HTTP_METHODS, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # ``from`` is a Python keyword, so these two cannot be class attributes.
        fields["from"] = UtcDateTimeField(required=False)
        fields["to"] = UtcDateTimeField(required=False)
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("from"), attrs.get("to")
        if since is not None and until is not None and until < since:
            raise serializers.ValidationError({"to": [_("The to time must not be before from.")]})
        return attrs

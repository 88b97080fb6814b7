"""Serializer bases shared by every app: UTC ``...Z`` timestamps, money as 2-decimal strings."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from rest_framework import serializers

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class UtcDateTimeField(serializers.DateTimeField):
    """Reads any ISO 8601 timestamp; writes UTC with a ``Z`` suffix, to the second."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("format", TIMESTAMP_FORMAT)
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(*args, **kwargs)


def utc_timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT) if value else None


class ApiModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }

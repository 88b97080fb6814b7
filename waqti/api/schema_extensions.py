"""drf-spectacular extensions: the Bearer token scheme, and the types of filters it cannot infer.

drf-spectacular finds an extension when its module is imported: ``waqti.api.apps`` imports this
one when Django starts, before any schema is generated.
"""

from __future__ import annotations

import copy
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import has_override, set_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

BEARER_SCHEME = "BearerToken"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer {id}|{secret}``: the API's one authentication scheme, whichever
    class ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` names (the API layer names no
    app), and its subclasses."""

    target_class = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][0]
    match_subclasses = True
    name = BEARER_SCHEME

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "{id}|{secret}",
            "description": "A tenant's API token, `{id}|{secret}` (e.g. `3|a1b2...`): created in "
            "Settings -> API Settings or with POST /api/v1/tokens, shown once. The secret is 40 "
            "`[A-Za-z0-9]`: 34 random, then 6 base62 digits of the CRC32 of `{id}|{the 34}` "
            "(README, Token format).",
        }


class FormFieldFilterExtension(DjangoFilterExtension):
    """Types the filters that drf-spectacular cannot infer from the model.

    A bare ``django_filters.Filter`` with its own form field is looked up on the model, is not
    found there and makes drf-spectacular warn (which ``check --deploy`` reports); an id filter
    on an integer form field would be typed as a float. Their form field says what they accept.
    """

    priority = 1

    def resolve_filter_field(
        self,
        auto_schema: AutoSchema,
        model: Any,
        filterset_class: Any,
        field_name: str,
        filter_field: Any,
    ) -> list[dict[str, Any]]:
        nearest = next(
            c for c in type(filter_field).__mro__ if c.__module__.startswith("django_filters")
        )
        schema = None
        if has_override(filter_field, "field"):
            pass
        elif nearest is django_filters.Filter:
            schema = _form_field_schema(filter_field.field_class)
        elif isinstance(filter_field, django_filters.NumberFilter) and _is_integer_field(
            filter_field.field_class
        ):
            schema = {"type": "integer"}
            if filter_field.extra.get("min_value") is not None:
                schema["minimum"] = filter_field.extra["min_value"]
        if schema is not None:
            filter_field = copy.copy(filter_field)
            set_override(filter_field, "field", schema)
        return super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )


def _is_integer_field(field_class: type) -> bool:
    # Django's DecimalField and FloatField derive from IntegerField.
    return issubclass(field_class, forms.IntegerField) and not issubclass(
        field_class, forms.FloatField | forms.DecimalField
    )


def _form_field_schema(field_class: type) -> dict[str, Any]:
    """String (or date/date-time) described by the field's own "invalid" message, which states
    the accepted format ("Enter a date (YYYY-MM-DD) or an ISO 8601 date-time.")."""
    schema: dict[str, Any] = {"type": "string"}
    if issubclass(field_class, forms.DateTimeField):
        schema["format"] = "date-time"
    elif issubclass(field_class, forms.DateField):
        schema["format"] = "date"
    elif getattr(field_class, "schema_formats", None):
        # A field that accepts several formats names them (``DateOrDateTimeField``).
        schema["anyOf"] = [{"format": name} for name in field_class.schema_formats]
    invalid = vars(field_class).get("default_error_messages", {}).get("invalid")
    if invalid:
        schema["description"] = str(invalid)
    return schema

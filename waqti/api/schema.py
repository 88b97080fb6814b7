"""OpenAPI 3 generation for the whole API: envelopes, error bodies, headers and the Bearer scheme
added in one place (``DEFAULT_SCHEMA_CLASS``), so views need no per-endpoint decorations."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import has_override, set_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes

from tokens.permissions import required_ability
from waqti.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from waqti.api.idempotency import REPLAY_HEADER, idempotent
from waqti.api.request_id import HEADER as REQUEST_ID_HEADER
from waqti.api.views import BODY_METHODS

BEARER_SCHEME = "BearerToken"
ERROR_COMPONENT = "ErrorResponse"
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

# Every wrapper made by ``idempotent`` shares one code object: that is how a create view is
# recognised as accepting ``Idempotency-Key`` without a second, schema-only marker.
_IDEMPOTENT_CODE = idempotent(lambda self, request: None).__code__

_HEADERS: dict[str, dict[str, Any]] = {
    REQUEST_ID_HEADER: {
        "description": "Echo of the request's X-Request-ID when it was sane "
        "(1-128 of A-Z a-z 0-9 . _ : -), otherwise a generated id. Quote it in support requests.",
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the tenant's window closest to exhaustion "
        "(normally the minute window of its plan).",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in that window.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time (seconds) when that window starts counting from zero again.",
        "schema": {"type": "integer"},
    },
    "Retry-After": {
        "description": "Whole seconds (at least 1) until the exhausted window resets.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {"description": "Always `Bearer`.", "schema": {"type": "string"}},
    REPLAY_HEADER: {
        "description": "`true` when this answer replays the first response to the same "
        "Idempotency-Key; nothing was created by this request.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

_ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error has this shape; `errors` maps a field (or `token`, `ability`, "
    "`rate_limit`, `status`, `body`, ...) to its messages and may be empty. Messages follow "
    "Accept-Language (`en` by default, `ar`); keys never change.",
    "required": ["message", "errors"],
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

_UNAUTHENTICATED = {
    "message": "Unauthenticated.",
    "errors": {"token": ["Invalid or expired token"]},
}

# status -> (description, example body, extra headers beyond X-Request-ID and the rate limit)
_ERRORS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "400": (
        "The body is not valid JSON, or is nested more than 32 levels deep.",
        {
            "message": "Malformed request body.",
            "errors": {"body": ["The request body is not valid JSON (line 1, column 2)."]},
        },
        (),
    ),
    "401": (
        "Missing, malformed, unknown, revoked or expired token (always this exact body).",
        _UNAUTHENTICATED,
        ("WWW-Authenticate",),
    ),
    "404": ("No such resource in this tenant.", {"message": "Not found.", "errors": {}}, ()),
    "411": (
        "The body was sent chunked (`Transfer-Encoding`) without `Content-Length`; it is not read.",
        {
            "message": "Length required.",
            "errors": {
                "body": ["Send the request body with a Content-Length header, not chunked."]
            },
        },
        (),
    ),
    "413": (
        "The body is larger than the server's limit (`WAQTI_MAX_BODY_BYTES`, by default 1 MiB).",
        {
            "message": "Request body too large.",
            "errors": {"body": ["The request body must not be larger than 1048576 bytes."]},
        },
        (),
    ),
    "409": (
        "The resource's current status does not allow this action.",
        {
            "message": "Only a draft purchase order can be edited; this one is approved.",
            "errors": {"status": ["The current status is approved."]},
        },
        (),
    ),
    "422": (
        "Validation failed; `errors` names each invalid field (nested ones by path, e.g. "
        "`items.0.quantity`; on lists, also a `page` past the last one).",
        {"message": "The given data was invalid.", "errors": {"name": ["This field is required."]}},
        (),
    ),
    "429": (
        "Over the plan's rate limit (or too many bad tokens from this address).",
        {
            "message": "Too Many Requests.",
            "errors": {
                "rate_limit": [
                    "Rate limit of 60 requests per minute for the professional "
                    "plan exceeded. Retry in 30 seconds."
                ]
            },
        },
        ("Retry-After",),
    ),
}

_SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Retrieve a {singular}",
    "create": "Create a {singular}",
    "update": "Replace a {singular}",
    "partial_update": "Update part of a {singular}",
    "destroy": "Delete a {singular}",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer {id}|{secret}`` (tokens.authentication.BearerTokenAuthentication)."""

    target_class = "tokens.authentication.BearerTokenAuthentication"
    name = BEARER_SCHEME

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "{id}|{secret}",
            "description": "A tenant's API token, `{id}|{secret}` (e.g. `3|a1b2...`): created in "
            "Settings -> API Settings or with POST /api/v1/tokens, shown once.",
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
        import django_filters

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
    from django import forms

    # Django's DecimalField and FloatField derive from IntegerField.
    return issubclass(field_class, forms.IntegerField) and not issubclass(
        field_class, forms.FloatField | forms.DecimalField
    )


def _form_field_schema(field_class: type) -> dict[str, Any]:
    """String (or date/date-time) described by the field's own "invalid" message, which states
    the accepted format ("Enter a date (YYYY-MM-DD) or an ISO 8601 date-time.")."""
    from django import forms

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


class WaqtiAutoSchema(AutoSchema):
    """The API's real shapes without per-view decorations.

    - request bodies come from a view's ``input_serializer`` (create, PUT, PATCH);
    - responses from its ``output_serializer``, wrapped in ``{"data": ...}`` (lists keep the
      paginator's ``data``/``meta``/``links`` envelope);
    - each operation lists the error bodies it can answer with, the X-Request-ID and
      X-RateLimit-* headers, and ``Idempotency-Key`` when its view method is ``@idempotent``.
    ``@extend_schema`` on a view still wins over all of this.
    """

    # --- request and response serializers ------------------------------------------------------

    def get_request_serializer(self) -> Any:
        action = getattr(self.view, "action", None)
        input_serializer = getattr(self.view, "input_serializer", None)
        if input_serializer is not None and action in {"create", "update", "partial_update"}:
            return input_serializer
        if action is not None and action not in _SUMMARIES:
            return None  # custom actions read no body unless they declare one
        return super().get_request_serializer()

    def get_response_serializers(self) -> Any:
        output_serializer = getattr(self.view, "output_serializer", None)
        if output_serializer is not None:
            return output_serializer
        return super().get_response_serializers()

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        """``FooInputSerializer`` -> ``FooRequest``: the suffix gives the direction."""
        name = super().get_serializer_name(serializer, direction)
        if direction == "request" and name.endswith("InputSerializer"):
            return name.removesuffix("InputSerializer")
        return name

    def _postprocess_serializer_schema(
        self, schema: dict[str, Any], serializer: Any, direction: str
    ) -> dict[str, Any]:
        schema = super()._postprocess_serializer_schema(schema, serializer, direction)
        # A base class's docstring (written for developers) is not the component's description.
        if "__doc__" not in vars(type(serializer)) or not type(serializer).__doc__:
            schema.pop("description", None)
        # drf-spectacular leaves ``allow_empty=False`` out; an empty list is refused with a 422.
        properties = schema.get("properties", {})
        for name, field in serializer.fields.items():
            if getattr(field, "allow_empty", True) is False and "minItems" not in properties.get(
                name, {"minItems": 0}
            ):
                properties[name]["minItems"] = 1
        return schema

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: str,
        media_types: Any = None,
        direction: str = "response",
    ) -> dict[str, Any]:
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not status_code.startswith("2") or self._is_list_view(serializer):
            return response
        for media in response.get("content", {}).values():
            media["schema"] = self._envelope(media["schema"])
        return response

    def _envelope(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``{"data": <schema>}``, as a named component when ``schema`` is one."""
        wrapped = {"type": "object", "required": ["data"], "properties": {"data": schema}}
        ref = schema.get("$ref", "")
        if not ref.startswith("#/components/schemas/"):
            return wrapped
        component = ResolvedComponent(
            name=f"{ref.rsplit('/', 1)[-1]}Response",
            type=ResolvedComponent.SCHEMA,
            schema=wrapped,
            object=f"envelope:{ref}",
        )
        self.registry.register_on_missing(component)
        return component.ref

    # --- operation-level additions -------------------------------------------------------------

    def get_summary(self) -> str | None:
        summary = super().get_summary()
        if summary:
            return summary
        action = getattr(self.view, "action", None)
        basename = getattr(self.view, "basename", None)
        if action is None or basename is None:
            return None
        singular = basename.replace("-", " ")
        template = _SUMMARIES.get(action, f"{action.replace('_', ' ').capitalize()} a {{singular}}")
        return template.format(singular=singular, plural=f"{singular}s")

    def get_description(self) -> str:
        description = super().get_description()
        if not self._authenticated():
            return description
        ability = self._required_ability()
        if ability is None:
            needs = "Any valid token."
        elif ability == "admin":
            needs = "Requires the `admin` ability."
        else:
            needs = f"Requires the `{ability}` ability (or `admin`)."
        return f"{description}\n\n{needs}" if description else needs

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._is_idempotent_create():
            from drf_spectacular.utils import OpenApiParameter

            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    OpenApiTypes.STR,
                    location=OpenApiParameter.HEADER,
                    required=False,
                    pattern=r"^[\x21-\x7e]{1,255}$",
                    description="Retry-safe creation: the same key with the same body within 24 "
                    "hours replays the first response (same status and body, header "
                    f"`{REPLAY_HEADER}: true`) and creates nothing; the same key with a "
                    "different body answers 422. Keys are per tenant.",
                )
            )
        return parameters

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            # Router ids are declared as digit patterns; clients should see integers.
            if parameter.get("in") == "path" and schema.get("pattern", "").startswith("^[0-9]"):
                parameter["schema"] = {"type": "integer", "minimum": 1}
            # Every list parameter reads an empty value (an empty form field) as "not given".
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, response in responses.items():
            if code.startswith("2"):
                response["headers"] = {
                    **response.get("headers", {}),
                    **self._standard_headers(),
                    **(
                        {REPLAY_HEADER: self._header(REPLAY_HEADER)}
                        if code == "201" and self._is_idempotent_create()
                        else {}
                    ),
                }
        if self._authenticated():
            for code in self._error_codes():
                responses.setdefault(code, self._error_response(code))
        return dict(sorted(responses.items()))

    # --- helpers -------------------------------------------------------------------------------

    def _authenticated(self) -> bool:
        return bool(self.view.get_authenticators())

    def _required_ability(self) -> str | None:
        # The ability map reads only the method (and the view's action) from the request.
        ability = required_ability(SimpleNamespace(method=self.method), self.view)  # type: ignore[arg-type]
        return str(ability) if ability is not None else None

    def _is_idempotent_create(self) -> bool:
        if self.method != "POST":
            return False
        handler = getattr(self.view, getattr(self.view, "action", None) or "post", None)
        return getattr(handler, "__code__", None) is _IDEMPOTENT_CODE

    def _has_body(self) -> bool:
        return self.method in BODY_METHODS and self.get_request_serializer() is not None

    def _error_codes(self) -> list[str]:
        action = getattr(self.view, "action", None)
        codes = ["401", "429"]
        if self._required_ability() is not None:
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.method in BODY_METHODS:
            codes.append("411")
        if self._has_body():
            codes += ["400", "413", "422"]
        elif self.method == "GET" and self._is_list_view():
            codes.append("422")  # page, per_page, sorting and filters are validated
        if self._is_idempotent_create() and "422" not in codes:
            codes.append("422")
        if action in getattr(self.view, "conflict_actions", frozenset()):
            codes.append("409")
        return sorted(codes)

    def _error_response(self, code: str) -> dict[str, Any]:
        error_ref = self._component(ERROR_COMPONENT, ResolvedComponent.SCHEMA, _ERROR_SCHEMA).ref
        if code == "403":
            ability = self._required_ability()
            description = f"The token lacks the `{ability}` ability."
            example = {
                "message": "This action is unauthorized.",
                "errors": {"ability": [f"Token does not have '{ability}' ability"]},
            }
            extra: tuple[str, ...] = ()
        else:
            description, example, extra = _ERRORS[code]
        headers = self._standard_headers()
        headers.update({name: self._header(name) for name in extra})
        return {
            "description": description,
            "headers": headers,
            "content": {"application/json": {"schema": error_ref, "example": example}},
        }

    def _standard_headers(self) -> dict[str, Any]:
        names = [REQUEST_ID_HEADER]
        if self._authenticated():
            names += RATE_LIMIT_HEADERS
        return {name: self._header(name) for name in names}

    def _header(self, name: str) -> dict[str, Any]:
        return self._component(name, ResolvedComponent.HEADER, _HEADERS[name]).ref

    def _component(self, name: str, kind: str, schema: dict[str, Any]) -> ResolvedComponent:
        component = ResolvedComponent(name=name, type=kind, schema=schema, object=f"waqti:{name}")
        self.registry.register_on_missing(component)
        return component

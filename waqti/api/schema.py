"""OpenAPI 3 for the whole API (``DEFAULT_SCHEMA_CLASS``): envelopes, error bodies, headers and
required abilities added in one place, so views need no per-endpoint decorations.

Only drf-spectacular's public ``AutoSchema`` methods are overridden: each builds what it always
builds and this class reshapes the result (``get_operation`` the whole operation,
``resolve_serializer`` each serializer's component).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent, force_instance
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.mixins import ListModelMixin

from waqti.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from waqti.api.idempotency import KEY_PATTERN, REPLAY_HEADER, idempotent
from waqti.api.schema_responses import error_response, header, standard_headers
from waqti.api.views import BODY_METHODS

# Every wrapper made by ``idempotent`` shares one code object: that is how a create view is
# recognised as accepting ``Idempotency-Key`` without a second, schema-only marker.
_IDEMPOTENT_CODE = idempotent(lambda self, request: None).__code__

_SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "Retrieve a {singular}",
    "create": "Create a {singular}",
    "update": "Replace a {singular}",
    "partial_update": "Update part of a {singular}",
    "destroy": "Delete a {singular}",
}


class WaqtiAutoSchema(AutoSchema):
    """The API's real shapes without per-view decorations.

    - request bodies come from a view's ``input_serializer`` (create, PUT, PATCH);
    - responses from its ``output_serializer``, wrapped in ``{"data": ...}`` (lists keep the
      paginator's ``data``/``meta``/``links`` envelope);
    - each operation lists the error bodies it can answer with (409 for the view's
      ``conflict_actions``), the X-Request-ID and X-RateLimit-* headers, the ability it needs,
      and ``Idempotency-Key`` when its view method is ``@idempotent``.
    ``@extend_schema`` on a view still wins over the serializers and texts chosen here.
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

    def resolve_serializer(
        self, serializer: Any, direction: str, bypass_extensions: bool = False
    ) -> ResolvedComponent:
        component = super().resolve_serializer(serializer, direction, bypass_extensions)
        if component.schema:  # not the sentinel of a discarded (empty) component
            _as_declared(component.schema, force_instance(serializer))
        return component

    # --- operation texts and parameters --------------------------------------------------------

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
        if not _authenticated(self.view):
            return description
        ability = operation_ability(self.view, self.method)
        if ability is None:
            needs = "Any valid token."
        elif ability == "admin":
            needs = "Requires the `admin` ability."
        else:
            needs = f"Requires the `{ability}` ability (or `admin`)."
        return f"{description}\n\n{needs}" if description else needs

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if _is_idempotent_create(self.view, self.method):
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    OpenApiTypes.STR,
                    location=OpenApiParameter.HEADER,
                    required=False,
                    pattern=KEY_PATTERN.pattern,
                    description="Retry-safe creation: the same key with the same body within 24 "
                    "hours replays the first response (same status and body, header "
                    f"`{REPLAY_HEADER}: true`) and creates nothing; the same key with a "
                    "different body answers 422. Keys are per tenant.",
                )
            )
        return parameters

    # --- the whole operation -------------------------------------------------------------------

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            _add_contract(self, operation)
        return operation


def _add_contract(auto_schema: AutoSchema, operation: dict[str, Any]) -> None:
    """What every operation of this API promises beyond its serializers: parameters as they
    are read, the ``{"data": ...}`` envelope, the standard headers and the error responses."""
    view, method, registry = auto_schema.view, auto_schema.method, auto_schema.registry
    for parameter in operation.get("parameters", []):
        _as_read(parameter)
    authenticated = _authenticated(view)
    responses = operation["responses"]
    for code, response in responses.items():
        if not code.startswith("2"):
            continue
        if not _is_list(view, method):  # a list has the paginator's envelope
            for media in response.get("content", {}).values():
                media["schema"] = _envelope(registry, media["schema"])
        replay = code == "201" and _is_idempotent_create(view, method)
        response["headers"] = {
            **response.get("headers", {}),
            **standard_headers(registry, authenticated=authenticated),
            **({REPLAY_HEADER: header(registry, REPLAY_HEADER)} if replay else {}),
        }
    if authenticated:
        ability = operation_ability(view, method)
        for code in _error_codes(auto_schema, ability):
            responses.setdefault(code, error_response(registry, code, ability))
    operation["responses"] = dict(sorted(responses.items()))


def _error_codes(auto_schema: AutoSchema, ability: str | None) -> list[str]:
    """The errors an authenticated operation can answer with."""
    view, method = auto_schema.view, auto_schema.method
    # 403: a missing ability, or a token whose IP allowlist leaves out the client's address
    # (any operation, /me included); 503: the database is unreachable (waqti.database_outage).
    codes = ["401", "403", "429", "503"]
    if "{" in auto_schema.path:
        codes.append("404")
    if method in BODY_METHODS:
        codes.append("411")
    if method in BODY_METHODS and auto_schema.get_request_serializer() is not None:
        codes += ["400", "413", "422"]
    elif method == "GET" and _is_list(view, method):
        codes.append("422")  # page, per_page, sorting and filters are validated
    if _is_idempotent_create(view, method) and "422" not in codes:
        codes.append("422")
    if getattr(view, "action", None) in getattr(view, "conflict_actions", ()):
        codes.append("409")
    return sorted(codes)


def operation_ability(view: Any, method: str) -> str | None:
    """The ability an operation needs, or None when any valid token will do.

    Asked of ``settings.WAQTI_SCHEMA_REQUIRED_ABILITY``, the dotted path of the function that
    decides it for requests (``f(request, view) -> ability | None``, reading only the request's
    method): the API layer imports no app.
    """
    decide = getattr(settings, "WAQTI_SCHEMA_REQUIRED_ABILITY", None)
    if not decide:
        return None
    ability = import_string(decide)(SimpleNamespace(method=method), view)
    return str(ability) if ability is not None else None


def _authenticated(view: Any) -> bool:
    return bool(view.get_authenticators())


def _is_list(view: Any, method: str) -> bool:
    """A list answers with the paginator's envelope (a viewset's ``list``, a list GET)."""
    if hasattr(view, "action"):
        return view.action == "list"
    return method == "GET" and isinstance(view, ListModelMixin)


def _is_idempotent_create(view: Any, method: str) -> bool:
    if method != "POST":
        return False
    handler = getattr(view, getattr(view, "action", None) or "post", None)
    return getattr(handler, "__code__", None) is _IDEMPOTENT_CODE


def _as_read(parameter: dict[str, Any]) -> None:
    """A parameter as the API reads it."""
    schema = parameter.get("schema", {})
    # Router ids are declared as digit patterns; clients should see integers.
    if parameter.get("in") == "path" and schema.get("pattern", "").startswith("^[0-9]"):
        parameter["schema"] = {"type": "integer", "minimum": 1}
    # Every list parameter reads an empty value (an empty form field) as "not given".
    if parameter.get("in") == "query":
        parameter["allowEmptyValue"] = True


def _as_declared(schema: dict[str, Any], serializer: Any) -> None:
    """A serializer's component as its class declares it."""
    # A base class's docstring (written for developers) is not the component's description.
    if not vars(type(serializer)).get("__doc__"):
        schema.pop("description", None)
    # drf-spectacular leaves ``allow_empty=False`` out; an empty list is refused with a 422.
    properties = schema.get("properties", {})
    for name, field in serializer.fields.items():
        if getattr(field, "allow_empty", True) is False and name in properties:
            properties[name].setdefault("minItems", 1)


def _envelope(registry: ComponentRegistry, schema: dict[str, Any]) -> dict[str, Any]:
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
    registry.register_on_missing(component)
    return component.ref

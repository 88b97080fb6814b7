"""``/api/v1/schema/`` and ``/api/v1/docs/``: every route documented, with the contract's shapes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.helpers import UNAUTHENTICATED, issue_token
from waqti.api.docs import DocsView, SchemaView
from waqti.api.schema import WaqtiAutoSchema
from waqti.api.schema_extensions import BearerTokenScheme, FormFieldFilterExtension

API_PREFIX = "/api/v1/"
# The documentation itself is not an API operation.
DOCUMENTATION_ROUTES = {"api-schema", "api-docs", "api-docs-asset"}
IGNORED_METHODS = {"head", "options", "trace"}
RATE_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
CREATES = ["/api/v1/departments", "/api/v1/vendors", "/api/v1/purchase-orders"]


def _route_regex(pattern: Any) -> str:
    regex = pattern.regex.pattern
    return regex.removeprefix("^").removesuffix("\\Z").removesuffix("$")


def _as_template(regex: str) -> str:
    """``tokens/(?P<pk>[0-9]{1,18})/regenerate`` -> ``tokens/{id}/regenerate``."""
    out, index = [], 0
    while index < len(regex):
        if regex.startswith("(?P<", index):
            name = regex[index + 4 : regex.index(">", index)]
            depth, index = 0, index
            while True:  # skip to the group's closing parenthesis
                depth += {"(": 1, ")": -1}.get(regex[index], 0)
                index += 1
                if depth == 0:
                    break
            out.append("{id}" if name == "pk" else f"{{{name}}}")
        else:
            out.append(regex[index])
            index += 1
    return "".join(out).replace("\\", "")


def _methods(callback: Any) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:
        return set(actions) - IGNORED_METHODS
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return {m for m in view_class.http_method_names if hasattr(view_class, m)} - IGNORED_METHODS
    return {"get"}  # a plain function view: at least GET must be documented


def tenant_api_routes() -> set[tuple[str, str]]:
    """(path, method) of every route the tenant URLconf serves under /api/v1/."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            regex = prefix + _route_regex(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, regex)
            elif isinstance(entry, URLPattern) and entry.name not in DOCUMENTATION_ROUTES:
                path = "/" + _as_template(regex)
                if path.startswith(API_PREFIX):
                    found.update((path, method) for method in _methods(entry.callback))

    walk(get_resolver("waqti.urls").url_patterns, "")
    return found


@pytest.fixture
def schema(db, api, acme) -> dict[str, Any]:
    response = api(acme).get("/api/v1/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_route_walk_sees_the_api(db):
    routes = tenant_api_routes()
    assert ("/api/v1/me", "get") in routes
    assert ("/api/v1/tokens/{id}/regenerate", "post") in routes
    assert ("/api/v1/tokens/{id}", "put") not in routes  # tokens cannot be edited


def test_every_api_route_is_in_the_schema_and_nothing_else(schema):
    documented = {(path, method) for path, method, _ in operations(schema)}
    routes = tenant_api_routes()
    assert routes - documented == set(), "routes missing from the OpenAPI schema"
    assert documented - routes == set(), "schema operations without a route"


def test_procurement_and_log_endpoints_are_documented(schema):
    paths = schema["paths"]
    for path in ("/api/v1/departments", "/api/v1/vendors", "/api/v1/purchase-orders"):
        assert set(paths[path]) == {"get", "post"}
        assert set(paths[f"{path}/{{id}}"]) == {"get", "put", "patch", "delete"}
    for action in ("submit", "approve", "reject", "cancel", "complete"):
        assert set(paths[f"/api/v1/purchase-orders/{{id}}/{action}"]) == {"post"}
    assert set(paths["/api/v1/api-logs"]) == {"get"}


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema


def test_schema_and_docs_are_public_and_not_rate_limited(db, api, acme):
    for path in ("/api/v1/schema/", "/api/v1/docs/"):
        response = api(acme).get(path)
        assert response.status_code == 200
        assert not RATE_HEADERS & set(response.headers)
        assert response["X-Request-ID"]
    yaml = api(acme).get("/api/v1/schema/", format="yaml")
    assert yaml.status_code == 200
    assert yaml.content.startswith(b"openapi: 3.")


def test_bearer_security_scheme_on_every_operation(schema):
    assert schema["components"]["securitySchemes"]["BearerToken"] | {"description": ""} == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "{id}|{secret}",
        "description": "",
    }
    for path, method, operation in operations(schema):
        assert operation["security"] == [{"BearerToken": []}], (path, method)


def test_error_component_and_error_responses(schema):
    components = schema["components"]
    assert components["schemas"]["ErrorResponse"]["required"] == ["message", "errors"]
    assert components["schemas"]["ErrorResponse"]["properties"] == {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    }
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        for code in ("401", "429"):
            assert responses[code]["content"]["application/json"]["schema"] == error_ref
        assert responses["401"]["content"]["application/json"]["example"] == UNAUTHENTICATED
        if "{id}" in path:
            assert "404" in responses, (path, method)
        if method in {"put", "patch"} or (method == "post" and "{id}" not in path):
            assert {"400", "413", "422"} <= set(responses), (path, method)
        assert ("411" in responses) == (method in {"post", "put", "patch"}), (path, method)
    me = schema["paths"]["/api/v1/me"]["get"]["responses"]
    # Any valid token may call /me, but not from outside its IP allowlist.
    assert me["403"]["content"]["application/json"]["example"] == {
        "message": "This action is unauthorized.",
        "errors": {"ip": ["Token cannot be used from 203.0.113.9"]},
    }
    assert all("403" in operation["responses"] for _, _, operation in operations(schema))
    approve = schema["paths"]["/api/v1/purchase-orders/{id}/approve"]["post"]["responses"]
    assert approve["403"]["content"]["application/json"]["example"] == {
        "message": "This action is unauthorized.",
        "errors": {"ability": ["Token does not have 'approve' ability"]},
    }
    assert "409" in approve
    assert "409" in schema["paths"]["/api/v1/purchase-orders/{id}"]["patch"]["responses"]
    assert "409" not in schema["paths"]["/api/v1/tokens/{id}"]["delete"]["responses"]


def test_rate_limit_and_request_id_headers_on_every_response(schema):
    headers = schema["components"]["headers"]
    assert {"X-Request-ID", "Retry-After", *RATE_HEADERS} <= set(headers)
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            names = set(response.get("headers", {}))
            assert {"X-Request-ID", *RATE_HEADERS} <= names, (path, method, code)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]


def test_idempotency_key_only_on_creating_posts(schema):
    def header_names(operation: dict[str, Any]) -> set[str]:
        return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}

    for path in CREATES:
        operation = schema["paths"][path]["post"]
        assert "Idempotency-Key" in header_names(operation), path
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    for path, method, operation in operations(schema):
        if path not in CREATES or method != "post":
            assert "Idempotency-Key" not in header_names(operation), (path, method)


def test_bodies_use_the_data_envelope(schema):
    schemas = schema["components"]["schemas"]

    def resolve(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
        ref = ref_or_schema.get("$ref")
        return schemas[ref.rsplit("/", 1)[-1]] if ref else ref_or_schema

    def body(path: str, method: str, code: str) -> dict[str, Any]:
        response = schema["paths"][path][method]["responses"][code]
        return resolve(response["content"]["application/json"]["schema"])

    me = body("/api/v1/me", "get", "200")
    assert me["required"] == ["data"]
    assert set(resolve(me["properties"]["data"])["properties"]) == {
        "tenant_id",
        "tenant_name",
        "token_name",
        "abilities",
        "last_used_at",
    }
    issued = resolve(body("/api/v1/tokens", "post", "201")["properties"]["data"])
    assert "token" in issued["properties"]
    listed = body("/api/v1/purchase-orders", "get", "200")
    assert set(listed["properties"]) == {"data", "meta", "links"}
    assert listed["properties"]["data"]["type"] == "array"
    order = resolve(
        body("/api/v1/purchase-orders/{id}/submit", "post", "200")["properties"]["data"]
    )
    assert {"po_number", "items", "total_amount"} <= set(order["properties"])
    assert "204" in schema["paths"]["/api/v1/tokens/{id}"]["delete"]["responses"]
    request = schema["paths"]["/api/v1/purchase-orders"]["post"]["requestBody"]
    created = resolve(request["content"]["application/json"]["schema"])
    assert {"vendor_id", "department_id", "items"} <= set(created["required"])
    assert "po_number" not in created["properties"]
    assert schema["paths"]["/api/v1/tokens"]["post"]["requestBody"]["required"] is True


def test_docs_page_uses_only_local_assets(db, api, acme):
    response = api(acme).get("/api/v1/docs/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for url in assets:
        assert url.startswith("/api/v1/docs/assets/"), url
        asset = api(acme).get(url)
        assert asset.status_code == 200, url
        assert asset["Content-Type"].split(";")[0] in {"text/css", "text/javascript", "image/png"}
        b"".join(asset.streaming_content)
    assert '"/api/v1/schema/"' in html
    assert api(acme).get("/api/v1/docs/assets/LICENSE").status_code == 404


def test_schema_needs_no_token_but_api_still_does(db, api, acme):
    token = issue_token(acme, ["read"])
    assert api(acme).get("/api/v1/me").status_code == 401
    assert api(acme, token).get("/api/v1/schema/").status_code == 200


def test_token_allowlist_and_patch_are_documented(schema):
    components = schema["components"]["schemas"]
    for name in ("Token", "IssuedToken"):
        field = components[name]["properties"]["allowed_ips"]
        assert field["type"] == "array" and field["readOnly"] is True, name
    for name in ("TokenCreateRequest", "TokenRegenerateRequest", "PatchedTokenUpdateRequest"):
        field = components[name]["properties"]["allowed_ips"]
        assert field["maxItems"] == 50, name
        assert field["items"]["maxLength"] == 64, name
    patch = schema["paths"]["/api/v1/tokens/{id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PatchedTokenUpdateRequest"
    }
    assert set(components["PatchedTokenUpdateRequest"]["properties"]) == {"name", "allowed_ips"}
    assert {"200", "403", "404", "422"} <= set(patch["responses"])
    assert "put" not in schema["paths"]["/api/v1/tokens/{id}"]


def test_schema_tells_what_the_api_does_with_edge_values(schema):
    """What schemathesis found the schema promising wrongly (tests/test_schemathesis.py)."""
    components = schema["components"]["schemas"]
    vendor = components["Vendor"]["properties"]
    for name in ("name_ar", "email", "phone", "vat_number", "cr_number", "category"):
        assert vendor[name].get("nullable") is True, name  # blank text is answered as null
    assert components["PurchaseOrder"]["properties"]["rejection_reason"]["nullable"] is True
    assert components["PurchaseOrderRequest"]["properties"]["items"]["minItems"] == 1
    assert components["TokenCreateRequest"]["properties"]["abilities"]["minItems"] == 1
    listing = {
        p["name"]: p for p in schema["paths"]["/api/v1/purchase-orders"]["get"]["parameters"]
    }
    assert "maximum" not in listing["per_page"]["schema"]  # 500 is read as 100, not refused
    assert all(parameter["allowEmptyValue"] for parameter in listing.values())
    assert listing["created_from"]["schema"]["anyOf"] == [
        {"format": "date"},
        {"format": "date-time"},
    ]
    logs = {p["name"]: p for p in schema["paths"]["/api/v1/api-logs"]["get"]["parameters"]}
    assert logs["status"]["schema"] == {"type": "integer", "minimum": 100, "maximum": 599}


def approve_everything(request: Any, view: Any) -> str:
    """A stand-in for the permission's ability map."""
    return "approve"


def test_schema_asks_the_configured_function_for_abilities(db, settings):
    """The API layer imports no app: the ability map is named by a setting."""
    settings.WAQTI_SCHEMA_REQUIRED_ABILITY = "tests.test_openapi.approve_everything"
    document = SchemaGenerator(urlconf="waqti.urls").get_schema(request=None, public=True)
    me = document["paths"]["/api/v1/me"]["get"]
    assert me["description"].endswith("Requires the `approve` ability (or `admin`).")
    assert me["responses"]["403"]["description"].startswith("The token lacks the `approve` ability")


@pytest.mark.parametrize(
    "ours",
    [WaqtiAutoSchema, SchemaView, DocsView, BearerTokenScheme, FormFieldFilterExtension],
)
def test_schema_classes_override_no_private_method_of_drf_spectacular(ours):
    """Only public extension points: a dependency's ``_name`` may change in any release."""
    for name, value in vars(ours).items():
        method = callable(value) or isinstance(value, staticmethod | classmethod | property)
        if method and name.startswith("_") and not name.startswith("__"):
            overridden = [base.__name__ for base in ours.__mro__[1:] if name in vars(base)]
            assert not overridden, f"{ours.__name__}.{name} overrides {overridden}"

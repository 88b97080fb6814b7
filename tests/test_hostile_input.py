"""Hostile bodies and parameters (issue 11, item 4): each answered 4xx with the contract's body."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from procurement import services
from procurement.services import LineInput
from tenancy.models import Tenant
from tests.helpers import UNAUTHENTICATED, ApiClient, issue_token
from tokens.models import ApiToken

INVALID = "The given data was invalid."
TOO_DEEP = {
    "message": "Malformed request body.",
    "errors": {"body": ["The request body is nested more than 32 levels deep."]},
}
MIB = 1024 * 1024


def too_large(limit: int = MIB) -> dict[str, Any]:
    return {
        "message": "Request body too large.",
        "errors": {"body": [f"The request body must not be larger than {limit} bytes."]},
    }


def past_the_end(last_page: int) -> dict[str, Any]:
    return {
        "message": INVALID,
        "errors": {"page": [f"The page must not be greater than {last_page}, the last page."]},
    }


@pytest.fixture
def admin(db: None, api: Any, acme: Tenant) -> ApiClient:
    return api(acme, issue_token(acme, ["admin"], name="Admin"))


@pytest.fixture
def department_id(acme: Tenant) -> int:
    with tenant_context(acme):
        department = services.department_create(name="Information Technology", code="IT")
    connection.set_schema_to_public()
    return department.pk


def writes(department_id: int) -> list[tuple[str, str]]:
    """(method, path) of requests that read a JSON body, one per kind of view."""
    return [
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/departments"),
        ("POST", "/api/v1/vendors"),
        ("POST", "/api/v1/purchase-orders"),
        ("PATCH", f"/api/v1/departments/{department_id}"),
        ("PUT", f"/api/v1/departments/{department_id}"),
    ]


class CountingInput(io.RawIOBase):
    """A ``wsgi.input`` of ``size`` bytes that are made only when read, and counted."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.consumed if n is None or n < 0 else min(n, self.size - self.consumed)
        self.consumed += n
        return b" " * n

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)


def send_stream(client: ApiClient, path: str, stream: CountingInput, **environ: str) -> Any:
    """POST with a hand-made WSGI body stream, as a server hands it to Django."""
    response = client.client.generic(
        "POST",
        path,
        b"",
        content_type="application/json",
        HTTP_HOST=client.host,
        headers=client._headers(None),
        **{"wsgi.input": stream, "CONTENT_TYPE": "application/json", **environ},
    )
    connection.set_schema_to_public()
    return response


# --- nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["[" * 50_000 + "]" * 50_000, '{"a":' * 50_000 + "1" + "}" * 50_000],
    ids=["array", "object"],
)
def test_hostile_nesting_is_a_malformed_body_on_every_write(admin, department_id, body):
    for method, path in writes(department_id):
        response = admin.request(method, path, raw=body)
        assert response.status_code == 400, (method, path)
        assert response.json() == TOO_DEEP, (method, path)


def test_hostile_nesting_limit_is_32_levels(admin):
    within = admin.post(
        "/api/v1/tokens",
        raw='{"name": "x", "abilities": ["read"], "x": ' + "[" * 31 + "]" * 31 + "}",
    )
    assert within.status_code == 201
    beyond = admin.post("/api/v1/tokens", raw="[" * 33 + "]" * 33)
    assert beyond.status_code == 400
    assert beyond.json() == TOO_DEEP


def test_hostile_nesting_answer_is_in_arabic_too(admin):
    response = admin.post(
        "/api/v1/tokens", raw="[" * 1000 + "]" * 1000, headers={"Accept-Language": "ar"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "صيغة نص الطلب غير صحيحة.",
        "errors": {"body": ["نص الطلب متداخل بأكثر من 32 مستوى."]},
    }


# --- size ------------------------------------------------------------------------------------


def test_hostile_size_30_mb_body_is_413(admin):
    body = json.dumps({"name": "x" * 30_000_000, "abilities": ["read"]})
    response = admin.post("/api/v1/tokens", raw=body)
    assert response.status_code == 413
    assert response.json() == too_large()


def test_hostile_size_content_length_over_the_cap_is_refused_unread(admin):
    stream = CountingInput(30_000_000)
    response = send_stream(admin, "/api/v1/tokens", stream, CONTENT_LENGTH=str(stream.size))
    assert response.status_code == 413
    assert response.json() == too_large()
    assert stream.consumed == 0


def test_hostile_size_cap_is_the_setting_to_the_byte(admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = json.dumps({"name": "Cap", "abilities": ["read"], "pad": ""})
    at_cap = body.replace('"pad": ""', '"pad": "' + "x" * (2048 - len(body)) + '"')
    assert len(at_cap) == 2048
    assert admin.post("/api/v1/tokens", raw=at_cap).status_code == 201
    over = admin.post("/api/v1/tokens", raw=at_cap.replace('"x', '"xx', 1))
    assert over.status_code == 413
    assert over.json() == too_large(2048)


def test_hostile_size_chunked_body_is_411_unread(admin):
    stream = CountingInput(30_000_000)
    response = send_stream(admin, "/api/v1/tokens", stream, HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert response.json() == {
        "message": "Length required.",
        "errors": {"body": ["Send the request body with a Content-Length header, not chunked."]},
    }
    assert stream.consumed == 0


def test_hostile_size_is_not_read_before_the_token_is_checked(db, api, acme):
    stream = CountingInput(30_000_000)
    anonymous = api(acme, "1|" + "x" * 40)
    response = send_stream(anonymous, "/api/v1/tokens", stream, CONTENT_LENGTH="1000")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert stream.consumed == 0


def test_hostile_size_form_post_outside_the_api_is_413(db, api, acme):
    client = api(acme).client
    response = client.post(
        "/settings/login/",
        data="email=a%40b.c&password=" + "x" * (MIB + 1),
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST="acme.localhost",
    )
    assert response.status_code == 413
    assert response.json() == too_large()


# --- pages -----------------------------------------------------------------------------------

LISTS = [
    "/api/v1/departments",
    "/api/v1/vendors",
    "/api/v1/purchase-orders",
    "/api/v1/tokens",
    "/api/v1/api-logs",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", ["2", "999", str(2**63 - 1), "9" * 30])
def test_hostile_page_past_the_end_is_the_same_422_on_every_list(admin, path, page):
    response = admin.get(f"{path}?page={page}")
    assert response.status_code == 422, response.content
    assert response.json() == past_the_end(1)


def test_hostile_page_past_the_end_names_the_last_page(admin, department_id, acme):
    with tenant_context(acme):
        for code in ("A", "B", "C", "D"):
            services.department_create(name=f"Department {code}", code=code)
    connection.set_schema_to_public()
    assert admin.get("/api/v1/departments?per_page=2&page=3").json()["meta"]["last_page"] == 3
    response = admin.get("/api/v1/departments?per_page=2&page=4")
    assert response.status_code == 422
    assert response.json() == past_the_end(3)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("page=1e30", "page"),
        ("page=-1", "page"),
        ("page=%00", "page"),
        ("page=" + "9" * 5000, "page"),
        ("per_page=0", "per_page"),
        ("per_page=1e3", "per_page"),
        ("per_page=%ED%A0%80", "per_page"),
    ],
)
def test_hostile_page_values_are_a_422_naming_them(admin, path, query, name):
    response = admin.get(f"{path}?{query}")
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {name: [f"The {name} must be a positive integer."]},
    }


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "sort_by=name&sort=bogus",
            {"sort": ["The sort must be one of: created_at, updated_at, name, code, id."]},
        ),
        ("order=up&sort_order=asc", {"order": ["The order must be one of: asc, desc."]}),
    ],
)
def test_hostile_sort_alias_is_checked_even_beside_its_name(admin, query, errors):
    response = admin.get(f"/api/v1/departments?{query}")
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}


@pytest.mark.parametrize("path", LISTS)
def test_hostile_per_page_beyond_100_is_capped(admin, path):
    response = admin.get(f"{path}?per_page={10**30}")
    assert response.status_code == 200
    assert response.json()["meta"]["per_page"] == 100


# --- Unicode ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            '{"name": "x", "abilities": ["\\ud800"]}',
            {"abilities.0": ["Surrogate characters are not allowed: U+D800."]},
        ),
        (
            '{"name": "x\\udc00y", "abilities": ["read"]}',
            {"name": ["Surrogate characters are not allowed: U+DC00."]},
        ),
        (
            '{"name": "x", "abilities": ["read"], "\\udfff": 1}',
            {"\ufffd": ["Surrogate characters are not allowed: U+DFFF."]},
        ),
        (
            '{"name": "x", "abilities": ["read\\u0000"]}',
            {"abilities.0": ["Null characters are not allowed."]},
        ),
        ('"\\ud800"', {"non_field_errors": ["Surrogate characters are not allowed: U+D800."]}),
    ],
)
def test_hostile_unicode_in_a_token_body_is_a_422_naming_it(admin, acme, body, errors):
    response = admin.post("/api/v1/tokens", raw=body)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}
    with tenant_context(acme):
        assert ApiToken.objects.count() == 1  # only the admin token: nothing was created


def test_hostile_unicode_in_a_nested_field_is_named_by_its_path(admin, department_id):
    body = {
        "vendor_id": 1,
        "department_id": department_id,
        "items": [
            {"description": "Laptop", "quantity": 1, "unit_price": 10},
            {"description": "Dock \ud83d\ude00 \ud800", "quantity": 1, "unit_price": 10},
        ],
    }
    raw = json.dumps(body)  # ensure_ascii: the lone surrogate travels as the escape \ud800
    response = admin.post("/api/v1/purchase-orders", raw=raw)
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {"items.1.description": ["Surrogate characters are not allowed: U+D800."]},
    }
    nul = admin.patch(f"/api/v1/departments/{department_id}", raw='{"name_ar": "\\u0000"}')
    assert nul.status_code == 422
    assert nul.json() == {
        "message": INVALID,
        "errors": {"name_ar": ["Null characters are not allowed."]},
    }


def test_hostile_unicode_escapes_that_are_valid_still_work(admin):
    response = admin.post(
        "/api/v1/tokens", raw='{"name": "ERP \\ud83d\\ude00 \\u0645", "abilities": ["read"]}'
    )
    assert response.status_code == 201
    assert response.json()["data"]["name"] == "ERP \U0001f600 \u0645"


@pytest.mark.parametrize(
    ("path", "query", "errors"),
    [
        ("/api/v1/vendors", "search=%00", {"search": ["Null characters are not allowed."]}),
        ("/api/v1/vendors", "category=a%00b", {"category": ["Null characters are not allowed."]}),
        ("/api/v1/purchase-orders", "search=%00", {"search": ["Null characters are not allowed."]}),
        ("/api/v1/api-logs", "token_id=%00", {"token_id": ["A valid integer is required."]}),
    ],
)
def test_hostile_unicode_in_a_filter_is_a_422_naming_it(admin, path, query, errors):
    response = admin.get(f"{path}?{query}")
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}


@pytest.mark.parametrize(
    "query",
    [
        "created_to=9999-12-31",
        "created_from=0001-01-01",
        "created_from=0001-01-01T00:00:00%2B14:00",
        "created_to=9999-12-31T23:59:59-12:00",
    ],
)
def test_hostile_dates_at_the_ends_of_the_calendar_filter_as_asked(admin, acme, query):
    with tenant_context(acme):
        vendor = services.vendor_create(name="Vendor")
        department = services.department_create(name="Department", code="D")
        services.purchase_order_create(
            vendor_id=vendor.pk,
            department_id=department.pk,
            items=[LineInput(description="x", quantity=Decimal(1), unit_price=Decimal(1))],
        )
    connection.set_schema_to_public()
    response = admin.get(f"/api/v1/purchase-orders?{query}")
    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 1


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("query", ["search=%ED%A0%80", "status=%ED%A0%80&x%00=%00", "%ED%A0%80=1"])
def test_hostile_invalid_utf8_in_a_query_never_500s(admin, path, query):
    # Django decodes the query string with replacement characters: no lone surrogate gets in.
    response = admin.get(f"{path}?{query}")
    assert response.status_code in {200, 422}
    json.dumps(response.json(), ensure_ascii=False).encode()

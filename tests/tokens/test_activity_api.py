"""``GET /api/v1/api-logs``: the tenant's activity log for admin tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.helpers import UNAUTHENTICATED, forbidden, issue_token
from tests.tokens.activity_helpers import entry
from tokens.activity.buffer import buffer as activity_buffer

LOG_FIELDS = [
    "id",
    "occurred_at",
    "token_id",
    "token_name",
    "method",
    "path",
    "query_string",
    "status",
    "duration_ms",
    "ip_address",
    "user_agent",
    "request_id",
]
INVALID = "The given data was invalid."


@pytest.fixture
def admin(db, api, acme):
    return api(acme, issue_token(acme, ["admin"], name="Auditor"))


# --- GET /api/v1/api-logs ------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    """Four past requests, recorded through the buffer (the list flushes it first)."""
    for kwargs in (
        {
            "token_id": 7,
            "method": "GET",
            "status": 200,
            "occurred_at": datetime(2025, 1, 1, 10, tzinfo=UTC),
        },
        {
            "token_id": 7,
            "method": "POST",
            "status": 201,
            "occurred_at": datetime(2025, 1, 2, 10, tzinfo=UTC),
        },
        {
            "token_id": 8,
            "method": "GET",
            "status": 404,
            "occurred_at": datetime(2025, 1, 3, 10, tzinfo=UTC),
        },
        {
            "token_id": None,
            "token_name": "",
            "method": "DELETE",
            "status": 401,
            "occurred_at": datetime(2025, 1, 4, 10, tzinfo=UTC),
        },
    ):
        activity_buffer.record(entry(request_id=f"{kwargs['method']}-{kwargs['status']}", **kwargs))


def get_logs(client: Any, **query: str) -> Any:
    """``method`` is also an ApiClient argument, so the query string is built here."""
    return client.get(f"/api/v1/api-logs?{urlencode(query)}")


def listed(client: Any, **query: str) -> list[str]:
    response = get_logs(client, **query)
    assert response.status_code == 200, response.json()
    return [row["request_id"] for row in response.json()["data"]]


def test_api_logs_lists_newest_first_with_exact_fields(admin, seeded):
    response = admin.get("/api/v1/api-logs")
    assert response.status_code == 200
    body = response.json()
    assert [row["request_id"] for row in body["data"]] == [
        "DELETE-401",
        "GET-404",
        "POST-201",
        "GET-200",
    ]
    first = body["data"][0]
    assert list(first) == LOG_FIELDS
    assert first | {"id": 0} == {
        "id": 0,
        "occurred_at": "2025-01-04T10:00:00Z",
        "token_id": None,
        "token_name": "",
        "method": "DELETE",
        "path": "/api/v1/vendors",
        "query_string": "",
        "status": 401,
        "duration_ms": 4.5,
        "ip_address": "10.0.0.1",
        "user_agent": "erp/1.0",
        "request_id": "DELETE-401",
    }


def test_api_logs_lists_the_listing_request_too(admin, acme):
    admin.get("/api/v1/api-logs", headers={"X-Request-ID": "first-look"})
    data = admin.get("/api/v1/api-logs").json()["data"]
    assert [(row["request_id"], row["token_name"], row["status"]) for row in data] == [
        ("first-look", "Auditor", 200)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"token_id": "7"}, ["POST-201", "GET-200"]),
        ({"status": "404"}, ["GET-404"]),
        ({"method": "get"}, ["GET-404", "GET-200"]),
        ({"from": "2025-01-02T10:00:00Z", "to": "2025-01-03T10:00:00Z"}, ["GET-404", "POST-201"]),
        ({"from": "2025-01-03T12:00:00+03:00"}, ["DELETE-401", "GET-404"]),
        ({"to": "2025-01-01T10:00:00"}, ["GET-200"]),
        ({"token_id": "7", "method": "POST", "status": "201"}, ["POST-201"]),
        ({"status": ""}, ["DELETE-401", "GET-404", "POST-201", "GET-200"]),
    ],
)
def test_api_logs_filters(admin, seeded, query, expected):
    assert listed(admin, **query) == expected


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"token_id": "abc"}, {"token_id": ["A valid integer is required."]}),
        ({"token_id": "0"}, {"token_id": ["Ensure this value is greater than or equal to 1."]}),
        ({"status": "99"}, {"status": ["Ensure this value is greater than or equal to 100."]}),
        ({"status": "2xx"}, {"status": ["A valid integer is required."]}),
        ({"method": "FETCH"}, {"method": ['"FETCH" is not a valid choice.']}),
        (
            {"from": "yesterday"},
            {
                "from": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"to": "2025-13-01T00:00:00Z"},
            {
                "to": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
            {"to": ["The to time must not be before from."]},
        ),
    ],
)
def test_api_logs_bad_filter_is_422(admin, query, errors):
    response = get_logs(admin, **query)
    assert response.status_code == 422
    assert response.json() == {"message": INVALID, "errors": errors}


def test_api_logs_paginates_with_the_envelope(admin, db):
    for minute in range(20):
        activity_buffer.record(
            entry(
                request_id=f"r{minute:02}", occurred_at=datetime(2025, 1, 1, 10, minute, tzinfo=UTC)
            )
        )
    body = admin.get("/api/v1/api-logs", page="2", per_page="5").json()
    assert [row["request_id"] for row in body["data"]] == ["r14", "r13", "r12", "r11", "r10"]
    assert body["meta"] == {"current_page": 2, "last_page": 4, "per_page": 5, "total": 20}
    base = "http://acme.localhost/api/v1/api-logs?page={}&per_page=5"
    assert body["links"] == {
        "first": base.format(1),
        "last": base.format(4),
        "prev": base.format(1),
        "next": base.format(3),
    }
    assert admin.get("/api/v1/api-logs", page="0").status_code == 422


def test_api_logs_needs_the_admin_ability(db, api, acme):
    for abilities in (["read"], ["read", "write", "delete", "approve"]):
        response = api(acme, issue_token(acme, abilities)).get("/api/v1/api-logs")
        assert response.status_code == 403
        assert response.json() == forbidden("admin")


def test_api_logs_needs_a_valid_token_of_this_tenant(db, api, acme, globex):
    assert api(acme).get("/api/v1/api-logs").json() == UNAUTHENTICATED
    response = api(acme, issue_token(globex, ["admin"])).get("/api/v1/api-logs")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_api_logs_show_only_this_tenants_requests(db, api, acme, globex):
    api(acme).get("/api/v1/me", headers={"X-Request-ID": "acme-call"})
    globex_admin = api(globex, issue_token(globex, ["admin"]))
    assert listed(globex_admin) == []


def test_api_logs_is_read_only(admin):
    response = admin.post("/api/v1/api-logs", {})
    assert response.status_code == 405

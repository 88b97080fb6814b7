"""The token management API (contract section 3): create, list, show, revoke, regenerate."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.helpers import UNAUTHENTICATED, forbidden, issue_token
from tokens.models import ApiToken, TokenEvent
from waqti.api.serializers import utc_timestamp

TOKEN_FIELDS = [
    "id",
    "name",
    "abilities",
    "allowed_ips",
    "created_at",
    "expires_at",
    "last_used_at",
    "expired_reason",
    "rotation_due_at",
    "withheld_abilities",
]
TOKEN_RE = re.compile(r"^(\d+)\|[A-Za-z0-9]{40}$")


@pytest.fixture
def admin(db, api, acme):
    return api(acme, issue_token(acme, ["admin"], name="Admin"))


def test_create_returns_201_with_plaintext_once(admin, api, acme):
    response = admin.post(
        "/api/v1/tokens", {"name": "New Token Name", "abilities": ["read", "write"]}
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert list(data) == [
        "id",
        "name",
        "abilities",
        "allowed_ips",
        "token",
        "created_at",
        "expires_at",
        "last_used_at",
        "expired_reason",
        "rotation_due_at",
        "withheld_abilities",
    ]
    assert data["name"] == "New Token Name"
    assert data["abilities"] == ["read", "write"]
    assert data["expires_at"] is None and data["last_used_at"] is None
    match = TOKEN_RE.match(data["token"])
    assert match and int(match.group(1)) == data["id"]
    # The new token works, and its secret is never shown again nor stored.
    assert (
        api(acme, data["token"]).get("/api/v1/me").json()["data"]["token_name"] == "New Token Name"
    )
    shown = admin.get(f"/api/v1/tokens/{data['id']}").json()["data"]
    assert list(shown) == TOKEN_FIELDS
    secret = data["token"].split("|")[1]
    with tenant_context(acme):
        row = ApiToken.objects.get(pk=data["id"])
        assert secret not in str(row.__dict__)
        assert TokenEvent.objects.filter(token=row, kind="created").count() == 1


def test_create_with_expiry_and_duplicate_abilities(admin):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = admin.post(
        "/api/v1/tokens",
        {
            "name": "Temporary Access",
            "abilities": ["read", "read"],
            "expires_at": expires.isoformat(),
        },
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["abilities"] == ["read"]
    assert data["expires_at"] == utc_timestamp(expires)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"abilities": ["read"]}, "name"),
        ({"name": "", "abilities": ["read"]}, "name"),
        ({"name": "x" * 256, "abilities": ["read"]}, "name"),
        ({"name": "ok"}, "abilities"),
        ({"name": "ok", "abilities": []}, "abilities"),
        ({"name": "ok", "abilities": ["superuser"]}, "abilities"),
        ({"name": "ok", "abilities": "read"}, "abilities"),
        ({"name": "ok", "abilities": ["read"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "ok", "abilities": ["read"], "expires_at": "next tuesday"}, "expires_at"),
    ],
)
def test_create_rejects_invalid_input_with_422(admin, body, field):
    response = admin.post("/api/v1/tokens", body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["message"] == "The given data was invalid."
    assert any(key == field or key.startswith(f"{field}.") for key in payload["errors"]), payload


def test_create_rejects_a_json_array_body_with_422(admin):
    response = admin.post("/api/v1/tokens", ["read"])
    assert response.status_code == 422


def test_list_never_shows_secrets_or_revoked_tokens(admin, acme):
    issue_token(acme, ["read"], name="Reporting Integration")
    revoked = issue_token(acme, ["read"], name="Old")
    assert admin.delete(f"/api/v1/tokens/{revoked.split('|')[0]}").status_code == 204
    response = admin.get("/api/v1/tokens")
    assert response.status_code == 200
    body = response.json()
    assert [t["name"] for t in body["data"]] == ["Reporting Integration", "Admin"]
    assert all(list(t) == TOKEN_FIELDS for t in body["data"])
    assert body["meta"] == {"current_page": 1, "last_page": 1, "per_page": 15, "total": 2}
    assert "hash" not in response.content.decode()


def test_show_unknown_or_junk_id_is_404(admin):
    for path in (
        "/api/v1/tokens/999999",
        "/api/v1/tokens/abc",
        "/api/v1/tokens/99999999999999999999",
    ):
        response = admin.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Not found.", "errors": {}}


def test_revoke_is_204_then_401_on_very_next_use_and_404_in_api(admin, api, acme):
    victim = issue_token(acme, ["read"], name="ERP Sync")
    victim_id = victim.split("|")[0]
    assert api(acme, victim).get("/api/v1/me").status_code == 200
    response = admin.delete(f"/api/v1/tokens/{victim_id}")
    assert response.status_code == 204 and response.content == b""
    after = api(acme, victim).get("/api/v1/me")
    assert after.status_code == 401 and after.json() == UNAUTHENTICATED
    assert admin.get(f"/api/v1/tokens/{victim_id}").status_code == 404
    assert admin.delete(f"/api/v1/tokens/{victim_id}").status_code == 404
    with tenant_context(acme):
        kinds = list(TokenEvent.objects.filter(token_id=victim_id).values_list("kind", flat=True))
    assert sorted(kinds) == ["created", "revoked"]


def test_regenerate_keeps_identity_and_kills_old_secret_without_grace(admin, api, acme):
    old = issue_token(acme, ["read", "write"], name="ERP Sync")
    token_id = int(old.split("|")[0])
    response = admin.post(f"/api/v1/tokens/{token_id}/regenerate")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["id"], data["name"], data["abilities"]) == (
        token_id,
        "ERP Sync",
        ["read", "write"],
    )
    assert data["token"] != old and data["token"].startswith(f"{token_id}|")
    assert api(acme, old).get("/api/v1/me").status_code == 401
    assert api(acme, data["token"]).get("/api/v1/me").status_code == 200


def test_regenerate_with_grace_period_keeps_old_secret_until_it_ends(admin, api, acme):
    old = issue_token(acme, ["read"], name="ERP Sync")
    token_id = old.split("|")[0]
    new = admin.post(f"/api/v1/tokens/{token_id}/regenerate", {"grace_period_minutes": 60}).json()[
        "data"
    ]
    assert api(acme, old).get("/api/v1/me").status_code == 200
    assert api(acme, new["token"]).get("/api/v1/me").status_code == 200
    later = timezone.now() + timedelta(minutes=61)
    with mock.patch("tokens.authentication.timezone.now", return_value=later):
        assert api(acme, old).get("/api/v1/me").status_code == 401
        assert api(acme, new["token"]).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("grace", [-1, 1441, "soon", 1.5])
def test_regenerate_rejects_bad_grace_period(admin, acme, grace):
    token_id = issue_token(acme, ["read"]).split("|")[0]
    response = admin.post(f"/api/v1/tokens/{token_id}/regenerate", {"grace_period_minutes": grace})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["grace_period_minutes"]


@pytest.mark.parametrize("abilities", [["read"], ["read", "write", "delete", "approve"]])
def test_every_token_endpoint_needs_admin(db, api, acme, abilities):
    client = api(acme, issue_token(acme, abilities))
    target = issue_token(acme, ["read"]).split("|")[0]
    for method, path in [
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("GET", f"/api/v1/tokens/{target}"),
        ("DELETE", f"/api/v1/tokens/{target}"),
        ("POST", f"/api/v1/tokens/{target}/regenerate"),
    ]:
        response = client.request(
            method, path, {"name": "x", "abilities": ["read"]} if method == "POST" else None
        )
        assert response.status_code == 403, (method, path)
        assert response.json() == forbidden("admin")


def test_token_endpoints_without_token_are_401(db, api, acme):
    for method, path in [
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/1"),
    ]:
        response = api(acme).request(method, path)
        assert response.status_code == 401 and response.json() == UNAUTHENTICATED
        assert response["WWW-Authenticate"] == "Bearer"


def test_admin_of_one_tenant_cannot_see_or_revoke_anothers_token(db, api, acme, globex):
    other = issue_token(globex, ["read"]).split("|")[0]
    admin = api(acme, issue_token(acme, ["admin"]))
    assert admin.get(f"/api/v1/tokens/{other}").status_code == 404
    assert admin.delete(f"/api/v1/tokens/{other}").status_code == 404

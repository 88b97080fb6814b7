"""A tenant's token policy: GET/PUT /api/v1/token-policy and what it does to tokens."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.helpers import UNAUTHENTICATED, forbidden, issue_token
from tokens.models import ApiToken, TokenEvent, TokenPolicyEvent
from tokens.policy import TokenRules
from waqti.api.serializers import utc_timestamp

DEFAULT = {
    "max_lifetime_days": None,
    "expire_unused_after_days": None,
    "rotation_days": 90,
    "allowed_abilities": ["read", "write", "delete", "approve", "admin"],
}
INVALID = "The given data was invalid."


@pytest.fixture
def admin_token(db, acme):
    return issue_token(acme, ["admin"], name="Admin")


@pytest.fixture
def admin(api, acme, admin_token):
    return api(acme, admin_token)


def put_policy(client, **fields):
    response = client.put("/api/v1/token-policy", {**DEFAULT, **fields})
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def token_id(plaintext: str) -> int:
    return int(plaintext.split("|")[0])


def at(when):
    """Moves the clock of authentication and of the token API to ``when``."""
    return mock.patch("django.utils.timezone.now", return_value=when)


# --- GET / PUT -----------------------------------------------------------------------------------


def test_policy_defaults_until_first_change(admin):
    response = admin.get("/api/v1/token-policy")
    assert response.status_code == 200
    assert response.json() == {"data": {**DEFAULT, "updated_at": None, "changes": []}}


def test_put_replaces_the_policy_and_records_who_changed_what(admin, acme, admin_token):
    data = put_policy(
        admin,
        max_lifetime_days=30,
        expire_unused_after_days=60,
        rotation_days=45,
        allowed_abilities=["admin", "write", "read", "read"],
    )
    after = {
        "max_lifetime_days": 30,
        "expire_unused_after_days": 60,
        "rotation_days": 45,
        "allowed_abilities": ["read", "write", "admin"],
    }
    assert {k: data[k] for k in DEFAULT} == after
    assert data["updated_at"] is not None
    [change] = data["changes"]
    assert change["actor"] == f"token:{token_id(admin_token)}"
    assert change["before"] == DEFAULT and change["after"] == after
    assert change["ip_address"] == "127.0.0.1"
    assert admin.get("/api/v1/token-policy").json()["data"] == data
    # The same values again change nothing and record nothing.
    assert put_policy(admin, **after)["changes"] == data["changes"]
    with tenant_context(acme):
        assert TokenPolicyEvent.objects.count() == 1


def test_policy_needs_admin_and_a_valid_token(db, api, acme):
    writer = api(acme, issue_token(acme, ["read", "write"]))
    assert writer.get("/api/v1/token-policy").json() == forbidden("admin")
    response = writer.put("/api/v1/token-policy", DEFAULT)
    assert response.status_code == 403 and response.json() == forbidden("admin")
    anonymous = api(acme).put("/api/v1/token-policy", DEFAULT)
    assert anonymous.status_code == 401 and anonymous.json() == UNAUTHENTICATED


def test_policy_is_per_tenant(admin, api, globex):
    put_policy(admin, rotation_days=7)
    other = api(globex, issue_token(globex, ["admin"]))
    assert other.get("/api/v1/token-policy").json()["data"]["rotation_days"] == 90


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {},
            ["allowed_abilities", "expire_unused_after_days", "max_lifetime_days", "rotation_days"],
        ),
        ({**DEFAULT, "max_lifetime_days": 0}, ["max_lifetime_days"]),
        ({**DEFAULT, "max_lifetime_days": -5}, ["max_lifetime_days"]),
        ({**DEFAULT, "max_lifetime_days": 3651}, ["max_lifetime_days"]),
        ({**DEFAULT, "max_lifetime_days": 10**40}, ["max_lifetime_days"]),
        ({**DEFAULT, "max_lifetime_days": 1.5}, ["max_lifetime_days"]),
        ({**DEFAULT, "max_lifetime_days": True}, ["max_lifetime_days"]),
        ({**DEFAULT, "max_lifetime_days": "thirty"}, ["max_lifetime_days"]),
        ({**DEFAULT, "expire_unused_after_days": [1]}, ["expire_unused_after_days"]),
        ({**DEFAULT, "rotation_days": None}, ["rotation_days"]),
        ({**DEFAULT, "rotation_days": 0}, ["rotation_days"]),
        ({**DEFAULT, "allowed_abilities": []}, ["allowed_abilities"]),
        ({**DEFAULT, "allowed_abilities": ["root"]}, ["allowed_abilities.0"]),
        ({**DEFAULT, "allowed_abilities": "read"}, ["allowed_abilities"]),
        ({**DEFAULT, "allowed_abilities": [{"read": 1}]}, ["allowed_abilities.0"]),
        ({**DEFAULT, "allowed_abilities": ["read"] * 17}, ["allowed_abilities"]),
        ({**DEFAULT, "rotaton_days": 30}, ["rotaton_days"]),
        ({**DEFAULT, "rotation_days": 0, "extra": 1}, ["extra", "rotation_days"]),
    ],
)
def test_put_refuses_bad_input_with_422_naming_fields(admin, acme, body, fields):
    response = admin.put("/api/v1/token-policy", body)
    assert response.status_code == 422, response.content
    assert response.json()["message"] == INVALID
    assert sorted(response.json()["errors"]) == fields
    assert admin.get("/api/v1/token-policy").json()["data"]["changes"] == []


@pytest.mark.parametrize(
    "raw", ["[1, 2]", '"text"', "null", "{", '{"rotation_days": 1e999}', "\u0000"]
)
def test_put_with_hostile_bodies_is_never_a_500(admin, raw):
    response = admin.request("PUT", "/api/v1/token-policy", raw=raw)
    assert 400 <= response.status_code < 500, response.content


def test_unknown_field_message(admin):
    response = admin.put("/api/v1/token-policy", {**DEFAULT, "max_lifetime": 3})
    assert response.json()["errors"] == {"max_lifetime": ["Unknown field."]}


# --- max_lifetime_days ---------------------------------------------------------------------------


def test_max_lifetime_refuses_creation_without_or_beyond_the_limit(admin):
    put_policy(admin, max_lifetime_days=30)
    message = {"expires_at": ["The token policy requires an expiry at most 30 days from now."]}
    for extra in (
        {},
        {"expires_at": None},
        {"expires_at": utc_timestamp(timezone.now() + timedelta(days=31))},
    ):
        response = admin.post("/api/v1/tokens", {"name": "ERP", "abilities": ["read"], **extra})
        assert response.status_code == 422, extra
        assert response.json() == {"message": INVALID, "errors": message}
    within = utc_timestamp(timezone.now() + timedelta(days=29))
    response = admin.post(
        "/api/v1/tokens", {"name": "ERP", "abilities": ["read"], "expires_at": within}
    )
    assert response.status_code == 201


def test_max_lifetime_of_one_day_says_day(admin):
    put_policy(admin, max_lifetime_days=1)
    response = admin.post("/api/v1/tokens", {"name": "ERP", "abilities": ["read"]})
    assert response.json()["errors"] == {
        "expires_at": ["The token policy requires an expiry at most 1 day from now."]
    }


def test_max_lifetime_in_arabic(admin):
    put_policy(admin, max_lifetime_days=30)
    response = admin.post(
        "/api/v1/tokens", {"name": "ERP", "abilities": ["read"]}, headers={"Accept-Language": "ar"}
    )
    assert response.status_code == 422
    [message] = response.json()["errors"]["expires_at"]
    assert "30" in message and "سياسة" in message


def test_max_lifetime_regeneration_needs_an_expiry_within_the_limit(admin, acme):
    forever = issue_token(acme, ["read"], name="Forever")
    put_policy(admin, max_lifetime_days=30)
    path = f"/api/v1/tokens/{token_id(forever)}/regenerate"
    response = admin.post(path, {})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["expires_at"]
    with tenant_context(acme):  # nothing half-written: the old secret still stands
        assert ApiToken.objects.get(pk=token_id(forever)).regenerated_at is None
    within = timezone.now().replace(microsecond=0) + timedelta(days=10)
    response = admin.post(path, {"expires_at": utc_timestamp(within)})
    assert response.status_code == 200
    assert response.json()["data"]["expires_at"] == utc_timestamp(within)
    # Regenerating again keeps that expiry, which is still within the limit.
    assert admin.post(path, {}).status_code == 200
    with tenant_context(acme):  # the event of the first says what the expiry was and became
        changes = list(
            TokenEvent.objects.filter(token_id=token_id(forever), kind="regenerated")
            .order_by("id")
            .values_list("changes", flat=True)
        )
    assert changes == [{"expires_at": {"before": None, "after": utc_timestamp(within)}}, {}]


# --- allowed_abilities ---------------------------------------------------------------------------


def test_allowed_abilities_refuse_creating_tokens_with_others(admin):
    put_policy(admin, allowed_abilities=["read", "write", "admin"])
    response = admin.post(
        "/api/v1/tokens", {"name": "ERP", "abilities": ["read", "delete", "approve"]}
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": INVALID,
        "errors": {
            "abilities": [
                "The token policy does not allow the 'delete' ability.",
                "The token policy does not allow the 'approve' ability.",
            ]
        },
    }
    assert (
        admin.post("/api/v1/tokens", {"name": "ERP", "abilities": ["read", "write"]}).status_code
        == 201
    )


def test_existing_tokens_cannot_use_abilities_the_policy_withdraws(admin, api, acme):
    deleter = issue_token(acme, ["read", "delete"], name="Deleter")
    client = api(acme, deleter)
    assert client.get("/api/v1/me").json()["data"]["abilities"] == ["read", "delete"]
    put_policy(admin, allowed_abilities=["read", "write", "approve", "admin"])
    # Next request: the withdrawn ability is gone (403 naming it), the others work.
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["data"]["abilities"] == ["read"]
    response = client.delete("/api/v1/departments/1")
    assert response.status_code == 403 and response.json() == forbidden("delete")
    shown = admin.get(f"/api/v1/tokens/{token_id(deleter)}").json()["data"]
    assert shown["abilities"] == ["read", "delete"] and shown["withheld_abilities"] == ["delete"]
    # Loosening the policy gives it back.
    put_policy(admin)
    assert client.get("/api/v1/me").json()["data"]["abilities"] == ["read", "delete"]


def test_an_admin_token_without_admin_in_the_policy_loses_token_management(admin):
    put_policy(admin, allowed_abilities=["read"])
    response = admin.get("/api/v1/token-policy")
    assert response.status_code == 403 and response.json() == forbidden("admin")


# --- expire_unused_after_days --------------------------------------------------------------------


def test_unused_tokens_stop_authenticating_and_show_why(admin, api, acme):
    idle = issue_token(acme, ["read"], name="Idle")
    used = issue_token(acme, ["read"], name="Used")
    put_policy(admin, expire_unused_after_days=30)
    start = timezone.now()
    with at(start + timedelta(days=20)):
        assert api(acme, used).get("/api/v1/me").status_code == 200  # last used: day 20
        assert admin.get("/api/v1/me").status_code == 200
    with at(start + timedelta(days=31)):
        response = api(acme, idle).get("/api/v1/me")
        assert response.status_code == 401 and response.json() == UNAUTHENTICATED
        assert response["WWW-Authenticate"] == "Bearer"
        assert api(acme, used).get("/api/v1/me").status_code == 200
        listed = {t["name"]: t for t in admin.get("/api/v1/tokens").json()["data"]}
    assert listed["Idle"]["expired_reason"] == "unused"
    assert listed["Used"]["expired_reason"] is None
    assert listed["Admin"]["expired_reason"] is None  # it made the request, so it was used


def test_unused_expiry_counts_from_creation_when_never_used(admin, api, acme):
    put_policy(admin, expire_unused_after_days=2)
    never = issue_token(acme, ["read"], name="Never")
    with at(timezone.now() + timedelta(days=2, minutes=-5)):
        assert api(acme, never).get("/api/v1/me").status_code == 200
    never_again = issue_token(acme, ["read"], name="Never again")
    with at(timezone.now() + timedelta(days=2, minutes=5)):
        assert api(acme, never_again).get("/api/v1/me").status_code == 401


def test_the_cached_snapshot_applies_the_policy_and_a_change_applies_at_once(admin, api, acme):
    client = api(acme, issue_token(acme, ["read"], name="Idle"))
    put_policy(admin, expire_unused_after_days=30)
    assert client.get("/api/v1/me").status_code == 200  # used now; cached with the policy
    later = timezone.now() + timedelta(days=31)
    with at(later), CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/me").status_code == 401  # decided from the cache
    assert not [q for q in queries if "tokens_" in q["sql"]]
    put_policy(admin, expire_unused_after_days=None)
    with at(later):
        assert client.get("/api/v1/me").status_code == 200


def test_expired_reason_for_a_passed_expiry(admin, acme):
    soon = timezone.now() + timedelta(minutes=5)
    issue_token(acme, ["read"], name="Soon", expires_at=soon)
    with at(soon + timedelta(seconds=1)):
        listed = {t["name"]: t for t in admin.get("/api/v1/tokens").json()["data"]}
    assert listed["Soon"]["expired_reason"] == "expires_at"


# --- rotation_days -------------------------------------------------------------------------------


def test_rotation_due_at_follows_the_policy_and_regeneration(admin, acme, admin_token):
    path = f"/api/v1/tokens/{token_id(admin_token)}"
    with tenant_context(acme):
        created = ApiToken.objects.get(pk=token_id(admin_token)).created_at
    assert admin.get(path).json()["data"]["rotation_due_at"] == utc_timestamp(
        created + timedelta(days=90)
    )
    put_policy(admin, rotation_days=30)
    assert admin.get(path).json()["data"]["rotation_due_at"] == utc_timestamp(
        created + timedelta(days=30)
    )
    regenerated = admin.post(f"{path}/regenerate", {"grace_period_minutes": 5}).json()["data"]
    with tenant_context(acme):
        since = ApiToken.objects.get(pk=token_id(admin_token)).regenerated_at
    assert regenerated["rotation_due_at"] == utc_timestamp(since + timedelta(days=30))


# --- cost of the policy on the hot path ----------------------------------------------------------


def test_cached_me_stays_one_redis_round_trip_and_no_sql_under_a_policy(
    admin, api, acme, redis_calls, django_assert_num_queries
):
    client = api(acme, issue_token(acme, ["read", "write"]))
    put_policy(admin, expire_unused_after_days=30, allowed_abilities=["read", "admin"])
    client.get("/api/v1/me")  # reads the row and the policy once
    redis_calls.clear()
    with django_assert_num_queries(0):
        response = client.get("/api/v1/me")
    assert response.status_code == 200 and response.json()["data"]["abilities"] == ["read"]
    assert len(redis_calls) == 1


def test_the_policy_comes_in_the_token_rows_own_statement(admin, api, acme):
    token = issue_token(acme, ["read", "write"], name="Reader")
    put_policy(admin, rotation_days=10, allowed_abilities=["read", "admin"])
    with CaptureQueriesContext(connection) as queries:
        me = api(acme, token).get("/api/v1/me")  # this worker's first read of the row
    assert me.status_code == 200 and me.json()["data"]["abilities"] == ["read"]
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "tokens_" in q["sql"]]
    assert len(reads) == 1 and "tokens_tokenpolicy" in reads[0]


def test_without_redis_each_request_reads_row_and_policy_in_one_statement(
    admin, api, acme, settings
):
    token = issue_token(acme, ["read", "write"], name="Outage")
    put_policy(admin, allowed_abilities=["read", "admin"])
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    }
    settings.WAQTI_TOKEN_CACHE = True
    client = api(acme, token)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            me = client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["data"]["abilities"] == ["read"]
        reads = [q for q in queries if q["sql"].startswith("SELECT") and "tokens_" in q["sql"]]
        assert len(reads) == 1


def test_rules_are_pure():
    rules = TokenRules(expire_unused_after_days=1, allowed_abilities=("read",))
    now = timezone.now()
    assert rules.granted(["read", "admin"]) == ("read",)
    assert rules.unused_expired(None, now - timedelta(days=1), now)
    assert not rules.unused_expired(now - timedelta(hours=23), now - timedelta(days=9), now)
    assert rules.expired_reason(now, None, now, now) == "expires_at"

"""Per-token IP allowlists through the API: create, regenerate, PATCH, the 403, and the cache."""

from __future__ import annotations

import ipaddress
import logging

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.helpers import forbidden, issue_token
from tests.tokens.activity_helpers import flushed_rows, token_id_of
from tokens.activity.buffer import buffer as activity_buffer
from tokens.lookup import VERSION_KEY, new_version
from tokens.models import ApiToken, TokenEvent
from tokens.ratelimit.counter import counter_cache, read_raw
from tokens.services import Actor, token_create, token_update
from waqti.errors import InvalidInput

ELSEWHERE = "203.0.113.9"


def refused_from(address: str) -> dict:
    return {
        "message": "This action is unauthorized.",
        "errors": {"ip": [f"Token cannot be used from {address}"]},
    }


def from_address(client, address: str):
    """The same client, its requests now arriving from ``address`` (REMOTE_ADDR)."""
    client.client.defaults["REMOTE_ADDR"] = address
    return client


@pytest.fixture(autouse=True)
def _empty_log_buffer():
    activity_buffer.discard()
    yield
    activity_buffer.discard()


@pytest.fixture
def admin(db, api, acme):
    return api(acme, issue_token(acme, ["admin"], name="Admin"))


def create(admin, allowed_ips, **fields):
    body = {"name": "ERP Sync", "abilities": ["read", "write"], **fields}
    if allowed_ips is not None:
        body["allowed_ips"] = allowed_ips
    return admin.post("/api/v1/tokens", body)


def test_create_normalises_entries_and_shows_them(admin):
    response = create(
        admin,
        [
            "127.0.0.1",
            " 10.0.0.0/8 ",
            "2001:DB8::1",
            "::ffff:192.0.2.0/120",
            "10.0.0.0/8",
            "2001:db8:100::/48",
        ],
    )
    assert response.status_code == 201
    data = response.json()["data"]
    expected = [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "2001:db8::1/128",
        "192.0.2.0/24",
        "2001:db8:100::/48",
    ]
    assert data["allowed_ips"] == expected
    assert admin.get(f"/api/v1/tokens/{data['id']}").json()["data"]["allowed_ips"] == expected
    listed = {t["id"]: t for t in admin.get("/api/v1/tokens").json()["data"]}
    assert listed[data["id"]]["allowed_ips"] == expected


def test_without_allowed_ips_a_token_works_from_anywhere(admin, api, acme):
    data = create(admin, None).json()["data"]
    assert data["allowed_ips"] == []
    client = from_address(api(acme, data["token"]), ELSEWHERE)
    assert client.get("/api/v1/me").status_code == 200


def test_request_from_elsewhere_is_403_counted_logged_and_recorded(
    admin, api, acme, caplog, settings
):
    data = create(admin, ["127.0.0.1", "192.0.2.0/24"]).json()["data"]
    client = api(acme, data["token"], **{"X-Request-ID": "allowlist-refusal"})
    assert client.get("/api/v1/me").status_code == 200  # from 127.0.0.1
    assert from_address(client, "192.0.2.77").get("/api/v1/vendors").status_code == 200

    with caplog.at_level(logging.WARNING, logger="waqti.security"):
        response = from_address(client, ELSEWHERE).get("/api/v1/me")
    assert response.status_code == 403
    assert response.json() == refused_from(ELSEWHERE)
    # Counted like every authenticated answer (the ability 403 too; the plan's budget is the
    # tenant's: the admin's create was the first of these four requests).
    assert int(response["X-RateLimit-Remaining"]) == int(response["X-RateLimit-Limit"]) - 4
    warnings = [r for r in caplog.records if r.name == "waqti.security"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert ELSEWHERE in warnings[0].getMessage()
    assert f"token {data['id']} " in warnings[0].getMessage()
    # The address is checked before the ability: a write from elsewhere learns nothing more.
    assert client.post("/api/v1/tokens", {}).json() == refused_from(ELSEWHERE)
    rows = [r for r in flushed_rows(acme) if r.request_id == "allowlist-refusal"]
    assert [(r.token_id, r.status, r.ip_address) for r in rows][-2:] == [
        (data["id"], 403, ELSEWHERE),
        (data["id"], 403, ELSEWHERE),
    ]
    # From an allowed address, the missing ability is still the seed's 403.
    assert from_address(client, "127.0.0.1").post("/api/v1/tokens", {}).json() == forbidden("admin")


def test_the_client_address_is_the_trusted_proxy_one(admin, api, acme, settings):
    settings.WAQTI_TRUSTED_PROXIES = (ipaddress.ip_network("10.9.0.0/16"),)
    data = create(admin, ["198.51.100.7"]).json()["data"]
    client = from_address(api(acme, data["token"]), "10.9.0.2")
    allowed = client.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.7"})
    assert allowed.status_code == 200
    # A client cannot pick its address by writing the header itself: only the proxy's hop counts.
    spoofed = client.get("/api/v1/me", headers={"X-Forwarded-For": f"198.51.100.7, {ELSEWHERE}"})
    assert spoofed.status_code == 403 and spoofed.json() == refused_from(ELSEWHERE)
    # Without a trusted proxy in front, the connecting address is the client.
    direct = from_address(api(acme, data["token"]), ELSEWHERE)
    assert direct.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.7"}).json() == (
        refused_from(ELSEWHERE)
    )


def test_ipv4_mapped_ipv6_clients_match_ipv4_entries(admin, api, acme):
    data = create(admin, ["203.0.113.0/24"]).json()["data"]
    client = api(acme, data["token"])
    assert from_address(client, "::ffff:203.0.113.9").get("/api/v1/me").status_code == 200
    refused = from_address(client, "::ffff:198.51.100.1").get("/api/v1/me")
    assert refused.json() == refused_from("198.51.100.1")
    v6 = create(admin, ["2001:db8::/32"], name="v6").json()["data"]
    v6_client = api(acme, v6["token"])
    assert from_address(v6_client, "2001:db8::5").get("/api/v1/me").status_code == 200
    assert from_address(v6_client, "2001:db9::5").get("/api/v1/me").json() == refused_from(
        "2001:db9::5"
    )


@pytest.mark.parametrize(
    ("allowed_ips", "field", "message"),
    [
        (["127.0.0.1"] * 51, "allowed_ips", "Ensure this field has no more than 50 elements."),
        (
            ["127.0.0.1", "10.0.0.0/8", "::1", "not-an-ip"],
            "allowed_ips.3",
            "Enter an IPv4 or IPv6 address or CIDR, e.g. 203.0.113.9 or 203.0.113.0/24.",
        ),
        (
            ["10.0.0.5/24"],
            "allowed_ips.0",
            "10.0.0.5/24 has host bits set: write 10.0.0.0/24 for the network or 10.0.0.5/32 "
            "for the one address.",
        ),
        (["1" * 100_000], "allowed_ips.0", "Ensure this field has no more than 64 characters."),
        (["10.0.0.0/255.0.0.0"], "allowed_ips.0", None),
        (["fe80::1%eth0"], "allowed_ips.0", None),
        (["10.0.0.0/33"], "allowed_ips.0", None),
        (["1.2.3"], "allowed_ips.0", None),
        (["\u0661\u0660.\u0660.\u0660.\u0661"], "allowed_ips.0", None),  # Arabic-Indic digits
        ([""], "allowed_ips.0", None),
        ([None], "allowed_ips.0", None),
        ([["10.0.0.1"]], "allowed_ips.0", None),
        ("10.0.0.1", "allowed_ips", None),
        (None, "allowed_ips", None),
        (["127.0.0.1", "ok\x00"], "allowed_ips.1", None),
    ],
)
def test_hostile_allowed_ips_are_422_naming_field_and_index(admin, allowed_ips, field, message):
    body = {"name": "x", "abilities": ["read"], "allowed_ips": allowed_ips}
    for response in (
        admin.post("/api/v1/tokens", body),
        admin.patch(f"/api/v1/tokens/{token_id_of(admin.token)}", {"allowed_ips": allowed_ips}),
    ):
        assert response.status_code == 422, response.content
        errors = response.json()["errors"]
        assert list(errors) == [field]
        if message is not None:
            assert errors[field] == [message]


def test_the_services_keep_the_rules_for_every_caller(acme):
    with tenant_context(acme):
        actor = Actor(label="tests")
        with pytest.raises(InvalidInput) as too_many:
            token_create(
                name="x",
                abilities=["read"],
                allowed_ips=[f"10.0.{n}.0/24" for n in range(51)],
                actor=actor,
            )
        assert too_many.value.errors == {"allowed_ips": ["At most 50 entries."]}
        token = token_create(name="x", abilities=["read"], actor=actor).token
        with pytest.raises(InvalidInput):
            token_update(token=token, allowed_ips=["10.0.0.5/24"], actor=actor)
        # 50 distinct entries once duplicates are folded is fine.
        same = ["10.0.0.1", "10.0.0.1/32"] * 30
        assert token_update(token=token, allowed_ips=same, actor=actor).allowed_ips == [
            "10.0.0.1/32"
        ]
    connection.set_schema_to_public()


def test_patch_replaces_the_list_and_renames_with_an_event(admin, api, acme):
    data = create(admin, ["192.0.2.0/24"]).json()["data"]
    response = admin.patch(
        f"/api/v1/tokens/{data['id']}",
        {"name": "ERP Sync (DC2)", "allowed_ips": ["198.51.100.0/24", "127.0.0.1"]},
    )
    assert response.status_code == 200
    shown = response.json()["data"]
    assert shown["name"] == "ERP Sync (DC2)"
    assert shown["allowed_ips"] == ["198.51.100.0/24", "127.0.0.1/32"]
    assert "token" not in shown
    assert api(acme, data["token"]).get("/api/v1/me").status_code == 200
    with tenant_context(acme):
        event = TokenEvent.objects.get(token_id=data["id"], kind="updated")
        assert event.actor_token_id == token_id_of(admin.token)
        assert event.actor_label == f"token:{token_id_of(admin.token)}"
        assert event.ip_address == "127.0.0.1"
        assert event.changes == {
            "name": {"before": "ERP Sync", "after": "ERP Sync (DC2)"},
            "allowed_ips": {
                "before": ["192.0.2.0/24"],
                "after": ["198.51.100.0/24", "127.0.0.1/32"],
            },
        }
    connection.set_schema_to_public()
    # Unchanged values write no event; an empty list opens the token to every address again.
    assert (
        admin.patch(f"/api/v1/tokens/{data['id']}", {"name": "ERP Sync (DC2)"}).status_code == 200
    )
    assert admin.patch(f"/api/v1/tokens/{data['id']}", {"allowed_ips": []}).status_code == 200
    assert from_address(api(acme, data["token"]), ELSEWHERE).get("/api/v1/me").status_code == 200
    with tenant_context(acme):
        kinds = list(
            TokenEvent.objects.filter(token_id=data["id"])
            .order_by("id")
            .values_list("kind", flat=True)
        )
    connection.set_schema_to_public()
    assert kinds == ["created", "updated", "updated"]


def test_patch_refuses_other_fields_revoked_tokens_and_non_admins(admin, api, acme):
    data = create(admin, None).json()["data"]
    path = f"/api/v1/tokens/{data['id']}"
    for body in ({"abilities": ["admin"]}, {"expires_at": None, "name": "x"}, {"token": "1|x"}):
        response = admin.patch(path, body)
        assert response.status_code == 422
        fixed = sorted(set(body) - {"name"})
        assert sorted(response.json()["errors"]) == fixed
    assert admin.put(path, {"name": "x"}).status_code == 405
    writer = api(acme, issue_token(acme, ["read", "write"]))
    assert writer.patch(path, {"name": "x"}).json() == forbidden("admin")
    assert admin.delete(path).status_code == 204
    assert admin.patch(path, {"name": "x"}).status_code == 404
    assert admin.patch("/api/v1/tokens/999999", {"name": "x"}).status_code == 404


def test_patch_of_another_tenants_token_is_404(admin, api, globex):
    other = token_id_of(issue_token(globex, ["read"]))
    assert admin.patch(f"/api/v1/tokens/{other}", {"allowed_ips": []}).status_code == 404


def test_regenerate_can_replace_the_list_and_records_it(admin, api, acme):
    data = create(admin, ["192.0.2.1"]).json()["data"]
    response = admin.post(
        f"/api/v1/tokens/{data['id']}/regenerate",
        {"grace_period_minutes": 10, "allowed_ips": ["127.0.0.0/8"]},
    )
    assert response.status_code == 200
    issued = response.json()["data"]
    assert issued["allowed_ips"] == ["127.0.0.0/8"]
    # Both secrets follow the new list.
    for secret in (issued["token"], data["token"]):
        assert api(acme, secret).get("/api/v1/me").status_code == 200
        assert from_address(api(acme, secret), "192.0.2.1").get("/api/v1/me").status_code == 403
    # Without allowed_ips, regenerate keeps the list.
    again = admin.post(f"/api/v1/tokens/{data['id']}/regenerate", {}).json()["data"]
    assert again["allowed_ips"] == ["127.0.0.0/8"]
    with tenant_context(acme):
        changes = list(
            TokenEvent.objects.filter(token_id=data["id"], kind="regenerated")
            .order_by("id")
            .values_list("changes", flat=True)
        )
    connection.set_schema_to_public()
    assert changes == [{"allowed_ips": {"before": ["192.0.2.1/32"], "after": ["127.0.0.0/8"]}}, {}]


def test_patch_takes_effect_on_the_next_request(admin, api, acme):
    data = create(admin, None).json()["data"]
    client = api(acme, data["token"])
    assert client.get("/api/v1/me").status_code == 200  # cached in this worker now
    with tenant_context(acme):
        before = read_raw(VERSION_KEY)
    admin.patch(f"/api/v1/tokens/{data['id']}", {"allowed_ips": ["192.0.2.0/24"]})
    with tenant_context(acme):
        assert read_raw(VERSION_KEY) not in (before, None)  # every worker re-reads the row
    connection.set_schema_to_public()
    assert client.get("/api/v1/me").json() == refused_from("127.0.0.1")
    admin.patch(f"/api/v1/tokens/{data['id']}", {"allowed_ips": ["127.0.0.1"]})
    assert client.get("/api/v1/me").status_code == 200


def test_another_workers_change_is_seen_through_the_version(admin, api, acme):
    """What a worker that did not make the change sees: its cached snapshot (old list) is
    dropped when the tenant's version moves, not before."""
    data = create(admin, None).json()["data"]
    client = api(acme, data["token"])
    assert client.get("/api/v1/me").status_code == 200  # snapshot cached, empty allowlist
    with tenant_context(acme):  # another process's write: the row, then the bump
        ApiToken.objects.filter(pk=data["id"]).update(allowed_ips=["192.0.2.0/24"])
    connection.set_schema_to_public()
    assert client.get("/api/v1/me").status_code == 200  # the snapshot is in use
    with tenant_context(acme):
        counter_cache().set(VERSION_KEY, new_version(), timeout=None)
    connection.set_schema_to_public()
    assert client.get("/api/v1/me").json() == refused_from("127.0.0.1")


def test_cached_me_with_an_allowlist_is_one_redis_call_and_no_sql(
    admin, api, acme, redis_calls, django_assert_num_queries
):
    entries = [f"10.{n}.0.0/16" for n in range(49)] + ["127.0.0.1"]
    data = create(admin, entries).json()["data"]
    client = api(acme, data["token"])
    assert client.get("/api/v1/me").status_code == 200
    redis_calls.clear()
    with django_assert_num_queries(0):
        assert client.get("/api/v1/me").status_code == 200
    assert len(redis_calls) == 1
    # The refusal costs no more.
    redis_calls.clear()
    with django_assert_num_queries(0):
        assert from_address(client, ELSEWHERE).get("/api/v1/me").status_code == 403
    assert len(redis_calls) == 1


def test_refusal_in_arabic(admin, api, acme):
    data = create(admin, ["192.0.2.1"]).json()["data"]
    response = api(acme, data["token"], **{"Accept-Language": "ar"}).get("/api/v1/me")
    assert response.status_code == 403
    body = response.json()
    assert list(body["errors"]) == ["ip"]
    assert "127.0.0.1" in body["errors"]["ip"][0]
    assert body["errors"]["ip"][0] != "Token cannot be used from 127.0.0.1"

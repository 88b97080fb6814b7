"""The per-IP guard refuses bad tokens only: a valid token is never refused for others' failures,
and known-bad tokens cost no SQL, without ever trusting a worker's stale knowledge."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from tests.helpers import UNAUTHENTICATED, guessed_token, issue_token
from tokens import lookup, secrets, services
from tokens.lookup import MAX_SNAPSHOT_AGE_SECONDS, TokenCache
from tokens.models import ApiToken
from tokens.ratelimit.memo import exhausted
from tokens.services import Actor, token_create, token_regenerate, token_revoke

GUARD_TEXT = re.compile(r"Too many requests with a missing or invalid token from this address")


@pytest.fixture
def another_worker(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks):
    """Services called inside run as in another server process: they bump the tenant's token
    version in Redis (after "commit", as in production, with the commit-wait), and this
    process's cache learns of the change only through it."""

    @contextlib.contextmanager
    def run() -> Iterator[None]:
        with monkeypatch.context() as patch, django_capture_on_commit_callbacks(execute=True):
            patch.setattr(services, "token_cache", TokenCache())
            yield

    return run


def token_id(plaintext: str) -> int:
    return int(plaintext.split("|")[0])


def bad_tokens(acme) -> list[str | None]:
    """Someone else's bad tokens: none, malformed, unknown id, wrong secret, revoked."""
    real = issue_token(acme, ["read"], name="someone else's")
    revoked = issue_token(acme, ["read"], name="revoked")
    with tenant_context(acme):
        token_revoke(token=ApiToken.objects.get(pk=token_id(revoked)), actor=Actor())
    connection.set_schema_to_public()
    return [
        None,
        "garbage",
        guessed_token(int(f"9{token_id(real)}77")),
        guessed_token(token_id(real)),
        revoked,
    ]


def spend_the_guard(api, acme, tokens: list[str | None]) -> None:
    limit = django_settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE
    statuses = [
        api(acme, tokens[i % len(tokens)]).get("/api/v1/me").status_code for i in range(limit)
    ]
    assert statuses == [401] * limit
    refused = api(acme, tokens[0]).get("/api/v1/me")
    assert refused.status_code == 429 and GUARD_TEXT.match(
        refused.json()["errors"]["rate_limit"][0]
    )


def assert_guard_refuses(response) -> None:
    assert response.status_code == 429
    assert response.json()["message"] == "Too Many Requests."
    assert GUARD_TEXT.match(response.json()["errors"]["rate_limit"][0])
    assert response["X-RateLimit-Remaining"] == "0" and int(response["Retry-After"]) >= 1


@pytest.mark.parametrize("memo", ["memo-engaged", "memo-cleared"])
@pytest.mark.parametrize("fresh", ["just-created", "just-regenerated"])
def test_a_valid_token_is_served_from_an_address_that_sent_100_bad_tokens(
    db, api, acme, clock, memo, fresh
):
    existing = issue_token(acme, ["read"], name="ERP")
    assert api(acme, existing).get("/api/v1/me").status_code == 200  # cached in this worker
    bad = bad_tokens(acme)
    spend_the_guard(api, acme, bad)
    if fresh == "just-created":
        valid = issue_token(acme, ["read"], name="ERP")
    else:
        with tenant_context(acme):
            valid = token_regenerate(
                token=ApiToken.objects.get(pk=token_id(existing)), actor=Actor()
            ).plaintext
        connection.set_schema_to_public()
    if memo == "memo-cleared":  # the DRF path, with nothing of this token cached here
        exhausted.clear()
    response = api(acme, valid).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["data"]["token_name"] == "ERP"
    # The address keeps getting the guard's 429 for every kind of bad token it sends.
    for token in bad:
        assert_guard_refuses(api(acme, token).get("/api/v1/me"))
    assert api(acme, valid).get("/api/v1/me").status_code == 200


def test_known_bad_tokens_cost_no_sql_in_steady_state(db, api, acme, clock, settings):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 30
    deleted, kept = issue_token(acme, ["read"]), issue_token(acme, ["read"])
    with tenant_context(acme):
        ApiToken.objects.filter(pk=token_id(deleted)).delete()  # an absent id below the highest
    connection.set_schema_to_public()
    bad = [
        *bad_tokens(acme),
        guessed_token(token_id(kept) + 1000),  # above the highest id
        guessed_token(token_id(deleted)),
    ]
    clients = [api(acme, token) for token in bad]
    for client in clients:  # each is looked up once, then known
        assert client.get("/api/v1/me").json() == UNAUTHENTICATED
    for client in clients:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/me")
        assert response.json() == UNAUTHENTICATED
        assert [q["sql"] for q in queries] == [], client.token
    while api(acme).get("/api/v1/me").status_code != 429:  # spend the guard: early 429s now
        pass
    for client in clients:
        with CaptureQueriesContext(connection) as queries:
            assert_guard_refuses(client.get("/api/v1/me"))
        assert [q["sql"] for q in queries] == [], client.token
    assert api(acme, kept).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("memo", ["memo-engaged", "memo-cleared"])
def test_a_token_created_in_another_worker_is_accepted_at_once(
    db, api, acme, clock, settings, another_worker, memo
):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 3
    highest = token_id(issue_token(acme, ["read"]))
    guessing = api(acme, guessed_token(highest + 1))  # the id the next token will get
    assert [guessing.get("/api/v1/me").status_code for _ in range(4)] == [401, 401, 401, 429]
    with another_worker(), tenant_context(acme):
        issued = token_create(name="new", abilities=["read"], actor=Actor())
    connection.set_schema_to_public()
    assert issued.token.pk == highest + 1
    if memo == "memo-cleared":
        exhausted.clear()
    assert api(acme, issued.plaintext).get("/api/v1/me").status_code == 200
    assert_guard_refuses(guessing.get("/api/v1/me"))


@pytest.mark.parametrize("memo", ["memo-engaged", "memo-cleared"])
def test_a_secret_regenerated_in_another_worker_is_accepted_at_once(
    db, api, acme, clock, settings, another_worker, memo
):
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 3
    old = issue_token(acme, ["read"])
    assert api(acme, old).get("/api/v1/me").status_code == 200  # its snapshot is cached here
    with another_worker(), tenant_context(acme):
        new = token_regenerate(token=ApiToken.objects.get(pk=token_id(old)), actor=Actor())
    connection.set_schema_to_public()
    assert [api(acme, old).get("/api/v1/me").status_code for _ in range(4)] == [401] * 3 + [429]
    if memo == "memo-cleared":
        exhausted.clear()
    assert api(acme, new.plaintext).get("/api/v1/me").status_code == 200
    assert_guard_refuses(api(acme, old).get("/api/v1/me"))


def test_a_lost_version_bump_stops_hiding_a_new_token_after_the_snapshot_age(
    db, api, acme, clock, monkeypatch
):
    highest = token_id(issue_token(acme, ["read"]))
    assert api(acme, guessed_token(highest + 5)).get("/api/v1/me").status_code == 401
    with tenant_context(acme):  # created while Redis was unreachable: no version bump at all
        row = ApiToken.objects.create(name="no bump", abilities=["read"], secret_hash="")
        secret = secrets.generate_secret(row.pk)
        row.secret_hash = secrets.hash_secret(secret)
        row.save(update_fields=["secret_hash"])
    connection.set_schema_to_public()
    plaintext = secrets.format_token(row.pk, secret)
    assert api(acme, plaintext).get("/api/v1/me").status_code == 401  # stale for a while...
    later = lookup.token_cache.clock() + MAX_SNAPSHOT_AGE_SECONDS + 1
    monkeypatch.setattr(lookup.token_cache, "clock", lambda: later)
    assert api(acme, plaintext).get("/api/v1/me").status_code == 200  # ...but at most 30 s


def test_create_outwaits_every_workers_trust_in_the_version_it_replaces(
    db, api, acme, clock, settings, monkeypatch, another_worker
):
    monotonic, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        monotonic[0] += seconds

    monkeypatch.setattr(TokenCache, "clock", staticmethod(lambda: monotonic[0]))
    monkeypatch.setattr(TokenCache, "sleep", staticmethod(sleep))
    settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
    highest = token_id(issue_token(acme, ["read"]))
    guessing = api(acme, guessed_token(highest + 1))
    assert [guessing.get("/api/v1/me").status_code for _ in range(2)] == [401, 429]
    with another_worker(), tenant_context(acme):
        issued = token_create(name="new", abilities=["read"], actor=Actor())
    connection.set_schema_to_public()
    assert slept == [2 * lookup.VERSION_TRUST_SECONDS]  # after the bump, before the secret is out
    assert api(acme, issued.plaintext).get("/api/v1/me").status_code == 200
    assert_guard_refuses(guessing.get("/api/v1/me"))

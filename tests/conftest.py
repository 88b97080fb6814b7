"""Session-wide tenants (schemas are built once), per-test rollback, and an API client factory."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis.connection
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenancy.models import Tenant
from tenancy.resolver import resolver
from tenancy.services import tenant_create
from tokens import secrets
from tokens.activity.buffer import buffer as activity_buffer
from tokens.lookup import token_cache
from tokens.services import Actor, token_create
from waqti.redis_cache import breaker as redis_breaker

TEST_TENANTS = [
    # slug, name, host, plan
    ("acme-corp", "ACME Corporation", "acme.localhost", "professional"),
    ("globex", "Globex Trading", "globex.localhost", "enterprise"),
    ("initech", "Initech Saudi", "initech.localhost", "ultimate"),
]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Every Redis path is tested: refuse to run on a settings module that has no Redis."""
    backend = django_settings.CACHES["default"]["BACKEND"]
    if not backend.endswith("RedisCache"):
        pytest.exit(
            f"the test suite needs Redis but the cache is {backend}: run it with the pytest "
            "settings of pyproject.toml (DJANGO_SETTINGS_MODULE=tests.settings starts a Redis "
            "when REDIS_URL is unset).",
            returncode=4,
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """After pytest-django builds the test database, create each test tenant once."""
    with django_db_blocker.unblock():
        for slug, name, host, plan in TEST_TENANTS:
            if not Tenant.objects.filter(slug=slug).exists():
                tenant_create(slug=slug, name=name, domains=[host], plan=plan)


@pytest.fixture(autouse=True)
def _fresh_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts on the public schema with empty caches (counters, hosts, tokens) and
    the Redis circuit breaker closed."""
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        connection.set_schema_to_public()
    redis_breaker.reset()
    cache.clear()
    token_cache.clear()
    activity_buffer.discard()
    resolver._tenants.clear()
    resolver._checked_at = float("-inf")
    yield
    connection.set_schema_to_public()


@pytest.fixture
def process_local_cache(settings: Any) -> None:
    """The cache of ``make run`` without REDIS_URL: process-local, so no token cache either."""
    settings.CACHES = settings.PROCESS_LOCAL_CACHES
    settings.WAQTI_TOKEN_CACHE = False
    cache.clear()  # LocMemCache's storage outlives the backend object: start empty


class FakeClock:
    """Replaces time.time for django-ratelimit's windows and the Reset/Retry-After arithmetic."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A moved, never slept, clock at a fixed point in time."""
    fake = FakeClock(1_900_000_000.0)
    monkeypatch.setattr(time, "time", fake)
    return fake


@pytest.fixture
def acme(db: None) -> Tenant:
    return Tenant.objects.get(slug="acme-corp")


@pytest.fixture
def globex(db: None) -> Tenant:
    return Tenant.objects.get(slug="globex")


@pytest.fixture
def initech(db: None) -> Tenant:
    return Tenant.objects.get(slug="initech")


def guessed_token(token_id: int) -> str:
    """``{id}|{secret}`` with a correct checksum and a secret never issued: a bad token only a
    lookup (or the token cache) can refuse, unlike garbage, which its checksum gives away."""
    return secrets.format_token(token_id, secrets.generate_secret(token_id))


def issue_token(
    tenant: Tenant, abilities: list[str], name: str = "Test token", **extra: Any
) -> str:
    """Create a token through the real service; returns the plaintext ``{id}|{secret}``."""
    with tenant_context(tenant):
        issued = token_create(name=name, abilities=abilities, actor=Actor(label="tests"), **extra)
    connection.set_schema_to_public()
    return issued.plaintext


@dataclass
class ApiClient:
    """A Django test client bound to a tenant's host and (optionally) a Bearer token."""

    host: str
    token: str | None = None
    extra_headers: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.client = Client(raise_request_exception=False)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged: dict[str, str] = {}
        if self.token is not None:
            merged["Authorization"] = f"Bearer {self.token}"
        merged.update(self.extra_headers or {})
        merged.update(headers or {})
        return merged

    def request(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        raw: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        **query: Any,
    ) -> Any:
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        fn = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"HTTP_HOST": self.host, "headers": self._headers(headers)}
        if method.upper() in {"GET", "HEAD"}:
            response = fn(path, data=query or None, **kwargs)
        else:
            response = fn(path, data=body, content_type="application/json", **kwargs)
        connection.set_schema_to_public()
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, data, **kw)

    def put(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, data, **kw)

    def patch(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, data, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api() -> Any:
    """``api(tenant_or_host, token=None)`` -> ApiClient."""

    def make(target: Tenant | str, token: str | None = None, **headers: str) -> ApiClient:
        host = target if isinstance(target, str) else target.get_primary_domain().domain
        return ApiClient(host=host, token=token, extra_headers=headers or None)

    return make


UNAUTHENTICATED = {"message": "Unauthenticated.", "errors": {"token": ["Invalid or expired token"]}}


def forbidden(ability: str) -> dict[str, Any]:
    return {
        "message": "This action is unauthorized.",
        "errors": {"ability": [f"Token does not have '{ability}' ability"]},
    }


@pytest.fixture
def redis_calls(monkeypatch):
    """Counts Redis round trips (every command sent on any connection)."""
    calls = []
    original = redis.connection.AbstractConnection.send_packed_command

    def send_packed_command(conn, command, check_health=True):
        calls.append(command)
        return original(conn, command, check_health)

    monkeypatch.setattr(
        redis.connection.AbstractConnection, "send_packed_command", send_packed_command
    )
    return calls

"""The request path as one straight walk: each step once, Django's own middleware on every answer,
domain errors from services."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django_tenants.utils import tenant_context

from tests.helpers import forbidden, issue_token
from tokens.models import ApiToken
from tokens.services import Actor, token_create, token_regenerate
from waqti.api.errors import api_exception_handler
from waqti.errors import NotPermitted


class CountingLimits(dict):
    """``WAQTI_RATE_LIMITS`` that counts how often a plan's limits are looked up."""

    lookups = 0

    def __getitem__(self, plan: str) -> tuple[int | None, int | None]:
        CountingLimits.lookups += 1
        return super().__getitem__(plan)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/purchase-orders", "/api/v1/tokens"])
def test_the_plan_windows_are_computed_once_per_request(db, api, acme, clock, settings, path):
    client = api(acme, issue_token(acme, ["read"]))
    client.get("/api/v1/me")  # the token is cached in this worker from now on (with Redis)
    settings.WAQTI_RATE_LIMITS = CountingLimits(settings.WAQTI_RATE_LIMITS)
    CountingLimits.lookups = 0
    response = client.get(path)
    assert response.status_code in {200, 403}
    # Before: the token lookup computed them for its Redis call, and the throttle again.
    assert CountingLimits.lookups == 1


class TagMiddleware:
    """A middleware the project might add anywhere: it marks every response it sees."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Tagged"] = "yes"
        return response


@pytest.mark.parametrize("refusal", ["plan", "per-ip"])
def test_every_middleware_applies_to_the_early_429(db, api, acme, clock, settings, refusal):
    """Django runs its own middleware on the early refusal: it answers in process_view, so a
    middleware anywhere in MIDDLEWARE sees it as it sees the DRF path's 429. Before, the early
    refusal answered from its own __call__ near the top and ran three middleware by hand."""
    tag = "tests.tokens.test_request_path.TagMiddleware"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:-1], tag, settings.MIDDLEWARE[-1]]
    if refusal == "plan":
        settings.WAQTI_RATE_LIMITS = {**settings.WAQTI_RATE_LIMITS, "professional": (1, 100)}
        client = api(acme, issue_token(acme, ["read"]))
    else:
        settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE = 1
        client = api(acme, "garbage")
    statuses = [client.get("/api/v1/me").status_code for _ in range(3)]
    assert statuses == [200 if refusal == "plan" else 401, 429, 429]  # the third: early
    early = client.get("/api/v1/me", headers={"Accept-Language": "ar"})
    assert early.status_code == 429
    assert early["X-Tagged"] == "yes"
    assert early["Content-Language"] == "ar" and early["X-Frame-Options"] == "DENY"


def test_a_token_cannot_grant_abilities_it_lacks(db, acme):
    """Services raise the domain error the one handler maps to 403, with the body the token API
    gave before (MissingAbility, raised by the view from a service-private exception)."""
    reader_id = int(issue_token(acme, ["read"]).split("|")[0])
    with tenant_context(acme), translation.override("en"):
        actor = Actor(token=ApiToken.objects.get(pk=reader_id))
        with pytest.raises(NotPermitted) as created:
            token_create(name="more", abilities=["read", "approve", "write"], actor=actor)
        writer = token_create(name="w", abilities=["write"], actor=Actor()).token
        with pytest.raises(NotPermitted) as regenerated:
            token_regenerate(token=writer, actor=actor)
    connection.set_schema_to_public()
    for refusal in (created, regenerated):
        response = api_exception_handler(refusal.value, {})
        assert response.status_code == 403
        assert response.data == forbidden("write")

"""The token step of a request: DRF authentication for ``Authorization: Bearer {id}|{secret}``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from tokens import lookup, services
from tokens.models import ApiToken
from tokens.ratelimit.guard import count_failure, guard_refusal
from tokens.ratelimit.plans import PlanBudget, plan_budget
from tokens.ratelimit.quota import quota_budget
from tokens.secrets import MAX_TOKEN_ID, MalformedToken, parse_bearer, refused_by_checksum
from waqti.api.exceptions import Unauthenticated


def first_checksummed_token_id(request: Any) -> int:
    """The request tenant's first token id issued with a checksum (``tokens.secrets``): held by
    the per-worker tenant resolver, so reading it costs nothing. Without a tenant, none is."""
    tenant = getattr(request, "tenant", None)
    return MAX_TOKEN_ID + 1 if tenant is None else tenant.first_checksummed_token_id


def _refusal(request: Request) -> APIException:
    """The seed's 401 for a missing or bad token, or the per-IP guard's 429 once the client's
    address has spent its budget of them (``tokens.ratelimit.guard``)."""
    usage = count_failure(request)
    if usage is not None and usage.exceeded:
        return guard_refusal(request, usage)
    return Unauthenticated()


class BearerTokenAuthentication(BaseAuthentication):
    """Returns ``(token, token)`` for a usable token; raises the seed's 401 otherwise.

    A secret whose checksum is wrong, for an id issued with checksums, is refused as a malformed
    header is: before the lookup (no token cache, no token version, no SQL), counted by the
    per-IP guard like every bad token (its one Redis call; the 401 then carries the guard's
    ``X-RateLimit-*`` as any bad token's does). An older id is looked up whatever its checksum
    (``tokens.secrets``).

    Only requests with a missing or bad token count against the client address's failure
    budget; once it is spent they get the guard's 429. A valid token is always looked up and
    never refused for other requests' failures: with the shared token cache, a bad token costs
    no SQL in steady state (``tokens.lookup``), so the guard need not refuse before the lookup.

    The lookup is handed the request's plan budget (``tokens.ratelimit.plans``): confirming a
    cached token and counting the plan's windows are one Redis call, whose counts the throttle
    then reads. DRF sets the returned token as ``request.user`` on Django's request too, which
    is how the activity log learns it.
    """

    def authenticate(self, request: Request) -> tuple[ApiToken, ApiToken]:
        try:
            token_id, secret = parse_bearer(request.META.get("HTTP_AUTHORIZATION"))
        except MalformedToken:
            raise _refusal(request) from None
        if refused_by_checksum(token_id, secret, first_checksummed_token_id(request)):
            raise _refusal(request)  # garbage, as a malformed header: no lookup
        now = timezone.now()
        budget = self.budget(request, token_id)
        found = lookup.find_token(token_id, secret, now, budget)
        if found is None:
            raise _refusal(request)
        budget.usages, budget.own_usage = found.usages, found.own_usage
        if found.rehash is not None:  # matched under a previous SECRET_KEY
            services.token_rehash(token_id=token_id, field=found.rehash.field, secret=secret)
        token = found.snapshot.as_token()
        services.token_touch(token, now)
        return token, token

    def budget(self, request: Request, token_id: int) -> PlanBudget:
        """The budget the token check counts in: the tenant's plan, unless the view reads the
        quota instead (``GET /api/v1/rate-limit``, ``quota_read``): then the one Redis call reads
        the plan's windows and counts the request in the endpoint's own window
        (``tokens.ratelimit.quota``). One class either way, so the OpenAPI schema has one
        security scheme."""
        view = (request.parser_context or {}).get("view")
        if getattr(view, "quota_read", False):
            return quota_budget(request, token_id)
        return plan_budget(request)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"

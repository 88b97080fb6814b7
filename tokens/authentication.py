"""DRF authentication for ``Authorization: Bearer {id}|{secret}`` with a per-IP failure guard."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from tokens import lookup
from tokens.models import ApiToken
from tokens.ratelimit.counter import WindowUsage, count_request
from tokens.ratelimit.memo import ExhaustedWindow, exhausted, failure_memo_key
from tokens.secrets import MalformedToken, parse_bearer
from tokens.services import token_rehash, token_touch
from waqti.api.exceptions import RateLimited, Unauthenticated
from waqti.client_ip import client_ip

FAILURE_GROUP = "waqti.auth-failures"


def _failure_window(request: Request) -> WindowUsage | None:
    """Count one request with a missing or invalid token against the client IP's budget."""
    ip = client_ip(request._request)
    usage = count_request(
        request._request,
        group=FAILURE_GROUP,
        key=ip,
        limit=settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE,
        period=60,
    )
    if usage is not None and usage.count >= usage.limit:
        # Spent: this worker refuses the IP's next known-invalid tokens early until the reset.
        exhausted.note(
            connection.schema_name,
            failure_memo_key(ip),
            ExhaustedWindow(limit=usage.limit, reset_at=usage.reset_at),
        )
    return usage


def failure_refusal(usage: WindowUsage) -> RateLimited:
    """The per-IP guard's 429 for a request counted past a spent window."""
    return RateLimited(usage.retry_after, failure_refusal_text(usage))


def failure_refusal_text(usage: WindowUsage) -> str:
    """What the per-IP guard's 429 says (``errors.rate_limit``), in the active language."""
    return _(
        "Too many requests with a missing or invalid token from this address "
        "(%(limit)s per minute). Retry in %(wait)s seconds."
    ) % {"limit": usage.limit, "wait": usage.retry_after}


def _refuse(request: Request, usage: WindowUsage | None) -> None:
    if usage is not None:
        request._request.rate_limit_headers = usage.headers()
        if usage.exceeded:
            raise failure_refusal(usage)
    raise Unauthenticated()


class BearerTokenAuthentication(BaseAuthentication):
    """Returns ``(token, token)`` for a usable token; raises the seed's 401 otherwise.

    Only requests with a missing or bad token count against the client IP's failure budget;
    once it is spent they get the guard's 429. A valid token is always looked up and never
    refused for other requests' failures: with the shared token cache, a bad token costs no SQL
    in steady state (``tokens.lookup``), so the guard does not need to refuse before the lookup.
    """

    def authenticate(self, request: Request) -> tuple[ApiToken, ApiToken]:
        request._request.claimed_token_id = None
        try:
            token_id, secret = parse_bearer(request.META.get("HTTP_AUTHORIZATION"))
        except MalformedToken:
            _refuse(request, _failure_window(request))
        request._request.claimed_token_id = token_id
        now = timezone.now()
        snapshot = lookup.find_token(token_id, secret, now)
        if snapshot is None:
            _refuse(request, _failure_window(request))
        if snapshot.rehash is not None:  # matched under a previous SECRET_KEY
            token_rehash(token_id=token_id, field=snapshot.rehash.field, secret=secret)
            lookup.token_cache.forget(token_id)
        token = snapshot.as_token()
        if token_touch(token, now):
            lookup.token_cache.note_used(snapshot, now)
        request._request.api_token = token
        return token, token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"

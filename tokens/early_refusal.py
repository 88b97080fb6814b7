"""The early 429: requests into a window this worker knows is spent, refused before DRF runs.

The memo of spent windows (``tokens.ratelimit.memo``) is filled by the per-IP guard and the plan
throttle. While it holds a window of the request's tenant, ``EarlyRefusalMiddleware`` refuses,
without counting:

* a token known invalid (malformed, missing, or a wrong checksum for an id issued with checksums:
  no Redis, no SQL; else ``tokens.lookup.known_invalid``: no SQL, and a Redis GET only when this
  worker has not read the tenant's token version in the last few milliseconds), while the
  client's address has spent the per-IP guard's budget;
* a token whose young cached snapshot accepts the presented secret (no Redis, no SQL), while the
  tenant has spent a plan window.

Anything else (a token that may be valid, a secret matching only under a previous secret key,
an ``Accept`` or ``?format=`` that DRF's content negotiation might refuse) takes the DRF path.

It is the LAST middleware and refuses in ``process_view``: Django has resolved the view (only
views that authenticate with ``BearerTokenAuthentication`` and count ``PlanRateThrottle`` are
refused) and run every other middleware's request phase (the request's language is active),
and runs their response phase on the refusal as on any answer. The answer (``_rendered``, once
per distinct answer: second, language, plan limits) is made with the text, body and headers
functions the DRF path uses (``tokens.ratelimit.refusal``): the same status, body and headers
(``tests/tokens/test_exhausted_windows.py`` compares them byte for byte).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django_tenants.utils import get_public_schema_name
from rest_framework.renderers import JSONRenderer

from tokens import lookup, services
from tokens.authentication import BearerTokenAuthentication, first_checksummed_token_id
from tokens.ratelimit import guard, plans
from tokens.ratelimit.counter import Window, WindowUsage
from tokens.ratelimit.memo import exhausted
from tokens.ratelimit.refusal import refusal_headers
from tokens.ratelimit.throttle import PlanRateThrottle
from tokens.secrets import MalformedToken, parse_bearer, refused_by_checksum
from tokens.snapshot import TokenSnapshot
from waqti.api.errors import too_many_requests_body
from waqti.api.views import ApiViewMixin

# Accept headers for which DRF's negotiation picks the JSON renderer as "application/json".
JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
JSON = JSONRenderer()
Answer = tuple[bytes, tuple[tuple[str, str], ...]]  # a 429's body and headers


@functools.lru_cache(maxsize=256)
def _guarded(view_class: type) -> bool:
    """Whether the DRF view class authenticates with bearer tokens and counts the plan."""
    return (
        issubclass(view_class, ApiViewMixin)
        and list(view_class.authentication_classes) == [BearerTokenAuthentication]
        and PlanRateThrottle in view_class.throttle_classes
    )


class EarlyRefusalMiddleware:
    """Answers a request into a spent window with its 429 before the view runs (module docs)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not exhausted:  # usually empty: one truth test
            return None
        view_class = getattr(view_func, "cls", None)  # DRF's as_view() names the view's class
        if not (isinstance(view_class, type) and _guarded(view_class)):
            return None
        # DRF negotiates the content type before authenticating: an Accept header or ?format=
        # that could end in 406/404 takes the normal path.
        meta = request.META
        if meta.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS or (
            meta.get("QUERY_STRING") and "format" in request.GET
        ):
            return None
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        return _refusal(request, tenant.schema_name, tenant.plan, timezone.now())


def _refusal(request: HttpRequest, schema: str, plan: str, now: datetime) -> HttpResponse | None:
    try:
        token_id, secret = parse_bearer(request.META.get("HTTP_AUTHORIZATION"))
    except MalformedToken:
        return _guard_refusal(request, schema, None, "", now)
    if refused_by_checksum(token_id, secret, first_checksummed_token_id(request)):
        return _guard_refusal(request, schema, None, "", now)  # garbage, as malformed
    snapshot = lookup.token_cache.get(token_id)  # young enough to trust without Redis
    if snapshot is None:
        return _guard_refusal(request, schema, token_id, secret, now)
    match = snapshot.match(secret, now)
    if match is None:
        return _guard_refusal(request, schema, token_id, secret, now, refused_by=snapshot)
    if match.under_fallback:  # possibly valid; the DRF path re-hashes it
        return None
    return _plan_refusal(request, schema, plan, snapshot, now)


def _guard_refusal(
    request: HttpRequest,
    schema: str,
    token_id: int | None,
    secret: str,
    now: datetime,
    refused_by: TokenSnapshot | None = None,
) -> HttpResponse | None:
    """The per-IP guard's 429, only for a token known invalid (``token_id`` None: malformed,
    missing or a wrong checksum; else ``lookup.known_invalid``). One that may be valid takes the
    normal path, whatever its address did."""
    window = guard.spent_guard_window(request, schema)
    if window is None:
        return None
    if token_id is not None and not lookup.known_invalid(token_id, secret, now, refused_by):
        return None
    return _response(*_guard_answer(window.usage(), translation.get_language()))


def _plan_refusal(
    request: HttpRequest, schema: str, plan: str, snapshot: TokenSnapshot, now: datetime
) -> HttpResponse | None:
    """The plan's 429 for a token whose young snapshot accepts the presented secret."""
    window = plans.spent_plan_window(schema, plan)
    if window is None:
        return None
    token = snapshot.as_token()
    services.token_touch(token, now)  # as the DRF path: at most one UPDATE a minute
    request.user = token  # type: ignore[assignment]  # as DRF's authentication sets it
    answer = _plan_answer(
        plans.plan_windows(plan), plan, window.label, window.usage(), translation.get_language()
    )
    return _response(*answer)


# What a refusal says changes once a second at most (``Retry-After``; the usage is read at whole
# seconds) and with the language: each distinct answer is rendered once. Every argument the
# answer depends on is part of the key, the active language included, as the texts are
# translated when rendered.
@functools.lru_cache(maxsize=64)
def _guard_answer(usage: WindowUsage, language: str | None) -> Answer:
    return _rendered(usage, guard.refusal_text(usage), {})


@functools.lru_cache(maxsize=64)
def _plan_answer(
    windows: tuple[Window, ...], plan: str, label: str, usage: WindowUsage, language: str | None
) -> Answer:
    structured = plans.refusal_structured_headers(windows, label, usage)
    return _rendered(usage, plans.refusal_text(label, usage, plan), structured)


def _rendered(usage: WindowUsage, explanation: str, structured: dict[str, str]) -> Answer:
    """The answer the DRF path gives a request refused by ``usage``'s window: the API's 429 body
    and ``refusal_headers`` (and, for the plan, its ``RateLimit-Policy`` and ``RateLimit``),
    rendered as DRF renders JSON (the only type answered early)."""
    body = JSON.render(too_many_requests_body(explanation))
    return body, tuple({**refusal_headers(usage), **structured}.items())


def _response(body: bytes, headers: tuple[tuple[str, str], ...]) -> HttpResponse:
    response = HttpResponse(body, status=429, content_type="application/json")
    for name, value in headers:
        response[name] = value
    return response

"""Middleware of the token app: rate-limit headers, the API activity log, early 429s."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name
from rest_framework.renderers import JSONRenderer

from tokens import lookup
from tokens.activity.capture import API_PREFIX
from tokens.authentication import BearerTokenAuthentication, failure_refusal_text
from tokens.ratelimit.counter import WindowUsage
from tokens.ratelimit.memo import exhausted, failure_memo_key
from tokens.ratelimit.throttle import PLAN_KEY, PlanRateThrottle, plan_refusal_text
from tokens.secrets import MalformedToken, parse_bearer
from tokens.services import token_touch
from tokens.snapshot import TokenSnapshot
from waqti.api.errors import error_body
from waqti.api.views import ApiViewMixin
from waqti.client_ip import client_ip

# Accept headers for which DRF's negotiation picks the JSON renderer as "application/json".
JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})


@functools.lru_cache(maxsize=2048)
def _guarded_view_headers(urlconf: str | None, path: str) -> dict[str, str] | None:
    """DRF's own headers (``Allow``, ``Vary``) of the API view serving ``path``, if that view
    authenticates with ``BearerTokenAuthentication`` and counts ``PlanRateThrottle``; else None."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    cls = getattr(match.func, "cls", None)
    if not (isinstance(cls, type) and issubclass(cls, ApiViewMixin)):
        return None
    if list(cls.authentication_classes) != [BearerTokenAuthentication]:
        return None
    if PlanRateThrottle not in cls.throttle_classes:
        return None
    view = cls(**getattr(match.func, "initkwargs", {}))
    actions = getattr(match.func, "actions", None)
    if actions:  # bound as DRF's ViewSetMixin.as_view() binds them per request
        actions = dict(actions)
        if "get" in actions and "head" not in actions:
            actions["head"] = actions["get"]
        for method, name in actions.items():
            setattr(view, method, getattr(view, name))
    if hasattr(view, "get") and not hasattr(view, "head"):  # as django.views.View.setup()
        view.head = view.get
    return dict(view.default_response_headers)


class ExhaustedWindowMiddleware:
    """Refuses ``/api/v1`` requests into a window this worker knows is spent, before DRF runs.

    Uses ``tokens.ratelimit.memo`` (filled by the per-IP guard and the plan throttle). A plan
    refusal costs neither Redis nor PostgreSQL; a per-IP refusal answers only tokens known
    invalid (``tokens.lookup.known_invalid``: no SQL, and a Redis GET only when this worker has
    not read the tenant's token version in the last few milliseconds; none for a malformed or
    missing token). The response is the one the DRF path gives:
    same status, body (in the request's language), rate-limit headers, ``Retry-After``, DRF's
    ``Allow``/``Vary``, and the headers of the middleware it skips (locale, clickjacking,
    ``Content-Length``). It sits right after ``SecurityMiddleware`` (whose headers it keeps) and
    inside the request-id, tenant, rate-limit-header and activity-log middleware, which all
    still apply; the LocaleMiddleware after it is run here for the refusal (language activated
    before the message is written). Requests are not counted while refused here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.locale = LocaleMiddleware(get_response)
        self.xframe = XFrameOptionsMiddleware(get_response)
        self.common = CommonMiddleware(get_response)
        self.renderer = JSONRenderer()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if exhausted:  # usually empty: one truth test
            response = self._refusal(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        if not request.path_info.startswith(API_PREFIX + "/"):
            return None
        # DRF negotiates the content type before authenticating: an Accept header or ?format=
        # that could end in 406/404 takes the normal path.
        if request.META.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS or "format" in request.GET:
            return None
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        schema = tenant.schema_name
        now = timezone.now()
        try:
            token_id, secret = parse_bearer(request.META.get("HTTP_AUTHORIZATION"))
        except MalformedToken:
            refusal = self._failure_refusal(request, schema, None, "", now)
        else:
            snapshot = lookup.token_cache.get(token_id)  # young enough to trust without Redis
            match = snapshot.match(secret, now) if snapshot is not None else None
            if match is None:
                refusal = self._failure_refusal(request, schema, token_id, secret, now, snapshot)
            elif match.under_fallback:  # possibly valid; the DRF path re-hashes it
                refusal = None
            else:
                refusal = self._plan_refusal(request, schema, tenant.plan, snapshot, now)
        if refusal is None:
            return None
        usage, text, view_headers = refusal
        return self._respond(request, usage, text, view_headers)

    def _failure_refusal(
        self,
        request: HttpRequest,
        schema: str,
        token_id: int | None,
        secret: str,
        now: datetime,
        refused_by: TokenSnapshot | None = None,
    ) -> tuple[WindowUsage, str, dict[str, str]] | None:
        """The per-IP guard's 429, only for a token known invalid (``token_id`` None: malformed
        or missing; else ``lookup.known_invalid``). One that may be valid takes the normal path,
        whatever its address did."""
        window = exhausted.get(schema, failure_memo_key(client_ip(request)))
        if window is None or window.limit != settings.WAQTI_ANONYMOUS_RATE_PER_MINUTE:
            return None
        view_headers = _guarded_view_headers(getattr(request, "urlconf", None), request.path_info)
        if view_headers is None:
            return None
        if token_id is not None and not lookup.known_invalid(token_id, secret, now, refused_by):
            return None
        request.claimed_token_id = token_id  # type: ignore[attr-defined]
        usage = window.usage()
        request.rate_limit_headers = usage.headers()  # type: ignore[attr-defined]
        self.locale.process_request(request)  # the message is written in the request's language
        return usage, failure_refusal_text(usage), view_headers

    def _plan_refusal(
        self, request: HttpRequest, schema: str, plan: str, snapshot: TokenSnapshot, now: datetime
    ) -> tuple[WindowUsage, str, dict[str, str]] | None:
        """The plan's 429 for a token whose young snapshot accepts the presented secret."""
        window = exhausted.get(schema, PLAN_KEY)
        if window is None or window.plan != plan:
            return None
        view_headers = _guarded_view_headers(getattr(request, "urlconf", None), request.path_info)
        if view_headers is None:
            return None
        token = snapshot.as_token()
        if token_touch(token, now):  # as the DRF path: at most one UPDATE a minute
            lookup.token_cache.note_used(snapshot, now)
        request.claimed_token_id = snapshot.id  # type: ignore[attr-defined]
        request.api_token = token  # type: ignore[attr-defined]
        usage = window.usage()
        request.rate_limit_headers = usage.headers()  # type: ignore[attr-defined]
        self.locale.process_request(request)  # the message is written in the request's language
        return usage, plan_refusal_text(window.label, usage, plan), view_headers

    def _respond(
        self, request: HttpRequest, usage: WindowUsage, text: str, view_headers: dict[str, str]
    ) -> HttpResponse:
        # The body and headers DRF's exception handler gives a RateLimited(usage.retry_after).
        body = self.renderer.render(error_body(_("Too Many Requests."), {"rate_limit": [text]}))
        response = HttpResponse(body, status=429, content_type="application/json")
        response["Retry-After"] = str(usage.retry_after)
        for name, value in view_headers.items():
            response[name] = value
        response = self.locale.process_response(request, response)
        response = self.common.process_response(request, response)
        return self.xframe.process_response(request, response)

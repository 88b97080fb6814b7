"""The one 429 of every rate limit, whichever path refuses: the DRF path or the early refusal.

Both paths give the same answer, made by the same functions: the body by
``waqti.api.errors.too_many_requests_body`` (the API's exception handler uses it for the DRF
path, ``tokens.early_refusal`` for the early one), the headers by ``refusal_headers``.
``waqti.api.views.ApiViewMixin`` writes ``request.rate_limit_headers`` on every answer of the DRF
path and leaves DRF's view headers (``Allow``) out of its 429s, which the early refusal,
answering before any view exists, cannot know.

Imports nothing of ``rest_framework.views`` (nor ``waqti.api.errors``, which does): DRF imports
the authentication class while it defines its views, and the authentication imports this.
"""

from __future__ import annotations

from typing import Any

from tokens.ratelimit.counter import WindowUsage
from waqti.api.exceptions import RateLimited


def report_usage(request: Any, usage: WindowUsage) -> None:
    """Put ``usage``'s ``X-RateLimit-*`` headers on the request's answer, whatever it is."""
    request.rate_limit_headers = usage.headers()


def refusal_headers(usage: WindowUsage) -> dict[str, str]:
    """The headers of a 429 for ``usage``'s window: ``Retry-After`` (whole seconds until it
    resets; waiting that long is enough) and its ``X-RateLimit-*`` (``Remaining: 0``)."""
    return {"Retry-After": str(usage.retry_after), **usage.headers()}


def too_many_requests(request: Any, usage: WindowUsage, explanation: str) -> RateLimited:
    """The DRF path's refusal of a request counted past ``usage``'s limit: raised, it is answered
    by the API's exception handler (``errors.rate_limit`` = ``explanation``)."""
    request.rate_limit_headers = refusal_headers(usage)
    return RateLimited(usage.retry_after, explanation)

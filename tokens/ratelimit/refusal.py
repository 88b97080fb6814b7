"""The one 429 of every rate limit, whichever path refuses (the DRF path or the early refusal)."""

from __future__ import annotations

from typing import Any

from tokens.ratelimit.counter import WindowUsage
from waqti.api.exceptions import RateLimited


def report_usage(request: Any, usage: WindowUsage) -> None:
    """Put ``usage``'s ``X-RateLimit-*`` headers on the request's response, whatever it is
    (``waqti.api.views`` writes ``request.rate_limit_headers`` on every API answer)."""
    request.rate_limit_headers = usage.headers()


def too_many_requests(request: Any, usage: WindowUsage, explanation: str) -> RateLimited:
    """The refusal of a request counted past ``usage``'s limit: the exception whose answer is
    ``429`` with ``Retry-After`` (seconds until that window resets), ``X-RateLimit-*`` (the
    window spent) and ``{"message": "Too Many Requests.", "errors": {"rate_limit":
    [explanation]}}``.

    The DRF path raises it and the API's one exception handler answers it; the early refusal
    hands it to ``waqti.api.views.answer_before_view``, which answers it with the same handler.
    """
    report_usage(request, usage)
    return RateLimited(usage.retry_after, explanation)

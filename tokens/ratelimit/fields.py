"""The IETF structured rate-limit headers: ``RateLimit-Policy`` and ``RateLimit``.

Syntax of draft-ietf-httpapi-ratelimit-headers (-09 and later): both fields are Structured
Field Lists (RFC 9651) of quota policies, each an sf-string naming the policy with parameters:

* ``RateLimit-Policy: "minute";q=60;w=60, "day";q=10000;w=86400``: ``q`` the quota (requests),
  ``w`` the window (seconds). Every window of the tenant's plan; a window without a limit (the
  ultimate plan's day) is absent.
* ``RateLimit: "minute";r=12;t=31, "day";r=9950;t=40000``: ``r`` the requests remaining, ``t``
  the seconds until the window resets (the same number ``Retry-After`` gives on a 429).

Which policies ``RateLimit`` lists: on an answered request, every window the request was
counted in (both plan windows; the draft lets a server describe several policies at once); on
a 429, only the window that refused it (``r=0``): the other window was not counted (a request
refused by the minute never touches the day) or is not what the client waits for, and the
early refusal, which knows only the spent window, answers byte for byte the same.

The names are fixed ASCII labels and the numbers integers, so the text is built directly; the
policy text depends only on the plan's windows and is built once per window set.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from tokens.ratelimit.counter import WindowUsage

POLICY = "RateLimit-Policy"
RATELIMIT = "RateLimit"

# (name, quota, window seconds) of one policy
Policy = tuple[str, int, int]


@functools.lru_cache(maxsize=64)
def policy_field(policies: tuple[Policy, ...]) -> str:
    """``RateLimit-Policy``'s value for ``policies`` (built once per set)."""
    return ", ".join(f'"{name}";q={quota};w={window}' for name, quota, window in policies)


def ratelimit_field(usages: Iterable[tuple[str, WindowUsage]]) -> str:
    """``RateLimit``'s value for the named windows' usages."""
    return ", ".join(
        f'"{name}";r={usage.remaining};t={usage.retry_after}' for name, usage in usages
    )


def structured_headers(
    policies: tuple[Policy, ...], usages: Iterable[tuple[str, WindowUsage]]
) -> dict[str, str]:
    """Both headers; ``RateLimit`` only when some usage is known, neither for no policy."""
    if not policies:
        return {}
    headers = {POLICY: policy_field(policies)}
    current = ratelimit_field(usages)
    if current:
        headers[RATELIMIT] = current
    return headers

"""Password attempts: every form that checks a password counts the attempt first, then may check.

One function, ``count_password_attempt``, used by the Settings login, the admin login of every
host and the admin's password change. Each attempt is counted atomically in the cache *before*
the password is checked, against two separate fixed windows (``settings``):

- per client address: ``WAQTI_PASSWORD_ATTEMPTS_PER_ADDRESS`` (50 per 15 minutes);
- per account (the user name, lower-cased): ``WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT``
  (10 per 15 minutes), whichever address the attempts come from.

Every attempt counts, successful ones included: the count is taken before anyone knows whether
the password is right, which is what bounds a parallel burst. Over either limit the attempt is
refused without checking the password (even a right one), and one WARNING line goes to the
"waqti.security" logger naming the tenant schema, the account and the address (never the
password). Keys carry the tenant twice: in the key value, and through the cache's KEY_FUNCTION
(django_tenants.cache.make_key adds the current schema), so tenants never share counters.

Why django-ratelimit and not django-axes (read in django-axes 8.3.1): axes' backend only *reads*
the failure count before the password check (``AxesStandaloneBackend.authenticate`` ->
``AxesProxyHandler.is_allowed``); it counts in its ``user_login_failed`` signal handlers
(``handlers/database.py``, ``handlers/cache.py``), which Django sends after every backend has
rejected the password. N parallel requests all pass the read before any of them is counted, so a
burst is not bounded. django-ratelimit's public ``get_usage(..., increment=True)`` adds and reads
the counter in one atomic cache operation (Redis INCR; a lock in the process-local cache), so at
most the limit of attempts ever reach the password check, however many arrive at once.

If the counter cache is unreachable the attempt is let through (as the API's limits are) and an
ERROR is logged: an outage of Redis must not lock every admin out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage

from waqti.client_ip import client_ip

logger = logging.getLogger("waqti.security")
ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


@dataclass(frozen=True)
class Refusal:
    """An attempt over a limit: refused before its password was checked."""

    retry_after: int  # seconds until the window that refused it starts again

    @property
    def message(self) -> str:
        minutes = max(1, -(-self.retry_after // 60))
        return ngettext(
            "Too many login attempts. Try again in %(minutes)s minute.",
            "Too many login attempts. Try again in %(minutes)s minutes.",
            minutes,
        ) % {"minutes": minutes}


def _count(request: HttpRequest, scope: str, value: str, rate: tuple[int, int]) -> Any:
    try:
        return get_usage(
            request,
            group=f"password-attempts.{scope}",
            key=lambda _group, _request: value,
            rate=rate,
            increment=True,
        )
    except Exception as exc:  # a cache outage must not lock every admin out
        logger.error("password attempts not counted: cache unreachable (%s)", type(exc).__name__)
        return None


def count_password_attempt(request: HttpRequest, account: str) -> Refusal | None:
    """Count one attempt for the client address and for ``account``; a Refusal when over a limit.

    Call it before the password is checked, and do not check it when this returns a Refusal.
    The account counter is not touched when the address is already over its limit.
    """
    schema = connection.schema_name
    address = client_ip(request)
    account = account.strip().lower()
    limits = (
        ("address", address, settings.WAQTI_PASSWORD_ATTEMPTS_PER_ADDRESS),
        ("account", account, settings.WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT),
    )
    for scope, value, rate in limits:
        usage = _count(request, scope, f"{schema}:{value}", rate)
        if usage is not None and usage["should_limit"]:
            logger.warning(
                "password attempt refused: tenant=%s account=%r address=%s "
                "(over %d per %d s per %s)",
                schema,
                account,
                address,
                rate[0],
                rate[1],
                scope,
            )
            return Refusal(retry_after=max(1, int(usage["time_left"])))
    return None


class AttemptLimitedLoginMixin(forms.Form):
    """For ``AuthenticationForm`` subclasses: the attempt is counted before ``authenticate()``.

    A refused attempt becomes the form's own error (``refusal`` tells the view to answer 429).
    """

    refusal: Refusal | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username is not None and self.cleaned_data.get("password"):
            self.refusal = count_password_attempt(self.request, username)  # type: ignore[attr-defined]
            if self.refusal is not None:
                raise forms.ValidationError(self.refusal.message, code="too_many_attempts")
        return super().clean()


def refused(response: ResponseT, refusal: Refusal | None) -> ResponseT:
    """A login page answering a refused attempt: 429 with ``Retry-After``."""
    if refusal is not None:
        response.status_code = 429
        response["Retry-After"] = str(refusal.retry_after)
    return response

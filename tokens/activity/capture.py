"""What the activity log records of a request: which requests, the entry, redaction, storability.

Every text value is made storable when it is captured (``storable``), so one hostile request
cannot make PostgreSQL refuse the batch its neighbours are written in:

* a NUL (``\\x00``, which PostgreSQL text cannot hold) and any surrogate code point (which
  UTF-8 cannot encode) become U+FFFD ``�``;
* a value longer than its column (``ApiRequestLog``'s ``max_length``) is cut to the column's
  length, its last character replaced by ``…`` so a reader sees it was cut.

Ordinary values (ASCII without NUL, within the column) are returned as they are, after two
C-speed checks. The buffer and writer: ``tokens.activity.buffer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField
from django.http import HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name

from tokens.activity.models import ApiRequestLog
from tokens.models import ApiToken
from tokens.secrets import MalformedToken, parse_bearer
from waqti.api.parsers import UNSTORABLE_TEXT
from waqti.client_ip import client_ip

API_PREFIX = "/api/v1"
UNLOGGED_PREFIXES = (API_PREFIX + "/schema/", API_PREFIX + "/docs/")
REDACTED = "[redacted]"
REPLACEMENT = "\ufffd"  # stands for a character PostgreSQL cannot store
TRUNCATED = "\u2026"  # last character of a value cut to its column's length
# A whole token ``{id}|{secret}`` (also with ``|`` percent-encoded) anywhere in a path or query.
_TOKEN_IN_TEXT = re.compile(r"(\d{1,19})(\||%7[Cc])[A-Za-z0-9]{40}")
# Query parameters whose values are credentials by name, whatever their shape.
_SECRET_PARAM = re.compile(
    r"(^|&)((?:api[_-]?)?(?:token|key|secret)|access[_-]?token|password|passwd|authorization"
    r"|auth|bearer)=[^&]*",
    re.IGNORECASE,
)


def _column_length(name: str) -> int:
    field = ApiRequestLog._meta.get_field(name)
    if not isinstance(field, CharField) or field.max_length is None:
        raise TypeError(f"ApiRequestLog.{name} is not a bounded text column")
    return field.max_length


# The columns' lengths, read once from the model so the two cannot drift apart.
MAX_TOKEN_NAME, MAX_METHOD, MAX_PATH, MAX_QUERY, MAX_USER_AGENT, MAX_REQUEST_ID = (
    _column_length(name)
    for name in ("token_name", "method", "path", "query_string", "user_agent", "request_id")
)


def storable(text: str, max_length: int) -> str:
    """``text`` as PostgreSQL can store it in a ``varchar(max_length)`` (rule: module docstring)."""
    if not text.isascii():
        text = UNSTORABLE_TEXT.sub(REPLACEMENT, text)
    elif "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    if len(text) > max_length:
        text = text[: max_length - 1] + TRUNCATED
    return text


def redact(text: str) -> str:
    """Remove token secrets and credential-named query values from a path or query string."""
    text = _TOKEN_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", text)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One request, ready to become an ``ApiRequestLog`` row in ``schema_name``."""

    schema_name: str
    occurred_at: datetime
    token_id: int | None
    token_name: str
    method: str
    path: str
    query_string: str
    status: int
    duration_ms: float
    ip_address: str | None
    user_agent: str
    request_id: str


def is_logged(request: HttpRequest) -> bool:
    """``/api/v1`` requests that reached a tenant (not the public host, not unknown hosts)."""
    path = request.path_info
    if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
        return False
    if path.startswith(UNLOGGED_PREFIXES):  # the public reference, not integration traffic
        return False
    tenant = getattr(request, "tenant", None)
    return tenant is not None and tenant.schema_name != get_public_schema_name()


def _token_identity(request: HttpRequest) -> tuple[int | None, str]:
    """The token that made the request, or the id it claimed when it was refused.

    The token step (DRF's authentication, or the early refusal) sets the token it accepted as
    ``request.user``. ``type()``, not ``isinstance()``: on a request no token step ran for,
    ``user`` is still Django's lazy session user, which ``isinstance()`` would load.
    """
    user = getattr(request, "user", None)
    if type(user) is ApiToken:
        return user.pk, user.name
    try:
        token_id, _secret = parse_bearer(request.META.get("HTTP_AUTHORIZATION"))
    except MalformedToken:
        return None, ""
    return token_id, ""


def entry_for(
    request: HttpRequest, response: HttpResponse, *, occurred_at: datetime, duration_ms: float
) -> LogEntry:
    """Describe a finished request; never reads more of ``Authorization`` than the token id.

    Secrets are redacted before values are cut to their columns, so a cut never leaves part of
    a secret behind.
    """
    token_id, token_name = _token_identity(request)
    meta = request.META
    return LogEntry(
        schema_name=request.tenant.schema_name,  # type: ignore[attr-defined]
        occurred_at=occurred_at,
        token_id=token_id,
        token_name=storable(token_name, MAX_TOKEN_NAME),
        method=storable(request.method or "", MAX_METHOD),
        path=storable(redact(request.path), MAX_PATH),
        query_string=storable(redact(meta.get("QUERY_STRING", "")), MAX_QUERY),
        status=response.status_code,
        duration_ms=round(duration_ms, 3),
        ip_address=client_ip(request),
        user_agent=storable(redact(meta.get("HTTP_USER_AGENT", "")), MAX_USER_AGENT),
        request_id=storable(getattr(request, "request_id", ""), MAX_REQUEST_ID),
    )

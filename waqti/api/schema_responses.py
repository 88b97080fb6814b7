"""The error responses and response headers the OpenAPI schema adds to operations: one table of
each, written once, registered as named components (``#/components/...``) on first use."""

from __future__ import annotations

from typing import Any

from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent

from waqti.api.idempotency import REPLAY_HEADER
from waqti.api.request_id import HEADER as REQUEST_ID_HEADER

ERROR_COMPONENT = "ErrorResponse"
RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)

HEADERS: dict[str, dict[str, Any]] = {
    REQUEST_ID_HEADER: {
        "description": "Echo of the request's X-Request-ID when it was sane "
        "(1-128 of A-Z a-z 0-9 . _ : -), otherwise a generated id. Quote it in support requests.",
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the tenant's window closest to exhaustion "
        "(normally the minute window of its plan).",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in that window.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time (seconds) when that window starts counting from zero again.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Policy": {
        "description": "draft-ietf-httpapi-ratelimit-headers: the plan's windows as a "
        'Structured Field List, e.g. `"minute";q=60;w=60, "day";q=10000;w=86400` (q: requests, '
        "w: seconds); an unlimited window is absent. `GET /api/v1/rate-limit` adds its own "
        '`"rate-limit";q=60;w=60`.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "draft-ietf-httpapi-ratelimit-headers: the windows this request was "
        'counted in, e.g. `"minute";r=12;t=31, "day";r=9950;t=40000` (r: requests remaining, '
        "t: seconds until the window resets); on a 429 only the refusing window (`r=0`).",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Whole seconds (at least 1) to wait before retrying: until the exhausted "
        "window resets (429), or a few while the database is unreachable (503).",
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {"description": "Always `Bearer`.", "schema": {"type": "string"}},
    REPLAY_HEADER: {
        "description": "`true` when this answer replays the first response to the same "
        "Idempotency-Key; nothing was created by this request.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error has this shape; `errors` maps a field (or `token`, `ability`, "
    "`ip`, `rate_limit`, `status`, `body`, ...) to its messages and may be empty. Messages "
    "follow Accept-Language (`en` by default, `ar`); keys never change.",
    "required": ["message", "errors"],
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

UNAUTHENTICATED = {
    "message": "Unauthenticated.",
    "errors": {"token": ["Invalid or expired token"]},
}

# status -> (description, example body, extra headers beyond X-Request-ID and the rate limit)
ERRORS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "400": (
        "The body is not valid JSON, or is nested more than 32 levels deep.",
        {
            "message": "Malformed request body.",
            "errors": {"body": ["The request body is not valid JSON (line 1, column 2)."]},
        },
        (),
    ),
    "401": (
        "Missing, malformed, unknown, revoked or expired token (always this exact body).",
        UNAUTHENTICATED,
        ("WWW-Authenticate",),
    ),
    "404": ("No such resource in this tenant.", {"message": "Not found.", "errors": {}}, ()),
    "411": (
        "The body was sent chunked (`Transfer-Encoding`) without `Content-Length`; it is not read.",
        {
            "message": "Length required.",
            "errors": {
                "body": ["Send the request body with a Content-Length header, not chunked."]
            },
        },
        (),
    ),
    "413": (
        "The body is larger than the server's limit (`WAQTI_MAX_BODY_BYTES`, by default 1 MiB).",
        {
            "message": "Request body too large.",
            "errors": {"body": ["The request body must not be larger than 1048576 bytes."]},
        },
        (),
    ),
    "409": (
        "The resource's current status does not allow this action.",
        {
            "message": "Only a draft purchase order can be edited; this one is approved.",
            "errors": {"status": ["The current status is approved."]},
        },
        (),
    ),
    "422": (
        "Validation failed; `errors` names each invalid field (nested ones by path, e.g. "
        "`items.0.quantity`; on lists, also a `page` past the last one).",
        {"message": "The given data was invalid.", "errors": {"name": ["This field is required."]}},
        (),
    ),
    "429": (
        "Over the plan's rate limit (or too many bad tokens from this address).",
        {
            "message": "Too Many Requests.",
            "errors": {
                "rate_limit": [
                    "Rate limit of 60 requests per minute for the professional "
                    "plan exceeded. Retry in 30 seconds."
                ]
            },
        },
        ("Retry-After",),
    ),
    "503": (
        "The database cannot be reached (stopped, restarting, out of connections); nothing was "
        "changed. Retry after `Retry-After` seconds.",
        {"message": "Service temporarily unavailable.", "errors": {}},
        ("Retry-After",),
    ),
}


def error_response(registry: ComponentRegistry, code: str, ability: str | None) -> dict[str, Any]:
    """The documented ``code`` error of an authenticated operation; a 403 names ``ability``
    (without one, only the IP allowlist can refuse)."""
    error_ref = component(registry, ERROR_COMPONENT, ResolvedComponent.SCHEMA, ERROR_SCHEMA)
    if code == "403" and ability is not None:
        description = (
            f"The token lacks the `{ability}` ability, or its `allowed_ips` do not include the "
            "client's address (`errors.ip`: `Token cannot be used from 203.0.113.9`)."
        )
        example = {
            "message": "This action is unauthorized.",
            "errors": {"ability": [f"Token does not have '{ability}' ability"]},
        }
        extra: tuple[str, ...] = ()
    elif code == "403":
        description = "The token's `allowed_ips` do not include the client's address."
        example = {
            "message": "This action is unauthorized.",
            "errors": {"ip": ["Token cannot be used from 203.0.113.9"]},
        }
        extra = ()
    else:
        description, example, extra = ERRORS[code]
    headers = standard_headers(registry, authenticated=True)
    headers.update({name: header(registry, name) for name in extra})
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": error_ref, "example": example}},
    }


def standard_headers(registry: ComponentRegistry, *, authenticated: bool) -> dict[str, Any]:
    """X-Request-ID on every response; the X-RateLimit-* trio where a token is counted."""
    names = [REQUEST_ID_HEADER, *(RATE_LIMIT_HEADERS if authenticated else ())]
    return {name: header(registry, name) for name in names}


def header(registry: ComponentRegistry, name: str) -> dict[str, Any]:
    """``{"$ref": "#/components/headers/<name>"}`` for a header of ``HEADERS``."""
    return component(registry, name, ResolvedComponent.HEADER, HEADERS[name])


def component(
    registry: ComponentRegistry, name: str, kind: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """A reference to our own named component, registered the first time it is used."""
    resolved = ResolvedComponent(name=name, type=kind, schema=schema, object=f"waqti:{name}")
    registry.register_on_missing(resolved)
    return resolved.ref

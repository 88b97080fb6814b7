"""One exception handler: every API error becomes ``{"message": ..., "errors": {...}}``."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from waqti import errors as domain
from waqti.api.exceptions import (
    AddressNotAllowed,
    LengthRequired,
    MissingAbility,
    PayloadTooLarge,
    RateLimited,
)
from waqti.database_outage import (
    RETRY_AFTER_SECONDS,
    interrupted_session_outage,
    is_database_unavailable,
    mark_answered,
)

logger = logging.getLogger("waqti.api")


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"message": message, "errors": errors or {}}


def unauthenticated_body() -> dict[str, Any]:
    return error_body(_("Unauthenticated."), {"token": [_("Invalid or expired token")]})


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [
            f"{key}: {msg}" if key != "non_field_errors" else msg
            for key, value in detail.items()
            for msg in _flatten(value)
        ]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def validation_errors(detail: Any) -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field": [...], "items.0.quantity": [...]}``."""
    errors: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                name = "non_field_errors" if key == "non_field_errors" else str(key)
                walk(f"{prefix}.{name}" if prefix else name, inner)
        elif isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
            for index, inner in enumerate(value):
                if inner:
                    walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            key = prefix or "non_field_errors"
            errors.setdefault(key, []).extend(_flatten(value))

    walk("", detail)
    return errors


def _parse_error(exc: exceptions.ParseError) -> str:
    """DRF's JSON parser text is English-only; say the same in the request's language."""
    cause = exc.__context__
    if isinstance(cause, json.JSONDecodeError):
        return _("The request body is not valid JSON (line %(line)s, column %(column)s).") % {
            "line": cause.lineno,
            "column": cause.colno,
        }
    if isinstance(cause, ValueError):
        return _("The request body is not valid JSON.")
    return str(exc.detail)


def too_large_body() -> dict[str, Any]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body(
        _("Request body too large."),
        {
            "body": [
                _("The request body must not be larger than %(limit)s bytes.") % {"limit": limit}
            ]
        },
    )


def too_many_requests_body(explanation: str) -> dict[str, Any]:
    """The body of every 429: the handler's below, and the token app's early refusal's."""
    return error_body(_("Too Many Requests."), {"rate_limit": [explanation]})


def service_unavailable_body() -> dict[str, Any]:
    """The body of every 503 for a database outage (``waqti.database_outage``)."""
    return error_body(_("Service temporarily unavailable."), {})


def service_unavailable(request: HttpRequest, exc: BaseException) -> JsonResponse:
    """The 503 of a request that needs the unreachable database, outside DRF's views (the tenant
    middleware, Django's views, the 500 handler): counted in the incident, not logged alone."""
    mark_answered(request, exc)
    response = JsonResponse(service_unavailable_body(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


DOMAIN_ERROR_STATUS: dict[type[domain.DomainError], int] = {
    domain.InvalidInput: status.HTTP_422_UNPROCESSABLE_ENTITY,
    domain.StateConflict: status.HTTP_409_CONFLICT,
    domain.NotPermitted: status.HTTP_403_FORBIDDEN,
}


def domain_error_response(exc: domain.DomainError) -> Response:
    """A service's refusal: its status by kind, its own message (or the kind's), its errors."""
    code = next(
        (code for kind, code in DOMAIN_ERROR_STATUS.items() if isinstance(exc, kind)),
        status.HTTP_400_BAD_REQUEST,
    )
    default = {
        status.HTTP_422_UNPROCESSABLE_ENTITY: _("The given data was invalid."),
        status.HTTP_403_FORBIDDEN: _("This action is unauthorized."),
    }.get(code, _("Request failed."))
    set_rollback()
    return Response(error_body(exc.message or default, exc.errors), status=code)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Call DRF's handler first (keeps Retry-After, WWW-Authenticate, rollback), then reshape."""
    if isinstance(exc, domain.DomainError):
        return domain_error_response(exc)
    if is_database_unavailable(exc):
        mark_answered(context["request"], exc)
        set_rollback()
        return Response(
            service_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, RequestDataTooBig):
        # Django's refusal of a body over DATA_UPLOAD_MAX_MEMORY_SIZE (raised by request.body
        # before reading past the limit); DRF does not know it, so name it before DRF's handler.
        exc = PayloadTooLarge()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        set_rollback()
        return Response(
            error_body(_("Server error."), {}), status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )

    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = "Bearer"
        response.data = unauthenticated_body()
    elif isinstance(exc, MissingAbility):
        response.data = error_body(
            _("This action is unauthorized."), {"ability": [str(exc.detail)]}
        )
    elif isinstance(exc, AddressNotAllowed):
        response.data = error_body(_("This action is unauthorized."), {"ip": [str(exc.detail)]})
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        response.data = error_body(_("This action is unauthorized."), {})
    elif isinstance(exc, RateLimited):
        response.data = too_many_requests_body(exc.explanation)
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body(_("Too Many Requests."), {"rate_limit": [str(exc.detail)]})
    elif isinstance(exc, exceptions.ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        response.data = error_body(_("The given data was invalid."), validation_errors(exc.detail))
    elif isinstance(exc, PayloadTooLarge):
        response.data = too_large_body()
    elif isinstance(exc, LengthRequired):
        response.data = error_body(
            _("Length required."),
            {"body": [_("Send the request body with a Content-Length header, not chunked.")]},
        )
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(_("Malformed request body."), {"body": [_parse_error(exc)]})
    elif isinstance(exc, exceptions.NotFound | Http404):
        response.data = error_body(_("Not found."), {})
    elif isinstance(exc, exceptions.MethodNotAllowed):
        method = context["request"].method if context.get("request") else ""
        response.data = error_body(
            _("Method not allowed."),
            {"method": [_("%(method)s is not allowed on this resource.") % {"method": method}]},
        )
    else:
        detail = getattr(exc, "detail", "")
        response.data = error_body(str(detail) if detail else _("Request failed."), {})
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(_("Not found."), {}), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    """Django's 500 handler, called while the uncaught exception is being handled: a database
    outage raised where no other handler saw it (e.g. Django's own middleware) is still a 503."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        return service_unavailable(request, exc)
    return JsonResponse(error_body(_("Server error."), {}), status=500)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 400 (``SuspiciousOperation``); an oversized body outside DRF is still a 413, and
    a session Django could not save because the database is unreachable a 503."""
    outage = interrupted_session_outage(exception)
    if outage is not None:
        return service_unavailable(request, outage)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(too_large_body(), status=413)
    return JsonResponse(error_body(_("Bad request."), {}), status=400)


def json_permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return JsonResponse(error_body(_("This action is unauthorized."), {}), status=403)

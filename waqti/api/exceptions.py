"""The API's own exception types; the handler in ``errors`` turns them into contract bodies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


class Unauthenticated(exceptions.AuthenticationFailed):
    """Missing, malformed, unknown, revoked or expired token: always the same 401 body."""

    default_detail = _("Invalid or expired token")
    default_code = "unauthenticated"


class MissingAbility(exceptions.PermissionDenied):
    """The token lacks the ability the request needs."""

    def __init__(self, ability: str) -> None:
        self.ability = ability
        super().__init__(
            detail=_("Token does not have '%(ability)s' ability") % {"ability": ability}
        )


class AddressNotAllowed(exceptions.PermissionDenied):
    """The token's IP allowlist does not include the client's address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(detail=_("Token cannot be used from %(address)s") % {"address": address})


class RateLimited(exceptions.Throttled):
    """Over a rate limit; carries the explanation shown in ``errors.rate_limit``."""

    def __init__(self, wait: float, explanation: str) -> None:
        self.explanation = explanation
        super().__init__(wait=wait)


class PayloadTooLarge(exceptions.APIException):
    """The request body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's
    ``RequestDataTooBig``, raised before the body is read past the limit)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class LengthRequired(exceptions.APIException):
    """A body without Content-Length (``Transfer-Encoding: chunked``): Django would read it as
    empty, so a PATCH would silently change nothing; it is refused instead, unread."""

    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_code = "length_required"


class InvalidData(exceptions.ValidationError):
    """A 422 for input the API layer itself checks (paging, sorting, ``Idempotency-Key``, body
    characters); services raise ``waqti.errors.InvalidInput`` instead."""

"""Base classes every API view uses: throttle before permissions, no chunked bodies."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from waqti.api.exceptions import LengthRequired

# Methods whose body the API may read.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _chunked(request: Request) -> bool:
    """A body sent without Content-Length: Django reads a WSGI body only up to that length, so
    it would be taken as empty (a PATCH would silently change nothing)."""
    meta = request.META
    return "HTTP_TRANSFER_ENCODING" in meta and not meta.get("CONTENT_LENGTH")


class ApiViewMixin:
    """Counts a request against the plan budget before checking its abilities.

    DRF checks permissions before throttles; the contract wants refused (403) requests to carry
    rate-limit headers and count too, so the two checks are swapped here. Every answer carries
    the headers the checks reported (``request.rate_limit_headers``: the token app's limits).
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)  # type: ignore[attr-defined]
        renderer, media_type = self.perform_content_negotiation(request)  # type: ignore[attr-defined]
        request.accepted_renderer, request.accepted_media_type = renderer, media_type
        version, scheme = self.determine_version(request, *args, **kwargs)  # type: ignore[attr-defined]
        request.version, request.versioning_scheme = version, scheme
        self.perform_authentication(request)  # type: ignore[attr-defined]
        self.check_throttles(request)
        self.check_permissions(request)  # type: ignore[attr-defined]
        if request.method in BODY_METHODS and _chunked(request):
            raise LengthRequired

    def check_throttles(self, request: Request) -> None:
        for throttle in self.get_throttles():  # type: ignore[attr-defined]
            if not throttle.allow_request(request, self):
                refusal = getattr(throttle, "refusal", None)
                if refusal is not None:
                    raise refusal
                self.throttled(request, throttle.wait())  # type: ignore[attr-defined]

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if response.status_code == 429:
            # DRF's view headers (``Allow``, ``Vary: Accept``) describe the resource; a 429
            # refuses the client, and the token app's early refusal answers it the same without
            # a view.
            self.headers: dict[str, str] = {}
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        for name, value in getattr(request, "rate_limit_headers", {}).items():
            response[name] = value
        return response


class ApiView(ApiViewMixin, APIView):
    pass


class ApiViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pass

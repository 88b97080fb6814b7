"""Base classes every API view uses: throttle before permissions, tenant-scoped lookups."""

from __future__ import annotations

from typing import Any

from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from waqti.api.exceptions import LengthRequired


class ApiViewMixin:
    """Counts a request against the plan budget before checking its abilities.

    DRF checks permissions before throttles; the contract wants refused (403) requests to carry
    rate-limit headers and count too, so the two checks are swapped here.
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
        # A WSGI request body is read only up to its Content-Length; a chunked one has none.
        if "HTTP_TRANSFER_ENCODING" in request.META and not request.META.get("CONTENT_LENGTH"):
            raise LengthRequired

    def check_throttles(self, request: Request) -> None:
        for throttle in self.get_throttles():  # type: ignore[attr-defined]
            if not throttle.allow_request(request, self):
                refusal = getattr(throttle, "refusal", None)
                if refusal is not None:
                    raise refusal
                self.throttled(request, throttle.wait())  # type: ignore[attr-defined]


class ApiView(ApiViewMixin, APIView):
    pass


class ApiViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pass

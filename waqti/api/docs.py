"""The public ``/api/v1/schema/`` (OpenAPI 3) and ``/api/v1/docs/`` (Swagger UI) views.

Swagger UI's files come from drf-spectacular-sidecar through ``docs_asset``: no CDN, and no
static-file server needed in production.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

# Registers the Bearer scheme and filter extensions before any schema is generated.
import waqti.api.schema  # noqa: F401


class FirstRendererNegotiation(BaseContentNegotiation):
    """The docs page is HTML whatever the client's Accept header says."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: Any = None
    ) -> Any:
        return renderers[0], renderers[0].media_type


class SchemaView(SpectacularAPIView):
    """``GET /api/v1/schema/``: the OpenAPI 3 document, JSON (``?format=yaml`` for YAML).

    Public documentation: no token, no rate limit (nothing tenant-specific is in it).
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    renderer_classes = [
        OpenApiJsonRenderer,
        OpenApiJsonRenderer2,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]
    urlconf = "waqti.urls"


DOCS_ASSETS = {
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
}


def _asset_url(filename: str) -> str:
    return reverse("api-docs-asset", kwargs={"filename": filename})


class DocsView(SpectacularSwaggerView):
    """``GET /api/v1/docs/``: Swagger UI over the schema, its files served from the sidecar."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    content_negotiation_class = FirstRendererNegotiation
    url_name = "api-schema"
    title = "Waqti API"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return _asset_url(filename)

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return _asset_url("favicon-32x32.png")


@require_GET
def docs_asset(request: HttpRequest, filename: str) -> FileResponse:
    """Swagger UI's files straight from drf-spectacular-sidecar: works without a static server."""
    if filename not in DOCS_ASSETS:
        raise Http404(filename)
    found = finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")
    if not found:  # pragma: no cover - the sidecar package is a dependency
        raise Http404(filename)
    content_type, _encoding = mimetypes.guess_type(filename)
    response = FileResponse(open(found, "rb"), content_type=content_type)  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=86400"
    return response

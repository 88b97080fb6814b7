"""The public ``/api/v1/schema/`` (OpenAPI 3) and ``/api/v1/docs/`` (Swagger UI) views.

The schema is built once per process and language and rendered once per format, then served
from memory with a strong ``ETag`` (``If-None-Match`` answers 304). Swagger UI's files come from
drf-spectacular-sidecar through ``docs_asset``: no CDN, and no static-file server needed in
production.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.views.decorators.http import require_GET
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.settings import patched_settings, spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView, SpectacularSwaggerView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


class FirstRendererNegotiation(BaseContentNegotiation):
    """The docs page is HTML whatever the client's Accept header says."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: Any = None
    ) -> Any:
        return renderers[0], renderers[0].media_type


@dataclass(frozen=True, slots=True)
class RenderedSchema:
    """The schema document as sent: its bytes, Content-Type and strong ETag."""

    body: bytes
    content_type: str
    etag: str


# (language, renderer class, JSON indent): every way the document's bytes can differ. Bounded:
# languages come from LANGUAGES, renderers from renderer_classes, indents are 1-8.
RenderKey = tuple[str, type[BaseRenderer], int | None]


class SchemaView(SpectacularAPIView):
    """``GET /api/v1/schema/``: the OpenAPI 3 document, JSON (``?format=yaml`` for YAML).

    Public documentation: no token, no rate limit (nothing tenant-specific is in it). Building
    it costs about 35 ms of CPU (BENCHMARKS.md), so each process builds it once per language
    (``?lang=``, else the request's language: Accept-Language or the Settings pages' language
    cookie) and renders it once per format; later requests are served from memory, with a
    strong ``ETag`` (SHA-256 of Content-Type and bytes) for ``If-None-Match`` (304). ``?version=``
    is ignored: the API has one version, and the document never echoes request input.
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
    # The document changes only with a deploy; after one, caches revalidate within 5 minutes.
    cache_control = "public, max-age=300"

    _documents: ClassVar[dict[str, dict[str, Any]]] = {}
    _rendered: ClassVar[dict[RenderKey, RenderedSchema]] = {}
    # One build at a time: concurrent first requests wait for it instead of each burning CPU.
    _build_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def clear_cache(cls) -> None:
        """Forget the built documents (tests; a new process starts empty anyway)."""
        with cls._build_lock:
            cls._documents.clear()
            cls._rendered.clear()

    @extend_schema(**SCHEMA_KWARGS)  # as SpectacularAPIView.get: the schema omits itself
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        language = schema_language(request)
        renderer = request.accepted_renderer
        rendered = self.rendered_schema(request, language, renderer)
        response = HttpResponse(rendered.body, content_type=rendered.content_type)
        response["ETag"] = rendered.etag
        response["Cache-Control"] = self.cache_control
        response["Content-Language"] = language
        title = spectacular_settings.TITLE or "schema"
        response["Content-Disposition"] = f'inline; filename="{title}.{renderer.format}"'
        # The language may come from Accept-Language or the language cookie (LocaleMiddleware);
        # DRF adds Accept (the format) when it finalizes the response.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return get_conditional_response(request, etag=rendered.etag, response=response)

    def rendered_schema(
        self, request: Request, language: str, renderer: BaseRenderer
    ) -> RenderedSchema:
        """The document in ``language`` as ``renderer`` writes it; built on first use."""
        media_type = request.accepted_media_type
        indent = renderer.get_indent(media_type, {}) if isinstance(renderer, JSONRenderer) else None
        key: RenderKey = (language, type(renderer), indent)
        rendered = self._rendered.get(key)
        if rendered is not None:
            return rendered
        with self._build_lock:
            rendered = self._rendered.get(key)
            if rendered is None:
                rendered = self.render_document(request, language, renderer, media_type)
                self._rendered[key] = rendered
        return rendered

    def render_document(
        self, request: Request, language: str, renderer: BaseRenderer, media_type: str
    ) -> RenderedSchema:
        document = self._documents.get(language)
        with translation.override(language):
            if document is None:
                generator = self.generator_class(
                    urlconf=self.urlconf, api_version=self.api_version, patterns=self.patterns
                )
                with patched_settings(self.custom_settings):
                    document = generator.get_schema(request=request, public=self.serve_public)
                self._documents[language] = document
            body = renderer.render(document, media_type, self.get_renderer_context())
        content_type = renderer.media_type
        if renderer.charset:
            content_type = f"{content_type}; charset={renderer.charset}"
        digest = hashlib.sha256(content_type.encode() + b"\n" + body).hexdigest()
        return RenderedSchema(body=body, content_type=content_type, etag=f'"{digest}"')


def schema_language(request: Request) -> str:
    """``?lang=`` when it names a supported language, else the request's active language."""
    for candidate in (request.query_params.get("lang"), translation.get_language()):
        if candidate:
            try:
                return translation.get_supported_language_variant(candidate)
            except LookupError:
                continue
    return settings.LANGUAGE_CODE


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

    @extend_schema(exclude=True)  # as SpectacularSwaggerView.get: the page is no API operation
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        # The page's own files come from ``docs_asset`` (no static-file server needed); these are
        # the template's context names for them.
        response.data.update(
            swagger_ui_css=_asset_url("swagger-ui.css"),
            swagger_ui_bundle=_asset_url("swagger-ui-bundle.js"),
            swagger_ui_standalone=_asset_url("swagger-ui-standalone-preset.js"),
            favicon_href=_asset_url("favicon-32x32.png"),
        )
        return response


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

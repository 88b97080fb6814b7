"""The /api/v1/ tree: each app contributes its routes; schema and docs live here."""

from django.urls import include, path

from waqti.api.docs import DocsView, SchemaView, docs_asset

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(), name="api-docs"),
    path("docs/assets/<str:filename>", docs_asset, name="api-docs-asset"),
    path("", include("tokens.urls")),
    path("", include("procurement.urls")),
    path("", include("webhooks.urls")),
]

"""The /api/v1/ tree: each app contributes its routes; schema and docs live here."""

from django.urls import include, path

urlpatterns = [
    path("", include("tokens.urls")),
    path("", include("procurement.urls")),
]

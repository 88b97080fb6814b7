"""URLs of a tenant's host: the API under /api/v1/, Settings, the tenant's own admin, health."""

from django.urls import include, path

from waqti.admin_sites import tenant_site
from waqti.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", include("waqti.api.urls")),
    path("admin/", tenant_site.urls),  # the tenant's own models only
    path("", include("tokens.settings_ui.urls")),  # "/" and /settings/ (the API Settings pages)
    path("", include("webhooks.settings_urls")),  # /settings/webhooks/
]

handler400 = "waqti.api.errors.json_bad_request"
handler403 = "waqti.api.errors.json_permission_denied"
handler404 = "waqti.api.errors.json_not_found"
handler500 = "waqti.api.errors.json_server_error"

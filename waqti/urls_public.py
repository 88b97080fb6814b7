"""URLs of the public (platform) host: health check and the platform operators' admin."""

from django.urls import path

from waqti.admin_sites import operators_site
from waqti.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", operators_site.urls),  # tenants, domains, operators
]

handler400 = "waqti.api.errors.json_bad_request"
handler403 = "waqti.api.errors.json_permission_denied"
handler404 = "waqti.api.errors.json_not_found"
handler500 = "waqti.api.errors.json_server_error"

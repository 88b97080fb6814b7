"""URLs of the public (platform) host: health check and the platform operators' admin."""

from django.contrib import admin
from django.urls import path

from waqti.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
]

handler400 = "waqti.api.errors.json_bad_request"
handler403 = "waqti.api.errors.json_permission_denied"
handler404 = "waqti.api.errors.json_not_found"
handler500 = "waqti.api.errors.json_server_error"

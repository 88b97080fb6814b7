"""Tenant routing by Host with a per-worker cache and a JSON 404 for unknown hosts."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django_tenants.middleware.main import TenantMainMiddleware

from tenancy.resolver import resolver
from waqti.api.errors import service_unavailable
from waqti.database_outage import is_database_unavailable


def unknown_host_response(hostname: str) -> JsonResponse:
    return JsonResponse(
        {"message": "Not found.", "errors": {"host": [f"No tenant is served at {hostname!r}."]}},
        status=404,
    )


class TenantHostMiddleware(TenantMainMiddleware):
    """django-tenants' middleware, resolving hosts through the cached resolver."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except Exception:  # DisallowedHost and malformed Host headers
            return unknown_host_response(request.META.get("HTTP_HOST", "")[:255])
        try:
            tenant = resolver.resolve(hostname)
        except DatabaseError as exc:  # a host not cached yet, while PostgreSQL is unreachable
            if not is_database_unavailable(exc):
                raise
            # Before LocaleMiddleware: in English, not in the last request's language.
            with translation.override(None):
                return service_unavailable(request, exc)
        if tenant is None:
            return unknown_host_response(hostname)
        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(request.tenant)
        self.setup_url_routing(request)
        return None

"""A view that needs the unreachable database (Settings pages, logins, the Django admin) gets
the API's 503 (``waqti.api.errors.service_unavailable``) instead of a 500 and a traceback."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from waqti.api.errors import service_unavailable
from waqti.database_outage import is_database_unavailable


class DatabaseOutageMiddleware:
    """Answers a database outage raised by a view (or its template) with the 503.

    DRF's views answer it themselves (``waqti.api.errors.api_exception_handler``); the tenant
    middleware does for an uncached host. Anything else that escapes (Django's own middleware)
    reaches the 500 handler, which gives the same 503 (``waqti.api.errors.json_server_error``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return service_unavailable(request, exception)
        return None

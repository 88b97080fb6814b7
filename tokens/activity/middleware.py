"""Records every ``/api/v1`` request of a tenant in the activity log."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tokens.activity.buffer import record_request
from tokens.activity.capture import is_logged


class ApiActivityLogMiddleware:
    """Queues every ``/api/v1`` request of a tenant for the activity log
    (``tokens.activity.buffer``).

    Sits inside the tenant and request-id middleware, so ``request.tenant`` and
    ``request.request_id`` are set; the status it records is the one the client receives.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_logged(request):
            return self.get_response(request)
        occurred_at = timezone.now()
        started = time.perf_counter()
        response = self.get_response(request)
        record_request(request, response, started, occurred_at)
        return response

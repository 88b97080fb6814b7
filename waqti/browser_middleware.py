"""Django's session, authentication and messages middleware, skipped for the token API.

Those three serve the pages a person uses in a browser (Settings, its login, both admin sites):
a session cookie, the logged-in user, flash messages. A request under ``/api/`` authenticates
with a bearer token (DRF, ``tokens.authentication``) and nothing there reads a session or a
message, so for it the stock middleware only parses cookies and builds lazy objects, then checks
them again on the way out. Measured in-process (``GET /api/v1/me`` and the 429 path, medians of
5 x 3,000 requests): 30-50 µs per request, 5% of ``/me`` and 10-13% of the 429 path.

Each class here is the stock one, subclassed so that its hooks return at once under ``/api/``;
elsewhere they are Django's, unchanged, in Django's order in ``settings.MIDDLEWARE``. Django's
system checks of the admin accept subclasses. CSRF keeps the stock middleware: DRF's views are
CSRF-exempt already (their cost there is a cookie lookup), and ``check --deploy`` knows CSRF
protection only by the stock class's name.
``tests/test_browser_middleware.py`` checks both sides: under ``/api/`` no session, user or
messages are set up (``request.user`` is the token alone), elsewhere sessions, the CSRF check and
messages work as before.
"""

from __future__ import annotations

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest
from django.http.response import HttpResponseBase

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    """A request for the token API (and its public reference), which no browser state serves."""
    return request.path_info.startswith(API_PREFIX)


class _RequestSkippedUnderApi:
    def process_request(self, request: HttpRequest) -> None:
        if not is_api(request):
            super().process_request(request)  # type: ignore[misc]


class _ResponseSkippedUnderApi:
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if is_api(request):
            return response
        return super().process_response(request, response)  # type: ignore[misc]


class SessionMiddleware(
    _RequestSkippedUnderApi, _ResponseSkippedUnderApi, sessions.SessionMiddleware
):
    pass


class AuthenticationMiddleware(_RequestSkippedUnderApi, auth.AuthenticationMiddleware):
    """Under ``/api/``, ``request.user`` is set by the token step alone (DRF, or the early
    refusal), never Django's lazy session user. (Django's has no response phase.)"""


class MessageMiddleware(
    _RequestSkippedUnderApi, _ResponseSkippedUnderApi, messages.MessageMiddleware
):
    pass

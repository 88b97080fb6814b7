"""The floor: settings, URLs and WSGI app of a bare Django JsonResponse with no database.

Served by the same gunicorn configuration as the API (``bench/gunicorn_conf.py``) so that every
scenario can be quoted as a ratio to it. Never mounted in production URLs.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "bench-floor-only")
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"data": {"status": "ok"}})


urlpatterns = [path("floor", floor)]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", __name__)
application = get_wsgi_application()

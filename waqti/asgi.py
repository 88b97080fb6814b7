"""ASGI entry point (unused in production; gunicorn serves WSGI)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waqti.settings")

application = get_asgi_application()

"""WSGI entry point: ``gunicorn waqti.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "waqti.settings")

application = get_wsgi_application()

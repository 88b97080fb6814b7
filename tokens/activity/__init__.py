"""The API activity log: what each ``/api/v1`` request records, its buffered writer, its readers.

Imports nothing at package level: gunicorn loads ``tokens.activity.gunicorn_hooks`` before Django
is set up.
"""

"""Schema changes that exist only for `make bench-tenants` and the migrate tests.

``one`` is procurement's migrations plus 0003 (an additive change: a nullable column), ``two``
adds 0004 (another). ``bench/tenants_settings.py`` points procurement at one of them when
WAQTI_EXTRA_TENANT_MIGRATIONS names it; the project's own settings never do.
"""

"""The one settings module: every environment difference is an environment variable."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from waqti.client_ip import parse_trusted_proxies
from waqti.embedded_db import database_settings_from_url, ensure_embedded_database

BASE_DIR = Path(__file__).resolve().parent.parent
RUNTIME_DIR = BASE_DIR / ".var"


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1")

# --- Applications --------------------------------------------------------------------------------
# Public schema: the tenant registry and the platform operators' admin.
# Tenant schemas: everything a tenant owns, including its own users (who log into Settings),
# their sessions, its API tokens and its procurement data. auth/sessions/admin are in both lists
# so the public host has its own operators and a session cookie never crosses schemas.
SHARED_APPS = [
    # First, so Django's admin/index.html and admin/app_list.html win over django-tenants'
    # copies, whose inline styles the Content-Security-Policy blocks (and whose per-schema app
    # colours mean nothing with one admin site per host: waqti/admin_sites.py).
    "django.contrib.admin",
    # Before django_tenants: its `migrate` (tenancy/management/commands/migrate.py) wins.
    "tenancy",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    # The job queue's tables live in the public schema, one queue for every tenant; a job names
    # the tenant it works for (tokens/tasks.py).
    "procrastinate.contrib.django",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "waqti.api",  # the API layer's own tables (idempotency keys: per tenant)
    "tokens",
    "procurement",
    "webhooks",
]
INSTALLED_APPS = [
    *SHARED_APPS,
    *(app for app in TENANT_APPS if app not in SHARED_APPS),
    # No models: ``manage.py seed_demo``, which uses every app (tenancy, tokens, procurement).
    "demo",
]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
PUBLIC_SCHEMA_URLCONF = "waqti.urls_public"
ROOT_URLCONF = "waqti.urls"
# Only send SET search_path when the schema changed (safe on django-tenants >= 4.0.1).
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# The schema new tenants are copied from (tenancy/schema_clone.py). `migrate` creates it and
# migrates it first, before the tenants; nothing else writes to it. No slug maps to this name
# (tenant schemas are ``t_<slug>``).
WAQTI_TENANT_TEMPLATE_SCHEMA = "tenant_template"
# Processes migrating tenant schemas in parallel (`manage.py migrate --processes` overrides).
WAQTI_MIGRATE_PROCESSES = int(os.environ.get("WAQTI_MIGRATE_PROCESSES") or (os.cpu_count() or 2))

MIDDLEWARE = [
    # First: X-Forwarded-Proto only from WAQTI_TRUSTED_PROXIES (SECURE_PROXY_SSL_HEADER below).
    "waqti.forwarded_proto.TrustedForwardedProtoMiddleware",
    "waqti.api.request_id.RequestIdMiddleware",
    "tenancy.middleware.TenantHostMiddleware",
    # A database outage raised by a (non-DRF) view is a 503, not a 500 (waqti/database_outage.py).
    "waqti.api.database_outage_middleware.DatabaseOutageMiddleware",
    "tokens.activity.middleware.ApiActivityLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "waqti.content_security_policy.ContentSecurityPolicyMiddleware",
    # Django's session, auth and messages middleware, skipped under /api/ (browser-only).
    "waqti.browser_middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "waqti.browser_middleware.AuthenticationMiddleware",
    "waqti.browser_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: early 429s for windows this worker knows are spent (no Redis, no SQL), answered in
    # process_view, so every middleware above applies to them as to any answer.
    "tokens.early_refusal.EarlyRefusalMiddleware",
]

# --- Webhooks (webhooks/) ----------------------------------------------------------------------
# Also deliver to loopback addresses (tests, development); never private or link-local ones.
WAQTI_WEBHOOKS_ALLOW_LOOPBACK = env_flag("WAQTI_WEBHOOKS_ALLOW_LOOPBACK", False)
# Seconds a delivery waits to connect, and for each read of the answer.
WAQTI_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WAQTI_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Failed attempts in a row after which a subscription is disabled (and its admins emailed).
WAQTI_WEBHOOK_DISABLE_AFTER = int(os.environ.get("WAQTI_WEBHOOK_DISABLE_AFTER", "20"))

# --- Email (token reminders, tokens/reminders.py) ---------------------------------------------
# Printed to the process's standard output unless a real backend is configured.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("DJANGO_EMAIL_USE_TLS", "0") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Waqti <no-reply@waqti.sa>")
# Tenant admins are reminded of tokens expiring or due for rotation this many days ahead.
WAQTI_TOKEN_REMINDER_DAYS = int(os.environ.get("WAQTI_TOKEN_REMINDER_DAYS", "7"))
if not 1 <= WAQTI_TOKEN_REMINDER_DAYS <= 90:
    raise ImproperlyConfigured("WAQTI_TOKEN_REMINDER_DAYS must be between 1 and 90.")

# --- API activity log (tokens/activity/) -------------------------------------------------------
# Entries are buffered per worker and written in batches at least this often (seconds).
WAQTI_ACTIVITY_FLUSH_SECONDS = float(os.environ.get("WAQTI_ACTIVITY_FLUSH_SECONDS", "1.0"))
# Most entries a worker holds while the database is unreachable; beyond it the oldest are dropped.
WAQTI_ACTIVITY_BUFFER_MAX = int(os.environ.get("WAQTI_ACTIVITY_BUFFER_MAX", "20000"))
if not (0 < WAQTI_ACTIVITY_FLUSH_SECONDS <= 60 and WAQTI_ACTIVITY_BUFFER_MAX > 0):
    raise ImproperlyConfigured(
        "WAQTI_ACTIVITY_FLUSH_SECONDS must be in (0, 60] and WAQTI_ACTIVITY_BUFFER_MAX positive."
    )
# Tests flush synchronously (activity.buffer.flush()), so no background thread under pytest.
WAQTI_ACTIVITY_BACKGROUND_FLUSH = env_flag(
    "WAQTI_ACTIVITY_BACKGROUND_FLUSH", "pytest" not in sys.modules
)
# Each worker appends its entries to a spool file here before answering, so a killed worker loses
# none (tokens/activity/spool.py); one subdirectory per database. Empty: no spool (entries of the
# last flush interval die with a killed worker). Off under pytest, like the background flush.
WAQTI_ACTIVITY_SPOOL_DIR = os.environ.get(
    "WAQTI_ACTIVITY_SPOOL_DIR",
    "" if "pytest" in sys.modules else str(RUNTIME_DIR / "activity-spool"),
)
# Default of `manage.py prune_api_logs --older-than-days`.
WAQTI_API_LOG_RETENTION_DAYS = int(os.environ.get("WAQTI_API_LOG_RETENTION_DAYS", "90"))

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "waqti" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "waqti.wsgi.application"

# --- Database ------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
EMBEDDED_DATABASE = not DATABASE_URL
if EMBEDDED_DATABASE:
    DATABASE_URL = ensure_embedded_database(RUNTIME_DIR / "postgres")

DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        **database_settings_from_url(DATABASE_URL),
        "CONN_MAX_AGE": 0 if DEBUG else 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Seconds to wait for a new connection (libpq's connect_timeout): a database that
            # is unreachable without refusing (frozen, or its host gone) costs a request at most
            # this long, then a 503, instead of holding the worker until gunicorn kills it.
            "connect_timeout": 3,
            # Parameters bound by the server, and a statement run 5 times on a connection is
            # prepared there (psycopg's automatic prepared statements), so PostgreSQL stops
            # planning the hot statements on every request (BENCHMARKS.md, step 10). PostgreSQL
            # re-parses a prepared statement whenever search_path has changed, so each tenant's
            # statements read its own tables (tests/procurement/test_prepared_statements.py).
            # Each connection must be one server session: django-tenants picks the tenant with a
            # session-level SET search_path, so a pooler in transaction mode (PgBouncer
            # pool_mode=transaction) is not supported, whatever this setting says (a transaction
            # could run in a session set for another tenant). Connect directly (persistent or
            # Django-pooled connections) or through a session-mode pooler.
            # WAQTI_DB_PREPARED_STATEMENTS=0 turns preparing off, e.g. behind a session-mode
            # pooler that does not reset sessions (DISCARD ALL) between its clients.
            "server_side_binding": True,
            "prepare_threshold": 5 if env_flag("WAQTI_DB_PREPARED_STATEMENTS", True) else None,
        },
        "TEST": {"NAME": os.environ.get("WAQTI_TEST_DATABASE", None)},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (and rate-limit counters) -------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Without REDIS_URL (``make run``): counters and caches live in each process. The test suite
# always has a Redis (tests/settings.py) and uses this dict to test the process-local path too.
PROCESS_LOCAL_CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "waqti",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
    }
}
# Redis answers within a millisecond on a healthy network: a quarter second, to connect and to
# answer, is far beyond any healthy answer, and is what a frozen Redis costs a worker once per
# waqti.redis_cache.RETRY_SECONDS (its circuit breaker skips Redis in between).
REDIS_SOCKET_TIMEOUT_SECONDS = 0.25
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, every call through the process's circuit breaker.
            "BACKEND": "waqti.redis_cache.BreakerRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = PROCESS_LOCAL_CACHES
    if "pytest" not in sys.modules:
        print(
            "waqti: REDIS_URL is unset; using a process-local cache "
            "(rate limits are exact within one process only).",
            file=sys.stderr,
        )

# --- Rate limits ---------------------------------------------------------------------------------
# Requests per minute and per day for each plan; None means unlimited.
DEFAULT_RATE_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "professional": (60, 10_000),
    "enterprise": (120, 50_000),
    "ultimate": (300, None),
}


def _rate_limits_from_env(raw: str) -> dict[str, tuple[int | None, int | None]]:
    limits = dict(DEFAULT_RATE_LIMITS)
    if not raw:
        return limits
    try:
        overrides = json.loads(raw)
        for plan, (per_minute, per_day) in overrides.items():
            if plan not in limits:
                raise ValueError(f"unknown plan {plan!r}")
            for value in (per_minute, per_day):
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise ValueError(f"limits must be positive integers or null, got {value!r}")
            limits[plan] = (per_minute, per_day)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f'WAQTI_RATE_LIMITS must be JSON like {{"ultimate": [100000, null]}}: {exc}'
        ) from exc
    return limits


WAQTI_RATE_LIMITS = _rate_limits_from_env(os.environ.get("WAQTI_RATE_LIMITS", ""))
# Requests with a missing or invalid token, per client IP and minute.
WAQTI_ANONYMOUS_RATE_PER_MINUTE = 100
# GET /api/v1/rate-limit's own limit, per token and minute (tokens/ratelimit/quota.py); the
# benchmark raises it to measure the endpoint's answered path.
WAQTI_RATE_LIMIT_ENDPOINT_PER_MINUTE = int(
    os.environ.get("WAQTI_RATE_LIMIT_ENDPOINT_PER_MINUTE", "60")
)
# The API's limits count in the default cache (tokens/ratelimit/counter.py); these two settings
# are django-ratelimit's, which counts the password attempts (waqti/password_attempts.py).
RATELIMIT_USE_CACHE = "default"
# Read-or-count failures of the counter cache let requests through (the API keeps serving).
RATELIMIT_FAIL_OPEN = True
# Proxies whose X-Forwarded-For is believed (waqti/client_ip.py): comma-separated addresses or
# CIDRs, IPv4 and IPv6. Empty: the client is REMOTE_ADDR and X-Forwarded-For is ignored.
try:
    WAQTI_TRUSTED_PROXIES = parse_trusted_proxies(os.environ.get("WAQTI_TRUSTED_PROXIES", ""))
except ValueError as exc:
    raise ImproperlyConfigured(
        f"WAQTI_TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs: {exc}"
    ) from exc
# Password forms (Settings login, admin login and password change; waqti/password_attempts.py):
# attempts, counted before the password is checked, per (count, seconds) fixed window.
WAQTI_PASSWORD_ATTEMPTS_PER_ACCOUNT = (10, 15 * 60)
WAQTI_PASSWORD_ATTEMPTS_PER_ADDRESS = (50, 15 * 60)

# --- Security ------------------------------------------------------------------------------------
# Largest request body, in bytes. Django refuses a bigger Content-Length before reading the body
# and reads at most one byte past it otherwise (RequestDataTooBig); the API answers 413.
try:
    DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("WAQTI_MAX_BODY_BYTES") or 1024 * 1024)
except ValueError:
    DATA_UPLOAD_MAX_MEMORY_SIZE = 0
if DATA_UPLOAD_MAX_MEMORY_SIZE < 1024:
    raise ImproperlyConfigured("WAQTI_MAX_BODY_BYTES must be an integer of at least 1024.")
# Believed only from WAQTI_TRUSTED_PROXIES: waqti/forwarded_proto.py drops it from anyone else.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Previous secret keys (comma-separated), still accepted while a rotation is under way: Django
# checks signatures and sessions against them, and tokens hashed under one authenticate and are
# re-hashed under SECRET_KEY on first use (README "Rotating the secret key").
SECRET_KEY_FALLBACKS = [
    key for key in env_list("DJANGO_SECRET_KEY_FALLBACKS", "") if key != SECRET_KEY
]
# Pepper mixed into token hashes: a leaked database alone cannot be used to verify guesses.
WAQTI_TOKEN_PEPPER = SECRET_KEY
WAQTI_TOKEN_PEPPER_FALLBACKS = SECRET_KEY_FALLBACKS

# Content-Security-Policy (django-csp 4) on every HTML page: Settings (which shows token secrets)
# and both admin sites. Inline <script>/<style> run only with the per-response nonce.
# /api/ is excluded: its JSON is never rendered as a document (nosniff), and Swagger UI at
# /api/v1/docs/ needs inline script and styles (drf-spectacular's page and Swagger UI itself).
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "settings-login"
# Messages live only in the browser (signed cookie): the admin's one-time token message must
# never be written to the session table.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# --- I18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية")]
# locale/: Settings pages; waqti/locale/: API messages (errors, validation, 409 texts).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "waqti" / "locale"]
TIME_ZONE = "Asia/Riyadh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

PORT = int(os.environ.get("PORT", "8000"))

# --- REST framework ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tokens.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "tokens.permissions.FromAllowedAddress",
        "tokens.permissions.HasRequiredAbility",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["tokens.ratelimit.throttle.PlanRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["waqti.api.parsers.JsonParser"],
    "DEFAULT_PAGINATION_CLASS": "waqti.api.pagination.PageNumberEnvelopePagination",
    "EXCEPTION_HANDLER": "waqti.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "waqti.api.schema.WaqtiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
# The OpenAPI schema names the ability each operation needs with the function the permission
# uses, ``f(request, view) -> ability | None`` (waqti/api/schema.py; the API layer imports no app).
WAQTI_SCHEMA_REQUIRED_ABILITY = "tokens.permissions.required_ability"
SPECTACULAR_SETTINGS = {
    "TITLE": "Waqti API",
    "DESCRIPTION": "Multi-tenant procurement API: purchase orders, vendors, approvals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One stable enum name for each choice set that several components share.
    "ENUM_NAME_OVERRIDES": {
        "AbilityEnum": "tokens.abilities.Ability",
        "VendorStatusEnum": "procurement.models.Vendor.Status",
        "PurchaseOrderStatusEnum": "procurement.models.PurchaseOrder.Status",
    },
    # No badge fetched from validator.swagger.io: the docs page calls no other host.
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        # No CSP on /api/ (Swagger UI needs inline code), so no token kept in localStorage.
        "persistAuthorization": False,
        "validatorUrl": None,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A request answered 503 for a database outage is not logged alone: the incident logs one
    # line when it starts and one when it ends (waqti/database_outage.py).
    "filters": {"database_outage": {"()": "waqti.database_outage.RequestLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "waqti": {"level": "INFO"},
        # The job queue's worker: each job's start and end, and what the maintenance jobs did.
        "procrastinate.worker": {"level": "INFO"},
        "tokens.tasks": {"level": "INFO"},
        "webhooks.tasks": {"level": "INFO"},
        "django.request": {"level": "ERROR", "filters": ["database_outage"]},
        "django.security.SessionInterrupted": {"filters": ["database_outage"]},
    },
}

# Per-worker token snapshots validated against a version in Redis; only safe with a shared cache.
WAQTI_TOKEN_CACHE = bool(REDIS_URL)

"""
FlowPilot settings: one module, every value from the environment through django-environ.

With nothing configured the defaults boot a working demo: SQLite, the in-memory channel layer,
Celery in eager mode, a local-memory cache, console e-mail and the offline LLM. Setting
``DATABASE_URL``, ``REDIS_URL`` and ``ANTHROPIC_API_KEY`` switches to the real services.
Every variable is listed in ``.env.example`` and the README. A secret ``NAME`` may instead be
given as ``NAME_FILE`` (a path whose content is the value).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.smart_cast = False
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def secret(name: str, default: str = "") -> str:
    """Read ``NAME`` or, when ``NAME_FILE`` is set, the content of that file."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return str(env.str(name, default=default))


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "dev-only-flowpilot-key-never-use-in-production-7f3c9a1e5b2d8046"  # noqa: S105
# Django's deploy check asks for at least 50 characters with at least 5 distinct ones; a short
# key signs sessions and tokens that can be brute-forced, so production refuses to start.
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise environ.ImproperlyConfigured(
        "SECRET_KEY must be at least 50 characters (with 5 or more distinct ones) when DEBUG "
        "is off. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",
    "template_partials",
    "channels",
    "flowpilot.outbox",
    "accounts",
    "psa",
    "sessions_app",
    "scripts",
    "handoffs",
    "front",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "flowpilot.middleware.ApiOptionalSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "flowpilot.middleware.RejectNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    "flowpilot.middleware.PageDomainErrorMiddleware",
    "flowpilot.middleware.ProductNotFoundMiddleware",
]

ROOT_URLCONF = "flowpilot.urls"
ASGI_APPLICATION = "flowpilot.asgi.application"
WSGI_APPLICATION = "flowpilot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "front.navigation.app_shell",
                "csp.context_processors.nonce",
            ],
            "builtins": ["flowpilot.templating"],
            # Spelled out as django-template-partials documents it (its app config would set
            # the same): compiled templates are cached in every mode, and `name#partial`
            # resolves through the partials loader.
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# The test run names its own database so that concurrent runs never share one.
TEST_DB_NAME = env.str("FLOWPILOT_TEST_DB_NAME", default="")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-based test database lets the browser tests' server process share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"{TEST_DB_NAME or 'test_db'}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
else:
    if TEST_DB_NAME:
        DATABASES["default"]["TEST"] = {"NAME": TEST_DB_NAME}
    # Server-side parameter binding lets PostgreSQL reuse prepared statements: psycopg
    # prepares a statement on its fifth run on a connection, and later runs skip the planner
    # (Django leaves preparing off unless told). Turn both off behind a pooler in transaction
    # mode (pgbouncer), which cannot keep prepared statements.
    if env.bool("DB_SERVER_SIDE_BINDING", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Invitation and password-reset links: one use, 72 hours.
PASSWORD_RESET_TIMEOUT = 72 * 3600
# Forgot-password requests allowed per window, per address and per client address.
PASSWORD_RESETS_PER_EMAIL = env.int("PASSWORD_RESETS_PER_EMAIL", default=3)
PASSWORD_RESETS_PER_IP = env.int("PASSWORD_RESETS_PER_IP", default=20)
PASSWORD_RESET_WINDOW_SECONDS = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=3600)
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, compressed files collected by `collectstatic`; the demo and the
# tests serve straight from the source folders.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# Redis backs the channel layer, Celery and the cache when configured.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="flowpilot")
# Connecting to Redis waits at most REDIS_CONNECT_TIMEOUT, a command REDIS_SOCKET_TIMEOUT; after
# a failure Redis is skipped (fallbacks answer) for REDIS_BREAKER_SECONDS before one call probes
# it again.
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=3.0)
REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=15.0)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a group event is PUBLISHed once and each app process, subscribed
            # once per group, hands it to its own sockets. The list-based layer pushed one
            # message per socket and each process popped them one round trip at a time: with
            # 50 sockets the last frame waited ~50 ms longer (bench/bench_fanout.py: p95 57-78
            # ms against 14 ms with this layer). Events are live-only: nobody subscribed, nothing
            # kept. A publisher never waits on a slow socket (PUBLISH returns at once).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": f"{REDIS_KEY_PREFIX}:asgi",
            },
        }
    }
    CACHES = {
        "default": {
            # Redis with a process-local fallback behind a circuit breaker (flowpilot.cache).
            "BACKEND": "flowpilot.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "accounts.session_store"  # database sessions, read with one written-out statement
SESSION_COOKIE_AGE = 60 * 60 * 24 * 90  # the account policy ends sessions long before this.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, and take the client address from
# X-Forwarded-For (that many proxy hops from the right). Off by default: a client could fake both.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
if TRUSTED_PROXY_HOPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A strict Content-Security-Policy (django-csp): scripts only from this origin (vendored htmx
# and static/js) or with the per-response nonce, never inline or eval'd; no plugins, no
# framing, no <base> rewrites. 'self' in connect-src also covers ws:/wss: to this host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_TASK_DEFAULT_QUEUE = f"{REDIS_KEY_PREFIX}-default"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "accounts-purge-expired-sessions": {
        "task": "accounts.tasks.purge_expired_sessions",
        "schedule": timedelta(hours=6),
    },
    "outbox-sweep": {"task": "flowpilot.outbox.sweep", "schedule": timedelta(minutes=1)},
    "worker-heartbeat": {"task": "flowpilot.worker_heartbeat", "schedule": timedelta(seconds=30)},
    "handoffs-renotify-ageing": {
        "task": "handoffs.renotify_ageing",
        "schedule": timedelta(minutes=5),
    },
}
# An escalation nobody picked up for this long is announced once more (bell and e-mail).
ESCALATION_RENOTIFY_MINUTES = env.int("ESCALATION_RENOTIFY_MINUTES", default=30)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="FlowPilot <flowpilot@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.PolicyJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        # Bounded depth and size, unpaired surrogates refused: 400 invalid_json, never a 500.
        "flowpilot.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "flowpilot.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=14),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FlowPilot API",
    "DESCRIPTION": "AI troubleshooting sessions, escalations and PSA write-back for help desks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The generator's notes stay off the console (and out of the deploy check); the tests
    # generate the schema and fail on any warning (flowpilot/tests/test_api_schema.py).
    "DISABLE_ERRORS_AND_WARNINGS": True,
    # Every 4xx is documented with the {"detail", "code"} error body (flowpilot.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "flowpilot.schema.document_errors",
    ],
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # One enum per choice set, named after it (several models have a "status" or "decision").
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "sessions_app.models.SessionStatus",
        "TaskStatusEnum": "sessions_app.models.TaskStatus",
        "FixStatusEnum": "sessions_app.models.FixStatus",
        "FixDecisionEnum": "sessions_app.models.FixDecision",
        "DraftStatusEnum": "scripts.models.DraftStatus",
    },
    # Docs assets come from drf-spectacular-sidecar (vendored, no CDN); docs and schema are for
    # signed-in users only.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Escalation notifications (handoffs): links in e-mail and chat messages are made absolute with
# SITE_URL; Slack/Teams webhooks are posted only to these hosts (and their subdomains), over
# https, to public addresses. WEBHOOK_ALLOW_INSECURE lifts the https/address checks for a local
# receiver in tests and demos.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
WEBHOOK_ALLOWED_HOSTS = env.list(
    "WEBHOOK_ALLOWED_HOSTS",
    default=[
        "hooks.slack.com",
        "webhook.office.com",
        "logic.azure.com",
        "environment.api.powerplatform.com",
    ],
)
WEBHOOK_ALLOW_INSECURE = env.bool("WEBHOOK_ALLOW_INSECURE", default=False)

# Open websockets re-check their page session this often and close when it ended.
SESSION_WS_RECHECK_SECONDS = env.float("SESSION_WS_RECHECK_SECONDS", default=30.0)

# Login throttling (accounts.services.auth): failures allowed per window for one address from
# one client IP (the lock-out), for one client IP across addresses, and for one address across
# all IPs (past it, the IPs that failed wait a doubling cool-down; other IPs are never blocked).
LOGIN_FAILURES_PER_PAIR = env.int("LOGIN_FAILURES_PER_PAIR", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=30)
LOGIN_FAILURES_PER_EMAIL = env.int("LOGIN_FAILURES_PER_EMAIL", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)

# LLM layer (flowpilot.llm): Anthropic when a key is set, else the offline runbook assistant.
ANTHROPIC_API_KEY = secret("ANTHROPIC_API_KEY")
ANTHROPIC_BASE_URL = env.str("ANTHROPIC_BASE_URL", default="") or None
LLM_PROVIDER = env.str("LLM_PROVIDER", default="anthropic" if ANTHROPIC_API_KEY else "offline")
LLM_MODEL_HEAVY = env.str("LLM_MODEL_HEAVY", default="claude-sonnet-4-6")
LLM_MODEL_LIGHT = env.str("LLM_MODEL_LIGHT", default="claude-haiku-4-5")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=60.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)

# Fernet key(s) for secrets at rest (PSA keys, webhook URLs); first one encrypts.
FIELD_ENCRYPTION_KEY = secret("FIELD_ENCRYPTION_KEY")

# PSA (ConnectWise) calls: seconds to connect and to read an answer.
PSA_CONNECT_TIMEOUT = env.float("PSA_CONNECT_TIMEOUT", default=5.0)
PSA_READ_TIMEOUT = env.float("PSA_READ_TIMEOUT", default=20.0)
# Where `make demo` runs the ConnectWise simulator; the demo's second account is connected to it.
CW_SIMULATOR_SITE = env.str("CW_SIMULATOR_SITE", default="127.0.0.1:8930")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

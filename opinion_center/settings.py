"""One settings module for every environment, driven by environment variables.

Without configuration it runs on SQLite and a filesystem broker (``make run``); with
``DATABASE_URL`` and ``REDIS_URL`` it runs on PostgreSQL and Redis. Secrets come from the
environment; development defaults exist only when ``DJANGO_DEBUG`` is on.
"""

from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# Development values (written by `make`) live in .env; the real environment wins.
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret(name: str, *, dev_default: str) -> str:
    """A secret from the environment; a fixed development value only when DEBUG is on."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} is not set. Set it in the environment (or DJANGO_DEBUG=1 for development).")


SECRET_KEY = _secret("DJANGO_SECRET_KEY", dev_default="dev-only-insecure-secret-key-change-me")
# Citizens' phone numbers: Fernet keys (comma-separated, newest first) to encrypt them at rest
# and an HMAC key for the "same caller" look-up hash. Derived from SECRET_KEY only in development.
PHONE_ENCRYPTION_KEYS = _secret(
    "PHONE_ENCRYPTION_KEYS",
    dev_default=__import__("base64").urlsafe_b64encode(hashlib.sha256(("enc" + SECRET_KEY).encode()).digest()).decode(),
).split(",")
PHONE_HASH_KEY = _secret("PHONE_HASH_KEY", dev_default=hashlib.sha256(("hash" + SECRET_KEY).encode()).hexdigest())
PHONE_HASH_KEY_MIN_LENGTH = 32


def _checked_phone_keys(keys: list[str], hash_key: str) -> list[str]:
    """The Fernet keys, each proven usable; refuses to start otherwise.

    A bad key would otherwise pass start-up and fail at the first phone written (an appeal lost
    at the hotline). The message names the position of a bad key, never the key itself.
    """
    from cryptography.fernet import Fernet

    cleaned = [key.strip() for key in keys if key.strip()]
    if not cleaned:
        raise ImproperlyConfigured("PHONE_ENCRYPTION_KEYS holds no key.")
    for position, key in enumerate(cleaned, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"PHONE_ENCRYPTION_KEYS: key {position} of {len(cleaned)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes, e.g. from cryptography's Fernet.generate_key())."
            ) from None
    if len(hash_key.strip()) < PHONE_HASH_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"PHONE_HASH_KEY must be at least {PHONE_HASH_KEY_MIN_LENGTH} characters (e.g. 64 hex digits)."
        )
    return cleaned


# Checked on import, so `manage.py check`, the WSGI start, Celery and every command refuse a bad key.
PHONE_ENCRYPTION_KEYS = _checked_phone_keys(PHONE_ENCRYPTION_KEYS, PHONE_HASH_KEY)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto so that absolute URLs (and webhook
# signatures computed over them) use https, and so that the https redirect below sees TLS. The
# proxy must overwrite (never pass through) the header a client sends.
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Production serves https only: plain http is redirected, except the health probes, which the
# container health check and the proxy call over plain http inside the machine.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
# HSTS (sent on https responses only). Preload is only a request to browsers' lists: submitting
# the domain to hstspreload.org is a separate, deliberate step.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page uses are switched off (units.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = {
    feature: "()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# The public base URL (scheme and host) used in SMS links and webhook signature checks.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "csp",
    # Project apps, in dependency order (the demo loader follows this order too).
    "units",
    "intake",
    "feeds",
    "workorders",
    "sms",
    "surveys",
    "analytics",
    "alerts",
    "routing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "units.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "units.middleware.ChineseFirstLocaleMiddleware",
    "units.middleware.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Analytics and export reads from the replica when one is configured (units.dbrouters).
    "units.dbrouters.ReplicaReadMiddleware",
]

ROOT_URLCONF = "opinion_center.urls"
WSGI_APPLICATION = "opinion_center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "units.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # Web, worker and beat share one file: WAL lets readers run beside the writer, IMMEDIATE
    # takes the write lock at BEGIN so two writers queue instead of failing mid-transaction.
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
# Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) would outlive its
# server connection: turn them off there (docs/deployment.md).
if IS_POSTGRES:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
# A streaming replica (PostgreSQL hot standby) that serves analytics pages, the analytics API and
# exports; everything else, and every write, uses the primary. The rule, the fall-back to the
# primary when the replica is down, and the read-your-writes pinning are in units/dbrouters.py.
if IS_POSTGRES and env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    # A replica that does not answer must cost a request seconds at most, then is skipped a while.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
    )
    # Tests read the test database through both aliases: no second test database is made.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["units.dbrouters.ReplicaRouter"]
# Views (URL names, shell-style patterns) whose GET/HEAD requests read from the replica.
REPLICA_READ_URLS = env.list(
    "REPLICA_READ_URLS",
    default=[
        "analytics:dashboard",
        "analytics:rankings",
        "analytics:ranking",
        "analytics:bulletins",
        "analytics:bulletin",
        "analytics:bulletin_print",
        "analytics:bulletin_excel",
        "metrics-*",
        "ranking-list",
        "ranking-detail",
        "bulletin-list",
        "bulletin-detail",
    ],
)
# Models always read from the primary: who the user is must never lag (labels, patterns allowed).
REPLICA_PRIMARY_MODELS = [
    "sessions.*",
    "auth.*",
    "authtoken.*",
    "units.user",
    "units.apitoken",
    "units.loginfailure",
    "units.loginlockout",
    "units.usednonce",
]
REPLICA_RETRY_SECONDS = env.int("REPLICA_RETRY_SECONDS", default=30)  # after a failed connect
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=5)  # reads on the primary after a write
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="oc"),
            # Short timeouts: the cache fails open (units.cache), so a Redis that is away must cost
            # a request well under a second per call, not hang it.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    BROKER_DIR = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }

# --- Celery ---------------------------------------------------------------------------------
# The database row is the truth; the broker only makes things happen sooner (ARCHITECTURE.md).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Queues per kind of work, so that a province runs workers for each on their own hosts
# (docs/deployment.md): SMS sending, imports, analytics (rollups, rankings, bulletins, PDFs) and
# everything else. A worker started without -Q consumes all four (`make run`, Procfile.dev).
# Patterns keep new tasks of an app on its queue.
CELERY_TASK_DEFAULT_QUEUE = "default"
# Each queue bound by its own routing key: a message routed to one queue lands in that queue only.
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in ("default", "sms", "imports", "analytics")]
CELERY_TASK_ROUTES = {
    "sms.tasks.*": {"queue": "sms"},
    "surveys.tasks.run_evaluation_task": {"queue": "sms"},
    "feeds.tasks.*import*": {"queue": "imports"},
    "analytics.tasks.*": {"queue": "analytics"},
}
# Periodic jobs. Each app declares its own in ``<app>/schedule.py`` as BEAT_SCHEDULE; they are
# merged here and django-celery-beat stores them in the database.
CELERY_BEAT_SCHEDULE: dict = {}
for _app in ("units", "intake", "feeds", "workorders", "sms", "surveys", "analytics", "alerts", "routing"):
    CELERY_BEAT_SCHEDULE.update(__import__(f"{_app}.schedule", fromlist=["x"]).BEAT_SCHEDULE)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "units.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
# Every password check (login page, admin, API token) counts failures and honours lockouts.
AUTHENTICATION_BACKENDS = ["units.auth.LockoutModelBackend"]
# Lockout: this many failures for one account (or from one client address, across usernames)
# within the window lock it for AUTH_LOCKOUT_MINUTES. The address threshold is higher because a
# whole station's staff may share one address.
AUTH_LOCKOUT_FAILURES = env.int("AUTH_LOCKOUT_FAILURES", default=5)
AUTH_LOCKOUT_ADDRESS_FAILURES = env.int("AUTH_LOCKOUT_ADDRESS_FAILURES", default=20)
AUTH_LOCKOUT_WINDOW_MINUTES = env.int("AUTH_LOCKOUT_WINDOW_MINUTES", default=15)
AUTH_LOCKOUT_MINUTES = env.int("AUTH_LOCKOUT_MINUTES", default=15)

# XLSX exports of the staff lists (units/exports.py): more rows than this are refused with a
# message (Excel holds 1,048,576 per sheet); rows are read from the database this many at a time.
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=1_000_000)
EXPORT_CHUNK_SIZE = env.int("EXPORT_CHUNK_SIZE", default=2000)
# API tokens expire this many hours after they are issued.
API_TOKEN_LIFETIME_HOURS = env.int("API_TOKEN_LIFETIME_HOURS", default=12)
# Every cookie (session, CSRF, language, messages, the public forms' device cookie) is sent over
# https only in production, kept from scripts and not sent on cross-site requests. htmx takes the
# CSRF token from the page (hx-headers in base.html), so no script reads the CSRF cookie.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Content Security Policy (django-csp) ----------------------------------------------------
# Every script, style, font and image is served by the product, and no page has inline script or
# style (tests/units/test_security_headers.py scans every template). Styles that scripts set
# through the CSSOM (ECharts, htmx) are not inline styles and need no exception.
_SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:", "blob:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": ["'none'"],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": ["'none'"],
    }
}

# --- Internationalisation -------------------------------------------------------------------
# Source strings are Chinese (the product's first language); English is a translation.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Date formats per language (opinion_center/formats/<locale>/formats.py); templates name a format
# (SHORT_DATETIME_FORMAT…) instead of writing a pattern.
FORMAT_MODULE_PATH = ["opinion_center.formats"]
# Filters' empty choice says what it means (django-filter's default is "---------"); yes/no
# filters get the same from units.forms.FilterBooleanField.
FILTERS_EMPTY_CHOICE_LABEL = gettext_lazy("全部")
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Front-end libraries are installed from the npm registry at set-up and served by the product.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("DJANGO_STATIC_MANIFEST", default=not DEBUG and "pytest" not in sys.modules)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024  # any non-file body (units.middleware: 413 above it)
# JSON bodies of the API (units.parsers): above the size 413, nested deeper than the depth 400.
# 2 MiB holds a push of 1,000 service records; 32 levels is far more than any payload here has.
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=2 * 1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Tokens first: an expired or revoked token then answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "units.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["units.api.filters.FilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "units.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "units.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    # The schema documents every error an operation can answer, all with one body (units.api).
    "DEFAULT_SCHEMA_CLASS": "units.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "units.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "feed": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "民意感知中心 API",
    "DESCRIPTION": "Public-opinion center: appeals, work orders, evaluations, analytics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status", "kind" or "verdict" of their own: name each enum after its
    # choices class instead of letting the generator append hashes.
    "ENUM_NAME_OVERRIDES": {
        "AppealKindEnum": "intake.choices.Kind",
        "AppealStatusEnum": "intake.choices.AppealStatus",
        "FeedKindEnum": "feeds.choices.FeedKind",
        "ImportBatchStatusEnum": "feeds.choices.BatchStatus",
        "ResultDeliveryStatusEnum": "feeds.choices.DeliveryStatus",
        "WorkOrderStatusEnum": "workorders.choices.WorkOrderStatus",
        "FeedbackResultEnum": "workorders.choices.FeedbackResult",
        "SmsStatusEnum": "sms.choices.SmsStatus",
        "RatingVerdictEnum": "surveys.choices.Verdict",
        "CallbackVerdictEnum": "surveys.choices.CallbackVerdict",
        "CallbackStatusEnum": "surveys.choices.CallbackStatus",
        "RatingPointKindEnum": "surveys.choices.RatingPointKind",
        "SurveyKindEnum": "surveys.choices.SurveyKind",
        "SurveyStatusEnum": "surveys.choices.SurveyStatus",
        "ServiceRecordStateEnum": "surveys.choices.RecordState",
        "AlertStateEnum": "alerts.choices.AlertState",
        "RankingStatusEnum": "analytics.choices.RankingStatus",
        "BulletinKindEnum": "analytics.choices.BulletinKind",
        "UnitTierEnum": "units.choices.Tier",
    },
}

# --- Logging: citizens' phone and ID-card numbers never reach a log line ---------------------
# Every handler carries the mask (units.logging). Django's own loggers are redefined here so that
# none keeps a handler of Django's default configuration, which would not mask: "django" logs
# through the root's handler (no e-mail to ADMINS: a report would carry the request's query),
# runserver's request lines ("django.server") through a masked handler of their own. Celery
# workers add the mask to the handlers they install (opinion_center/celery.py); gunicorn uses
# units.logging.GunicornLogger (opinion_center/gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "units.logging.MaskPersonalData"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_personal_data"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Celery keeps the configuration above instead of replacing the root's handlers with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Intake (appeals, triage, public mailboxes) ----------------------------------------------
# Repeat detection: the same caller about a similar matter within this many days is a repeat.
INTAKE_REPEAT_WINDOW_DAYS = env.int("INTAKE_REPEAT_WINDOW_DAYS", default=30)
# Character-bigram similarity (0..1) from which two appeals count as "the same matter".
INTAKE_SIMILARITY_THRESHOLD = env.float("INTAKE_SIMILARITY_THRESHOLD", default=0.35)
# Bounds on that work, whatever the texts: only their first N characters are compared, and a new
# appeal is compared with at most the K most recent appeals of the same caller in the window.
INTAKE_SIMILARITY_MAX_CHARS = env.int("INTAKE_SIMILARITY_MAX_CHARS", default=2000)
INTAKE_REPEAT_MAX_CANDIDATES = env.int("INTAKE_REPEAT_MAX_CANDIDATES", default=20)
# Attachments sent with an appeal: size limits in bytes and how many per appeal.
INTAKE_IMAGE_MAX_BYTES = env.int("INTAKE_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
INTAKE_AUDIO_MAX_BYTES = env.int("INTAKE_AUDIO_MAX_BYTES", default=10 * 1024 * 1024)
INTAKE_MAX_ATTACHMENTS = env.int("INTAKE_MAX_ATTACHMENTS", default=5)
# Public mailboxes: letters allowed per phone and per device (signed cookie) per day, and per IP
# per hour (generous: a carrier NAT puts thousands of phones behind one address).
INTAKE_MAILBOX_PER_PHONE_PER_DAY = env.int("INTAKE_MAILBOX_PER_PHONE_PER_DAY", default=3)
INTAKE_MAILBOX_PER_DEVICE_PER_DAY = env.int("INTAKE_MAILBOX_PER_DEVICE_PER_DAY", default=5)
INTAKE_MAILBOX_PER_IP_PER_HOUR = env.int("INTAKE_MAILBOX_PER_IP_PER_HOUR", default=200)
# ...and per IP per day: what a device could send, multiplied for a shared address; it holds when
# a sender drops the device cookie to reset the per-device count.
INTAKE_MAILBOX_PER_IP_PER_DAY = env.int("INTAKE_MAILBOX_PER_IP_PER_DAY", default=60)
# /track/ look-ups allowed per device per hour (guessing codes is the abuse to stop).
INTAKE_TRACK_PER_DEVICE_PER_HOUR = env.int("INTAKE_TRACK_PER_DEVICE_PER_HOUR", default=30)
# ... and per client address (a new cookie per guess must not help; behind the TLS proxy the address
# it appends to X-Forwarded-For), and per code: that many wrong phones lock the code for a while.
INTAKE_TRACK_PER_IP_PER_HOUR = env.int("INTAKE_TRACK_PER_IP_PER_HOUR", default=20)
INTAKE_TRACK_FAILURES_PER_CODE = env.int("INTAKE_TRACK_FAILURES_PER_CODE", default=5)
INTAKE_TRACK_CODE_LOCK_SECONDS = env.int("INTAKE_TRACK_CODE_LOCK_SECONDS", default=3600)
# Captcha challenges expire after this many seconds.
INTAKE_CAPTCHA_MAX_AGE = env.int("INTAKE_CAPTCHA_MAX_AGE", default=900)
# Wrong captcha answers allowed per device and per IP per hour before the form answers 429.
INTAKE_CAPTCHA_FAILURES_PER_DEVICE_PER_HOUR = env.int("INTAKE_CAPTCHA_FAILURES_PER_DEVICE_PER_HOUR", default=10)
INTAKE_CAPTCHA_FAILURES_PER_IP_PER_HOUR = env.int("INTAKE_CAPTCHA_FAILURES_PER_IP_PER_HOUR", default=30)

# --- Feeds (12345 / 12389 / message boards, imports, results sent back) ---------------------
# Pushes signed with a timestamp older than this (seconds) are refused as replays.
FEED_SIGNATURE_MAX_AGE = env.int("FEED_SIGNATURE_MAX_AGE", default=300)
# Files with more rows than this go through COPY + set-wise SQL on PostgreSQL; smaller ones row by row.
FEED_IMPORT_COPY_MIN_ROWS = env.int("FEED_IMPORT_COPY_MIN_ROWS", default=500)
FEED_IMPORT_MAX_BYTES = env.int("FEED_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# A batch still queued/running after this many seconds is re-driven by the sweeper.
FEED_IMPORT_STALE_SECONDS = env.int("FEED_IMPORT_STALE_SECONDS", default=900)
FEED_IMPORT_MAX_ATTEMPTS = env.int("FEED_IMPORT_MAX_ATTEMPTS", default=3)
# Results sent back to 12345/12389: HTTP timeout, attempts before parking, back-off base and cap.
RESULT_DELIVERY_TIMEOUT = env.float("RESULT_DELIVERY_TIMEOUT", default=10.0)
RESULT_DELIVERY_MAX_ATTEMPTS = env.int("RESULT_DELIVERY_MAX_ATTEMPTS", default=8)
RESULT_DELIVERY_BACKOFF_BASE = env.int("RESULT_DELIVERY_BACKOFF_BASE", default=30)
RESULT_DELIVERY_BACKOFF_MAX = env.int("RESULT_DELIVERY_BACKOFF_MAX", default=3600)
# A delivery left in "sending" longer than this (a worker died mid-call) is sent again.
RESULT_DELIVERY_SENDING_TIMEOUT = env.int("RESULT_DELIVERY_SENDING_TIMEOUT", default=120)
# A stand-in 12345 platform inside the app (POST /feeds/demo-platform/results/) for demos.
FEED_DEMO_PLATFORM = env.bool("FEED_DEMO_PLATFORM", default=DEBUG)
# Open311 GeoReport v2 (/open311/v2/, docs/open311.md): the jurisdiction_id clients may name, the
# service codes offered (empty: every active leaf category) and the posts allowed per client key
# per hour (per address, phone and device the public mailboxes' limits apply).
OPEN311_JURISDICTION_ID = env.str("OPEN311_JURISDICTION_ID", default="linjiang.police.gov.cn")
OPEN311_SERVICE_CODES = env.list("OPEN311_SERVICE_CODES", default=[])
OPEN311_PER_KEY_PER_HOUR = env.int("OPEN311_PER_KEY_PER_HOUR", default=600)

# --- Work orders (dispatch, deadlines, urging, supervision) ---------------------------------
WORKORDERS_URGE_SMS = env.bool("WORKORDERS_URGE_SMS", default=True)  # reminders also by SMS to the handler
WORKORDERS_ATTACHMENT_MAX_MB = env.int("WORKORDERS_ATTACHMENT_MAX_MB", default=10)
WORKORDERS_ATTACHMENT_MAX_FILES = env.int("WORKORDERS_ATTACHMENT_MAX_FILES", default=5)
WORKORDERS_MAX_EXTENSION_DAYS = env.int("WORKORDERS_MAX_EXTENSION_DAYS", default=15)
# (month, day) from which administrators are warned that next year's holidays are missing.
WORKORDERS_CALENDAR_WARN_FROM = tuple(env.list("WORKORDERS_CALENDAR_WARN_FROM", cast=int, default=[11, 1]))
WORKORDERS_URGE_INTERVAL = env.int("WORKORDERS_URGE_INTERVAL", default=60)  # seconds between urge runs
# Orders claimed per batch by the urge run; one run loops over batches until nothing is due.
WORKORDERS_URGE_BATCH = env.int("WORKORDERS_URGE_BATCH", default=500)
# Sweeps that leave a close notice unqueued before administrators are alerted (one sweep per 5 minutes).
WORKORDERS_NOTICE_ALERT_AFTER = env.int("WORKORDERS_NOTICE_ALERT_AFTER", default=12)

# --- Surveys (service records, evaluation SMS, replies, callbacks) and the SMS layer ---------
# Twilio: sending needs the account SID, the auth token and a Messaging Service SID (or a sender
# number); the auth token alone is enough to validate webhooks while sending stays on the outbox.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# Only for an HTTP proxy in front of Twilio (and the fake Twilio of the tests).
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
_TWILIO_CAN_SEND = bool(
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER)
)
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="sms.backends.TwilioBackend" if _TWILIO_CAN_SEND else "sms.backends.OutboxBackend",
)
# A deployment configured before the SMS layer left the surveys app names the old module paths.
if SMS_BACKEND.startswith(("surveys.backends.", "surveys.providers.")):
    SMS_BACKEND = "sms." + SMS_BACKEND.split(".", 1)[1]
# Aliyun SMS (dysmsapi) and Tencent Cloud SMS: a registered signature (签名) + approved template
# codes (SmsTemplate.provider_template_id). Neither signs its callbacks: they are accepted only
# with the secret token in the URL path and from the listed source addresses (CIDR; empty = none).
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env.str("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
ALIYUN_SMS_PROTOCOL = env.str("ALIYUN_SMS_PROTOCOL", default="https")  # http only for the tests' fake
ALIYUN_SMS_TIMEOUT_SECONDS = env.float("ALIYUN_SMS_TIMEOUT_SECONDS", default=10.0)
ALIYUN_SMS_CALLBACK_TOKEN = env.str("ALIYUN_SMS_CALLBACK_TOKEN", default="")
ALIYUN_SMS_CALLBACK_CIDRS = env.list("ALIYUN_SMS_CALLBACK_CIDRS", default=[])
TENCENT_SMS_SECRET_ID = env.str("TENCENT_SMS_SECRET_ID", default="")
TENCENT_SMS_SECRET_KEY = env.str("TENCENT_SMS_SECRET_KEY", default="")
TENCENT_SMS_SDK_APP_ID = env.str("TENCENT_SMS_SDK_APP_ID", default="")
TENCENT_SMS_SIGN_NAME = env.str("TENCENT_SMS_SIGN_NAME", default="")
TENCENT_SMS_REGION = env.str("TENCENT_SMS_REGION", default="ap-guangzhou")
TENCENT_SMS_ENDPOINT = env.str("TENCENT_SMS_ENDPOINT", default="sms.tencentcloudapi.com")
TENCENT_SMS_PROTOCOL = env.str("TENCENT_SMS_PROTOCOL", default="https")
TENCENT_SMS_TIMEOUT_SECONDS = env.int("TENCENT_SMS_TIMEOUT_SECONDS", default=10)
TENCENT_SMS_CALLBACK_TOKEN = env.str("TENCENT_SMS_CALLBACK_TOKEN", default="")
TENCENT_SMS_CALLBACK_CIDRS = env.list("TENCENT_SMS_CALLBACK_CIDRS", default=[])
# The longest value of one template variable the Tencent templates were approved with.
TENCENT_SMS_PARAM_MAX_LENGTH = env.int("TENCENT_SMS_PARAM_MAX_LENGTH", default=20)
SMS_SEND_HOURS = env.str("SMS_SEND_HOURS", default="09:00-20:00")  # local time; no SMS outside it
SMS_SEGMENTS_PER_SECOND = env.float("SMS_SEGMENTS_PER_SECOND", default=10.0)  # per sender (Twilio to +86)
SMS_BUCKET_SEGMENTS = env.int("SMS_BUCKET_SEGMENTS", default=20)
# The sender loop (sms.outbox.run_sender) schedules its sends this fraction below the provider's
# rate; its provider window (not this headroom) keeps every second at the provider within
# SMS_SEGMENTS_PER_SECOND. Threads call the provider: one SMS keeps a thread ~90 ms, so by default
# a sender gets R / 8 of them (at least 4), enough to reach the rate; set a number to fix it.
SMS_PACING_HEADROOM = env.float("SMS_PACING_HEADROOM", default=0.02)
SMS_SENDER_THREADS = env.int("SMS_SENDER_THREADS", default=max(4, math.ceil(SMS_SEGMENTS_PER_SECOND / 8)))
SMS_SENDER_LOOP_SECONDS = env.int("SMS_SENDER_LOOP_SECONDS", default=55)  # the sweeper starts the next
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
SMS_RETRY_BASE_SECONDS = env.int("SMS_RETRY_BASE_SECONDS", default=30)
SMS_STUCK_SENDING_SECONDS = env.int("SMS_STUCK_SENDING_SECONDS", default=300)
# An ambiguous send (timeout) is settled by asking the provider: queued again only after it said
# "not there" this many times, checks spaced by a doubling interval; parked after the last check.
SMS_RECONCILE_NOT_FOUND_CHECKS = env.int("SMS_RECONCILE_NOT_FOUND_CHECKS", default=3)
SMS_RECONCILE_BASE_SECONDS = env.int("SMS_RECONCILE_BASE_SECONDS", default=120)
SMS_RECONCILE_MAX_INTERVAL_SECONDS = env.int("SMS_RECONCILE_MAX_INTERVAL_SECONDS", default=3600)
SMS_RECONCILE_MAX_CHECKS = env.int("SMS_RECONCILE_MAX_CHECKS", default=10)
# /sms/simulator/ (outbox backend, administrators only): on only when asked for, never by DEBUG
# alone, since it answers SMS as any citizen. The .env that `make` writes turns it on.
SMS_SIMULATOR_ENABLED = env.bool("SMS_SIMULATOR_ENABLED", default=False)
SURVEYS_EVALUATION_DELAY_DAYS = env.int("SURVEYS_EVALUATION_DELAY_DAYS", default=1)  # Handan: 7
SURVEYS_EVALUATION_RUN_AT = env.str("SURVEYS_EVALUATION_RUN_AT", default="08:30")
SURVEYS_PHONE_CAP_DAYS = env.int("SURVEYS_PHONE_CAP_DAYS", default=30)  # one evaluation SMS per phone per N days
SURVEYS_REPLY_WINDOW_HOURS = env.int("SURVEYS_REPLY_WINDOW_HOURS", default=72)
SURVEYS_FOLLOW_UP = env.bool("SURVEYS_FOLLOW_UP", default=False)
SURVEYS_CALLBACK_DUE_HOURS = env.int("SURVEYS_CALLBACK_DUE_HOURS", default=24)
SURVEYS_CALLBACK_MAX_UNREACHED = env.int("SURVEYS_CALLBACK_MAX_UNREACHED", default=3)
SURVEYS_CALLBACK_RETRY_HOURS = env.int("SURVEYS_CALLBACK_RETRY_HOURS", default=2)
SURVEYS_RECTIFICATION_WORKING_DAYS = env.int("SURVEYS_RECTIFICATION_WORKING_DAYS", default=5)
# QR ratings (扫码评警): submissions allowed per device (signed cookie) per hour, per phone per day
# and per rating point per hour; a second rating from one device for one point within
# SURVEYS_QR_FOLD_HOURS replaces the first instead of counting twice.
SURVEYS_QR_PER_DEVICE_PER_HOUR = env.int("SURVEYS_QR_PER_DEVICE_PER_HOUR", default=10)
SURVEYS_QR_PER_PHONE_PER_DAY = env.int("SURVEYS_QR_PER_PHONE_PER_DAY", default=5)
SURVEYS_QR_PER_POINT_PER_HOUR = env.int("SURVEYS_QR_PER_POINT_PER_HOUR", default=120)
SURVEYS_QR_FOLD_HOURS = env.int("SURVEYS_QR_FOLD_HOURS", default=24)

# --- Analytics (metrics, dashboard, red/black lists, bulletins, hotspots) --------------------
# Satisfaction rate counts "basically satisfied" with this weight (some cities use 0.5).
ANALYTICS_BASIC_SATISFIED_WEIGHT = env.float("ANALYTICS_BASIC_SATISFIED_WEIGHT", default=1.0)
# Callback verdicts that count as "resolved" in the dissatisfied-resolution rate.
ANALYTICS_RESOLVED_VERDICTS = env.list("ANALYTICS_RESOLVED_VERDICTS", default=["resolved"])
# Red/black list: weights of the metrics in the score (JSON object), the minimum sample (ratings with
# a verdict + work orders due) below which a unit is not ranked, and how many units each list holds.
ANALYTICS_RANKING_WEIGHTS = env.json(
    "ANALYTICS_RANKING_WEIGHTS",
    default={
        "satisfaction": 0.35,
        "completion": 0.2,
        "on_time": 0.2,
        "resolution": 0.1,
        "repeat": 0.1,
        "escalation": 0.05,
    },
)
ANALYTICS_RANKING_MIN_SAMPLE = env.int("ANALYTICS_RANKING_MIN_SAMPLE", default=10)
ANALYTICS_RANKING_LIST_SIZE = env.int("ANALYTICS_RANKING_LIST_SIZE", default=3)
# Hotspots (一类事): appeals from at least this many different citizens, this similar, within the window.
ANALYTICS_HOTSPOT_MIN_CITIZENS = env.int("ANALYTICS_HOTSPOT_MIN_CITIZENS", default=3)
ANALYTICS_HOTSPOT_SIMILARITY = env.float("ANALYTICS_HOTSPOT_SIMILARITY", default=0.35)
ANALYTICS_HOTSPOT_WINDOW_DAYS = env.int("ANALYTICS_HOTSPOT_WINDOW_DAYS", default=7)
ANALYTICS_HOTSPOT_MAX_APPEALS = env.int("ANALYTICS_HOTSPOT_MAX_APPEALS", default=2000)
# The dashboard's hotspots are kept this long (0: computed on each request); docs/analytics.md.
ANALYTICS_HOTSPOT_CACHE_SECONDS = env.int("ANALYTICS_HOTSPOT_CACHE_SECONDS", default=300)
# Bulletin PDFs are printed by a headless Chromium with the machine's CJK fonts ("auto": found on
# PATH; "" turns PDFs off and leaves the print view). Attempts per bulletin before giving up.
ANALYTICS_PDF_BROWSER = env.str("ANALYTICS_PDF_BROWSER", default="auto")
ANALYTICS_PDF_TIMEOUT = env.int("ANALYTICS_PDF_TIMEOUT", default=60)
ANALYTICS_PDF_MAX_ATTEMPTS = env.int("ANALYTICS_PDF_MAX_ATTEMPTS", default=3)
# Dashboard figures come from daily aggregate rows refreshed every minute; True folds the period's
# pending buckets in before each dashboard read (exact, but a read may then write: small cities).
ANALYTICS_REFRESH_ON_READ = env.bool("ANALYTICS_REFRESH_ON_READ", default=False)
# Pages that read the stored figures say so when a change older than this is not folded in yet
# (the minute job is not running: no worker or no beat).
ANALYTICS_BEHIND_AFTER_SECONDS = env.int("ANALYTICS_BEHIND_AFTER_SECONDS", default=300)
# Days the nightly job recomputes in full (yesterday and the days before it: late reports).
ANALYTICS_NIGHTLY_DAYS = env.int("ANALYTICS_NIGHTLY_DAYS", default=2)

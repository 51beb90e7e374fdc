"""Django settings for powercis, read only from environment variables.

Every value an operator may need to change is a ``POWERCIS_*`` environment
variable; nothing here is edited per installation.  The defaults give the
embedded SQLite demo under ``var/``; production sets at least
``POWERCIS_DATABASE_URL``, ``POWERCIS_SECRET_KEY`` and ``POWERCIS_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


VAR_DIR = Path(env_str("POWERCIS_VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("POWERCIS_DEBUG", False)
# TLS is assumed in production (secure cookies, HSTS, redirect to https).  The
# demo on http://127.0.0.1 switches it off explicitly.
TLS = env_bool("POWERCIS_TLS", not DEBUG)


def _secret_key() -> str:
    """Return the configured secret key, or one generated once per installation.

    A key generated here is kept in ``var/secret_key`` so that sessions survive a
    restart; production should pass ``POWERCIS_SECRET_KEY`` explicitly.
    """
    configured = env_str("POWERCIS_SECRET_KEY")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("POWERCIS_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("POWERCIS_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "powercis.core",
    "powercis.customers",
    "powercis.grid",
    "powercis.metering",
    "powercis.reading",
    "powercis.search",
    "powercis.topology",
    "powercis.synthetic",
    "powercis.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "powercis.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "powercis.core.middleware.RequestContextMiddleware",
    "powercis.core.middleware.IdleTimeoutMiddleware",
    "powercis.core.middleware.PasswordChangeRequiredMiddleware",
]

ROOT_URLCONF = "powercis.urls"
WSGI_APPLICATION = "powercis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "powercis.web.context_processors.shell",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("POWERCIS_DATABASE_URL", f"sqlite:///{VAR_DIR / 'powercis.sqlite3'}")
    config = dj_database_url.parse(url, conn_max_age=env_int("POWERCIS_DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] not in ("", ":memory:"):
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE transactions take the write lock at BEGIN, so two writers can
        # never both read the audit chain head and fork it; WAL lets readers run
        # beside the writer.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
        config["CONN_MAX_AGE"] = 0
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.Staff"
AUTHENTICATION_BACKENDS = ["powercis.core.auth.StaffBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "core:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("POWERCIS_PASSWORD_MIN_LENGTH", 10)},
    },
    {
        "NAME": "powercis.core.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": env_int("POWERCIS_PASSWORD_MIN_CLASSES", 3)},
    },
    {"NAME": "powercis.core.passwords.NotUsernameValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Account security policy (issue: lockout after 5 failures for 15 minutes; 30
# minutes idle timeout).  All configurable per installation.
POWERCIS_LOCKOUT_ATTEMPTS = env_int("POWERCIS_LOCKOUT_ATTEMPTS", 5)
POWERCIS_LOCKOUT_MINUTES = env_int("POWERCIS_LOCKOUT_MINUTES", 15)
POWERCIS_SESSION_IDLE_MINUTES = env_int("POWERCIS_SESSION_IDLE_MINUTES", 30)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 3600  # absolute ceiling; the idle timeout is enforced by middleware
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SECURE_SSL_REDIRECT = TLS and env_bool("POWERCIS_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("POWERCIS_BEHIND_PROXY", False) else None
SECURE_HSTS_SECONDS = 31536000 if TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = TLS
SECURE_HSTS_PRELOAD = TLS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Map background tiles: none by default (the map works offline); production may name its own or
# Tianditu's tile server as a Leaflet URL template (docs/decisions/0010-map-and-topology.md).
POWERCIS_MAP_TILE_URL = env_str("POWERCIS_MAP_TILE_URL")
POWERCIS_MAP_TILE_ATTRIBUTION = env_str("POWERCIS_MAP_TILE_ATTRIBUTION")


def _tile_sources(template: str) -> list[str]:
    """The img-src entry that lets the browser fetch tiles from ``template`` (``{s}`` in the host → ``*.``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(template)
    if not parts.scheme or not parts.netloc:
        return []  # a path on this server: 'self' already allows it
    host = parts.netloc
    if "{" in host:
        host = "*." + host.split(".", 1)[1]
    return [f"{parts.scheme}://{host}"]


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_tile_sources(POWERCIS_MAP_TILE_URL)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "powercis_language"
LANGUAGE_COOKIE_SECURE = TLS
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("POWERCIS_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("POWERCIS_STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("POWERCIS_MANIFEST_STATIC", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_ROOT.exists()
WHITENOISE_AUTOREFRESH = DEBUG

_cache_url = env_str("POWERCIS_CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "powercis.core.api.authentication.TokenAuthentication",
        "powercis.core.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["powercis.core.api.permissions.IsActiveStaff"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "powercis.core.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "powercis.core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "20/min"},
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "powercis API",
    "DESCRIPTION": (
        "REST API of the power marketing management information system (电力营销管理信息系统). "
        "Every endpoint applies the same permissions and data scope as the web pages. "
        "Authenticate with a session or with `Authorization: Token <key>`; errors always have the form "
        "`{code, message, fields}` with the message in the language of `Accept-Language`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Stable enum names: several models have a "status", "kind" or "scope" field with different choices.
    "ENUM_NAME_OVERRIDES": {
        "ReadingPlanStatusEnum": "powercis.reading.models.PlanStatus",
        "ReadingTaskStatusEnum": "powercis.reading.models.TaskStatus",
        "ReadingCheckStatusEnum": "powercis.reading.models.CheckStatus",
        "ReadSourceEnum": "powercis.reading.models.Source",
        "FieldEntrySourceEnum": "powercis.reading.serializers.FIELD_SOURCES",
        "IngestSourceEnum": "powercis.reading.serializers.INGEST_SOURCES",
        "IngestFormatEnum": "powercis.reading.serializers.INGEST_FORMATS",
        "RegisterReadStatusEnum": "powercis.reading.models.RegisterRead.Status",
        "ReadBatchStatusEnum": "powercis.reading.models.ReadBatch.Status",
        "ReadExceptionStatusEnum": "powercis.reading.models.ReadException.Status",
        "ReadingCheckEnum": "powercis.reading.models.Check",
        "ReadingSeverityEnum": "powercis.reading.models.Severity",
        "ReadingResolutionEnum": "powercis.reading.models.Resolution",
        "ReadingCycleEnum": "powercis.reading.models.Cycle",
        "ReadMethodEnum": "powercis.reading.models.ReadMethod",
        "WorkOrderStatusEnum": "powercis.core.models.WorkOrder.Status",
        "OrgLevelEnum": "powercis.core.models.OrgLevel",
        "DataScopeEnum": "powercis.core.models.DataScope",
        "ApprovalStatusEnum": "powercis.core.models.ApprovalStatus",
        "ApprovalRequestStatusEnum": "powercis.core.models.ApprovalRequest.Status",
        "ApprovalActionKindEnum": "powercis.core.models.ApprovalAction.Kind",
        "AuditCategoryEnum": "powercis.core.models.AuditCategory",
        "AlertKindEnum": "powercis.core.models.AlertKind",
        "AuditAlertStatusEnum": "powercis.core.models.AuditAlert.Status",
        "LanguageEnum": "powercis.settings.LANGUAGES",
        "AccountStatusEnum": "powercis.customers.models.AccountStatus",
        "AccountChangeKindEnum": "powercis.customers.models.ChangeKind",
        "ContractKindEnum": "powercis.customers.models.SupplyContract.Kind",
        "ContractStatusEnum": "powercis.customers.models.SupplyContract.Status",
        "MeteringPointKindEnum": "powercis.metering.models.MeteringPoint.Kind",
        "AssetStatusEnum": "powercis.metering.models.AssetStatus",
        "InstrumentTransformerKindEnum": "powercis.metering.models.InstrumentTransformer.Kind",
        "MeterPhaseEnum": "powercis.metering.models.Meter.Phase",
        "TransformerPhaseEnum": ["A", "B", "C"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "powercis.core.logs.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": env_str("POWERCIS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

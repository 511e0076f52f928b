"""Settings for shequ, read from the environment (12-factor).

The embedded default needs nothing: SQLite in WAL mode under ``var/``, a development secret key and
data key generated into ``var/`` with a warning, and the in-process task runner.  Outside debug the
secrets are required and the process refuses to start without them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import environ

SRC_DIR = Path(__file__).resolve().parent
ROOT_DIR = SRC_DIR.parent.parent

env = environ.Env()
environ.Env.read_env(os.environ.get("SHEQU_ENV_FILE", ROOT_DIR / ".env"))

VAR_DIR = Path(env.str("SHEQU_VAR_DIR", default=str(ROOT_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("SHEQU_DEBUG", default=env.bool("DEBUG", default=True))
TESTING = env.bool("SHEQU_TESTING", default=False)


def _dev_secret(name: str, generate) -> str:  # type: ignore[no-untyped-def]
    """Read a development secret from ``var/``, creating it once.

    Only ever used when DEBUG is on: production must pass real secrets in the environment.
    """
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(generate())
        path.chmod(0o600)
        if not TESTING:
            warnings.warn(
                f"generated a development {name} in {path}; set it in the environment in production",
                stacklevel=2,
            )
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _django_key() -> str:
    from django.core.management.utils import get_random_secret_key

    return get_random_secret_key()


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret("secret.key", _django_key)
    SHEQU_DATA_KEY = env.str("SHEQU_DATA_KEY", default="") or _dev_secret("data.key", _fernet_key)
else:
    SECRET_KEY = env.str("SECRET_KEY")
    SHEQU_DATA_KEY = env.str("SHEQU_DATA_KEY")
# Optional older data keys (comma separated), still accepted for decryption during key rotation.
SHEQU_DATA_KEYS_OLD = env.list("SHEQU_DATA_KEYS_OLD", default=[])
# Secret of the blind index (exact lookup of ID numbers and phones). Empty: derived from SHEQU_DATA_KEY.
# Before the first data-key rotation set it to the data key in use, and never change it afterwards:
# every stored index would have to be recomputed (see docs/deployment.md).
SHEQU_INDEX_KEY = env.str("SHEQU_INDEX_KEY", default="")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "huey.contrib.djhuey",
    "shequ.core",
    "shequ.accounts",
    "shequ.registry",
    "shequ.deliberation",
    "shequ.cases",
    "shequ.ledgers",
    "shequ.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shequ.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shequ.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shequ.accounts.middleware.SecondFactorMiddleware",
    "shequ.core.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shequ.urls"
WSGI_APPLICATION = "shequ.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shequ.web.context_processors.navigation",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'shequ.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
            # two writers queue on busy_timeout instead of failing with "database is locked".
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                " PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (QUALITY §3): at most 100 failures per account per hour, then blocked for the hour.
AXES_FAILURE_LIMIT = env.int("SHEQU_LOGIN_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "shequ.accounts.views.locked_out"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Throttling is per account by design (QUALITY §3); a whole community office behind one NAT address
# must not be locked out by one mistyped password.
# models.W040: SQLite has no covering indexes; an index's ``include`` columns serve PostgreSQL and SQLite
# builds the same index without them (cases.Case's "case_figures").
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]

# Sessions: idle timeout 30 minutes, renewed on every request; server-side store ends them at logout.
SESSION_COOKIE_AGE = env.int("SHEQU_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- I18n ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: our own and the npm packages installed by the set-up step ----------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = Path(env.str("SHEQU_NODE_MODULES", default=str(ROOT_DIR / "node_modules")))
STATICFILES_DIRS = [
    (f"vendor/{name}", NODE_MODULES / package)
    for name, package in [
        ("leaflet", "leaflet/dist"),
        ("echarts", "echarts/dist"),
        ("alpinejs", "alpinejs/dist"),
    ]
    if (NODE_MODULES / package).exists()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("SHEQU_MEDIA_ROOT", default=str(VAR_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
MEDIA_URL = "/media/"

# --- Background work -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
HUEY = (
    {"huey_class": "huey.RedisHuey", "name": "shequ", "url": REDIS_URL, "immediate": False}
    if REDIS_URL
    else {
        "huey_class": "huey.SqliteHuey",
        "name": "shequ",
        "filename": str(VAR_DIR / "tasks.sqlite3"),
        "immediate": env.bool("SHEQU_TASKS_IMMEDIATE", default=True),
    }
)

# --- Platform -------------------------------------------------------------------------------------
# Leaflet tile layer URL template; empty = no tiles, our own GeoJSON only.
SHEQU_TILE_URL = env.str("SHEQU_TILE_URL", default="")
# Staff who may reveal personal data must confirm a TOTP code after the password (QUALITY §3).
SHEQU_REQUIRE_2FA = env.bool("SHEQU_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = "社区云"
# Record linkage (人员比对): pairs at or above AUTO_MERGE are merged automatically (and can be undone);
# pairs between REVIEW and AUTO_MERGE wait in the review queue for a worker.
SHEQU_LINK_AUTO_MERGE = env.float("SHEQU_LINK_AUTO_MERGE", default=0.99)
SHEQU_LINK_REVIEW = env.float("SHEQU_LINK_REVIEW", default=0.80)

# E-mail notifications (邮件提醒): empty host = off, notifications stay in the in-app inbox only.
# When on, the worker mails undelivered notifications every minute (shequ.core.delivery).
SHEQU_EMAIL_HOST = env.str("SHEQU_EMAIL_HOST", default="")
SHEQU_EMAIL_PORT = env.int("SHEQU_EMAIL_PORT", default=25)
SHEQU_EMAIL_USER = env.str("SHEQU_EMAIL_USER", default="")
SHEQU_EMAIL_PASSWORD = env.str("SHEQU_EMAIL_PASSWORD", default="")
SHEQU_EMAIL_TLS = env.bool("SHEQU_EMAIL_TLS", default=False)  # STARTTLS
SHEQU_EMAIL_SSL = env.bool("SHEQU_EMAIL_SSL", default=False)  # implicit TLS (usually port 465)
if SHEQU_EMAIL_TLS and SHEQU_EMAIL_SSL:
    raise environ.ImproperlyConfigured("SHEQU_EMAIL_TLS and SHEQU_EMAIL_SSL exclude each other: set one")
SHEQU_EMAIL_FROM = env.str("SHEQU_EMAIL_FROM", default="社区云 <noreply@localhost>")
# Absolute base of the links in mails (the pages' own host is unknown to the worker).
SHEQU_SITE_URL = env.str("SHEQU_SITE_URL", default="http://127.0.0.1:8000")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if SHEQU_EMAIL_HOST
    else "django.core.mail.backends.dummy.EmailBackend"
)
EMAIL_HOST = SHEQU_EMAIL_HOST or "localhost"
EMAIL_PORT = SHEQU_EMAIL_PORT
EMAIL_HOST_USER = SHEQU_EMAIL_USER
EMAIL_HOST_PASSWORD = SHEQU_EMAIL_PASSWORD
EMAIL_USE_TLS = SHEQU_EMAIL_TLS
EMAIL_USE_SSL = SHEQU_EMAIL_SSL
EMAIL_TIMEOUT = env.int("SHEQU_EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = SHEQU_EMAIL_FROM
SERVER_EMAIL = SHEQU_EMAIL_FROM

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"pii": {"()": "shequ.core.logging.PiiRedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["pii"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

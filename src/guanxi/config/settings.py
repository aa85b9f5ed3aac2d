"""Guanxi settings. Every setting is an environment variable with a safe default (docs/configuration.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # src/guanxi
PROJECT_DIR = BASE_DIR.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("GUANXI_DATA_DIR", PROJECT_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under DATA_DIR."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("GUANXI_DEBUG", False)
ALLOWED_HOSTS = env_list("GUANXI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("GUANXI_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "guanxi.core",
    "guanxi.users",
    "guanxi.audit",
    "guanxi.customers",
    "guanxi.imports",
    "guanxi.catalog",
    "guanxi.sales",
    "guanxi.analytics",
    "guanxi.channels",
    "guanxi.opportunities",
    "guanxi.leads",
    "guanxi.quotes",
    "guanxi.activities",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "guanxi.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "guanxi.config.urls"
WSGI_APPLICATION = "guanxi.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "guanxi.core.context_processors.guanxi",
            ],
        },
    },
]

# Database: an embedded SQLite file under DATA_DIR unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'guanxi.sqlite3'}"),
        conn_max_age=int(os.environ.get("GUANXI_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Internationalisation: Chinese first, English one click away.
LANGUAGE_CODE = os.environ.get("GUANXI_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = os.environ.get("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("GUANXI_STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start when it is missing
# Uploaded files (import files, their rejected rows); never served as static files.
MEDIA_ROOT = Path(os.environ.get("GUANXI_MEDIA_ROOT", DATA_DIR / "files"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_AGE = int(os.environ.get("GUANXI_SESSION_AGE", str(14 * 24 * 3600)))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("GUANXI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Phone numbers without a country code are read in this region.
GUANXI_PHONE_REGION = os.environ.get("GUANXI_PHONE_REGION", "CN")
# Page size of list pages and API lists (the API caps `limit` at GUANXI_API_MAX_LIMIT).
GUANXI_PAGE_SIZE = int(os.environ.get("GUANXI_PAGE_SIZE", "25"))
GUANXI_API_MAX_LIMIT = int(os.environ.get("GUANXI_API_MAX_LIMIT", "200"))
# The most customers an Excel export made inside a web or API request may hold (about 3 s a 30,000);
# CSV streams any size and `guanxi export` has no limit.
GUANXI_EXPORT_XLSX_MAX_ROWS = int(os.environ.get("GUANXI_EXPORT_XLSX_MAX_ROWS", "30000"))
# Demo data on the first start of `make run`.
GUANXI_DEMO_VERTICAL = os.environ.get("GUANXI_DEMO_VERTICAL", "fuel")
# Where users reach Guanxi, e.g. https://crm.example.com: links in emails (task reminders) start with it.
GUANXI_BASE_URL = os.environ.get("GUANXI_BASE_URL", "")
# The business's name and one line of details (address, phone) on quotes and in their emails.
GUANXI_COMPANY_NAME = os.environ.get("GUANXI_COMPANY_NAME", "")
GUANXI_COMPANY_DETAILS = os.environ.get("GUANXI_COMPANY_DETAILS", "")
# The public lead form takes at most this many entries from one address per window (seconds). The count
# lives in the cache: set CACHES to a shared one (Redis, database) when several processes serve.
GUANXI_LEAD_FORM_RATE_LIMIT = int(os.environ.get("GUANXI_LEAD_FORM_RATE_LIMIT", "5"))
GUANXI_LEAD_FORM_RATE_WINDOW = int(os.environ.get("GUANXI_LEAD_FORM_RATE_WINDOW", "600"))
# How long a new quote is valid, in days.
GUANXI_QUOTE_VALID_DAYS = int(os.environ.get("GUANXI_QUOTE_VALID_DAYS", "30"))

# Background work: Huey, embedded in a SQLite file by default, Redis when REDIS_URL is set.
if os.environ.get("REDIS_URL"):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "guanxi",
        "url": os.environ["REDIS_URL"],
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "guanxi",
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": env_bool("GUANXI_TASKS_IMMEDIATE", False),
    }

# Outgoing email: the outbox (channels) sends through this SMTP server.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("GUANXI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("GUANXI_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("GUANXI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GUANXI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("GUANXI_EMAIL_TLS", False)
EMAIL_USE_SSL = env_bool("GUANXI_EMAIL_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("GUANXI_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("GUANXI_EMAIL_FROM", "Guanxi <guanxi@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANXI_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

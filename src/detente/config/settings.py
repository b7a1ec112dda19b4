"""One settings file, read from the environment through small typed helpers.

``DATABASE_URL`` selects the database (PostgreSQL in production); without it Détente uses an
embedded SQLite file in WAL mode in the user's data directory (``DETENTE_DATA_DIR`` overrides it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import platformdirs


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if not raw:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


DATA_DIR = Path(env_str("DETENTE_DATA_DIR", platformdirs.user_data_dir("detente", appauthor=False)))


def _secret_key() -> str:
    """From the environment, else a random key kept (mode 0600) in the data directory."""
    if key := os.environ.get("DETENTE_SECRET_KEY"):
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DETENTE_DEBUG", False)
ALLOWED_HOSTS = [h for h in env_str("DETENTE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # /api/docs serves Swagger UI from ninja's own static files: no CDN, works offline
    "detente.core",
    "detente.audit",
    "detente.people",
    "detente.access",
    "detente.inventory",
    "detente.intel",
    "detente.policy",
    "detente.findings",
    "detente.decisions",
    "detente.acceptances",
    "detente.planning",
    "detente.web",
    "detente.incidents",
    "detente.notifications",
    "detente.tension",
    "detente.gates",
    "detente.api_register",
    "detente.initiatives",
    "detente.org",
    "detente.meetings",
    "django_tasks",
    "django_tasks_db",
]
# ``detente gate`` runs in every pipeline, where start-up time counts: the CLI sets
# DETENTE_LEAN_APPS=1 for that command alone (before Django loads), and the REST framework, which
# only the server and its API docs need, is not loaded (ninja's schemas, routers and signature
# machinery: ~0.1 s of CPU).
if env_bool("DETENTE_LEAN_APPS", False):
    INSTALLED_APPS.remove("ninja")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "detente.web.headers.SecurityHeadersMiddleware",
    "detente.web.upload_limit.UploadLimitMiddleware",
    "detente.web.upload_limit.QueryLimitMiddleware",
    "detente.api.query.SingleQueryValuesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "detente.web.errors.PageErrorsMiddleware",
    "detente.web.busy.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "detente.config.urls"
WSGI_APPLICATION = "detente.config.wsgi.application"

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
            ]
        },
    }
]


# How long a write waits for SQLite's lock before giving up (503 with Retry-After on the web).
DETENTE_SQLITE_BUSY_TIMEOUT_MS = env_int("DETENTE_SQLITE_BUSY_TIMEOUT_MS", 10000)

# Page size of a new SQLite database (see _database).
SQLITE_PAGE_SIZE = 8192


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "detente.sqlite3")}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while an import writes; IMMEDIATE avoids lock-upgrade deadlocks.
        # A new database gets 8 KB pages (the page size is fixed when the file is first
        # written, so this comes before WAL; on an existing database it does nothing). Against
        # SQLite's 4 KB, a million-row import commits and checkpoints half as many pages; 16 KB
        # would halve that again but make each of a folder run's small commits write several
        # times the log. docs/performance.md has the figures.
        config["OPTIONS"] = {
            "init_command": (
                f"PRAGMA page_size={SQLITE_PAGE_SIZE}; "
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                f"PRAGMA busy_timeout={DETENTE_SQLITE_BUSY_TIMEOUT_MS}; "
                "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
        # Keep a connection per server thread: opening one and running the pragmas above costs
        # more than the API's busiest request.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("TEST", {})["NAME"] = os.environ.get("DETENTE_TEST_SQLITE") or None
    elif test_name := os.environ.get("DETENTE_TEST_DATABASE"):
        # A test run of its own: concurrent runs on one server must not share "test_<name>".
        config.setdefault("TEST", {})["NAME"] = test_name
    return config


DATABASES = {"default": _database()}

# Dashboard figures (reports.dashboards) are cached for a minute, shared by every server process
# and by the CLI: files under the data directory, so nothing else has to run.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("DETENTE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve from the package without a collectstatic step

LOGIN_URL = "/login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = env_bool("DETENTE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Limits on what users may feed in.
DETENTE_MAX_IMPORT_BYTES = env_int("DETENTE_MAX_IMPORT_BYTES", 3 * 1024**3)
# A query string over this is refused with 414 (docs/web-and-api.md).
DETENTE_MAX_QUERY_BYTES = env_int("DETENTE_MAX_QUERY_BYTES", 4096)
# Request bodies (uploads through the web and API) over this are refused with 413 unread.
DETENTE_MAX_UPLOAD_BYTES = env_int("DETENTE_MAX_UPLOAD_BYTES", 512 * 1024**2)
# A pen-test report attached to a pen test (PDF, HTML, archive): kept under DATA_DIR by SHA-256.
DETENTE_MAX_REPORT_BYTES = env_int("DETENTE_MAX_REPORT_BYTES", 64 * 1024**2)

# Sign-in throttling (detente.access.throttle): failures before a lockout that then doubles.
DETENTE_SIGNIN_FAILURES_PER_ACCOUNT = env_int("DETENTE_SIGNIN_FAILURES_PER_ACCOUNT", 5)
DETENTE_SIGNIN_FAILURES_PER_ADDRESS = env_int("DETENTE_SIGNIN_FAILURES_PER_ADDRESS", 20)
DETENTE_TOTP_ATTEMPTS = env_int("DETENTE_TOTP_ATTEMPTS", 5)  # per pending sign-in
DETENTE_API_RATE_PER_MINUTE = env_int("DETENTE_API_RATE_PER_MINUTE", 1200)  # per token, process

# Single sign-on through an OpenID provider (detente.access.oidc; docs/sso.md). Off while the
# issuer is empty. Roles come from the groups claim through DETENTE_OIDC_GROUP_ROLES (a JSON object
# {"group": "role"}) or DETENTE_OIDC_GROUP_ROLES_FILE (the org role-mapping YAML); the first mapped
# group in the mapping's order wins. Password sign-in can be switched off once SSO is on.
DETENTE_OIDC_ISSUER = env_str("DETENTE_OIDC_ISSUER", "")
DETENTE_OIDC_CLIENT_ID = env_str("DETENTE_OIDC_CLIENT_ID", "")
DETENTE_OIDC_CLIENT_SECRET = env_str("DETENTE_OIDC_CLIENT_SECRET", "")
DETENTE_OIDC_SCOPES = env_str("DETENTE_OIDC_SCOPES", "openid email profile")
DETENTE_OIDC_GROUPS_CLAIM = env_str("DETENTE_OIDC_GROUPS_CLAIM", "groups")
DETENTE_OIDC_GROUP_ROLES = env_str("DETENTE_OIDC_GROUP_ROLES", "")
DETENTE_OIDC_GROUP_ROLES_FILE = env_str("DETENTE_OIDC_GROUP_ROLES_FILE", "")
DETENTE_OIDC_PROVIDER_NAME = env_str("DETENTE_OIDC_PROVIDER_NAME", "single sign-on")
DETENTE_OIDC_REDIRECT_URI = env_str("DETENTE_OIDC_REDIRECT_URI", "")  # default: from the request
DETENTE_OIDC_TIMEOUT_SECONDS = env_int("DETENTE_OIDC_TIMEOUT_SECONDS", 10)
# Where the provider sends the browser after single logout (default: the sign-in page, from the
# request) and where a person's groups are fetched when the token says there were too many to
# include (Entra ID's group overage; a Graph-style getMemberObjects URL). docs/sso.md.
DETENTE_OIDC_POST_LOGOUT_REDIRECT_URI = env_str("DETENTE_OIDC_POST_LOGOUT_REDIRECT_URI", "")
DETENTE_OIDC_GROUPS_URL = env_str("DETENTE_OIDC_GROUPS_URL", "")
DETENTE_PASSWORD_SIGNIN = env_bool("DETENTE_PASSWORD_SIGNIN", True)

# The audit chain's key and witness live outside the database (detente.audit.keys / .witness).
DETENTE_AUDIT_KEY_FILE = env_str("DETENTE_AUDIT_KEY_FILE", str(DATA_DIR / "audit_key"))
DETENTE_AUDIT_WITNESS = env_str("DETENTE_AUDIT_WITNESS", str(DATA_DIR / "audit_witness.jsonl"))

# Background tasks (django-tasks) kept in the database; ``detente worker`` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Scale-out (docs/deployment.md): DETENTE_TASKS_BACKEND=rq keeps the task queue in Redis through
# django-tasks' RQ backend, so several ``detente worker`` processes (on several hosts) share it.
# A job gets DETENTE_RQ_JOB_TIMEOUT seconds; a worker that dies mid-job (SIGKILL, lost host)
# leaves it "started" until timeout + DETENTE_RQ_GRACE seconds have passed, then another worker
# retries it once.
DETENTE_TASKS_BACKEND = env_str("DETENTE_TASKS_BACKEND", "db").strip().lower()
DETENTE_REDIS_URL = env_str("DETENTE_REDIS_URL", "redis://127.0.0.1:6379/0")
DETENTE_RQ_JOB_TIMEOUT = env_int("DETENTE_RQ_JOB_TIMEOUT", 600)
DETENTE_RQ_GRACE = env_int("DETENTE_RQ_GRACE", 60)
if DETENTE_TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "detente.config.tasks_rq.RetryingRQBackend",
                         "QUEUES": ["default"]}}  # fmt: skip
    RQ_QUEUES = {"default": {"URL": DETENTE_REDIS_URL, "DEFAULT_TIMEOUT": DETENTE_RQ_JOB_TIMEOUT}}
elif DETENTE_TASKS_BACKEND != "db":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"DETENTE_TASKS_BACKEND={DETENTE_TASKS_BACKEND!r}: use db (default) or rq"
    )

# Notifications: outgoing mail, and webhooks as a JSON list of {url, kind, events?}
# (parsed and checked by detente.notifications.channels). Secrets never reach the logs.
DETENTE_SMTP_HOST = env_str("DETENTE_SMTP_HOST", "")
DETENTE_SMTP_PORT = env_int("DETENTE_SMTP_PORT", 587)
DETENTE_SMTP_USER = env_str("DETENTE_SMTP_USER", "")
DETENTE_SMTP_PASSWORD = env_str("DETENTE_SMTP_PASSWORD", "")
DETENTE_SMTP_FROM = env_str("DETENTE_SMTP_FROM", "detente@localhost")
DETENTE_SMTP_STARTTLS = env_bool("DETENTE_SMTP_STARTTLS", True)
DETENTE_WEBHOOKS = env_str("DETENTE_WEBHOOKS", "[]")
# A claimed outbox message is left to its worker this long before another may send it.
DETENTE_OUTBOX_LEASE_SECONDS = env_int("DETENTE_OUTBOX_LEASE_SECONDS", 600)
# The audit witness's optional webhook: each anchor (seq, hash, time) POSTed, HMAC-signed with
# DETENTE_WITNESS_WEBHOOK_SECRET (docs/audit.md).
DETENTE_WITNESS_WEBHOOK_URL = env_str("DETENTE_WITNESS_WEBHOOK_URL", "")
DETENTE_WITNESS_WEBHOOK_SECRET = env_str("DETENTE_WITNESS_WEBHOOK_SECRET", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DETENTE_LOG_LEVEL", "WARNING")},
}

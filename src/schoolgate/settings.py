"""Schoolgate settings: every value comes from the environment, with defaults that
make the README's two commands work on a fresh machine (SQLite, console email)."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("SCHOOLGATE_DATA_DIR", Path.cwd() / "var"))


def envbool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-set-SECRET_KEY-in-production")
# Fernet keys for secrets stored in the database, newest first (core/secrets.py).
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEY", "")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_tasks_db",
    "schoolgate.core",
    "schoolgate.accounts",
    "schoolgate.mis",
    "schoolgate.addons",
    "schoolgate.outbox",
    "schoolgate.scheduler",
    "schoolgate.evenings",
    "schoolgate.portal",
    "schoolgate.ops",
]

MIDDLEWARE = [
    "schoolgate.ops.middleware.HealthCheckMiddleware",
    "schoolgate.ops.middleware.RequestIdMiddleware",
    "schoolgate.ops.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "schoolgate.accounts.middleware.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "schoolgate.core.i18n.UserLanguageMiddleware",  # a signed-in person's saved language wins
    "django.contrib.messages.middleware.MessageMiddleware",
    "schoolgate.accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "schoolgate.accounts.middleware.TwoFactorMiddleware",
]

ROOT_URLCONF = "schoolgate.urls"
WSGI_APPLICATION = "schoolgate.wsgi.application"

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
                "schoolgate.core.context_processors.school",
            ],
        },
    },
]
FORM_RENDERER = "schoolgate.core.forms.GovukFormRenderer"

DATA_DIR.mkdir(parents=True, exist_ok=True)
# Behind PgBouncer in transaction pooling (docs/deploy.md): no kept connections and no
# server-side cursors, which do not survive a transaction's end there.
DB_TRANSACTION_POOLING = envbool("DB_TRANSACTION_POOLING", False)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'schoolgate.sqlite3'}"),
        # Kept between requests in production (a new PostgreSQL connection costs a few
        # ms per request); 0 behind PgBouncer in transaction pooling (docs/deploy.md).
        conn_max_age=envint("DB_CONN_MAX_AGE", 0 if DEBUG or DB_TRANSACTION_POOLING else 600),
        # A connection the database dropped (restart, failover) is replaced, not reused.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers instead of failing on upgrade to a
    # write lock; WAL lets readers carry on while the worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME", "")}
    # A SQLite connection costs next to nothing to open, and one kept open would go on
    # reading a database file that has gone (a disk unmounted): open one per request.
    DATABASES["default"]["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 0)
elif DB_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "schoolgate.accounts.hashers.SchoolgateArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # The email's local part and the names, alone and together (docs/accounts.md).
    {"NAME": "schoolgate.accounts.passwords.PersonalDetailsValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign-in"

# Slowing down password guessing (accounts.lockout, docs/accounts.md): failures per
# email, and per address, before waits start; the first wait, which doubles with each
# further failure up to LOCKOUT_MINUTES; failures older than the window are forgotten.
LOCKOUT_FAILURES = envint("LOCKOUT_FAILURES", 5)
LOCKOUT_ADDRESS_FAILURES = envint("LOCKOUT_ADDRESS_FAILURES", 100)
LOCKOUT_DELAY_SECONDS = envint("LOCKOUT_DELAY_SECONDS", 30)
LOCKOUT_MINUTES = envint("LOCKOUT_MINUTES", 15)
LOCKOUT_WINDOW_MINUTES = envint("LOCKOUT_WINDOW_MINUTES", 60)
# Rate limits on sign-in, password and link pages, corrections and holds
# (core.ratelimit, docs/accounts.md); counted in the cache, so shared with CACHE_URL.
RATE_LIMITS = envbool("RATE_LIMITS", True)
# How many reverse proxies in front append to X-Forwarded-For and set X-Forwarded-Proto.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STAFF_REQUIRE_2FA = envbool("STAFF_REQUIRE_2FA", False)
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_HOURS", 24) * 3600

SESSION_COOKIE_AGE = envint("SESSION_HOURS", 12) * 3600
# Signed out after this long without a request (accounts.middleware.IdleTimeoutMiddleware).
STAFF_IDLE_HOURS = float(os.environ.get("STAFF_IDLE_HOURS", 2))
PARENT_IDLE_HOURS = float(os.environ.get("PARENT_IDLE_HOURS", 12))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = envint(
    "HSTS_SECONDS", 365 * 24 * 3600 if SITE_URL.startswith("https") and not DEBUG else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
# HSTS preload is for the owner of a whole registrable domain to opt into (the list
# takes no single hosts), not for one service on a school's domain: no warning for it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request otherwise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
    }

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# The platform's default sender, used when the school has not set up its own mail.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if os.environ.get("EMAIL_HOST")
            else "schoolgate.outbox.console.EmailBackend",  # links printed whole
        ),
        "OPTIONS": {},
    }
}
if MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": envint("EMAIL_PORT", 25),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": envbool("EMAIL_USE_TLS", False),
        "timeout": envint("EMAIL_TIMEOUT", 30),
    }
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Schoolgate <no-reply@schoolgate.invalid>"
)

# How `schoolgate serve`, `web` and `worker` run (docs/deploy.md).
SERVER = {
    "HOST": os.environ.get("HOST", "127.0.0.1"),
    "PORT": envint("PORT", 8000),
    "WEB_CONCURRENCY": envint("WEB_CONCURRENCY", 0),  # 0: 2 x CPU cores + 1, at most 8
    "WEB_THREADS": envint("WEB_THREADS", 1),
    "WEB_TIMEOUT": envint("WEB_TIMEOUT", 120),  # seconds; large MIS uploads sync in the request
    "TASK_WORKERS": envint("TASK_WORKERS", 1),
}

# How long a parent's chosen slots are held while they confirm.
HOLD_SECONDS = envint("HOLD_SECONDS", 120)

SCHOOLGATE = {
    "SCHOOL_NAME": os.environ.get("SCHOOL_NAME", "Schoolgate Demo Academy"),
    "SYNC_DROP_DIR": os.environ.get("SYNC_DROP_DIR", str(DATA_DIR / "drop")),
    "SYNC_DROP_MINUTES": envint("SYNC_DROP_MINUTES", 15),  # 0 turns the drop folder off
    # Where a held sync's files wait to be confirmed (docs/sync.md).
    "SYNC_HELD_DIR": os.environ.get("SYNC_HELD_DIR", str(DATA_DIR / "held-syncs")),
    # What one sync may read (docs/sync.md, "Limits"): each file or zip member once
    # unpacked, all files together, and rows and records in all. Passing one stops the
    # read at once; together they bound a sync's memory whatever the input.
    "MIS_FILE_MAX_MB": envint("MIS_FILE_MAX_MB", 50),
    "MIS_IMPORT_MAX_MB": envint("MIS_IMPORT_MAX_MB", 100),
    "MIS_IMPORT_MAX_ROWS": envint("MIS_IMPORT_MAX_ROWS", 80_000),
    # A full sync that would take more than this share of the roll off, or deactivate
    # more parent accounts than this, is held until confirmed (docs/sync.md).
    "SYNC_HOLD_OFF_ROLL_PERCENT": envint("SYNC_HOLD_OFF_ROLL_PERCENT", 10),
    "SYNC_HOLD_DEACTIVATED_ACCOUNTS": envint("SYNC_HOLD_DEACTIVATED_ACCOUNTS", 50),
    "INVITATION_DAYS": envint("INVITATION_DAYS", 14),
    # /healthz fails when a heartbeat, or the oldest unsent email, is older than this,
    # or when more emails than this failed for good in the last day.
    "HEALTH_HEARTBEAT_MINUTES": envint("HEALTH_HEARTBEAT_MINUTES", 5),
    "HEALTH_OUTBOX_MINUTES": envint("HEALTH_OUTBOX_MINUTES", 30),
    "HEALTH_OUTBOX_FAILED": envint("HEALTH_OUTBOX_FAILED", 25),
    # Retention (ops.retention, applied daily by the scheduler): days after an evening
    # ends that parents' messages to teachers are kept; days an account whose contact
    # the MIS no longer links to any pupil is kept, deactivated, before it is deleted;
    # days sync reports are kept.
    "RETAIN_MESSAGES_DAYS": envint("RETAIN_MESSAGES_DAYS", 90),
    "RETAIN_ORPHANED_ACCOUNTS_DAYS": envint("RETAIN_ORPHANED_ACCOUNTS_DAYS", 365),
    "RETAIN_SYNC_REPORTS_DAYS": envint("RETAIN_SYNC_REPORTS_DAYS", 365),
    # The MIS connectors' HTTP limits (schoolgate.mis.connectors.http.Limits; tests and
    # docs/import-oneroster-api.md). A private CA bundle for a school's own MIS server.
    "MIS_HTTP": {
        "ca_bundle": os.environ.get("MIS_CA_BUNDLE", ""),
        "max_bytes": envint("MIS_MAX_MB", 500) * 1024 * 1024,
        "read_timeout": envint("MIS_READ_TIMEOUT", 60),
    },
}

# JSON lines with a request id in production; the same lines as text when DEBUG is on.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "schoolgate.ops.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "schoolgate.ops.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint logs each step of every PDF (and its own stylesheets on import) at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

"""Settings shared by every environment, read from the environment or a ``.env`` file.

DEBUG is off unless the environment turns it on (``make demo`` and the tests do).
"""

import datetime
import secrets
import warnings
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from cmproject.embedded_postgres import APP_ROLE as EMBEDDED_APP_ROLE
from cmproject.embedded_postgres import embedded_database_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)


def local_secret_key() -> str:
    """A per-checkout key kept in git-ignored var/, so no key is ever committed."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    # The admin site asks for the Admin group and a verified second factor (staff/admin_site.py).
    "staff.apps.SecureAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    # Ours, from the bottom layer up (docs/architecture.md).
    "access_log",
    "staff",
    "identity",
    "providers",
    "intakeq_link",
    "cm_program",
    "incentives",
    "legacy",
    "cross_system",
    "audit",
    "cmproject",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Static files straight from the app (no separate web server); before sessions and auth, so
    # a stylesheet costs no session or user lookup.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A NUL byte in the query string is a 400, before a view or the admin puts it in a query.
    "cmproject.middleware.RejectNulBytesMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "staff.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staff.middleware.RequireTwoFactorMiddleware",
    "staff.middleware.NoStoreForSignedInMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lock-out response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cmproject.urls"
# Load balancers probe the health check over plain HTTP: where SECURE_SSL_REDIRECT is on
# (production) it answers them instead of redirecting to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

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
            ],
        },
    },
]

WSGI_APPLICATION = "cmproject.wsgi.application"


def required(name: str) -> str:
    """A setting that has no default: unset or empty stops the start with one sentence."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set {name} in the environment; it has no default here.")
    return value


def database_logins(*, allow_embedded: bool = True) -> tuple[dict, dict | None]:
    """(the site's login, the login ``migrate`` uses or None).

    The site runs as a role that owns nothing; migrations run as the tables' owner
    (docs/access-and-audit.md, "Database roles"). DATABASE_URL is the site's login and
    DATABASE_OWNER_URL the owner's; without DATABASE_OWNER_URL, migrate uses DATABASE_URL's login
    (one role, as on a developer's own server). Without DATABASE_URL (outside production) the
    embedded PostgreSQL provides both roles.
    """
    url = env.str("DATABASE_URL", default="")
    if not url:
        if not allow_embedded:
            raise ImproperlyConfigured("Set DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/NAME.")
        owner = embedded_database_settings(VAR_DIR / "pgdata")
        return {**owner, "USER": EMBEDDED_APP_ROLE}, owner
    owner_url = env.str("DATABASE_OWNER_URL", default="")
    owner = _database_url_config("DATABASE_OWNER_URL", owner_url) if owner_url else None
    return _database_url_config("DATABASE_URL", url), owner


def _database_url_config(name: str, url: str) -> dict:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the error below says it in one line
            config = environ.Env.db_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"{name} is malformed: expected postgres://USER:PASSWORD@HOST:PORT/NAME."
        ) from exc
    if config.get("ENGINE") != "django.db.backends.postgresql" or not config.get("NAME"):
        raise ImproperlyConfigured(
            f"{name} must be a PostgreSQL URL with a database name: "
            "postgres://USER:PASSWORD@HOST:PORT/NAME."
        )
    config.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=10)
    )
    return config


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username/address is refused before the password is checked.
    "staff.auth_backends.ThrottledBackend",
    "staff.auth_backends.PermissionsBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Denver"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Plain names here, so pages render where collectstatic never ran (the tests; `make demo`, where
# DEBUG serves the apps' static folders as they are). Production and `make serve` collect first
# and switch to MANIFEST_STATIC_STORAGES.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Content-hashed names (a browser may keep them for good: a new content is a new name) and gzip
# copies, served by whitenoise. A page naming a file that collectstatic did not collect fails.
MANIFEST_STATIC_STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from the site itself
# only; no inline script anywhere, no inline style but the one rule Django's admin writes inline
# on changelists without actions (its hash; a test checks every inline style it renders). Pico's
# icons are data: images. Nothing may frame the site, and forms post only to it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF, "'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}

SESSION_COOKIE_AGE = 15 * 60
# The idle timeout slides with activity, written at most once a minute (staff.middleware).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# However active, a session ends this long after sign-in (staff.middleware).
CM_SESSION_ABSOLUTE_AGE = 12 * 60 * 60
# Messages name people ("Jessica Martinez is enrolled"): kept server-side with the session, not
# in a cookie (signed, not encrypted) that proxies and tools may log.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Login throttling (django-axes, database handler): 5 failures for one username from one address
# lock that pair for 15 minutes; a success resets the count.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address is the connection's: no proxy stands in front here, and a client could
# write any X-Forwarded-For it likes. Production reads the proxy's header instead.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# Two-factor sign-in (django-otp, TOTP).
OTP_TOTP_ISSUER = "Moonlit CM"

# Audit trail (django-pghistory): triggers are installed by `migrate` (post_migrate) rather than
# by per-app migrations, so the tracked apps' migration history stays untouched; the event
# tables themselves live in the audit app's migrations.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True
PGHISTORY_APPEND_ONLY = True

# Matches at or above this score are linked to IntakeQ without a person confirming them.
CM_AUTO_LINK_MIN_SCORE = env.float("CM_AUTO_LINK_MIN_SCORE", default=0.97)
# Matches from here up to the line above wait in the review queue; lower ones are dropped.
CM_LINK_REVIEW_MIN_SCORE = env.float("CM_LINK_REVIEW_MIN_SCORE", default=0.70)
# Whether our migrations may add the matcher's date-of-birth index to the IntakeQ-owned `patients`
# table. On where the table is ours (dev, tests, demo); production turns it off.
CM_MANAGE_INTAKEQ_INDEX = env.bool("CM_MANAGE_INTAKEQ_INDEX", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Request paths and query strings can carry names and search terms: strip them from records.
    "filters": {"no_phi": {"()": "cmproject.logging.RedactRequestFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["no_phi"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # SQL parameters carry names and birth dates: never log them.
    "loggers": {
        # Django's own handlers (mail_admins renders the request, POST data included) are
        # replaced by the filtered console handler.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # pgserver narrates every start and stop of the embedded server at INFO.
        "pgserver": {"level": "WARNING"},
        # django-axes announces its configuration at INFO on every start.
        "axes.apps": {"level": "WARNING"},
        # pgtrigger narrates each trigger it installs after every migrate.
        "pgtrigger": {"level": "WARNING"},
    },
}

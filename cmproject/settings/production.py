"""Production: secrets come from the environment with no default; a missing one stops the start."""

from .base import *  # noqa: F403
from .base import MANIFEST_STATIC_STORAGES, database_logins, env, required

DEBUG = False
SECRET_KEY = required("SECRET_KEY")
# The site's login owns nothing; DATABASE_OWNER_URL (the tables' owner) is used by migrate only.
_site_login, DATABASE_OWNER = database_logins(allow_embedded=False)
DATABASES = {"default": _site_login}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
ALLOWED_HOSTS = required("ALLOWED_HOSTS").split(",")
# Needs `manage.py collectstatic` before the start (the Dockerfile runs it at build).
STORAGES = MANIFEST_STATIC_STORAGES

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Behind the TLS proxy (see SECURE_PROXY_SSL_HEADER) the client's address is in
# X-Forwarded-For; django-axes throttles by it (through django-ipware). The variable is the
# number of proxies in front, each appending the address it saw: the client is that many entries
# from the right. ipware counts only the proxies whose own addresses are in the header (all but
# the last, which is the connection's address), hence the minus one. Not strict: entries a client
# wrote in front of the real ones are skipped, never trusted.
AXES_IPWARE_PROXY_COUNT = max(env.int("AXES_IPWARE_PROXY_COUNT", default=1) - 1, 0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
IPWARE_STRICT = False

# `patients` belongs to the IntakeQ sync: Django never alters it here
# (docs/identity-and-matching.md, "Indexes").
CM_MANAGE_INTAKEQ_INDEX = False

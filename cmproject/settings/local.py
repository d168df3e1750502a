"""A developer's machine and `make demo`: DATABASE_URL or the embedded PostgreSQL."""

from .base import *  # noqa: F403
from .base import database_logins, env, local_secret_key

SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key()
_site_login, DATABASE_OWNER = database_logins()
DATABASES = {"default": _site_login}

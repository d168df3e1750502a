"""A developer's machine and `make demo`: DATABASE_URL or the embedded PostgreSQL."""

from .base import *  # noqa: F403
from .base import database_settings, env, local_secret_key

SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key()
DATABASES = {"default": database_settings()}

"""pytest: the local settings (DATABASE_URL or the embedded PostgreSQL), DEBUG off."""

from .local import *  # noqa: F403

DEBUG = False
# Tests never collect static files: with no STATIC_ROOT whitenoise looks for no collected folder
# (it would warn that var/static is missing); pages link the plain names (base STORAGES).
STATIC_ROOT = None
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

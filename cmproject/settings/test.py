"""pytest: the local settings (DATABASE_URL or the embedded PostgreSQL), DEBUG off."""

from .local import *  # noqa: F403
from .local import DATABASE_OWNER, DATABASES

# One role: the test runner creates and drops the test database, which takes the owner's login.
# tests/test_database_roles.py checks the site's restricted role on its own connection.
DATABASES = {"default": dict(DATABASE_OWNER or DATABASES["default"])}
DATABASE_OWNER = None

DEBUG = False
# Tests never collect static files: with no STATIC_ROOT whitenoise looks for no collected folder
# (it would warn that var/static is missing); pages link the plain names (base STORAGES).
STATIC_ROOT = None
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

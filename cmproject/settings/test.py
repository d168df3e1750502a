from .base import *  # noqa: F403
from .base import database_settings, env, local_secret_key

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key()
DATABASES = {"default": database_settings()}
# Tests never collect static files: with no STATIC_ROOT whitenoise looks for no collected folder
# (it would warn that var/static is missing); pages link the plain names (base STORAGES).
STATIC_ROOT = None
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

from .base import *  # noqa: F403
from .base import database_settings, env, local_secret_key

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key()
DATABASES = {"default": database_settings()}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

"""`make serve`: the production path on one machine, over plain HTTP (docs/deployment.md).

As production: DEBUG off, gunicorn, hashed and compressed static files collected into var/static
and served by whitenoise, persistent database connections, framing denied. What differs, because
no TLS proxy stands in front: no redirect to HTTPS, cookies not marked Secure, no proxy header
trusted (the client address is the connection's, for sign-in throttling); and, as on a developer
machine, the embedded PostgreSQL when DATABASE_URL is unset and the checkout's var/secret_key
when SECRET_KEY is unset.
"""

from .local import *  # noqa: F403
from .local import DATABASES, MANIFEST_STATIC_STORAGES, env

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
STORAGES = MANIFEST_STATIC_STORAGES
X_FRAME_OPTIONS = "DENY"

# Pointed at a real server (which may be production's), never alter the IntakeQ `patients` table.
if env.str("DATABASE_URL", default=""):
    CM_MANAGE_INTAKEQ_INDEX = False

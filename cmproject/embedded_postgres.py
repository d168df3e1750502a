"""Start the embedded PostgreSQL (pgserver) used when DATABASE_URL is not set.

A fresh checkout, the tests and CI need nothing but Python: the server's binaries come in the
pgserver wheel and its data lives in the git-ignored ``var/pgdata`` folder of the checkout.
"""

import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DATABASE_NAME = "cm"


def embedded_database_settings(data_dir: Path) -> dict:
    """Return a DATABASES entry for the embedded server, starting it if it is not running.

    The server stops when the last process that asked for it exits (pgserver's ``stop`` mode).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its fallback is fine.
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            raise ImproperlyConfigured(
                "DATABASE_URL is not set and the embedded PostgreSQL (pgserver, Python 3.11/3.12) "
                "is not installed: set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME."
            ) from None
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            server = pgserver.get_server(data_dir, cleanup_mode="stop")
        except Exception as exc:
            raise ImproperlyConfigured(
                f"The embedded PostgreSQL in {data_dir} did not start ({exc.__class__.__name__}); "
                "delete that folder to start afresh, or set DATABASE_URL."
            ) from exc
        info = server.get_postmaster_info()
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 - constant
        )
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")

    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or ""),
    }

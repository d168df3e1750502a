"""Run manage.py so that configuration and connection problems end in one clear line.

A traceback wall hides the one sentence staff need, and a psycopg error can echo connection
details; neither helps the person at the terminal.
"""

import sys

from django.core.exceptions import ImproperlyConfigured


def run_management_command(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        return 1
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        sys.stderr.write(
            f"Cannot reach the database ({reason}). Check DATABASE_URL and that the server is up.\n"
        )
        return 1
    return 0

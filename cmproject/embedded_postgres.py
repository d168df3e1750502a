"""Start the embedded PostgreSQL (pgserver) used when DATABASE_URL is not set.

A fresh checkout, the tests and CI need nothing but Python: the server's binaries come in the
pgserver wheel and its data lives in the git-ignored ``var/pgdata`` folder of the checkout.
"""

import os
import signal
import threading
import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DATABASE_NAME = "cm"
# Migrations run as the server's superuser, which owns every table; the site runs as APP_ROLE,
# which owns nothing (docs/access-and-audit.md, "Database roles"). `migrate` grants it its rights.
OWNER_ROLE = "postgres"
APP_ROLE = "cm_app"
# PostgreSQL's DETAIL and STATEMENT lines repeat the values of a failed row (a unique violation
# names the person): the embedded server logs the error line only (docs/deployment.md).
SERVER_SETTINGS = {"log_error_verbosity": "terse", "log_min_error_statement": "panic"}


def embedded_database_settings(data_dir: Path) -> dict:
    """Return a DATABASES entry (the owner's login) for the embedded server, starting it if it
    is not running. The app's login is the same entry with USER = APP_ROLE.

    The server stops when the last process that asked for it exits (pgserver's ``stop`` mode),
    also when that process ends by SIGTERM or SIGHUP (Ctrl-C already ends it normally).
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
            forget_exited_processes(data_dir)
            server = pgserver.get_server(data_dir, cleanup_mode="stop")
        except Exception as exc:
            raise ImproperlyConfigured(
                f"The embedded PostgreSQL in {data_dir} did not start ({exc.__class__.__name__}); "
                "delete that folder to start afresh, or set DATABASE_URL."
            ) from exc
        info = server.get_postmaster_info()
        _prepare(server)
    release_on_termination(server)

    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": OWNER_ROLE,
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or ""),
    }


def _prepare(server) -> None:
    """Create the database and the app's role, and set the logging settings, where missing.

    One query tells what is missing, so a start that finds everything in place costs one psql.
    """
    checks = ", ".join(
        [
            # Constants of this module, not input.
            f"(SELECT count(*) FROM pg_database WHERE datname = '{DATABASE_NAME}')",  # noqa: S608
            f"(SELECT count(*) FROM pg_roles WHERE rolname = '{APP_ROLE}')",  # noqa: S608
            *(f"current_setting('{name}')" for name in SERVER_SETTINGS),
        ]
    )
    # Tuples only, unaligned: the last line reads "1|1|terse|panic".
    output = server.psql(f"\\pset tuples_only on\n\\pset format unaligned\nSELECT {checks};")
    database, role, *values = output.strip().splitlines()[-1].split("|")
    statements = []
    if database == "0":
        statements.append(f"CREATE DATABASE {DATABASE_NAME};")
    if role == "0":
        # Local connections are trusted (pg_hba), so the role needs no password here.
        statements.append(f"CREATE ROLE {APP_ROLE} LOGIN;")
    wanted = SERVER_SETTINGS.items()
    changed = [name for (name, want), value in zip(wanted, values, strict=True) if value != want]
    statements += [f"ALTER SYSTEM SET {name} = '{SERVER_SETTINGS[name]}';" for name in changed]
    if changed:
        statements.append("SELECT pg_reload_conf();")
    for statement in statements:  # CREATE DATABASE cannot share a transaction
        server.psql(statement)


def forget_exited_processes(data_dir: Path) -> None:
    """Drop from pgserver's list of the server's users the processes that no longer exist.

    pgserver stops the server when the last process on its list (``.handle_pids.json``) exits
    normally. A process killed by a signal never takes itself off, and from then on no exit is
    ever the last one: the server would run until the machine stops.
    """
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    handles = DiskList(data_dir / ".handle_pids.json")
    with PostgresServer._lock:  # the lock pgserver holds while it changes that list
        pids = handles.get()
        alive = [pid for pid in pids if _exists(pid)]
        if alive != pids:
            handles.put(alive)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_on_termination(server) -> None:
    """On SIGTERM or SIGHUP, let go of the embedded server (stopping it if no other process uses
    it), then die of that signal as before.

    Python ends on those signals without running its exit handlers, so pgserver's own release
    would never run. Only where the signal still has its default action: a server such as
    gunicorn handles them in its workers, which then exit normally.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def release_then_die(signum, frame):
        try:
            server.cleanup()
        finally:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, release_then_die)

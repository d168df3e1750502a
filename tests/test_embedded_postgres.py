"""The embedded PostgreSQL stops with the last process using it, however that process ends.

Each test starts its own server in a folder of the checkout's var/ (not the tests' database).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cmproject.embedded_postgres import release_on_termination

ROOT = Path(__file__).resolve().parent.parent
# Starts the server in argv[1], says so, then holds it for argv[2] seconds.
HOLD = (
    "import sys, time; from pathlib import Path; "
    "from cmproject.embedded_postgres import embedded_database_settings; "
    "embedded_database_settings(Path(sys.argv[1])); print('ready', flush=True); "
    "time.sleep(float(sys.argv[2]))"
)


def _running(data_dir: Path) -> bool:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (ProcessLookupError, ValueError, IndexError):
        return False
    return True


@pytest.fixture(scope="module")
def data_dir():
    path = ROOT / "var" / f"test-embedded-{uuid.uuid4().hex[:8]}"
    yield path
    if _running(path):  # a failed test left it running: fast shutdown
        os.kill(int((path / "postmaster.pid").read_text().split()[0]), signal.SIGINT)
        for _ in range(60):
            if not _running(path):
                break
            time.sleep(0.5)
    shutil.rmtree(path, ignore_errors=True)


def _hold(data_dir: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", HOLD, str(data_dir), str(seconds)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "ready"
    return holder


def test_a_process_ended_by_sigterm_stops_the_embedded_server(data_dir):
    holder = _hold(data_dir, 600)
    assert _running(data_dir)
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=120) == -signal.SIGTERM
    assert not _running(data_dir)


def test_a_process_killed_earlier_does_not_keep_the_server_running_for_ever(data_dir):
    killed = _hold(data_dir, 600)
    killed.kill()  # no exit handler runs: its id stays on pgserver's list
    killed.wait(timeout=60)
    assert _running(data_dir)
    assert _hold(data_dir, 0).wait(timeout=120) == 0
    assert not _running(data_dir)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_handler_set_by_someone_else_is_kept(signum):
    def theirs(signum, frame):
        pass

    previous = signal.signal(signum, theirs)
    try:
        release_on_termination(server=None)
        assert signal.getsignal(signum) is theirs
    finally:
        signal.signal(signum, previous)


@pytest.mark.django_db
def test_the_embedded_server_logs_no_row_values_or_statements_of_failed_queries():
    """A unique violation's DETAIL line names the person; its STATEMENT line may too (L3)."""
    from django.db import connection

    if os.environ.get("DATABASE_URL"):
        pytest.skip("the tests run on DATABASE_URL's server, not the embedded one")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('log_error_verbosity'), "
            "current_setting('log_min_error_statement')"
        )
        assert cursor.fetchone() == ("terse", "panic")

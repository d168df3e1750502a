"""The CM patient list through a real HTTP server (gunicorn), under a bounded load.

Loopback only: the server binds 127.0.0.1 on a free port, the client sends a fixed number of
requests from a few threads with a per-request timeout and an overall deadline, then stops the
server. The session cookie belongs to a supervisor created in the benchmark's own database.
"""

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from bench.data import REPO_ROOT, Size
from bench.measure import NOT_AVAILABLE, Row, ms, percentile, unavailable

CLIENT_THREADS = 4
SERVER_WORKERS = 2  # one per core on the reference machine
REQUEST_TIMEOUT = 30
LOAD_DEADLINE = 300  # seconds for all requests to one page; the run stops by itself after it

# 50 rows a page on both sides; the filters a supervisor would set: active participants of one
# program whose name contains a common syllable (the page's EnrollmentFilter: q, status,
# cm_program). The program is the first one bench.data builds (its id is derived, not looked up).
# "har" starts the surname of bench.data's first hundred people, so the filtered page lists
# people at every size (as the baseline does; both pages log the people they show).
PAGE = {"per_page": "50"}
FILTERS = {
    "q": "har",
    "status": "active",
    "cm_program": str(uuid.UUID(hashlib.md5(b"prog:0").hexdigest())),  # noqa: S324 - an id
    **PAGE,
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def supervisor_client(username: str = "bench-supervisor") -> Client:
    """A logged-in test client for a CPSS supervisor (user, group, CM provider row, session)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from providers.models import ProviderCM

    user = get_user_model().objects.create_user(
        username=username, first_name="Bench", last_name="Supervisor"
    )
    group = Group.objects.filter(name="CPSS Supervisor").first()
    if group is not None:
        user.groups.add(group)
    ProviderCM.objects.create(
        user=user,
        first_name="Bench",
        last_name="Supervisor",
        email=f"{username}@bench.example",
        role=ProviderCM.Role.SUPERVISOR,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def start_server(port: int, log_path: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(REPO_ROOT),
    }
    with open(log_path, "wb") as log:
        return subprocess.Popen(  # noqa: S603 - fixed argument list, our own interpreter
            [
                sys.executable, "-m", "gunicorn", "bench.wsgi:application",
                "--bind", f"127.0.0.1:{port}", "--workers", str(SERVER_WORKERS),
                "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning",
            ],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_until_up(server: subprocess.Popen, base: str, log_path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            with open(log_path) as log:
                raise RuntimeError("gunicorn exited early:\n" + log.read()[-2000:])
        try:
            with urllib.request.urlopen(base + reverse("login"), timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=5)


def load(url: str, cookie: str, total: int) -> tuple[list[float], int, int]:
    """Send up to ``total`` GETs from CLIENT_THREADS threads, stopping at LOAD_DEADLINE.

    Returns the latencies of the requests answered 200, how many failed, and how many were not
    sent because the deadline came first.
    """
    latencies, failures = [], []
    next_index = iter(range(total))
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_DEADLINE

    def client():
        while time.monotonic() < deadline:
            with lock:
                if next(next_index, None) is None:
                    return
            request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
                    response.read()
                    ok = response.status == 200 and response.url == url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                (latencies if ok else failures).append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, len(failures), total - len(latencies) - len(failures)


def measure_patient_list(size: Size) -> list[Row]:
    keys = [
        ("patient_list.queries", "CM patient list (filters on): SQL queries", "queries"),
        ("patient_list.p50_ms", "CM patient list over HTTP: p50", "ms"),
        ("patient_list.p95_ms", "CM patient list over HTTP: p95", "ms"),
        ("patient_list.req_per_s", "CM patient list over HTTP: throughput", "req/s"),
    ]
    try:
        path = reverse("cm:patient-list")
    except NoReverseMatch:
        return unavailable(keys, "the cm:patient-list page is not in this build")
    client = supervisor_client()
    # The page takes its filters as a posted search and lists them under a search id
    # (core.searches): post them once, as a browser does, then load that page.
    posted = client.post(path, FILTERS)
    if posted.status_code != 302:
        return unavailable(keys, f"posting filters to {path} answered {posted.status_code}")
    filtered_path = posted.url
    plain_path = f"{path}?{urlencode(PAGE)}"
    queries, sizes = {}, {}
    for name, target in (("ours", filtered_path), ("baseline", plain_path)):
        client.get(target)  # warm caches (templates, content types) outside the count
        with CaptureQueriesContext(connection) as captured:
            response = client.get(target)
        if response.status_code != 200:
            return unavailable(
                keys, f"{target} answered {response.status_code} to a supervisor", NOT_AVAILABLE
            )
        queries[name] = len(captured)
        sizes[name] = len(response.content)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log") as log:
        server = start_server(port, log.name)
        try:
            wait_until_up(server, base, log.name)
            results = {}
            for name, target in (("ours", filtered_path), ("baseline", plain_path)):
                load(base + target, cookie, min(10, size.http_requests // 4))  # warm the workers
                start = time.perf_counter()
                latencies, failed, unsent = load(base + target, cookie, size.http_requests)
                results[name] = (latencies, failed, time.perf_counter() - start, unsent)
        finally:
            stop_server(server)

    note = (
        f"{size.http_requests} requests, {CLIENT_THREADS} client threads, gunicorn "
        f"{SERVER_WORKERS} sync workers; ours {urlencode(FILTERS)} posted as a search "
        f"({sizes['ours']} B), "
        f"baseline: same page, 50 rows, no filters ({sizes['baseline']} B)"
    )
    unsent = results["ours"][3] + results["baseline"][3]
    if unsent:
        note += f"; {unsent} requests not sent: the {LOAD_DEADLINE} s deadline came first"
    failed = results["ours"][1] + results["baseline"][1]
    if failed or not results["ours"][0] or not results["baseline"][0]:
        return unavailable(keys, f"{failed} requests failed; {note}", "error")
    rows = [Row(*keys[0], ours=queries["ours"], baseline=queries["baseline"], note=note)]
    for key, pct in ((keys[1], 50), (keys[2], 95)):
        rows.append(
            Row(*key, ours=ms(percentile(results["ours"][0], pct)),
                baseline=ms(percentile(results["baseline"][0], pct)), note=note)
        )  # fmt: skip
    rows.append(
        Row(*keys[3], ours=round(len(results["ours"][0]) / results["ours"][2], 1),
            baseline=round(len(results["baseline"][0]) / results["baseline"][2], 1), note=note)
    )  # fmt: skip
    return rows

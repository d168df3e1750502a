"""The production path of `make serve`: collectstatic, then gunicorn with DEBUG off, over HTTP.

One gunicorn for the module, on a free loopback port, on the test database. Nothing here times
anything: the start gets a generous deadline and each request a timeout.
"""

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from bench.http_load import free_port, stop_server
from cmproject.health import probe

ROOT = Path(__file__).resolve().parent.parent
PICO = "cm/vendor/pico-2.1.1/pico.conditional.jade.min.css"
START_DEADLINE = 180  # seconds; a loaded 2-core machine imports Django slowly


def _get(url, headers=None):
    """(status, headers, body) of a GET; an HTTP error status is an answer too."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _wait_until_up(server, base, log_path):
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("gunicorn exited early:\n" + log_path.read_text()[-3000:])
        try:
            _get(base + "/healthz/")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f"gunicorn did not answer within {START_DEADLINE} s")


@pytest.fixture(scope="module")
def served(django_db_setup, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.gunicorn_settings",
        "CM_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
        "CM_TEST_STATIC_ROOT": str(folder / "static"),
        "PYTHONPATH": str(ROOT),
    }
    collected = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stdout + collected.stderr
    port = free_port()
    log_path = folder / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "gunicorn", "cmproject.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120",
             "--access-logfile", "-"],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_up(server, f"http://127.0.0.1:{port}", log_path)
        manifest = json.loads((folder / "static" / "staticfiles.json").read_text())
        yield {
            "base": f"http://127.0.0.1:{port}",
            "port": port,
            "manifest": manifest["paths"],
            "static_root": folder / "static",
            "log": log_path,
        }
    finally:
        stop_server(server)


def test_served_health_check_answers_200(served):
    status, _, body = _get(served["base"] + "/healthz/")
    assert (status, body) == (200, b"ok\n")


def test_the_container_probe_passes_against_the_served_site(served):
    assert probe(port=served["port"], allowed_hosts="127.0.0.1") == 0


def test_served_stylesheet_has_a_hashed_name(served):
    hashed = served["manifest"][PICO]
    assert hashed != PICO
    status, _, body = _get(f"{served['base']}/static/{hashed}")
    assert status == 200
    assert body == (ROOT / "cm_program" / "static" / PICO).read_bytes()


def test_served_stylesheet_is_compressed_for_browsers_that_accept_it(served):
    url = f"{served['base']}/static/{served['manifest'][PICO]}"
    status, headers, body = _get(url, {"Accept-Encoding": "gzip"})
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert gzip.decompress(body) == (ROOT / "cm_program" / "static" / PICO).read_bytes()


def test_the_access_log_writes_no_query_string_nor_referrer(served):
    def lines():
        return served["log"].read_text().count("GET /healthz/")

    before = lines()
    _get(served["base"] + "/healthz/?q=Zyxwardson+1985-06-15", {"Referer": "/x/?q=Zyxwardson"})
    deadline = time.monotonic() + 30  # the worker writes its line just after the answer
    while lines() == before and time.monotonic() < deadline:
        time.sleep(0.2)
    log = served["log"].read_text()
    assert lines() == before + 1
    assert "Zyxwardson" not in log


def test_served_errors_are_the_plain_pages_of_debug_off(served):
    status, _, body = _get(served["base"] + "/no-such-page/")
    assert status == 404
    assert b"URLconf" not in body  # DEBUG's technical 404 lists the URL patterns


@pytest.mark.django_db
def test_pages_link_the_hashed_stylesheet_where_static_files_are_collected(
    served, settings, client, staff_user
):
    settings.STORAGES = settings.MANIFEST_STATIC_STORAGES
    settings.STATIC_ROOT = served["static_root"]
    client.force_login(staff_user("CPSS"))
    page = client.get(reverse("cm:patient-list")).content.decode()
    assert f"/static/{served['manifest'][PICO]}" in page


def test_a_worker_freezes_the_loaded_apps_objects_out_of_full_collections():
    """gunicorn.conf.py's post_worker_init: what the worker loaded is never walked again by
    the collector's full collections (they took ~90 ms over Django's objects)."""
    import gc
    import runpy

    hooks = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

"""The health check at /healthz/: open to probes, honest about the database, cached by no one."""

import secrets
import socket

import pytest
from django.db import OperationalError, connections
from django.urls import reverse

from cmproject.health import probe, probe_host
from tests.test_project import _manage


@pytest.fixture
def database_down(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.5, user cm_secret_user failed")

    monkeypatch.setattr(type(connections["default"]), "cursor", refuse)


@pytest.mark.django_db
def test_health_check_answers_200_ok_when_the_database_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_health_check_answers_503_when_the_database_query_fails(client, database_down):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503


@pytest.mark.django_db
def test_a_failed_health_check_tells_nothing_of_the_error(client, database_down):
    response = client.get(reverse("healthz"))
    assert response.content == b"database unavailable\n"


@pytest.mark.django_db
@pytest.mark.parametrize("down", [False, True])
def test_health_check_is_never_cached(client, request, down):
    if down:
        request.getfixturevalue("database_down")
    response = client.get(reverse("healthz"))
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_check_sets_no_cookie(client):
    response = client.get(reverse("healthz"))
    assert response.cookies == {}


@pytest.mark.django_db
def test_health_check_answers_plain_http_where_https_redirect_is_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("login")).status_code == 301
    assert client.get(reverse("healthz")).status_code == 200


def test_under_production_settings_a_plain_http_probe_reaches_the_health_check():
    """Production's own settings: no HTTPS redirect for the probe; the database at port 9 never
    answers, so the answer is 503 (not 301, not 400)."""
    code = (
        "from django.test import Client; "
        "print(Client().get('/healthz/', HTTP_HOST='cm.example.com').status_code)"
    )
    result = _manage(
        "shell",
        "-c",
        code,
        DJANGO_SETTINGS_MODULE="cmproject.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        DATABASE_URL="postgres://cm@127.0.0.1:9/cm",
        DATABASE_CONNECT_TIMEOUT="2",
        ALLOWED_HOSTS="cm.example.com",
    )
    assert result.stdout.strip().splitlines()[-1:] == ["503"], result.stdout + result.stderr


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [("cm.example.com,other.example.com", "cm.example.com"), (".example.com", "example.com"),
     ("*", "localhost")],
)  # fmt: skip
def test_the_container_probe_sends_an_allowed_host(allowed_hosts, host):
    assert probe_host(allowed_hosts) == host


def test_the_container_probe_fails_when_nothing_answers():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert probe(port=port, allowed_hosts="localhost", timeout=2) == 1

"""Sign-in behind the proxy, the second factor decided per request, and the session's lifetime."""

import importlib
import sys

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
PROXY = "10.0.0.1"


@pytest.fixture
def behind_the_proxy(monkeypatch, settings):
    """The client-address settings exactly as cmproject.settings.production computes them."""
    monkeypatch.setenv("SECRET_KEY", "not-secret-" * 6)
    monkeypatch.setenv("DATABASE_URL", "postgres://cm@127.0.0.1:9/cm")
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")
    monkeypatch.delenv("AXES_IPWARE_PROXY_COUNT", raising=False)
    sys.modules.pop("cmproject.settings.production", None)
    production = importlib.import_module("cmproject.settings.production")
    sys.modules.pop("cmproject.settings.production", None)
    for name in ("AXES_IPWARE_PROXY_COUNT", "AXES_IPWARE_META_PRECEDENCE_ORDER", "IPWARE_STRICT"):
        setattr(settings, name, getattr(production, name, None))


def _sign_in(client, username, password, forwarded_for):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_two_clients_behind_one_proxy_are_locked_out_apart(behind_the_proxy, client, staff_user):
    user = staff_user("CPSS")
    for _ in range(5):
        _sign_in(client, user.username, "wrong", "203.0.113.5")
    assert _sign_in(client, user.username, PASSWORD, "203.0.113.5").status_code == 429
    response = _sign_in(client, user.username, PASSWORD, "198.51.100.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_address_written_by_the_client_before_the_proxy_s_does_not_dodge_the_lock_out(
    behind_the_proxy, client, staff_user
):
    user = staff_user("CPSS")
    for attempt in range(5):
        _sign_in(client, user.username, "wrong", f"192.0.2.{attempt}, 203.0.113.5")
    assert _sign_in(client, user.username, PASSWORD, "192.0.2.99, 203.0.113.5").status_code == 429


def test_without_a_proxy_the_forwarded_header_is_ignored(client, staff_user):
    user = staff_user("CPSS")
    for attempt in range(5):
        _sign_in(client, user.username, "wrong", f"203.0.113.{attempt}")
    assert _sign_in(client, user.username, PASSWORD, "198.51.100.7").status_code == 429


def test_a_user_added_to_admin_mid_session_is_sent_to_the_second_factor_at_once(client, staff_user):
    from django.contrib.auth.models import Group

    user = staff_user("Psychiatry")
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert client.get(reverse("intakeq:patient-list")).status_code == 200
    user.groups.add(Group.objects.get(name="Admin"))
    for url in (reverse("intakeq:patient-list"), reverse("cm:patient-list")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("two-factor"))


def test_a_session_ends_twelve_hours_after_sign_in_however_active(client, staff_user):
    from staff.middleware import SIGNED_IN_AT_SESSION_KEY

    client.force_login(staff_user("CPSS"))
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[SIGNED_IN_AT_SESSION_KEY] -= 12 * 60 * 60 + 1
    session.save()
    response = client.get(reverse("cm:patient-list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_session_within_twelve_hours_of_sign_in_goes_on(client, staff_user):
    from staff.middleware import SIGNED_IN_AT_SESSION_KEY

    client.force_login(staff_user("CPSS"))
    session = client.session
    session[SIGNED_IN_AT_SESSION_KEY] -= 11 * 60 * 60
    session.save()
    assert client.get(reverse("cm:patient-list")).status_code == 200

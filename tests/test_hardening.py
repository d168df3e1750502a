"""Deployment checks, sessions, login throttling, two-factor sign-in, caching and error pages."""

import datetime
import logging
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cmproject.logging import RedactRequestFilter
from staff.middleware import REFRESHED_AT_SESSION_KEY, SESSION_REFRESH_SECONDS
from tests.factories import IntakeQPatientFactory

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"


def test_deploy_check_passes_under_production_settings_with_nothing_silenced():
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(
        DJANGO_SETTINGS_MODULE="cmproject.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        DATABASE_URL="postgres://cm@127.0.0.1:9/cm",
        ALLOWED_HOSTS="cm.example.com",
        # Production pins DEBUG off whatever the environment says.
        DEBUG="true",
    )
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 silenced" in result.stdout


@pytest.mark.django_db
def test_an_idle_session_ends_after_fifteen_minutes(client, staff_user):
    client.force_login(staff_user("CPSS"))
    assert client.get(reverse("home")).status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date <= timezone.now() + datetime.timedelta(minutes=15)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now())
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_a_request_a_minute_after_the_last_pushes_the_idle_timeout_back(client, staff_user):
    client.force_login(staff_user("CPSS"))
    session = client.session
    session[REFRESHED_AT_SESSION_KEY] = int(time.time()) - SESSION_REFRESH_SECONDS
    session.save()
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(minutes=1))
    client.get(reverse("home"))
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date > timezone.now() + datetime.timedelta(minutes=10)


@pytest.mark.django_db
def test_requests_within_a_minute_do_not_write_the_session(client, staff_user):
    client.force_login(staff_user("CPSS"))
    client.get(reverse("home"))  # the first request after sign-in writes it
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    assert not [q for q in queries.captured_queries if 'UPDATE "django_session"' in q["sql"]]


@pytest.mark.django_db
def test_signing_in_gives_a_new_session_key(client, staff_user):
    user = staff_user("CPSS")
    session = client.session
    session["before_sign_in"] = True
    session.save()
    before = session.session_key
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_account_out(client, staff_user):
    user = staff_user("CPSS")
    for _ in range(5):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_few_failed_sign_ins_do_not_lock_out(client, staff_user):
    user = staff_user("CPSS")
    for _ in range(4):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def _current_code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
def test_an_admin_signed_in_with_a_password_only_is_sent_to_two_factor(client, staff_user):
    admin_user = staff_user("Admin")
    client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD})
    for url in (reverse("home"), reverse("admin:index"), reverse("dual-enrollment-report")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("two-factor"))


@pytest.mark.django_db
def test_an_admin_sets_up_two_factor_and_then_reaches_the_admin(client, staff_user):
    admin_user = staff_user("Admin")
    client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD})
    setup = client.get(reverse("two-factor"), {"next": reverse("admin:index")})
    assert "Key:" in setup.content.decode()
    device = TOTPDevice.objects.get(user=admin_user)
    response = client.post(
        reverse("two-factor"), {"token": _current_code(device), "next": reverse("admin:index")}
    )
    assert response.url == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


@pytest.mark.django_db
def test_a_wrong_two_factor_code_leaves_the_admin_out(client, staff_user):
    admin_user = staff_user("Admin")
    client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD})
    client.get(reverse("two-factor"))
    device = TOTPDevice.objects.get(user=admin_user)
    wrong = f"{(int(_current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("two-factor"), {"token": wrong})
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_two_factor_is_available_to_staff_who_do_not_need_it(client, staff_user):
    client.force_login(staff_user("CPSS"))
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("two-factor")).status_code == 200


@pytest.mark.django_db
def test_the_admin_login_goes_through_the_throttled_site_login(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_signed_in_pages_are_not_stored_by_browsers_or_proxies(client, staff_user):
    client.force_login(staff_user("Psychiatry"))
    response = client.get(reverse("intakeq:patient-detail", args=[IntakeQPatientFactory().pk]))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_not_found_page_echoes_nothing_of_the_request(client, staff_user):
    client.force_login(staff_user("Psychiatry"))
    missing = uuid.uuid4()
    response = client.get(reverse("intakeq:patient-detail", args=[missing]), {"q": "Martinez"})
    body = response.content.decode()
    assert response.status_code == 404
    assert str(missing) not in body
    assert "Martinez" not in body


@pytest.mark.django_db
def test_sign_in_form_refuses_a_post_without_csrf_token(staff_user):
    user = staff_user("CPSS")
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403


def test_every_post_form_in_the_templates_carries_a_csrf_token():
    missing = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", text, re.S | re.I):
            if "{% csrf_token %}" not in form:
                missing.append(str(template.relative_to(ROOT)))
    assert missing == []


def _formatted(record):
    RedactRequestFilter().filter(record)
    return logging.Formatter("%(message)s").format(record)


def test_log_lines_drop_query_strings():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /intakeq/patients/?q=Martinez+1992-03-22 HTTP/1.1", "200", "512"),
        None,
    )
    line = _formatted(record)
    assert "Martinez" not in line
    assert "/intakeq/patients/" in line


def test_logged_exceptions_keep_the_traceback_but_not_the_message():
    first, last = "Jessica", "Martinez"
    try:
        raise IntegrityError(f"Key (first_name, last_name)=({first}, {last}) already exists.")
    except IntegrityError:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/cm/patients/new/",),
            sys.exc_info(),
        )
    line = _formatted(record)
    assert "Jessica" not in line
    assert "IntegrityError" in line
    assert "test_logged_exceptions_keep_the_traceback" in line


@pytest.mark.django_db
def test_staff_who_set_up_two_factor_are_asked_for_it_at_the_next_sign_in(client, staff_user):
    from staff.services import totp_device_confirm, totp_device_get_or_create

    user = staff_user("CPSS")
    totp_device_confirm(device=totp_device_get_or_create(user=user))
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two-factor"))


@pytest.mark.django_db
def test_a_user_made_admin_mid_session_cannot_skip_the_second_factor(client, staff_user):
    from django.contrib.auth.models import Group

    user = staff_user("CPSS")
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    user.groups.add(Group.objects.get(name="Admin"))
    for url in (reverse("dual-enrollment-report"), reverse("admin:index")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("two-factor"))


@pytest.mark.django_db
def test_the_demo_admin_signs_in_with_the_printed_two_factor_code(client, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    seeded = StringIO()
    call_command("seed_demo", stdout=seeded)
    password = next(
        line.split()[1] for line in seeded.getvalue().splitlines() if "demo-admin " in line
    )
    client.post(reverse("login"), {"username": "demo-admin", "password": password})
    code = StringIO()
    call_command("demo_totp_code", "demo-admin", stdout=code)
    client.post(reverse("two-factor"), {"token": code.getvalue().split()[0]})
    assert client.get(reverse("admin:index")).status_code == 200

"""Project-level guarantees: checks pass, migrations complete, set-up errors are one clear line."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cm_program.models import Enrollment
from identity.models import PatientCanonical

ROOT = Path(__file__).resolve().parent.parent


def test_system_check_is_clean():
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def _manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_malformed_database_url_fails_with_one_clear_line():
    result = _manage("check", DATABASE_URL="not-a-url")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DATABASE_URL must be a PostgreSQL URL with a database name: "
        "postgres://USER:PASSWORD@HOST:PORT/NAME."
    ]


def test_unreachable_database_fails_with_one_clear_line():
    result = _manage(
        "migrate", DATABASE_URL="postgres://cm:secret@127.0.0.1:9/cm", DATABASE_CONNECT_TIMEOUT="2"
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert lines[0].startswith("Cannot reach the database")
    assert "secret" not in result.stderr


def test_production_settings_refuse_to_start_without_secret_key():
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="cmproject.settings.production",
        DATABASE_URL="postgres://cm@127.0.0.1:9/cm",
        ALLOWED_HOSTS="cm.example.com",
        SECRET_KEY="",
    )
    assert result.returncode == 1
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert not PatientCanonical.objects.exists()


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    counts = (PatientCanonical.objects.count(), Enrollment.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (PatientCanonical.objects.count(), Enrollment.objects.count()) == counts
    assert counts[1] > 0


@pytest.mark.django_db
def test_seed_demo_includes_someone_enrolled_in_both_systems(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert PatientCanonical.objects.filter(
        intakeq_link__isnull=False, cm_record__isnull=False
    ).exists()


@pytest.mark.django_db
def test_printed_demo_login_signs_in(client, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    username, password = next(
        line.split()[:2] for line in out.getvalue().splitlines() if "demo-cpss " in line + " "
    )
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_without_database_url_or_pgserver_start_fails_with_what_to_set(monkeypatch, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from cmproject.embedded_postgres import embedded_database_settings

    monkeypatch.setitem(sys.modules, "pgserver", None)  # as on Python 3.13, where no wheel exists
    with pytest.raises(ImproperlyConfigured, match="set DATABASE_URL=postgres://"):
        embedded_database_settings(tmp_path / "pgdata")
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.django_db
def test_matcher_index_on_intakeq_patients_exists_where_the_table_is_ours():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'patients' "
            "AND indexname = 'patients_cm_date_of_birth_idx'"
        )
        assert cursor.fetchall() == [
            (
                "CREATE INDEX patients_cm_date_of_birth_idx ON public.patients "
                "USING btree (date_of_birth)",
            )
        ]


def test_production_never_alters_the_intakeq_patients_table():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CM_MANAGE_INTAKEQ_INDEX)",
        DJANGO_SETTINGS_MODULE="cmproject.settings.production",
        DATABASE_URL="postgres://cm@127.0.0.1:9/cm",
        ALLOWED_HOSTS="cm.example.com",
        SECRET_KEY="x" * 60,
    )
    assert result.stdout.strip().splitlines()[-1] == "False"

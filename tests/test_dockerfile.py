"""The Dockerfile's promises, read from its text (no Docker engine is needed to run these)."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def instructions():
    """[(INSTRUCTION, arguments)], continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def arguments_of(name):
    return [rest for instruction, rest in instructions() if instruction == name]


def test_the_image_is_python_312_slim():
    assert arguments_of("FROM") == ["python:3.12-slim"]


def test_the_site_runs_as_a_user_other_than_root():
    users = arguments_of("USER")
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_project_is_installed_without_edit_mode_or_dev_extra():
    installs = [run for run in arguments_of("RUN") if "pip install" in run]
    assert len(installs) == 1
    words = shlex.split(installs[0])
    assert "-e" not in words and "--editable" not in words
    assert not re.search(r"\[[^]]*dev", installs[0])


def test_manage_py_and_gunicorn_run_on_the_production_settings_in_the_image():
    assert any(
        "DJANGO_SETTINGS_MODULE=cmproject.settings.production" in env for env in arguments_of("ENV")
    )


def test_static_files_are_collected_at_build():
    collects = [run for run in arguments_of("RUN") if "collectstatic" in run]
    assert len(collects) == 1
    assert "manage.py collectstatic --no-input" in collects[0]


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_the_build_only_values_are_not_kept_in_the_image(name):
    assert not any(name in env for env in arguments_of("ENV") + arguments_of("ARG"))


def test_gunicorn_serves_the_wsgi_application_on_port_and_workers_from_the_environment():
    (command,) = arguments_of("CMD")
    assert command.startswith("exec gunicorn cmproject.wsgi:application")
    assert '--bind "0.0.0.0:${PORT}"' in command
    assert '--workers "${WEB_CONCURRENCY}"' in command


def test_the_container_health_check_probes_healthz():
    (check,) = arguments_of("HEALTHCHECK")
    assert check.endswith('CMD ["python", "-m", "cmproject.health"]')


@pytest.mark.parametrize("path", ["var/", ".venv/", ".git/", ".env", "bench/results/", "reports/"])
def test_local_state_and_secrets_stay_out_of_the_build_context(path):
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert path in ignored

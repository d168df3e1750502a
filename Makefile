# Two commands do all the set-up: `make demo` and `make test`. Only Python >= 3.11 and make are needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST_PORT ?= 127.0.0.1:8000
WEB_CONCURRENCY ?= 2

.PHONY: install test lint format demo serve-demo serve check clean-db chromium screenshots

$(PY):
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is needed (found %d.%d): set PYTHON=python3.11." % sys.version_info[:2]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

install: $(INSTALLED)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

test: lint chromium
	$(PY) -m pytest

# The browser test drives Debian's chromium. Install it when missing and we can (root + apt-get);
# otherwise the test skips and says why. Never fails the build; `make demo` does not use it.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing chromium for the browser test (apt-get, quiet)..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
			|| echo "Could not install chromium: the browser test will be skipped."; \
	fi

# Each role's home at desktop and phone width into docs/screenshots/ (made-up people; chromium).
screenshots: install chromium
	SCREENSHOTS=1 $(PY) -m pytest -q -rs tests/test_screenshots.py

# One demo per checkout: a second `make demo` while one runs stops with one line, touching nothing.
# The lock is held on a descriptor and each shell gives way to the next command (exec), so the
# server is make's own child: a SIGTERM to `make demo` reaches it (make passes SIGTERM on to its
# children) and it stops the embedded database as it exits, as it does on Ctrl-C.
demo: install
	@mkdir -p var
	@exec 9>>var/demo.lock; \
	if ! flock --nonblock 9; then \
		echo "make demo is already running in this checkout; stop it (Ctrl-C) first." >&2; exit 75; \
	fi; \
	exec $(MAKE) --no-print-directory serve-demo

serve-demo: export DEBUG := true
serve-demo:
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST_PORT)/ (Ctrl-C stops)"
	$(PY) manage.py runserver --noreload $(HOST_PORT)

# The production path on this machine: DEBUG off, collected static files, gunicorn. The settings
# differ from production where plain HTTP and the embedded database require (docs/deployment.md).
serve: export DJANGO_SETTINGS_MODULE := cmproject.settings.serve
serve: install
	@mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@echo "Serving on http://$(HOST_PORT)/ with DEBUG off (Ctrl-C stops)"
	$(PY) -m gunicorn cmproject.wsgi:application --bind $(HOST_PORT) --workers $(WEB_CONCURRENCY)

clean-db:
	rm -rf var/pgdata

# Clinic-scale benchmark in its own database (cm_bench_<size>, dropped at the end); see docs/benchmark.md.
.PHONY: bench
SIZE ?= default
bench: install
	$(PY) -m bench --size $(SIZE)

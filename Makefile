# Two commands do all the set-up: `make demo` and `make test`. Only Python >= 3.11 and make are needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST_PORT ?= 127.0.0.1:8000

.PHONY: install test lint format demo serve-demo check clean-db bench

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

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

test: lint
	$(PY) -m pytest

# One demo per checkout: a second `make demo` while one runs stops with one line, touching nothing.
demo: install
	@mkdir -p var
	@flock --nonblock --conflict-exit-code 75 var/demo.lock $(MAKE) --no-print-directory serve-demo; \
	status=$$?; \
	if [ $$status -eq 75 ]; then echo "make demo is already running in this checkout; stop it (Ctrl-C) first." >&2; fi; \
	exit $$status

serve-demo:
	DEBUG=true $(PY) manage.py migrate --no-input
	DEBUG=true $(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST_PORT)/ (Ctrl-C stops)"
	DEBUG=true $(PY) manage.py runserver --noreload $(HOST_PORT)

clean-db:
	rm -rf var/pgdata

# Clinic-scale benchmark in its own database (cm_bench_<size>, dropped at the end); see README.
SIZE ?= default
bench: install
	$(PY) -m bench --size $(SIZE)

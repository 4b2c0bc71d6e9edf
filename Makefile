# The two commands: `make run` (a running system with demo data) and `make test` (the whole suite).
# Python 3.11 (pyproject.toml): PYTHON=python3.11 when `python3` is another version.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# make run PORT=8001 when 8000 is taken
PORT ?= 8000
# make test PYTEST_ARGS="households/tests/test_demo.py -x" for part of the suite
PYTEST_ARGS ?=
# The suite runs on one worker per core (pytest-xdist, each on its own test database); TEST_WORKERS=0 for one process
TEST_WORKERS ?= auto
# uv (from PyPI, into the virtualenv) installs the pinned requirements in about a fifth of pip's time on a fresh
# machine (README, "The two commands"); INSTALLER=pip uses pip alone.
INSTALLER ?= uv
UV_VERSION := 0.13.9
IS_PYTHON_311 := import sys; sys.exit(sys.version_info[:2] != (3, 11))

.PHONY: run test install check-python lint format messages check-deploy clean bench bench-import backup restore

# One line, not a traceback, when the wrong Python would build (or built) the virtualenv.
check-python:
	@if [ -x $(PY) ]; then \
		$(PY) -c "$(IS_PYTHON_311)" || { echo "This project needs Python 3.11: $(VENV) has $$($(PY) --version 2>&1); make clean, then set PYTHON=python3.11"; exit 1; }; \
	else \
		$(PYTHON) -c "$(IS_PYTHON_311)" 2>/dev/null || { echo "This project needs Python 3.11: set PYTHON=python3.11 ($(PYTHON) is $$($(PYTHON) --version 2>/dev/null || echo missing))"; exit 1; }; \
	fi

# Development installs requirements-dev.txt (the runtime's requirements.txt and the test and lint tooling); a server
# installs requirements.txt alone (docs/deployment.md).
$(STAMP): requirements.txt requirements-dev.txt | check-python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
ifeq ($(INSTALLER),pip)
	$(PY) -m pip install --quiet -r requirements-dev.txt
else
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements-dev.txt
endif
	touch $(STAMP)

# Front-end packages (Bootstrap, its icons; axe-core for the accessibility checks) from the npm registry, pinned by
# package-lock.json and served from our own static files: the bureau's intranet has no CDN.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "This project needs Node.js with npm for its front-end packages (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# Placard QR codes point at the port the demo is served on (unless PUBLIC_BASE_URL is set).
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Needs GNU gettext (apt-get install gettext); the compiled .mo files are committed for machines without it.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# The province-scale benchmark (reporting/bench): a fresh PostgreSQL database grown to 20,000 then 500,000 households,
# one JSON line per metric with our figure, the baseline measured in the same run and the ratio. Needs PostgreSQL and
# wrk (apt-get install wrk); about 15 minutes. BENCH_HOUSEHOLDS=100000 for a shorter run.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_HOUSEHOLDS ?= 500000
bench: install
	@psql "$(BENCH_PG)/postgres" -tAc "SELECT 1" >/dev/null 2>&1 \
		|| { echo "make bench needs PostgreSQL at $(BENCH_PG) (set BENCH_PG=postgres://user@host:port)"; exit 1; }
	@command -v wrk >/dev/null || { echo "make bench needs wrk for the HTTP metric (apt-get install wrk)"; exit 1; }
	psql "$(BENCH_PG)/postgres" -qc "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
	DATABASE_URL=$(BENCH_PG)/bench $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_PG)/bench EMAIL_URL=dummymail:// $(PY) manage.py seed_demo >/dev/null
	DATABASE_URL=$(BENCH_PG)/bench EMAIL_URL=dummymail:// $(PY) manage.py bench --households $(BENCH_HOUSEHOLDS)

# Department list import vs django-import-export vs COPY, and peak memory (PostgreSQL; see households/management/
# commands/bench_import.py). BENCH_DATABASE_URL defaults to a local database it creates.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench_import
bench-import: install
	psql "$(BENCH_DATABASE_URL:/bench_import=/postgres)" -tAc "SELECT 1 FROM pg_database WHERE datname='bench_import'" | grep -q 1 \
		|| psql "$(BENCH_DATABASE_URL:/bench_import=/postgres)" -c "CREATE DATABASE bench_import"
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) EMAIL_URL=dummymail:// $(PY) manage.py bench_import

# Backups of the PostgreSQL production setup (docs/deployment.md): the database (pg_dump) and MEDIA_ROOT (tar) into
# BACKUP_DIR/<timestamp>/ (default ./backups). Restore into a new, empty database and media folder; it checks itself:
#   make restore BACKUP=backups/20261130-021500 TARGET_DATABASE_URL=postgres://user@host:5432/new TARGET_MEDIA_ROOT=/srv/new
backup: install
	$(PY) manage.py backup

restore: install
	@test -n "$(BACKUP)" -a -n "$(TARGET_DATABASE_URL)" -a -n "$(TARGET_MEDIA_ROOT)" \
		|| { echo "usage: make restore BACKUP=backups/<timestamp> TARGET_DATABASE_URL=postgres://… TARGET_MEDIA_ROOT=/path"; exit 2; }
	$(PY) manage.py restore "$(BACKUP)" --database-url "$(TARGET_DATABASE_URL)" --media-root "$(TARGET_MEDIA_ROOT)"

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles tmp-mail

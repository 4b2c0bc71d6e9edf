# The two commands: `make run` (a running system with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint format messages check-deploy clean bench bench-import backup restore

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest

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
	rm -rf $(VENV) db.sqlite3 staticfiles

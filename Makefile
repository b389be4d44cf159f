# GridGov: `make run` (set up, then start web + worker + beat), `make test`, `make lint`.
# Needs Python 3.11 and Node.js/npm; `make test` also needs Chromium (/usr/bin/chromium) and
# GNU gettext (xgettext) for the browser and translation tests. See README.md.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The whole suite; `make test PYTEST_ARGS="-x accounts"` narrows it.
PYTEST_ARGS ?=
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help run setup start venv assets translations messages migrate demo test test-serial \
	lint lint-arch audit format clean distclean

help:
	@echo "make run         set up (venv, assets, translations, database, demo city) and start"
	@echo "make setup       only the set-up part of make run (idempotent)"
	@echo "make start       start web (http://127.0.0.1:$(PORT)/), Celery worker and beat"
	@echo "make test        the whole test suite ($(TEST_WORKERS) processes; make test-serial: one)"
	@echo "make lint        ruff, import layers and circles, mypy"
	@echo "make lint-arch   import layers (import-linter), import circles, mypy (docs/architecture.md)"
	@echo "make audit       bandit (code) + pip-audit (pinned dependencies)"
	@echo "make messages    regenerate the top-level catalogue locale/ (templates/)"
	@echo "make clean       remove the local database, queue, cache, media and compiled files"

run: setup start

setup: venv assets translations migrate demo

start: venv
	PORT=$(PORT) $(PY) scripts/run_all.py

# --- set-up steps (each one is cheap when already done) ------------------------------------------

venv: $(VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund

static/vendor/.vendored: node_modules/.package-lock.json scripts/vendor_assets.sh
	bash scripts/vendor_assets.sh
	touch $@

assets: static/vendor/.vendored

translations: venv
	$(PY) manage.py compiletranslations

migrate: venv
	$(PY) manage.py migrate --noinput

demo: venv
	$(PY) manage.py load_demo_city

# Apps keep their own catalogues: cd <app> && ../.venv/bin/python ../manage.py makemessages ...
# This regenerates only the top-level one (templates/): every other top-level folder is ignored.
messages: venv
	$(PY) manage.py makemessages --locale=zh_Hans --no-obsolete \
		$(foreach dir,$(filter-out templates/ locale/,$(wildcard */)),--ignore=$(patsubst %/,%,$(dir)))

# --- checks ----------------------------------------------------------------------------------------

test: venv assets translations
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-serial: venv assets translations
	$(VENV)/bin/pytest -p no:xdist $(PYTEST_ARGS)

# ruff, then the architecture (docs/architecture.md, "Layers"): import-linter's layers contract,
# no import circles but services ⇄ tasks (tests/test_import_layers.py), mypy over services,
# selectors and tasks (pyproject.toml: [tool.importlinter], [tool.mypy]).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest -p no:xdist -q tests/test_import_layers.py
	$(VENV)/bin/mypy

# The architecture checks alone.
lint-arch: venv
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest -p no:xdist -q tests/test_import_layers.py
	$(VENV)/bin/mypy

# bandit over the project's Python + pip-audit over the pinned requirements (scripts/audit.sh;
# pip-audit needs PyPI's JSON API: AUDIT_ALLOW_UNAUDITED=1 accepts a machine that cannot reach it).
audit: venv
	VENV=$(VENV) bash scripts/audit.sh

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# --- cleaning ---------------------------------------------------------------------------------------

clean:
	rm -rf var/gridgov.sqlite3 var/gridgov.sqlite3-wal var/gridgov.sqlite3-shm var/cache \
		var/celery var/celerybeat-schedule* var/media var/sms.log var/demo_banner.txt staticfiles
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		\( -name '*.mo' -o -name __pycache__ \) -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) node_modules static/vendor .ruff_cache

# --- benchmarks (bench/README.md, docs/performance.md) ----------------------------------------------
# Throwaway PostgreSQL + Redis, a seeded city, gunicorn + a Celery worker, load from another
# process; writes bench/results/latest.json. bench: 1,000,000 incidents (< 25 min);
# bench-quick: a data set 10x smaller (< 5 min).
.PHONY: bench bench-quick
bench: venv assets translations
	bash bench/run.sh full

bench-quick: venv assets translations
	bash bench/run.sh quick

# --- faults (docs/reliability.md "Faults") -----------------------------------------------------------
# Throwaway PostgreSQL (:55443) + Redis (:56443) + gunicorn (:58443) + a real Celery worker and
# beat; Redis stopped, workers SIGKILLed, Redis flushed, PostgreSQL restarted under load; then
# the schemathesis and access-matrix tests. Writes bench/results/reliability.json (< 15 min).
.PHONY: chaos
chaos: venv assets translations
	bash bench/chaos.sh

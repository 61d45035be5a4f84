# vocsite — every set-up step lives here, so a fresh machine needs only these targets.
#   make run    embedded default: SQLite, in-process tasks, demo data, server on :8000
#   make test   installs what the tests need (venv, packages, Redis, PostgreSQL, Chromium), runs all
#   make up     full mode, durable: PostgreSQL (fsync) + Redis (AOF) under var/, gunicorn, a Celery
#               worker per queue group and beat (make down stops them all)
#   make bench  benchmarks in full mode, figures beside same-run baselines

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in e-mails and the demo's allowed origins follow the port `make run` serves on.
VOCSITE_BASE_URL ?= http://$(HOST):$(PORT)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint messages unit unit-postgres integration up down bench assets services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	VOCSITE_BASE_URL=$(VOCSITE_BASE_URL) $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  vocsite is running at http://$(HOST):$(PORT)/"
	@echo "    demo shop with the widget:  http://$(HOST):$(PORT)/demo/"
	@echo "    staff UI:                   http://$(HOST):$(PORT)/app/   (login admin / vocsite-demo)"
	@echo "    API docs:                   http://$(HOST):$(PORT)/api/docs/"
	@echo ""
	VOCSITE_BASE_URL=$(VOCSITE_BASE_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT) --noreload

# Front-end builds need Node and npm (the machine's Node 20); their outputs are committed, so
# `make run` works with Python alone. `make test` rebuilds them and checks the widget's size.
assets:
	cd widget && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent

services:
	scripts/services.sh start

# Style, then the architecture: the apps' dependency order and no cycles (.importlinter).
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Translations (needs GNU gettext): collect every marked text into locale/*/django.po, keeping
# the translations made; translate the new entries, then compile the .mo files that are committed.
messages: $(VENV)/.runtime-installed
	$(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore '.venv'

unit: $(VENV)/.dev-installed
	$(BIN)/pytest -m "not integration" -p no:cacheprovider

# Redis database 1, so a full mode running beside the tests (database 0) never takes their tasks.
integration: $(VENV)/.dev-installed services
	env $$(scripts/services.sh env | sed 's|^REDIS_URL=\(.*\)/0$$|REDIS_URL=\1/1|' | xargs) \
		$(BIN)/pytest -m integration -p no:cacheprovider

# The unit suite (fuzzing included) again on PostgreSQL: SQLite ignores FOR UPDATE, stores
# NUL characters and much else, and four PostgreSQL-only defects were found this way. The
# browser tests run on SQLite only, in `unit`.
unit-postgres: $(VENV)/.dev-installed services
	env $$(scripts/services.sh env | sed 's|^REDIS_URL=\(.*\)/0$$|REDIS_URL=\1/1|' | xargs) \
		$(BIN)/pytest -m "not integration" -p no:cacheprovider --ignore=tests/browser

# The SQLite and PostgreSQL runs share nothing (a file database, a PostgreSQL test database),
# so they run side by side, one per core; each one's output is printed whole when it ends.
test: $(VENV)/.dev-installed
	scripts/services.sh install
	$(MAKE) assets
	$(MAKE) lint
	DJANGO_SETTINGS_MODULE=vocsite.settings.test $(BIN)/python manage.py sentiment_eval
	$(MAKE) -j2 --output-sync=target unit unit-postgres
	$(MAKE) integration

up: $(VENV)/.runtime-installed
	scripts/fullmode.sh up

down:
	scripts/fullmode.sh down

bench: $(VENV)/.dev-installed
	BENCH="$(BENCH)" scripts/bench.sh

clean:
	rm -rf $(VENV) var staticfiles widget/node_modules frontend/node_modules

# Two commands: `make run` (demo on SQLite, or on DATABASE_URL / REDIS_URL when set) and
# `make test` (the whole suite on the machine's PostgreSQL and Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test chaos deps lint format messages demo clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Development secrets, made once per checkout and never committed; readable by the owner only
# (0600: the phone keys are in it). The umask covers the moment before the script's chmod.
.env:
	@umask 077 && $(PYTHON) scripts/write_env.py $@

# The compiled catalogue is committed; it is rebuilt when the .po is newer and gettext is there.
locale/en/LC_MESSAGES/django.mo: locale/en/LC_MESSAGES/django.po locale/zh_Hans/LC_MESSAGES/django.po | $(VENV)/.installed .env
	@if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages -v0 -l en -l zh_Hans --ignore=.venv --ignore=node_modules; \
	else echo "gettext is not installed: using the committed English catalogue"; touch $@; fi

deps: $(VENV)/.installed node_modules/.installed .env locale/en/LC_MESSAGES/django.mo

run: deps
	$(PY) scripts/ensure_database.py
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py load_demo
	@echo ""
	@echo "  民意感知中心 is at http://127.0.0.1:$(PORT)/"
	@echo "  demo logins (password demo12345): center, handler, leader, handler2, room1, room2, supervisor, admin"
	@echo "  SMS simulator (log in as admin): http://127.0.0.1:$(PORT)/sms/simulator/   API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	@# The demo asks "which aspect" after a 2 or 3 reply (off by default in production).
	PORT=$(PORT) SURVEYS_FOLLOW_UP=$${SURVEYS_FOLLOW_UP:-1} $(VENV)/bin/honcho -f Procfile.dev start

test: deps
	bash scripts/test.sh

# The fault scenarios (docs/reliability.md): real gunicorn, Celery and Redis killed on purpose. Slow.
chaos: deps
	bash chaos/run.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages:
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=node_modules
	$(PY) manage.py compilemessages -l en -l zh_Hans --ignore=.venv --ignore=node_modules

clean:
	rm -rf var/broker var/cache

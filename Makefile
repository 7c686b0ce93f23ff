# Targets named in README.md. `make run` and `make test` are the two commands
# a newcomer needs; the others are their parts.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv install install-dev browser migrate demo serve lint format messages check-migrations collectstatic clean prod load

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

## Load demo data only when the database has no users yet.
demo: migrate
	$(PY) manage.py seed_demo --if-empty

## Run the app on SQLite with demo data: http://127.0.0.1:8000
run: demo
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

## The browser tests drive Debian's Chromium: install it when it is missing
## (apt as root, sudo otherwise), as .ci/run does.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "Installing Chromium for the browser tests (apt-get install chromium)..."; \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM), and it could not be installed:"; \
	    echo "this is not root and sudo is not available without a password. Install it with"; \
	    echo "  sudo apt-get install -y --no-install-recommends chromium"; \
	    echo "and run make test again."; \
	    exit 1; \
	  fi; \
	  [ -x "$(CHROMIUM)" ] || { echo "apt-get ran, but $(CHROMIUM) is still missing."; exit 1; }; \
	fi

## Lint, check migrations, then the whole test suite.
test: install-dev browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy outreach encounters networks reports config
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy outreach encounters networks reports config

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Regenerate and compile the fi, sv and en catalogues.
messages: install
	$(PY) manage.py makemessages -l fi -l sv -l en --no-location --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'node_modules/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

## The production stack on loopback: gunicorn, PostgreSQL, Redis, DEBUG off
## (scripts/prod; PORT=… to change the port, default 8080).
prod:
	scripts/prod

## The load test against `make prod` (benchmarks/load.py; LOAD_ARGS="--mode open --rate 50" etc.).
LOAD_ARGS ?=
load: install
	eval "$$(scripts/prod --env)" && $(PY) benchmarks/load.py --pidfile "$$GUNICORN_PIDFILE" $(LOAD_ARGS)

collectstatic: install
	$(PY) manage.py collectstatic --noinput

clean:
	rm -rf $(VENV) staticfiles test-artifacts

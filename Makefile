# Targets named in README.md. `make run` and `make test` are the two commands
# a newcomer needs; the others are their parts.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv install install-dev migrate demo serve lint format messages check-migrations collectstatic clean

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

## Lint, check migrations, then the whole test suite.
test: install-dev
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

collectstatic: install
	$(PY) manage.py collectstatic --noinput

clean:
	rm -rf $(VENV) staticfiles test-artifacts

# surveyapp: `make run` serves the app with demo data, `make test` runs every check.
# GNU make; everything runs from the project's own virtualenv in .venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Keyed on the content of pyproject.toml: changed dependencies reinstall, nothing else does.
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
INSTANCE := $(CURDIR)/instance
SURVEYAPP := SURVEYAPP_INSTANCE_PATH=$(INSTANCE) $(BIN)/surveyapp
PYTEST_WORKERS ?= 2
# axe-core, from the npm registry, which the browser tests inject into pages.
AXE_VERSION := 4.14.1
AXE_STAMP := .cache/axe/.installed-$(AXE_VERSION)
# Message catalogues of the web pages (docs/i18n.md).
TRANSLATIONS := surveyapp/translations
POT := .cache/messages.pot

# Debian packages the tests need: the browser, PDF tools, PostgreSQL, Redis (rate limits
# shared by processes), WeasyPrint's libraries.
SYSTEM_PACKAGES := chromium poppler-utils postgresql redis-server fonts-dejavu-core \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

.PHONY: help venv install system-packages axe translations run test lint bench soak clean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

$(BIN)/python:
	@# Debian ships venv support separately (python3-venv); install it if venv fails.
	$(PYTHON) -m venv $(VENV) || { \
		rm -rf $(VENV) && \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv && \
		$(PYTHON) -m venv $(VENV); }

# The build requirements go into .venv too (read from pyproject.toml), so that installs and
# the packaging test build offline, without an isolated build environment.
$(STAMP): $(BIN)/python
	$(BIN)/python -m pip install --quiet $$($(BIN)/python -c 'import tomllib; \
		print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))')
	$(BIN)/python -m pip install --quiet --no-build-isolation -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)  ## Create .venv if missing and install the project with its test tools.
install: $(STAMP)  ## Same as venv.

system-packages:  ## apt-get install the Debian packages the tests need, only if missing.
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
		dpkg -s $$package 2>/dev/null | grep -q '^Status: install ok installed' \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "Missing Debian packages:$$missing. As root, run: apt-get install -y$$missing"; \
			exit 1; \
		fi; \
		echo "Installing Debian packages:$$missing"; \
		apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

$(AXE_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed to install axe-core for the browser tests"; exit 1; }
	rm -rf .cache/axe
	npm install --prefix .cache/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	touch $@

axe: $(AXE_STAMP)  ## Install axe-core (npm) for the accessibility checks, only if missing.

translations: $(STAMP)  ## Extract the page text, update the catalogues, compile them (docs/i18n.md).
	@mkdir -p .cache
	$(BIN)/pybabel extract -F babel.cfg -k _l --sort-output --add-location=file --no-wrap \
		--project=surveyapp -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete \
		--no-wrap
	@# Dates in the headers would make every run change every catalogue, and conflict in merges.
	sed -i -e '/^"POT-Creation-Date: /d' -e '/^"PO-Revision-Date: /d' \
		$(TRANSLATIONS)/*/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

$(INSTANCE)/config.py:
	@# A random secret key for this machine, made once: the app refuses to run without one.
	mkdir -p $(INSTANCE)
	(umask 077 && $(BIN)/python -c \
		'import secrets; print(f"SECRET_KEY = {secrets.token_hex(32)!r}")' > $@)

run: $(STAMP) $(INSTANCE)/config.py  ## Set up the database and demo data, serve on 127.0.0.1:5000.
	$(SURVEYAPP) init
	$(SURVEYAPP) demo
	$(SURVEYAPP) serve --host 127.0.0.1 --port 5000

lint: $(STAMP)  ## ruff and the import layers.
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(STAMP) system-packages axe lint  ## Lint, packaging test, then every test on SQLite and PostgreSQL.
	$(BIN)/pytest tests/test_packaging.py
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=tests/test_packaging.py

bench: $(STAMP)  ## Run the benchmarks in bench/.
	@if [ -f bench/__main__.py ]; then $(BIN)/python -m bench; else echo "no benchmarks yet"; fi

soak: $(STAMP) system-packages  ## 50 users for 60 s on gunicorn, SQLite then PostgreSQL (about 5 min).
	SURVEYAPP_SOAK=1 $(BIN)/pytest tests/ops/test_load.py -k soak -s -p no:cacheprovider

clean:  ## Remove build outputs and caches (keeps .venv and instance/).
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

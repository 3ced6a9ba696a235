# Headway: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit check bench install web browser clean stack-up stack-down

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) web

web: web/dist/index.html

web/dist/index.html: $(shell find web/src web/public -type f 2>/dev/null) web/package.json web/package-lock.json web/index.html web/vite.config.ts
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

browser:
	scripts/install-browser

demo: install
	$(BIN)/headway demo

test: install browser
	scripts/stack up
	$(BIN)/python -m pytest -q

# The stack profile's services on loopback (docs/stack.md): PostgreSQL + PostGIS, Redis,
# Mosquitto, Kafka. `make test` brings them up; they keep running until stack-down.
stack-up:
	scripts/stack up

stack-down:
	scripts/stack down

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	-scripts/stack down
	rm -rf $(VENV) web/node_modules web/dist var

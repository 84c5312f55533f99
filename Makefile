# PowerPact: `make demo` to try it, `make test` to check it. CI runs `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
REDIS_HOST ?= 127.0.0.1
REDIS_PORT ?= 6379
DEMO_PORT ?= 5000
SANDBOX_PORT ?= 8765

.PHONY: help demo test check lint format services check-services clean bench chromium wrk reliability

help:
	@echo "make demo   - install and serve PowerPact locally (SQLite, no servers needed)"
	@echo "make test   - install test dependencies and run the whole suite (PostgreSQL + Redis)"
	@echo "make test T=tests/orders - only those tests"
	@echo "make check  - lint and the unit tests, for the inner loop (about a minute)"
	@echo "make lint   - ruff check and format check, then mypy (strict for the core packages)"
	@echo "make bench  - every benchmark (import, inventory, orders, pages, intake, storm) in one table"
	@echo "make reliability - the reliability suite at full size (real PostgreSQL, Redis, gunicorn, Huey)"

$(BIN)/activate: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is needed (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

demo: $(BIN)/activate
	env -u DATABASE_URL -u REDIS_URL $(BIN)/flask --app wsgi demo --port $(DEMO_PORT) --sandbox-port $(SANDBOX_PORT)

check-services:
	@ok=1; \
	if ! (exec 3<>/dev/tcp/$(PG_HOST)/$(PG_PORT)) 2>/dev/null; then ok=0; \
	  echo "PostgreSQL does not answer on $(PG_HOST):$(PG_PORT)."; \
	  echo "  start it with: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; fi; \
	if ! (exec 3<>/dev/tcp/$(REDIS_HOST)/$(REDIS_PORT)) 2>/dev/null; then ok=0; \
	  echo "Redis does not answer on $(REDIS_HOST):$(REDIS_PORT)."; \
	  echo "  start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"; fi; \
	[ $$ok = 1 ] || exit 1

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's Chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

# The load generator for `bench intake`, from Debian's packages (never a downloaded binary).
wrk:
	@if ! command -v wrk >/dev/null; then \
	  echo "installing Debian's wrk for the intake benchmark"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; \
	fi

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/activate
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Coverage floors: the product alone, and the proving tools (sandbox, benchmarks,
# reliability harness, demo) apart, so the product's figure means what it says.
PROVING_TOOLS := */powerpact/sandbox/*,*/powerpact/bench/*,*/powerpact/reliability/*,*/powerpact/demo.py
PRODUCT_FLOOR := 85
TOOLS_FLOOR := 80

# `make test` is what CI runs; `make test T=tests/orders` runs a subset (no coverage floors).
test: $(BIN)/activate check-services chromium wrk lint
ifeq ($(strip $(T)),)
	$(BIN)/pytest --cov=powerpact --cov-report= -p no:cacheprovider
	@echo "coverage of the product (floor $(PRODUCT_FLOOR)%):"
	$(BIN)/coverage report --omit='$(PROVING_TOOLS)' --fail-under=$(PRODUCT_FLOOR)
	@echo "coverage of the proving tools (floor $(TOOLS_FLOOR)%):"
	$(BIN)/coverage report --include='$(PROVING_TOOLS)' --fail-under=$(TOOLS_FLOOR)
else
	$(BIN)/pytest -p no:cacheprovider $(T)
endif

# The inner loop: lint, then every test but the end-to-end, browser, reliability and
# benchmark ones, spread over the cores (pytest-xdist; each worker makes its own database):
# about 1,260 tests in 52 s on two cores, against 98 s in one process.
UNIT_TESTS := --ignore=tests/e2e --ignore=tests/browser --ignore=tests/reliability --ignore=tests/bench
check: $(BIN)/activate check-services lint
	$(BIN)/pytest -p no:cacheprovider -q -n auto $(UNIT_TESTS)

# Full size; `make test` runs the same scenarios bounded (tests/reliability). Needs only
# PostgreSQL: it starts its own redis-server, gunicorn, Huey consumers and sandbox.
reliability: $(BIN)/activate
	$(BIN)/flask --app wsgi reliability --full --logs artifacts/reliability-logs

# Every benchmark at its issue's size, then one Markdown table. Not run here (~17 min):
# $(BIN)/flask --app wsgi bench inventory --partners 200 --variants 500 --workers 4
bench: $(BIN)/activate check-services wrk
	$(BIN)/flask --app wsgi bench all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage htmlcov

# The two commands of the README, and what they need.
#   make run    serve the demo community on SQLite at 127.0.0.1:$(PORT)
#   make test   lint, then the whole suite against SQLite and a throwaway PostgreSQL,
#               the portal's pages in a headless Chromium (installed if missing)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DB ?= sqlite:///data/gongkai.sqlite3

.PHONY: run test lint install bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The demo writes data/demo-accounts.txt last, once the ledger, the read models and the
# accounts are all set up; a data/ from before (without it) is set up again, safely.
run: install
	@test -f data/demo-accounts.txt || $(BIN)/gongkai demo --db $(DB)
	$(BIN)/gongkai serve --db $(DB) --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint
	.ci/ensure-chromium && .ci/with-postgres $(BIN)/python -m pytest

bench: install
	GONGKAI_PG_DURABLE=1 .ci/with-postgres $(BIN)/python bench/bench_ledger.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

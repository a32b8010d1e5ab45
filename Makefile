# RepairHub — the verbs a newcomer needs. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := repairhub/static/vendor/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-fast lint format bench setup clean messages

setup: $(STAMP) $(VENDOR)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "RepairHub needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(VENDOR): package.json package-lock.json scripts/vendor.sh
	bash scripts/vendor.sh

run: setup
	HOST=$(HOST) PORT=$(PORT) $(BIN)/repairhub serve --demo

test: setup
	bash scripts/ensure-test-tools.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup
	bash scripts/ensure-test-tools.sh
	$(BIN)/python -m pytest -q -m "not browser" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/intake.py

# Source strings are Simplified Chinese; this refreshes and compiles the English catalogue.
messages: setup
	$(BIN)/repairhub makemessages -l en --no-obsolete --ignore=.venv --ignore=node_modules --ignore=bench --ignore=staticfiles
	$(BIN)/repairhub compilemessages -l en --ignore=.venv

clean:
	rm -rf $(VENV) node_modules repairhub/static/vendor staticfiles

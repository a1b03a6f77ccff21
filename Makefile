# Two commands: `make demo` and `make test`. Each sets up everything it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CUSTOMERS ?= 2000
SEED ?= 7
PORT ?= 8000
DEMO_DIR ?= demo-workspace
PYTEST_ARGS ?= -n 2

.PHONY: demo test setup system lint typecheck unit bench clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cxlens needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/.installed

system:
	bash scripts/ensure-system-packages.sh postgresql chromium

demo: setup
	mkdir -p $(DEMO_DIR)
	$(BIN)/cxlens demo --workspace $(DEMO_DIR) --customers $(CUSTOMERS) --seed $(SEED) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup system
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck unit

bench: setup
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache

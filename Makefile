# Two commands for a fresh machine with Python 3.11+ and make: `make run` and `make test`.
# `make bench` measures the API and regenerates docs/benchmarks.md (under 15 minutes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench lint schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "La Factoria needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## Start the API on the embedded default (SQLite in ./.lafactoria)
	$(BIN)/lafactoria serve

test: $(STAMP)  ## Run the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP)  ## Benchmark the real server and regenerate docs/benchmarks.md
	$(BIN)/python -m bench

lint: $(STAMP)  ## Lint, format check and strict type check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src bench

schema: $(STAMP)  ## Regenerate schema.graphql from the code
	$(BIN)/lafactoria export-schema --output schema.graphql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

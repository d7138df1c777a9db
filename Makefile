# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv from constraints.txt on first use and reuses it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-all lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,plots,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

test: $(STAMP)
	$(BIN)/python -m pytest

# Include the slow SVI / NUTS tests.
test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check bayesreg tests examples benchmarks
	$(BIN)/ruff format --check bayesreg tests examples benchmarks

format: $(STAMP)
	$(BIN)/ruff format bayesreg tests examples benchmarks
	$(BIN)/ruff check --fix bayesreg tests examples benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_linear.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

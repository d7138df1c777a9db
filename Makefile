# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv from constraints.txt on first use and reuses it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-all docs lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,plots,docs,dask,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

test: $(STAMP)
	$(BIN)/python -m pytest

# Include the slow SVI / NUTS tests.
test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow"

# HTML docs with the example gallery; any Sphinx warning fails the build.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check bayesreg tests examples benchmarks docs
	$(BIN)/ruff format --check bayesreg tests examples benchmarks docs

format: $(STAMP)
	$(BIN)/ruff format bayesreg tests examples benchmarks docs
	$(BIN)/ruff check --fix bayesreg tests examples benchmarks docs

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_linear.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis docs/_build docs/generated docs/auto_examples

# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv from constraints.txt on first use and reuses it afterwards.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-all docs lint format bench mutation clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,plots,docs,dask,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

# Two worker processes: the default run takes about 8 CPU-minutes, and CI
# has 2 cores and a 10-minute budget for it.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

# Include the slow SVI / NUTS tests.
test-all: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "slow or not slow"

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

# Mutation testing of the pure numerics with mutmut (slow; not in CI). It runs
# in a private copy of the committed tree, never in this one, and ends with
# the score and the surviving mutants. Narrow it, for example:
#   make mutation MUTATE=bayesreg/_resolve.py \
#     MUTATION_TESTS="tests/test_resolve.py tests/test_transformed_target.py"
# dask runs synchronously and joblib without processes under mutmut: in its
# forked children dask's threads deadlocked (counted as timeouts, i.e. as
# detected) and mutmut's os.wait() reaped joblib's workers.
MUTMUT         := mutmut==3.8.1
MUTATION_DIR   ?= /tmp/bayesreg-mutation
MUTATE         ?=
MUTATION_TESTS ?=
MUTATION_JOBS  ?= 2

mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet "$(MUTMUT)"
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	git archive HEAD | tar -x -C $(MUTATION_DIR)
	cd $(MUTATION_DIR) && MUTATE="$(MUTATE)" MUTATION_TESTS="$(MUTATION_TESTS)" \
		$(abspath $(BIN))/python benchmarks/mutation.py
	cd $(MUTATION_DIR) && DASK_SCHEDULER=synchronous JOBLIB_MULTIPROCESSING=0 \
		$(abspath $(BIN))/mutmut run --max-children $(MUTATION_JOBS) || true
	cd $(MUTATION_DIR) && $(abspath $(BIN))/mutmut export-cicd-stats \
		&& $(abspath $(BIN))/python benchmarks/mutation.py --report

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis docs/_build docs/generated docs/auto_examples

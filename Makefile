# Shipyard: the two commands in the README are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
LINT_PATHS := src tests examples conftest.py $(wildcard bench) docs/hooks docs/scripts docs/examples
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo demo-clean test lint format install clean bench docs docs-serve

# The extras take XGBoost's CPU-only wheel (xgboost-cpu, the same module): a venv that still has the CUDA
# build (xgboost + nvidia-nccl-cu12) drops it first, as both wheels write the same files.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip show xgboost-cpu >/dev/null 2>&1 || \
		$(BIN)/python -m pip uninstall --quiet -y xgboost nvidia-nccl-cu12 >/dev/null 2>&1 || true
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

demo-clean:
	rm -rf .demo

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)

format: $(STAMP)
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

# Runs on SQLite and PostgreSQL (127.0.0.1:5432, user postgres); see tests/conftest.py.
# Tests are spread over PYTEST_WORKERS processes (pytest-xdist), more than the cores because most of a
# test's time is spent waiting on servers, subprocesses and the database; idle workers take queued
# tests from busy ones (worksteal). PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS ?= 3
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

# Every script in bench/, Shipyard against its peers on this machine; writes BENCHMARKS.md (long: run it on a quiet machine).
# bench/serving.py needs wrk (apt-get install -y wrk) and builds MLServer's venv under ~/.cache once.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# The documentation site (mkdocs.yml): references generated from the code, every warning an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

clean: demo-clean
	rm -rf $(VENV) .pytest_cache .ruff_cache site

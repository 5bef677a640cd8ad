PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-all install clean benchmark orlib

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dask,mpi]'
	touch $@ $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/optimiser decide instances/foxconn-vinfast-2021 --out reports/foxconn-vinfast-2021-decision.xlsx

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

# every test, the slow cases included (pytest's -m given last wins over the default "not slow")
test-all: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

benchmark: $(TEST_STAMP)
	$(BIN)/python benchmarks/run.py

orlib: $(STAMP)
	$(BIN)/python benchmarks/validate_orlib.py

clean:
	rm -rf $(VENV) build *.egg-info

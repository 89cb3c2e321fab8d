# Tandem — the two commands of the README's quick start, plus benchmarks.
#
#   make run   [ARGS="--server http://host:8000"]   run the app (embedded server + web UI)
#   make test  [PYTEST_ARGS="tests/domain -x"]       ruff, mypy, pytest (the whole suite, as CI)
#   make test-fast                                   pytest without e2e, scale, reliability, PostgreSQL
#   make bench                                       the README's performance targets, measured
#
# Both create .venv on first use and reinstall from pyproject.toml only when it changed.

SHELL := /bin/bash

# The first Python >= 3.11 on PATH (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3 python; do \
	command -v $$p >/dev/null 2>&1 && \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && \
	{ echo $$p; break; }; done)

VENV := .venv
BIN := $(VENV)/bin
# Stamp: touched after a successful install; older than pyproject.toml means reinstall.
STAMP := $(VENV)/.tandem-installed

# mypy over the parts that exist so far (domain/ and store/ are strict via pyproject).
MYPY_TARGETS = $(wildcard domain store services server views bench testkit main.py)

ARGS ?=
PYTEST_ARGS ?=

# Some machines set PYTHONDONTWRITEBYTECODE: then every process (a test run, each
# worker, each server and app it starts) compiles its ~500 modules from source again,
# ~10 s of CPU apiece. Caching bytecode in __pycache__ (git-ignored) is Python's default.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-fast lint typecheck pytest bench install clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Tandem needs Python 3.11 or newer (python3.11/python3.12/python3.13 on PATH)." >&2; \
		exit 1; fi
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@if [ ! -f main.py ]; then \
		echo "The app is not built yet (main.py is missing). 'make test' runs the tests." >&2; \
		exit 1; fi
	$(BIN)/python main.py $(ARGS)

# Three workers (pytest-xdist), a test file each at a time: a file's tests share its
# module-scoped server. Much of a test is waiting on a server or a socket, so three
# workers on two cores overlap one's waiting with the others' work (make test-fast on
# a quiet 2-core machine: 77-93 s with three, 87-140 s with two).
WORKERS ?= 3

# The whole suite in $(WORKERS) workers (a test file each at a time), the real browsers,
# replicas and fault suites too: most of their time is waiting on a page, a server or a
# socket, which the other workers fill. Then, alone, the few tests that time what they
# measure (the `alone` marker): a worker beside them would be their noise.
# A PYTEST_ARGS selection runs as one plain pytest.
ifeq ($(strip $(PYTEST_ARGS)),)
PYTEST_ALL = echo "== pytest: all but the timing tests, $(WORKERS) workers"; \
	$(BIN)/python -m pytest -q -m "not alone" -n $(WORKERS) --dist loadfile || rc=$$?; \
	echo "== pytest: the timing tests, alone"; \
	$(BIN)/python -m pytest -q -m alone || rc=$$?
else
PYTEST_ALL = echo "== pytest $(PYTEST_ARGS)"; $(BIN)/python -m pytest -q $(PYTEST_ARGS) || rc=$$?
endif

# All three checks run even if one fails, so one CI run reports every problem.
test: $(STAMP)
	@rc=0; \
	echo "== ruff check ."; \
	$(BIN)/ruff check . || rc=1; \
	echo "== mypy $(MYPY_TARGETS)"; \
	$(BIN)/mypy $(MYPY_TARGETS) || rc=1; \
	$(PYTEST_ALL); \
	exit $$rc

# The inner loop while writing code: the markers (tests/conftest.py) leave out the real
# browser, the replicas, the fault and load suites and every PostgreSQL run; property
# tests try 20 examples instead of 100.
FAST_MARKERS := not slow and not e2e and not postgres
test-fast: $(STAMP)
	HYPOTHESIS_PROFILE=fast $(BIN)/python -m pytest -q -m "$(FAST_MARKERS)" \
		-n $(WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy $(MYPY_TARGETS)

pytest: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench all

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info artifacts
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

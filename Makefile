# Two entry points do all set-up on a fresh machine (Python 3.11+ and make):
#   make run    – run the main job on the built-in default scenario
#   make test   – lint and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean clean-cache

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sim run

lint: $(STAMP)
	$(BIN)/ruff check sim tests scripts
	$(BIN)/ruff format --check sim tests scripts

# Everything, thorough property tests (Hypothesis profile ci), on every core (pytest-xdist).
# The inner loop: .venv/bin/python -m pytest -m "not slow" -n 2
test: lint
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -n auto

bench: $(STAMP)
	$(BIN)/python scripts/bench_engine.py

# Compiled kernels are cached in a folder keyed by a hash of the package's sources (sim/__init__.py),
# so they are never stale; this only reclaims the disk space.
clean-cache:
	rm -rf "$${SIM_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/sim}/numba"
	find sim -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV)

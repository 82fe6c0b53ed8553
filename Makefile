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

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python scripts/bench_engine.py

# numba's on-disk cache watches only each kernel's own file: after editing a jitted helper that
# another module's kernel calls (sim/guidelines/groups.py: pairwise_sum), clear it.
clean-cache:
	find sim -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV)

# Two commands set everything up from a fresh clone:
#   make demo   -> creates .venv, installs mi (runtime dependencies only), runs the flagship screening job
#   make test   -> creates .venv, installs mi with the test and notebook extras, runs the test suite
# pip shows what it downloads and installs (no --quiet on the long steps).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Datasets: a folder laid out as <dataset folder>/<file>; ../shared/datasets is used when present
# (mi finds it by itself too: see MI_DATA_DIR in the README).
MI_DATA_DIR ?= $(if $(wildcard ../shared/datasets),$(abspath ../shared/datasets),)
export MI_DATA_DIR
DEMO_OUT ?= runs/demo
PIP_INSTALL := $(BIN)/pip install --progress-bar on

.PHONY: demo test lint venv clean

# mi and its runtime dependencies: all the demo needs.
$(BIN)/mi: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e .
	touch $(BIN)/mi

# the test and notebook extras, for make test / make lint
$(VENV)/.extras-dev-notebooks: $(BIN)/mi
	$(PIP_INSTALL) -e ".[dev,notebooks]"
	touch $@

venv: $(BIN)/mi

demo: venv
	$(BIN)/mi demo --out $(DEMO_OUT)

test: $(VENV)/.extras-dev-notebooks
	$(BIN)/python -m pytest

lint: $(VENV)/.extras-dev-notebooks
	$(BIN)/ruff check mi tests benchmarks
	$(BIN)/ruff format --check mi tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) runs .pytest_cache

# Two commands set everything up from a fresh clone:
#   make demo   -> creates .venv, installs mi, runs the flagship screening job
#   make test   -> creates .venv, installs mi with test extras, runs the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Datasets: a folder laid out as <dataset folder>/<file>; ../shared/datasets is used when present.
MI_DATA_DIR ?= $(if $(wildcard ../shared/datasets),$(abspath ../shared/datasets),)
export MI_DATA_DIR
DEMO_OUT ?= runs/demo

.PHONY: demo test lint venv clean

$(BIN)/mi: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,notebooks]"
	touch $(BIN)/mi

venv: $(BIN)/mi

demo: venv
	$(BIN)/mi demo --out $(DEMO_OUT)

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check mi tests benchmarks
	$(BIN)/ruff format --check mi tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) runs .pytest_cache

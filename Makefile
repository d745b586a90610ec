# Two entry points, both self-contained on a fresh Debian machine:
#   make demo  - set up .venv, render every machine into diagrams/, regenerate docs/, print the
#                tables, run every built-in call flow (ladders and traces in out/flows/)
#   make test  - set up .venv, then ruff, mypy (strict) and the whole pytest suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint typecheck pytest system-deps venv clean

demo: venv system-deps
	$(BIN)/sipfsm demo --out diagrams

test: venv system-deps lint typecheck pytest

# Speed and memory figures, each beside a baseline measured in the same run (docs/performance.md)
bench: venv
	$(BIN)/python benchmarks/run.py

lint: venv
	$(BIN)/ruff check sipfsm tests benchmarks

typecheck: venv
	$(BIN)/mypy

pytest: venv system-deps
	$(BIN)/pytest

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages: graphviz renders the diagrams.
system-deps:
	@sh scripts/system-deps.sh

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache

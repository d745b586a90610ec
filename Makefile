# Two entry points, both self-contained on a fresh Debian machine:
#   make demo  - set up .venv, render every machine into diagrams/, regenerate docs/, print the
#                tables, run every built-in call flow (ladders and traces in out/flows/)
#   make test  - set up .venv, then ruff, mypy (strict) and the whole pytest suite, run twice:
#                on the compiled build, then on the pure-Python source (SIPFSM_PURE=1)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILT  := $(VENV)/.compiled

.PHONY: demo test bench fuzz build rows lint typecheck pytest system-deps venv clean

demo: build
	$(BIN)/sipfsm demo --out diagrams

test: build lint typecheck pytest

# Speed and memory figures, each beside a baseline measured in the same run (docs/performance.md)
bench: build
	$(BIN)/python benchmarks/run.py

# The fuzzing suite alone (tests marked fuzz), for SIPFSM_FUZZ_SECONDS in all (default 30
# minutes), split evenly between the fuzz tests; `make test` runs the same tests on a small
# budget (docs/limits.md).
SIPFSM_FUZZ_SECONDS ?= 1800
fuzz: build
	HYPOTHESIS_PROFILE=fuzz SIPFSM_FUZZ_SECONDS=$(SIPFSM_FUZZ_SECONDS) $(BIN)/pytest -m fuzz -p no:randomly

lint: venv
	$(BIN)/ruff check setup.py sipfsm tests benchmarks

typecheck: venv
	$(BIN)/mypy

pytest: build
	SIPFSM_REQUIRE_COMPILED=1 $(BIN)/pytest
	SIPFSM_PURE=1 $(BIN)/pytest

venv: $(STAMP)

# The package with its development tools, installed editable; pure Python at this step
$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77'
	SIPFSM_PURE=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The compiled build (sipfsm/engine/native.py, docs/performance.md): mypyc compiles the hot modules
# from the same source into C extensions beside them; rebuilt whenever a module changes.
build: system-deps $(BUILT)

# sipfsm/engine/rows.py: the rows of every machine compiled ahead of time, generated from the
# declarations (tests/test_codegen.py fails when it is stale)
rows: venv
	SIPFSM_PURE=1 $(BIN)/python -m sipfsm.engine.generate

$(BUILT): $(STAMP) $(wildcard sipfsm/*.py sipfsm/*/*.py sipfsm/*/*/*.py)
	$(BIN)/python -m pip install --quiet --no-build-isolation --no-deps -e .
	touch $(BUILT)

# Debian packages: graphviz renders the diagrams; sip-tester and tshark are the checker's
# real peers; kamailio a proxy the live tests probe; gcc and the Python headers compile the
# fast build.
system-deps:
	@PYTHON=$(PYTHON) sh scripts/system-deps.sh

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache *.so sipfsm/*.so sipfsm/*/*.so sipfsm/*/*/*.so

# Two commands a newcomer needs: `make demo` and `make test` (`make examples` runs the examples).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test
STAMP_EXAMPLES := $(VENV)/.installed-examples
# What every example needs (each names its own in its docstring): the agent runtime, the
# MCP SDK, and LangGraph's SQLite checkpointer for the durable approval.
EXAMPLES_INSTALL := -e ".[agents,mcp,approvals]" "langgraph-checkpoint-sqlite>=3,<4"

.PHONY: demo examples test lint typecheck unit bounds bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	touch $@

$(STAMP_EXAMPLES): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(EXAMPLES_INSTALL)
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_DEMO) $(STAMP_EXAMPLES)

demo: $(STAMP_DEMO)
	$(BIN)/fly-tools demo $(ARGS)

examples: $(STAMP_EXAMPLES)
	@for example in examples/*.py; do echo "== $$example"; $(BIN)/python $$example || exit 1; done

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST)
	$(BIN)/pytest -q

test: lint typecheck unit

# The tests that lean on LangChain, on the lowest and the highest LangChain versions
# pyproject.toml allows, each in its own virtualenv under .venv-bounds/.
bounds:
	PYTHON=$(PYTHON) .ci/langchain-bounds

# Token counts use the npm package gpt-tokenizer: when node and npm are on PATH, the first
# run does `npm install` in benchmarks/ (node_modules there); without them tokens are
# estimated as characters / 3, and RESULTS.md says so.
bench: $(STAMP_TEST)
	@echo "make bench: runs 'npm install' in benchmarks/ for the tokenizer when node and npm are present"
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .venv-bounds .mypy_cache .ruff_cache

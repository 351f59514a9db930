# The front door. `make dev` runs everything locally; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# PyTorch's CPU build lies on this machine's disk; never let pip fetch a multi-GB CUDA build.
export PIP_FIND_LINKS ?= $(wildcard /opt/wheels)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install dev test lint typecheck unit integration browser browser-deps security chaos bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev,inference,scanner,operators]'
	touch $(STAMP)

install: $(STAMP)

dev: install
	$(PY) -m local

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(VENV)/bin/pytest tests/unit

integration: install
	$(VENV)/bin/pytest tests/integration

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

browser: install browser-deps
	$(VENV)/bin/pytest tests/browser

test: install lint typecheck browser-deps
	@rm -f test-artifacts/security-figures.json
	$(VENV)/bin/pytest
	@$(PY) -m tests.security.report

# The security proof alone: authorization matrix, hostile tokens and input, fuzzing, logs.
security: install
	@rm -f test-artifacts/security-figures.json
	$(VENV)/bin/pytest tests/security
	@$(PY) -m tests.security.report

# The reliability scenarios at full length (make test runs shorter ones).
chaos: install
	OBJEKTIFY_LOAD_USERS=8 OBJEKTIFY_LOAD_SECONDS=120 $(VENV)/bin/pytest -s -m '' tests/reliability

BENCHES := coldstart generation inference scan gallery moderation model

bench: install
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(PY) bench/$$b.py 2>/dev/null | grep -v '^{' || exit 1; done

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache

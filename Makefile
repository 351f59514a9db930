# The front door. `make dev` runs everything locally; `make test` runs every test;
# `make deploy` puts the whole service into an AWS account.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CDK := infra/node_modules/.bin/cdk
# PyTorch's CPU build lies on this machine's disk; never let pip fetch a multi-GB CUDA build.
export PIP_FIND_LINKS ?= $(wildcard /opt/wheels)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The CDK runs on jsii, which warns at every start that this machine's Node 20 is past its end of
# life (it still works): keep the warning out of every synth and test run.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20

# What an operator chooses for a deployment (infra/config.py has the defaults).
STAGE ?= dev
ACCOUNT ?=
REGION ?=
MODEL_IMAGE ?=
MODEL_DATA ?=
INSTANCE_TYPE ?=
MAX_INSTANCES ?=
ALARM_EMAIL ?=
WAF_RATE_LIMIT ?=
WAF_SIGN_UP_LIMIT ?=
# `never` for unattended deploys; by default the CLI asks before widening any permission.
APPROVAL ?= broadening
CONTEXT := -c stage=$(STAGE) \
	$(if $(ACCOUNT),-c account=$(ACCOUNT)) $(if $(REGION),-c region=$(REGION)) \
	$(if $(MODEL_IMAGE),-c model_image=$(MODEL_IMAGE)) $(if $(MODEL_DATA),-c model_data=$(MODEL_DATA)) \
	$(if $(INSTANCE_TYPE),-c instance_type=$(INSTANCE_TYPE)) \
	$(if $(MAX_INSTANCES),-c max_instances=$(MAX_INSTANCES)) \
	$(if $(ALARM_EMAIL),-c alarm_email=$(ALARM_EMAIL)) \
	$(if $(WAF_RATE_LIMIT),-c waf_rate_limit=$(WAF_RATE_LIMIT)) \
	$(if $(WAF_SIGN_UP_LIMIT),-c waf_sign_up_limit=$(WAF_SIGN_UP_LIMIT))

.PHONY: lock audit install dev test lint typecheck unit integration infra-test bench clean layers synth \
	deploy deploy-params browser browser-deps security chaos reset

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml requirements/lock.txt requirements/no-deps.txt | $(PY)
	$(PY) -m pip install -q --require-hashes -r requirements/lock.txt
	# invisible-watermark without the torch and opencv-python it declares (see the file).
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements/no-deps.txt
	# compat: a plain path entry; the default editable import hook costs ~20 ms on every start.
	$(PY) -m pip install -q --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	touch $(STAMP)

# Re-pin every dependency, with hashes, after a change to pyproject.toml.
lock: | $(PY)
	$(PY) -m pip install -q pip-tools==7.6.2
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--extra dev --extra inference --extra scanner --extra operators --extra infra \
		--no-emit-index-url --find-links /opt/wheels -o requirements/lock.txt pyproject.toml

# Known vulnerabilities in the locked dependencies (PyPI's advisory data), where reachable.
audit: install
	@$(PY) -m tests.security.audit

install: $(STAMP)

dev: install
	$(PY) -m local

# Wipe the local stack's data (tables, objects, queues, users, keys) on purpose.
reset:
	@test ! -e $${OBJEKTIFY_LOCAL_DIR:-.local}/stack.json || \
		{ echo "make dev is running (stop it first): $${OBJEKTIFY_LOCAL_DIR:-.local}/stack.json"; exit 2; }
	rm -rf $${OBJEKTIFY_LOCAL_DIR:-.local}

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(VENV)/bin/pytest tests/unit

integration: install
	$(VENV)/bin/pytest tests/integration

infra-test: install
	$(VENV)/bin/pytest tests/infra

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

browser: install browser-deps
	$(VENV)/bin/pytest tests/browser

test: install lint typecheck browser-deps audit
	@rm -f test-artifacts/security-figures.json test-artifacts/reliability-figures.json
	$(VENV)/bin/pytest --durations=25
	@$(PY) -m tests.security.report
	@$(PY) -m tests.reliability.report

# The security proof alone: authorization matrix, hostile tokens and input, fuzzing, logs.
# (make test fuzzes 5 examples per operation and role, tries 25 strike-dodging orders and 20
# lifecycle sequences; this runs 25, 60 and 100.)
security: install
	@rm -f test-artifacts/security-figures.json
	OBJEKTIFY_FUZZ_EXAMPLES=25 OBJEKTIFY_DODGE_EXAMPLES=60 OBJEKTIFY_LIFECYCLE_EXAMPLES=100 \
		$(VENV)/bin/pytest tests/security tests/unit/test_lifecycle_machine.py
	@$(PY) -m tests.security.report

# The reliability scenarios at full length (make test runs 4 users for 10 s, 20 s across the
# restarts, and kills each step after three of its writes): about ten minutes.
chaos: install
	@rm -f test-artifacts/reliability-figures.json
	OBJEKTIFY_LOAD_USERS=8 OBJEKTIFY_LOAD_SECONDS=45 OBJEKTIFY_CRASH_POINTS=all \
		$(VENV)/bin/pytest -s -m '' tests/reliability
	@$(PY) -m tests.reliability.report

BENCHES := coldstart generation inference scan gallery moderation model prompt_screen provenance live uploads

bench: install
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(PY) bench/$$b.py 2>/dev/null | grep -v '^{' || exit 1; done

# The Lambda layers for the python3.12 runtime, from layers/*/requirements.txt (layers/README.md):
# needs Python 3.12 (python3.12 on the PATH, a pyenv install, or OBJEKTIFY_LAMBDA_PYTHON) and gcc.
layers: install
	$(PY) -m layers.build

# The CloudFormation templates, offline, into cdk.out/ (no AWS credentials needed).
synth: layers
	$(PY) -m infra --outdir cdk.out $(CONTEXT)

$(CDK): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund
	touch $(CDK)

deploy-params:
	@test -n "$(ACCOUNT)" -a -n "$(REGION)" || \
		{ echo "make deploy needs ACCOUNT=<12 digits> REGION=<aws region> (see README)"; exit 2; }

# Everything, into the account the AWS credentials in the environment belong to.
deploy: deploy-params synth $(CDK)
	$(CDK) bootstrap aws://$(ACCOUNT)/$(REGION)
	$(CDK) deploy --app cdk.out --require-approval $(APPROVAL) objektify-$(STAGE)

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache build cdk.out .chalice/deployments \
		infra/node_modules

# keyport: `make run` serves the local stack, `make test` runs the whole suite.
SHELL := /bin/bash
# Python 3.13 everywhere: Lambda's python3.13 runs on Amazon Linux 2023 (supported to 2029), and `chalice package`
# takes the template's Runtime from the Python that runs it, so the venv, the tests and the package share one version.
PYTHON_VERSION := 3.13
# The first python3.13 that runs: on PATH (a pyenv shim answers only when that version is selected), then pyenv's
# own builds; it prints its real path. `make PYTHON=/path/to/python3.13` overrides.
comma := ,
PYTHON_IS_IT := import sys; sys.exit(1) if sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_VERSION))) else None
# An environment variable PYTHON (CI images set one) does not count: only the command line overrides.
ifneq ($(origin PYTHON),command line)
PYTHON := $(shell for candidate in python$(PYTHON_VERSION) $$HOME/.pyenv/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION) \
  /usr/local/bin/python$(PYTHON_VERSION) /usr/bin/python$(PYTHON_VERSION); do \
  "$$candidate" -c '$(PYTHON_IS_IT); print(sys.executable)' 2>/dev/null && break; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
# Locks made by `make lock` (pip-compile, hashes): the zip's runtime, chalice (local server and packager, not in
# the zip), the test tools. Installed with --require-hashes: nothing unpinned or unhashed enters the venv.
RUN_LOCKS := requirements.txt requirements-chalice.txt
TEST_LOCKS := $(RUN_LOCKS) requirements-dev.txt
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes
PORT ?= 8000
KEYPORT_HOME ?= .local
STAGE ?= dev
OUT ?= out
AWS_DEFAULT_REGION ?= eu-central-1
export PORT KEYPORT_HOME AWS_DEFAULT_REGION

.PHONY: run test typecheck scale fuzz bench mutants package lint install install-run lock browser clean

# A venv made by another Python (or none) is made anew with $(PYTHON_VERSION); without one, say what to install.
$(VENV)/.python-$(PYTHON_VERSION):
	@if ! $(PY) -c '$(PYTHON_IS_IT)' 2>/dev/null; then \
	  test -n "$(PYTHON)" || { echo "make: Python $(PYTHON_VERSION) not found on PATH nor in ~/.pyenv/versions:" \
	    "install it (pyenv install $(PYTHON_VERSION), or apt-get install python$(PYTHON_VERSION)-venv)" \
	    "or name it: make PYTHON=/path/to/python$(PYTHON_VERSION)" >&2; exit 1; }; \
	  echo "Making $(VENV) with $(PYTHON)"; rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(PY) -c '$(PYTHON_IS_IT)' || \
	  { echo "make: $(PYTHON) is not Python $(PYTHON_VERSION)" >&2; rm -rf $(VENV); exit 1; }; fi
	touch $@

# `make run`: the runtime lock and chalice only.
$(VENV)/.run: $(VENV)/.python-$(PYTHON_VERSION) $(RUN_LOCKS)
	$(PIP_INSTALL) $(addprefix -r ,$(RUN_LOCKS))
	touch $@

# `make test`: the test tools on top (pinned against the runtime and chalice locks, so nothing moves).
$(VENV)/.test: $(VENV)/.run requirements-dev.txt
	$(PIP_INSTALL) $(addprefix -r ,$(TEST_LOCKS))
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install-run: $(VENV)/.run node_modules/.installed
install: $(VENV)/.test node_modules/.installed

## lock: requirements*.txt anew from requirements*.in (pins kept where they still fit; UPGRADE=1 takes the newest)
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
  $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.test
	for name in requirements requirements-chalice requirements-dev requirements-sam; do \
	  CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) $$name.in -o $$name.txt || exit 1; done

# aws-sam-cli pins a click that the test tools cannot share: `sam validate --lint` gets a venv of its own.
SAM_VENV := .venv-sam
$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip  # older pips refuse hashed pins with extras
	$(SAM_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-sam.txt
	touch $@

# Browser tests drive Debian's Chromium through Playwright (its own browser download fails here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## run: the local service on 127.0.0.1:$(PORT) (DynamoDB Local, key file, outbox under $(KEYPORT_HOME))
run: install-run
	$(PY) -m chalicelib.local run

## test: the type and lint checks, then the whole suite (unit, API, DynamoDB Local contract, e2e)
test: install typecheck browser $(SAM_VENV)/.installed
	$(PY) -m pytest -q -n auto --maxschedchunk 1

## typecheck: ruff's lint and format check, then mypy (their settings: pyproject.toml); make test runs it first
typecheck: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

## scale: the export of 100,000 devices on DynamoDB Local (make test runs it with 12,000)
scale: install
	KEYPORT_SCALE_DEVICES=100000 $(PY) -m pytest -q -s -p no:xdist tests/contract/test_exports_scale.py

## fuzz: schemathesis against a fresh local stack as OPERATOR and VIEWER (EXAMPLES per operation)
EXAMPLES ?= 1000
fuzz: install
	$(PY) scripts/fuzz.py --examples $(EXAMPLES)

## bench: throughput figures on this machine (prints a table, writes bench/results.json); asserts nothing
bench: install
	$(PY) scripts/bench.py

## mutants: mutation testing (mutmut) of the modules that guard tenants and keys; prints the score per module
## and every surviving mutant; fails below 90 %. ONLY=permissions,claims runs some modules.
mutants: install
	$(PY) scripts/mutants.py $(if $(ONLY),--only $(ONLY))

## package: the SAM template and zip of STAGE (dev) for AWS into OUT (out/); needs no AWS credentials. The script
## after chalice gives every path an ANY method (405s reach Chalice) and lets Stage take only STAGE.
package: install
	rm -rf $(OUT) vendor/templates
	mkdir -p vendor
	cp -r templates vendor/templates
	$(VENV)/bin/chalice package --stage $(STAGE) --merge-template infra/resources.json $(OUT); \
	  status=$$?; rm -rf vendor/templates; exit $$status
	$(PY) scripts/add_method_not_allowed.py $(OUT)/sam.json

## lint: cfn-lint and `sam validate --lint` on the packaged template (make test checks the same); no credentials
lint: package $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint $(OUT)/sam.json
	env -u AWS_PROFILE $(SAM_VENV)/bin/sam validate --lint -t $(OUT)/sam.json --region $(AWS_DEFAULT_REGION)

clean:
	rm -rf out vendor/templates .pytest_cache .mypy_cache .ruff_cache mutants-work

# keyport: `make run` serves the local stack, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
KEYPORT_HOME ?= .local
STAGE ?= dev
OUT ?= out
AWS_DEFAULT_REGION ?= eu-central-1
export PORT KEYPORT_HOME AWS_DEFAULT_REGION

.PHONY: run test scale fuzz bench mutants package lint install browser clean

$(VENV)/.runtime: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.runtime node_modules/.installed

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
run: install
	$(PY) -m chalicelib.local run

## test: the whole suite (unit, API, DynamoDB Local contract, e2e)
test: install browser $(SAM_VENV)/.installed
	$(PY) -m pytest -q -n auto --maxschedchunk 1

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

## package: the SAM template and zip of STAGE (dev) for AWS into OUT (out/); needs no AWS credentials
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
	rm -rf out vendor/templates .pytest_cache mutants-work

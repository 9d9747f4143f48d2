# Everything a new machine needs is installed by these targets themselves:
# Python 3.11, Node and npm, and Go are the only prerequisites.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
PYTHON ?= python3
# Test processes (pytest-xdist); the suite shares one synthesis per environment between them.
PYTEST_WORKERS ?= 2
VENV := .venv
VENV_PY := $(VENV)/bin/python
# The project's own Node 22 and CDK CLI come first, then the virtualenv.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := cdk --no-notices

.PHONY: help install chromium sidecars synth lint test image-test secrets honeycomb-queries diff deploy destroy local clean cost bench bench-synth bench-cost

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt service/requirements.txt service/pyproject.toml $(wildcard packages/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --upgrade pip
	$(VENV_PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The frontend's tracing module, its test bundler (esbuild) and browser driver (playwright-core), pinned.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed frontend/node_modules/.installed ## Create the virtualenvs and install the pinned Python and Node tools.

# Debian's chromium for tests/browser; where it cannot be installed (not root, no apt) the test skips and says why.
chromium: ## Install headless Chromium for the browser test (as root with apt-get; otherwise says what to do).
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium: not installed (needs root and apt-get: apt-get install chromium); tests/browser will be skipped"; fi

# The sidecars built from their upstream Go modules (through the Go module proxy),
# rebuilt only when a pin or a source of ours changes. testsupport/sidecars.py finds them.
GO ?= go
SIDECARS_BIN := .sidecars/bin
COLLECTOR_SOURCES := sidecars/collector/go.mod sidecars/collector/go.sum $(wildcard sidecars/collector/*.go sidecars/collector/*/*.go)

$(SIDECARS_BIN)/otelcol-cruddur: $(COLLECTOR_SOURCES)
	cd sidecars/collector && $(GO) build -mod=readonly -trimpath -o $(CURDIR)/$@ .

$(SIDECARS_BIN)/healthcheck: $(COLLECTOR_SOURCES)
	cd sidecars/collector && $(GO) build -mod=readonly -trimpath -o $(CURDIR)/$@ ./healthcheck

# The Go module proxy serves no version of github.com/aws/aws-xray-daemon today: where it
# cannot be built, the reason is kept beside the binaries and the daemon's tests say it.
$(SIDECARS_BIN)/xray.built: sidecars/xray-daemon/go.mod $(wildcard sidecars/xray-daemon/go.sum)
	@mkdir -p $(SIDECARS_BIN)
	@rm -f $(SIDECARS_BIN)/xray $(SIDECARS_BIN)/xray.unavailable
	@cd sidecars/xray-daemon && $(GO) build -mod=mod -trimpath -o $(CURDIR)/$(SIDECARS_BIN)/xray github.com/aws/aws-xray-daemon/cmd/tracing \
		2> $(CURDIR)/$(SIDECARS_BIN)/xray.unavailable \
		&& rm $(CURDIR)/$(SIDECARS_BIN)/xray.unavailable \
		|| echo "The X-Ray daemon was not built (its tests will say why): $$(tail -n 2 $(CURDIR)/$(SIDECARS_BIN)/xray.unavailable)"
	@touch $@

sidecars: $(SIDECARS_BIN)/otelcol-cruddur $(SIDECARS_BIN)/healthcheck $(SIDECARS_BIN)/xray.built ## Build the OpenTelemetry Collector and the X-Ray daemon from their Go modules into .sidecars/bin.

synth: install ## Synthesize ENV (default dev) into cdk.out/ and list its stacks.
	$(CDK) synth -c env=$(ENV) --quiet
	$(VENV_PY) -m scripts.summarize_assembly cdk.out

# The packages mypy checks as one program; each Lambda function on its own (their modules are both handler.py).
MYPY_PACKAGES := -p flask_aws_telemetry_cdk -p infra -p cost -p bench -p scripts -p cruddur -p flask_aws_telemetry
LAMBDA_FUNCTIONS := $(wildcard packages/flask-aws-telemetry-cdk/src/flask_aws_telemetry_cdk/lambda_functions/*/handler.py)

lint: $(VENV)/.installed ## Lint, check the layout (ruff) and the types (mypy) of the Python code.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(MYPY_PACKAGES)
	@for handler in $(LAMBDA_FUNCTIONS); do echo "mypy $$handler"; $(VENV)/bin/mypy "$$handler" || exit 1; done

test: install sidecars chromium lint ## Lint and type-check, then run the whole test suite (PYTEST_WORKERS=0 runs it in one process).
	$(VENV_PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

image-test: install ## Build service/Dockerfile (podman or docker) and run it as the dev task definition says.
	$(VENV_PY) -m pytest -n 0 tests/image $(PYTEST_ARGS)

secrets: install ## Put HONEYCOMB_API_KEY and ROLLBAR_ACCESS_TOKEN (and HONEYCOMB_CONFIGURATION_KEY if set) into SSM for ENV.
	$(VENV_PY) -m scripts.put_secrets --env $(ENV)

honeycomb-queries: install ## Create the saved Honeycomb queries (honeycomb/queries) in ENV's Honeycomb (HONEYCOMB_API_URL=... for the EU).
	$(VENV_PY) -m scripts.honeycomb_queries --env $(ENV) $(if $(HONEYCOMB_API_URL),--api-url $(HONEYCOMB_API_URL))

diff: install ## cdk diff of ENV against the deployed stacks.
	$(CDK) diff -c env=$(ENV)

# The revision deployed: the tasks report it (service.version, Rollbar's code_version) and the deploy marks name it.
REVISION ?= $(or $(GITHUB_SHA),$(shell git rev-parse HEAD 2>/dev/null))

deploy: install ## Deploy ENV (needs credentials; IMAGE_URI=... skips the Docker build), then mark it in Honeycomb and Rollbar.
	$(CDK) deploy --all -c env=$(ENV) $(if $(IMAGE_URI),-c image_uri=$(IMAGE_URI)) $(if $(REVISION),-c revision=$(REVISION)) --require-approval never
	$(VENV_PY) -m scripts.mark_deploy --env $(ENV) $(if $(REVISION),--revision $(REVISION)) $(if $(IMAGE_URI),--image $(IMAGE_URI))

destroy: install ## Remove every stack of ENV, then say what was kept by design (prod's log groups).
	$(CDK) destroy --all -c env=$(ENV) --force
	$(VENV_PY) -m scripts.summarize_assembly --retained cdk.out

local: install ## Run the service here against an embedded DynamoDB (moto) on :8000, spans printed to the console.
	$(VENV_PY) -m scripts.run_local $(if $(FRONTEND_URL),--frontend-url $(FRONTEND_URL))

clean: ## Remove build output (keeps .venv and node_modules).
	rm -rf cdk.out .pytest_cache .sidecars

FORMAT ?= text
cost: install ## Monthly cost estimate of every environment (FORMAT=text|markdown|json; XRAY_PATH=<an XRayPath value> prices that path).
	$(VENV_PY) -m cost --format $(FORMAT) $(if $(XRAY_PATH),--xray-path $(XRAY_PATH))

bench: install ## Telemetry overhead benchmark (needs wrk: apt-get install -y wrk); writes its section of bench/RESULTS.md.
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk"; exit 2; }
	$(VENV_PY) -m bench.overhead

bench-synth: install ## Time cdk synth of dev and of every environment against a minimal app; writes its section of bench/RESULTS.md.
	$(VENV_PY) -m bench.synth_time

bench-cost: install ## Where a request's CPU goes (in-process, by part); writes its section of bench/RESULTS.md.
	$(VENV_PY) -m bench.request_cost

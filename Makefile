# newsbrief: `make run` (serve: installs only the service, seconds), `make install` (everything
# for development) then `make test`; `make install-models` adds the neural model engines.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(PY) -m pip
PROTO  := proto/newsbrief/v1/newsbrief.proto
GEN    := client/src/newsbrief/v1
# Generated for the HTTP/JSON front end (service distribution): Connect stubs and OpenAPI 3.1.
GEN_HTTP := service/src/newsbrief/v1/newsbrief_connect.py service/src/newsbrief/service/http/openapi.json
DATA   ?= ../shared/data
# Kubernetes manifest checkers (kubernetes-validate, checkov), in their own environment: their
# dependencies are not the service's.
DEPLOY_VENV ?= .venv-deploy
# Where `make install-models` takes torch from: the CPU-only wheels (empty = the default index).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
EDITABLE := --config-settings editable_mode=compat

.PHONY: install install-models run test test-browser test-unit test-integration test-system fuzz proto proto-check lint buf-lint eval docker-check models bench bench-prepare soak clean attack

install: $(VENV)/.installed $(DEPLOY_VENV)/.installed

# The service and its runtime dependencies only: what `make run` needs. The venv is made without
# its own pip when the interpreter's pip can install into it (`pip --python`): seeding pip into a
# new venv takes longer than the rest of `make run` but the install itself.
$(VENV)/.runtime: client/pyproject.toml service/pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	if $(PY) -m pip --version >/dev/null 2>&1; then pip="$(PY) -m pip"; \
	elif $(PYTHON) -m pip --python $(PY) --version >/dev/null 2>&1; then pip="$(PYTHON) -m pip --python $(PY)"; \
	else $(PY) -m ensurepip --default-pip && pip="$(PY) -m pip"; fi; \
	$$pip install --quiet -c constraints.txt $(EDITABLE) -e ./client -e ./service
	touch $@

$(VENV)/.installed: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -r requirements-dev.txt
	$(PIP) install --quiet -c constraints.txt $(EDITABLE) -e './service[hf,ct2,eval,tracing]'
	touch $@

$(DEPLOY_VENV)/.installed: requirements-deploy.txt
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet -r requirements-deploy.txt
	touch $@

# The neural model engines (transformers with a CPU-only torch, CTranslate2) beside the service.
install-models: $(VENV)/.runtime
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip
	$(PIP) install --quiet -c constraints.txt $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch
	$(PIP) install --quiet -c constraints.txt $(EDITABLE) -e './service[hf,ct2]'

run: $(VENV)/.runtime
	$(BIN)/newsbrief-server

# Model weights from the Hugging Face Hub at the presets' pinned revisions (needs network):
# the presets the settings configure (NEWSBRIEF_MODELS__... or CONFIG=file), or PRESETS="a b".
PRESETS ?=
models: install
	$(BIN)/newsbrief-server $(if $(CONFIG),--config $(CONFIG)) models download $(PRESETS)

# The tests in three tiers (tests/README.md): `make test` runs them all (see below).
# unit: no server, process or subprocess (tests/unit enforces it), seconds;
# integration: real servers, worker processes and the jobs store (the `system` ones excepted);
# system: whole-system runs marked `system` (benchmark smoke, Dockerfile environments, manifest
# checkers, server replicas, the open-file-limit attack), minutes.
# `make test` runs every tier even when one fails, and fails if any did; -rs lists why a test
# was skipped.
PYTEST := NEWSBRIEF_DEPLOY_TOOLS=$(DEPLOY_VENV)/bin $(PY) -m pytest -q -rs
UNIT_TESTS := tests/unit
INTEGRATION_TESTS := -m "not system" tests --ignore=tests/unit --ignore=tests/browser
SYSTEM_TESTS := -m system tests

# `make test`: the unit tier and, beside it, the few integration tests marked `alone` (a
# time-bounded behaviour that the parallel run's load could push past its bound; one unit
# process beside it leaves it a core); then the integration and system tiers side by side in one
# run spread over TEST_WORKERS processes (pytest-xdist, one test file per process at a time; most
# of these tests wait on servers, sockets and timeouts, so more processes than cores pay off).
TEST_WORKERS ?= 8
test: install
	@rc=0; alone_log=$$(mktemp); \
	$(PYTEST) -m alone tests --ignore=tests/unit > $$alone_log 2>&1 & alone=$$!; \
	echo "== unit"; $(PYTEST) $(UNIT_TESTS) || rc=1; \
	wait $$alone || rc=1; \
	echo "== integration and system, the tests that run alone (beside the unit tier)"; \
	cat $$alone_log; rm -f $$alone_log; \
	echo "== integration and system, side by side ($(TEST_WORKERS) processes)"; \
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not alone" tests \
		--ignore=tests/unit || rc=1; \
	exit $$rc

test-unit: install
	$(PYTEST) $(UNIT_TESTS)

test-integration: install
	$(PYTEST) $(INTEGRATION_TESTS)

test-system: install
	$(PYTEST) $(SYSTEM_TESTS)

# The reliability fuzzing at ten times the examples of `make test` (>= 20,000 over a real channel),
# with hypothesis' statistics (examples run per test).
fuzz: install
	NEWSBRIEF_FUZZ_SCALE=10 $(PY) -m pytest -q -p no:cacheprovider --hypothesis-show-statistics \
		tests/reliability/test_fuzz.py

# The editor's page in headless Chromium (Debian's chromium + chromium-driver, installed here if
# missing; needs root or sudo); screenshots go to reports/.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-browser: install
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; }
	SE_OFFLINE=true NEWSBRIEF_BROWSER_TEST=1 $(PY) -m pytest -q tests/browser

proto: install
	$(PY) -m grpc_tools.protoc -Iproto --python_out=client/src --pyi_out=client/src \
		--grpc_python_out=client/src $(PROTO)
	$(PY) -m grpc_tools.protoc -Iproto --plugin=protoc-gen-connectrpc=$(BIN)/protoc-gen-connectrpc \
		--connectrpc_out=service/src --connectrpc_opt=protobuf=google $(PROTO)
	$(PY) -m grpc_tools.protoc -Iproto --include_source_info --include_imports \
		--descriptor_set_out=$(VENV)/newsbrief.desc $(PROTO)
	$(PY) scripts/openapi_from_proto.py $(VENV)/newsbrief.desc service/src/newsbrief/service/http/openapi.json

proto-check: proto
	git diff --exit-code -- $(GEN) $(GEN_HTTP) || { echo "generated code is stale: run 'make proto' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GEN) $(GEN_HTTP))" || { git status --porcelain -- $(GEN) $(GEN_HTTP); echo "untracked generated files"; exit 1; }

node_modules/.bin/buf: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

buf-lint: node_modules/.bin/buf
	node_modules/.bin/buf lint

lint: install buf-lint
	$(BIN)/ruff check client/src service/src tests scripts bench eval
	$(BIN)/ruff format --check client/src service/src tests scripts bench eval
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

eval: install
	$(PY) -m eval.evaluate --data $(DATA)

# The side-by-side benchmark (random-weight real-size models, real server over gRPC):
# writes bench/RESULTS.md and bench/results.json; models are built once under bench/out/.
bench: install
	$(PY) -m bench.run

# The reliability soak: the real server under a steady mixed load for SOAK_MINUTES,
# report (requests/s, p50/p99, errors by code, RSS samples) under reports/. `make test` runs a
# few seconds of it.
SOAK_MINUTES ?= 10
soak: install
	$(PY) -m tests.reliability.soak --minutes $(SOAK_MINUTES) --report-dir reports

# What make bench builds or installs once (random-weight models, CT2 conversions, LibreTranslate's
# own venv under bench/out/): run it first so that make bench times only the measurements.
bench-prepare: install
	$(PY) -m bench.run --prepare

# Issue 17's attacks on the HTTP door at full size (gzip bombs, 1,100 slow bodies at ulimit 1024),
# with gRPC health meanwhile: the figures, printed.
attack: install
	$(PY) -m bench.attack

docker-check: install
	$(PY) -m pytest -q tests/system/test_dockerfile.py

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache

# ses-relay: every command a developer runs. `make help` lists them.

DOCKER ?= docker
IMAGE ?= ses-relay:test
PYTHON ?= python3
# LocalStack needs Python 3.12 or later; these machines have 3.13 under pyenv.
LOCALSTACK_PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
# A CA bundle for builds behind a TLS-intercepting proxy, passed as the BuildKit secret pip_cert.
PIP_CERT ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
comma := ,

VENV := .venv
LOCALSTACK_VENV := .venv-localstack
BIN := $(VENV)/bin
PYTEST_ARGS ?=

export DOCKER
export SES_RELAY_IMAGE := $(IMAGE)
export LOCALSTACK_PYTHON_BIN := $(abspath $(LOCALSTACK_VENV))/bin/python

.DEFAULT_GOAL := help
.PHONY: help venv localstack lint format unit image devtools-image test bench faults demo docs clean \
	arm64 arm64-image arm64-test

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

venv: $(BIN)/.installed ## Developer virtualenv (.venv) with the package, pytest, ruff, aiosmtpd, hadolint

$(LOCALSTACK_VENV)/.installed: tests/harness/localstack-requirements.txt
	@test -n "$(LOCALSTACK_PYTHON)" || { echo "LocalStack needs python3.13 (set LOCALSTACK_PYTHON)"; exit 1; }
	$(LOCALSTACK_PYTHON) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/harness/localstack-requirements.txt
	touch $@

localstack: $(LOCALSTACK_VENV)/.installed ## LocalStack, run natively by the tests (.venv-localstack)

lint: venv ## ruff, hadolint, shellcheck and actionlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile devstack/Dockerfile tests/bench/stock-postfix/Dockerfile
	shellcheck .ci/run .ci/arm64
	$(BIN)/actionlint .github/workflows/*.yml

format: venv ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: venv ## Fast tests: settings, rendering, event formatting (no Docker)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

image: ## Build the image ($(IMAGE))
	DOCKER_BUILDKIT=1 $(DOCKER) build $(if $(PIP_CERT),--secret id=pip_cert$(comma)src=$(PIP_CERT)) -t $(IMAGE) .

# The linux/arm64 image, built and started here under QEMU user-mode emulation. Slow (minutes),
# so not part of `make test`; the release workflow runs arm64-test on its buildx-built image.
IMAGE_ARM64 ?= ses-relay:arm64
ARM64_TESTS ?= tests/image/test_relay.py::test_allowed_sender_is_relayed_over_verified_tls_with_auth \
	tests/image/test_ses_check.py

arm64-image: ## The linux/arm64 image ($(IMAGE_ARM64)), built under QEMU (not in `make test`: slow)
	PIP_CERT=$(PIP_CERT) bash .ci/arm64 $(IMAGE_ARM64)

arm64-test: venv ## Start $(IMAGE_ARM64) under emulation: the start-up check, and a message relayed
	SES_RELAY_IMAGE=$(IMAGE_ARM64) $(BIN)/python -m pytest $(ARM64_TESTS) $(PYTEST_ARGS)

arm64: arm64-image arm64-test ## Both: build the arm64 image and prove it under emulation

devtools-image: ## The local stack's tools image (SES simulator, MailHog stand-in, bootstrap)
	DOCKER_BUILDKIT=1 $(DOCKER) build $(if $(PIP_CERT),--secret id=pip_cert$(comma)src=$(PIP_CERT)) \
		-f devstack/Dockerfile -t ses-relay-devtools:local .

test: venv localstack lint image ## Everything CI runs: lint, then every test against the built image
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

bench: venv localstack image ## Benchmarks side by side with their baselines, into BENCHMARKS.md
	$(BIN)/python -m tests.bench.run

faults: venv localstack image ## Fault injection under load, every scenario at full scale, into RELIABILITY.md
	$(BIN)/python -m tests.faults.run

demo: venv localstack image ## The whole local SES stack on this machine: a few mails and each one's journey
	$(BIN)/python -m tests.harness.demo

docs: venv ## Regenerate the README's generated tables (settings, compose variables, status words)
	$(BIN)/python -m tools.docs

clean: ## Remove the virtualenvs and caches
	rm -rf $(VENV) $(LOCALSTACK_VENV) .pytest_cache .ruff_cache

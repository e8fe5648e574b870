# The two set-up commands of the README: `make run` and `make test`.
SHELL := /bin/bash
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
CUABOT := .venv/bin/cuabot
PYTEST := .venv/bin/python -m pytest

.PHONY: install browser index run test test-fast eval lint

install:
	bash scripts/setup.sh

browser:
	@start=$$(date +%s); bash scripts/install_browser.sh; rc=$$?; echo "    browser tools: $$(( $$(date +%s) - start )) s"; exit $$rc

index: install
	@start=$$(date +%s); $(CUABOT) ingest; rc=$$?; echo "    index: $$(( $$(date +%s) - start )) s"; exit $$rc

## Install, index the shipped corpus, serve on http://127.0.0.1:8000
run: index
	$(CUABOT) serve

## Install, then every test (fast, slow with the real models, browser) and the evaluation gate.
## The evaluation runs even when a test fails, so its report is always there to read.
test: index browser
	@start=$$(date +%s); $(PYTEST) -m "slow or not slow"; tests=$$?; \
	echo "    pytest: $$(( $$(date +%s) - start )) s"; \
	start=$$(date +%s); $(CUABOT) eval --gate; gate=$$?; \
	echo "    eval: $$(( $$(date +%s) - start )) s"; \
	exit $$(( tests || gate ))

## Developer loop: the fast tests only (no real model, no browser)
test-fast:
	$(PYTEST) -m "not slow and not browser"

eval:
	$(CUABOT) eval

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy core ingest bot ui eval cli

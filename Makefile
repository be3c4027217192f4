# Gatefold: the two commands the README promises, and the steps behind them.
#   make run   — set up, build the example galleries and the worker, serve on http://127.0.0.1:8787
#   make test  — set up, then every test: Rust unit + integration, worker end to end, browser
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup run test test-rust test-e2e test-publish check build links bench fmt lint

help:
	@echo "make run    build the example galleries and serve them locally on Miniflare (prints the links)"
	@echo "make test   run every test (installs what it needs first)"
	@echo "make check  validate galleries/ (gatefold check)"
	@echo "make bench  run the benchmarks and print figures"

setup:
	bash scripts/setup.sh

run: setup
	bash scripts/dev.sh

test: setup test-rust test-e2e test-publish

# Tests build the release profile too: the CLI the other steps run is then compiled once, not in
# two profiles (the image codecs and rav1e dominate a cold compile).
test-rust:
	cargo test --workspace --release --locked

test-e2e:
	bash scripts/test-e2e.sh

# The publishing path without Cloudflare: workflows linted, a full `wrangler deploy --dry-run`.
test-publish:
	bash scripts/lint-workflows.sh
	bash scripts/deploy-dry-run.sh

check:
	cargo run --release -q --locked -p gatefold -- check

build:
	cargo run --release -q --locked -p gatefold -- build

links:
	cargo run --release -q --locked -p gatefold -- links

bench: setup
	bash bench/images/run.sh
	bash bench/worker/run.sh
	bash scripts/build-worker.sh && node bench/analytics/run.mjs 100000
	bash bench/scale/run.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

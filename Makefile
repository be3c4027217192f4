# Gatefold: the two commands the README promises, and the steps behind them.
#   make run   — set up, build the example galleries and the worker, serve on http://127.0.0.1:8787
#   make test  — set up, then every test: Rust unit + integration, worker end to end, browser
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup run test test-architecture test-rust test-e2e test-publish check build links bench fmt lint

help:
	@echo "make run    build the example galleries and serve them locally on Miniflare (prints the links)"
	@echo "make test   run every test (installs what it needs first)"
	@echo "make check  validate galleries/ (gatefold check)"
	@echo "make bench  run the benchmarks and print figures"

setup:
	bash scripts/setup.sh

run: setup
	bash scripts/dev.sh

test: setup test-architecture test-rust test-e2e test-publish

# The invariants ARCHITECTURE.md states ("Invariants"), read from the source in seconds: the
# checker's own tests, then the tree (fails on any import circle, clap type in the generator
# library, I/O in contract, storage reaching the admin API, file or function over its size).
test-architecture:
	node --test scripts/architecture.test.mjs
	node scripts/architecture.mjs

# Tests build the release profile too, and the generator's with exactly the package selection
# `cargo run --release -p gatefold` resolves features for: the CLI every later step runs is this
# very build, compiled once (the image codecs and rav1e dominate a cold compile). The worker's
# native tests come apart because `worker` turns on features of crates the generator shares
# (chrono's `wasmbind`, syn's `visit-mut`, zip's zlib-rs...): in one `--workspace` selection
# they would reach the generator's dependencies and make `cargo run` compile them all again.
test-rust:
	cargo test --release --locked -p gatefold-contract -p gatefold-mark -p gatefold
	cargo test --release --locked -p gatefold-edge-worker

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

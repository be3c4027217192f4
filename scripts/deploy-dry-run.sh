#!/usr/bin/env bash
# Proves the deployment would go through without touching Cloudflare: `gatefold publish
# --dry-run` builds dist/ (pages and records; images are planned, not encoded, so a large archive
# costs no encoding in a pull request), then runs `wrangler deploy --dry-run` for each script (the
# owner's wrangler.owner.toml, then the visitor's wrangler.toml), which builds the
# worker through wrangler.toml's [build] command and bundles worker + assets + bindings + Durable
# Object migrations into a temporary directory, and checks the bundle holds the worker's wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release -q --locked -p gatefold -- publish --dry-run

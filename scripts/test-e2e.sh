#!/usr/bin/env bash
# The edge worker's tests: native unit tests, the R2 tool, then end-to-end tests under Miniflare
# against the real generator output and the real worker build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo test -q --release --locked -p gatefold-edge-worker
# The R2 tool the local run, publish and the tests upload with, against real local R2.
node --test scripts/r2.test.mjs
scripts/build-worker.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
SIGNING_KEY="$(node -e 'import("./tests/e2e/harness.mjs").then(m => console.log(m.SIGNING_KEY))')" \
  cargo run --release -q --locked -p gatefold -- --galleries tests/fixtures/sites/e2e build --out "$work/dist" --cache "$work/cache"
GATEFOLD_E2E_DIST="$work/dist" node --test --test-concurrency=1 tests/e2e/*.test.mjs

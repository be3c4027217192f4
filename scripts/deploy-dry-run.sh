#!/usr/bin/env bash
# Proves the deployment would go through without touching Cloudflare: builds the galleries into
# dist/ (unless GATEFOLD_SKIP_BUILD=1 and dist/ exists), then `wrangler deploy --dry-run`, which
# builds the worker through wrangler.toml's [build] command and bundles worker + assets +
# bindings + Durable Object migrations into a temporary directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ "${GATEFOLD_SKIP_BUILD:-0}" != 1 ] || [ ! -f dist/manifest.json ]; then
  cargo run --release -q --locked -p gatefold -- build
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
WRANGLER_SEND_METRICS=false node_modules/.bin/wrangler deploy --dry-run --outdir "$out"
test -n "$(find "$out" -name '*.wasm' -print -quit)" || { echo "wrangler's bundle has no .wasm module" >&2; exit 1; }
echo "deploy dry run ok: $(find "$out" -type f | wc -l) files bundled ($(du -sh "$out" | cut -f1))"

#!/usr/bin/env bash
# Builds the edge worker to edge-worker/build/ with the locally installed tools
# (plain worker-build would try to download wasm-bindgen and wasm-opt from GitHub).
# Skips the build when nothing it is made from changed since the last one: wasm-opt alone
# takes half a minute, and wrangler, the tests and the benchmarks all ask for a build.
# `--profile worker` (Cargo.toml): the WASM is built for size, the release profile is the CLI's
# and built for speed. worker-build 0.8.7 passes the name to cargo and reads the wasm from
# target/wasm32-unknown-unknown/worker/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out=edge-worker/build/index_bg.wasm
if [ -f "$out" ] && [ -f edge-worker/build/worker/shim.mjs ] && [ "${GATEFOLD_FORCE_WORKER_BUILD:-}" != 1 ]; then
  changed="$(find edge-worker/src edge-worker/Cargo.toml contract Cargo.toml Cargo.lock edge-worker/admin-page \
    -type f -newer "$out" -print -quit)"
  if [ -z "$changed" ]; then
    echo "worker: up to date ($out)"
    exit 0
  fi
fi
cd edge-worker
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}" \
WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}" \
ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}" \
  worker-build --profile worker

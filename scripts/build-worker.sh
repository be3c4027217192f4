#!/usr/bin/env bash
# Builds the edge worker to edge-worker/build/ with the locally installed tools
# (plain worker-build would try to download wasm-bindgen and wasm-opt from GitHub).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/edge-worker"
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}" \
WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}" \
ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}" \
  worker-build --release

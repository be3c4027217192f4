#!/usr/bin/env bash
# Builds the edge worker's two scripts with the locally installed tools (plain worker-build
# would try to download wasm-bindgen and wasm-opt from GitHub): one crate, two feature sets
# (edge-worker/Cargo.toml):
#   edge-worker/build/        the visitor's Worker (`visitor`): what every gallery request loads;
#   edge-worker/build-owner/  the owner's Worker (`owner`): admin page and API, exports,
#                             notifications, the digest cron, reached by a service binding.
# Skips the build when nothing it is made from changed since the last one: wasm-opt alone
# takes half a minute, and wrangler, the tests and the benchmarks all ask for a build.
# `--profile worker` (Cargo.toml): the WASM is built for size, the release profile is the CLI's
# and built for speed. worker-build 0.8.7 passes the name to cargo and reads the wasm from
# target/wasm32-unknown-unknown/worker/, so the two builds run one after the other.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

build() {
  local out="$1" features="$2"
  local wasm="edge-worker/$out/index_bg.wasm"
  if [ -f "$wasm" ] && [ -f "edge-worker/$out/worker/shim.mjs" ] && [ "${GATEFOLD_FORCE_WORKER_BUILD:-}" != 1 ]; then
    changed="$(find edge-worker/src edge-worker/Cargo.toml contract Cargo.toml Cargo.lock edge-worker/admin-page \
      -type f -newer "$wasm" -print -quit)"
    if [ -z "$changed" ]; then
      echo "worker ($features): up to date ($wasm)"
      return
    fi
  fi
  (
    cd edge-worker
    WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}" \
    WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}" \
    ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}" \
      worker-build --profile worker --out-dir "$out" --no-default-features --features "$features"
  )
}

build build visitor
build build-owner owner

#!/usr/bin/env bash
# The worker end to end: the R2 tool, then every tests/e2e file under Miniflare against the real
# generator output and the real worker build, two files at a time where the machine has the
# cores (each file starts its own worker, on its own port and state).
# The worker's native unit tests run with the other Rust tests (`make test-rust`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# The R2 tool the local run, publish and the tests upload with, against real local R2.
node --test scripts/r2.test.mjs
scripts/build-worker.sh
# The CLI every file runs (tests/e2e/harness.mjs reads GATEFOLD_BIN): the release build, which
# `make test-rust` has already made with the same features, so nothing compiles here after it.
GATEFOLD_BIN="$(cargo build --release --locked -q -p gatefold --message-format=json-render-diagnostics | node -e '
  const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const bin = lines.find((m) => m.reason === "compiler-artifact" && m.target.name === "gatefold" && m.executable);
  if (!bin) { console.error("cargo build -p gatefold named no gatefold executable"); process.exit(1); }
  console.log(bin.executable);
')"
export GATEFOLD_BIN
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
SIGNING_KEY="$(node -e 'import("./tests/e2e/harness.mjs").then(m => console.log(m.SIGNING_KEY))')" \
  "$GATEFOLD_BIN" --galleries tests/fixtures/sites/e2e build --out "$work/dist" --cache "$work/cache"
# Two files at a time on two cores or more (GATEFOLD_E2E_JOBS overrides): no test depends on
# another file's timing, and most of a file's time is spent waiting on its worker.
jobs="${GATEFOLD_E2E_JOBS:-$(( $(nproc) >= 2 ? 2 : 1 ))}"
GATEFOLD_E2E_DIST="$work/dist" node --test --test-concurrency="$jobs" tests/e2e/*.test.mjs

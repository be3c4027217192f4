#!/usr/bin/env bash
# Trace benchmark: marks recipients' copies, leaks them through what a leaker does, traces them
# with the detector `gatefold trace` uses, and prints the report's tables (not a test; CI never
# runs it). usage: bash bench/trace/run.sh [--quick] [options of bench/trace/README.md]
# Needs: apt (mate-backgrounds is fetched, not installed), cargo, node_modules (playwright-core),
# /usr/bin/chromium. Work dir: $BENCH_WORK.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${BENCH_WORK:-/tmp/gatefold-bench-trace}"
mkdir -p "$WORK"

# The textured set: Debian's wallpaper photos (the package is downloaded and unpacked here).
NATURE="$WORK/deb/x/usr/share/backgrounds/mate/nature"
if [ ! -f "$NATURE/Garden.jpg" ]; then
  rm -rf "$WORK/deb"; mkdir -p "$WORK/deb"
  (cd "$WORK/deb" && apt-get download mate-backgrounds >/dev/null 2>&1 && for f in *.deb; do dpkg-deb -x "$f" x; done)
fi
[ -d "$ROOT/node_modules/playwright-core" ] || (cd "$ROOT" && npm ci --no-audit --no-fund)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench-trace}"
(cd "$HERE" && cargo build --release --quiet)
cd "$ROOT"
/usr/bin/time -f "wall_s=%e cpu_s=%U+%S" "$CARGO_TARGET_DIR/release/gatefold-bench-trace" --work "$WORK" --wallpapers "$NATURE" --root "$ROOT" "$@"

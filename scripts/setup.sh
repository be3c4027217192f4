#!/usr/bin/env bash
# Installs what building and running the worker needs; fast and silent when all is there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Debian packages: nasm (mozjpeg's SIMD), chromium (browser tests), zbar-tools (QR decoding in
# tests), libvips-tools (SVG→PNG in QR tests, image benchmark reference), fonts-noto-cjk (so the
# browser tests draw Chinese with glyphs, not boxes: a test fails without it).
need=()
command -v nasm >/dev/null || need+=(nasm)
command -v chromium >/dev/null || need+=(chromium)
command -v zbarimg >/dev/null || need+=(zbar-tools)
# Independent readers of the "download all" ZIP in the e2e tests.
command -v unzip >/dev/null || need+=(unzip)
command -v 7zz >/dev/null || need+=(7zip)
command -v vips >/dev/null || need+=(libvips-tools)
[ -n "$(fc-list :lang=zh-cn family 2>/dev/null)" ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# openpyxl reads the worker's Excel exports back in the analytics tests (an independent reader).
python3 -c 'import openpyxl' 2>/dev/null || python3 -m pip install -q openpyxl==3.1.5
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if ! worker-build --version 2>/dev/null | grep -q '0\.8\.7'; then
  cargo install worker-build --version 0.8.7 --locked
fi
# wasm-bindgen's CLI must match the library version locked in Cargo.lock exactly.
want="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
  # Not --locked: its own lockfile pins a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$want"
fi
# Re-install when package-lock.json changed since the last install.
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

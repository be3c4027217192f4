#!/usr/bin/env bash
# Local run (make run): secrets, example galleries, worker build, local R2, wrangler dev.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -f .dev.vars ]; then
  umask 077
  printf 'SIGNING_KEY=%s\nADMIN_TOKEN=%s\n' "$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')" "$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')" > .dev.vars
  echo "created .dev.vars with a random SIGNING_KEY and ADMIN_TOKEN (local only, gitignored)"
fi
# Marks this as a local run: the worker then accepts the development key, which it refuses
# everywhere else. Never set in wrangler.toml, so a deployment cannot inherit it.
grep -qx 'GATEFOLD_DEV=1' .dev.vars || echo 'GATEFOLD_DEV=1' >> .dev.vars
SIGNING_KEY="$(sed -n 's/^SIGNING_KEY=//p' .dev.vars)"
export SIGNING_KEY
cargo run --release -q --locked -p gatefold -- --galleries galleries build --out dist
scripts/build-worker.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
state=.wrangler/state
mkdir -p "$state"
# Display images and originals into local R2, in one process, only what it lacks.
node scripts/r2.mjs put-list dist/objects.json --bucket gatefold-media --local --persist-to "$state"
echo "Links:"
cargo run --release -q --locked -p gatefold -- --galleries galleries links --out dist || true
exec node_modules/.bin/wrangler dev --ip 127.0.0.1 --port 8787 --persist-to "$state"

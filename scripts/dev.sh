#!/usr/bin/env bash
# Local run (make run): secrets, example galleries into dist/ and local R2, worker build, wrangler dev
# of both scripts: the visitor's (wrangler.toml, first, so it answers on the port) and the owner's
# (wrangler.owner.toml: /admin through the OWNER service binding, the cron, the gallery logs).
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
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
state=.wrangler/state
# Builds dist/ and puts the display images and originals local R2 lacks into it, in one process,
# encoding only images the local cache lacks (the state directory is what wrangler dev serves).
cargo run --release -q --locked -p gatefold -- --galleries galleries publish --local --persist-to "$state" --out dist
scripts/build-worker.sh
echo "Links:"
cargo run --release -q --locked -p gatefold -- --galleries galleries links --out dist || true
exec node_modules/.bin/wrangler dev -c wrangler.toml -c wrangler.owner.toml --ip 127.0.0.1 --port 8787 --persist-to "$state"

#!/usr/bin/env bash
# Smoke test of a running deployment: every link of the built manifest answers with its page or
# its intended denial (expired → 410, disabled → 403), retired URLs and the private records
# answer 404. HEAD requests only, which the worker never counts: no link loses a view.
#   scripts/smoke.sh                                   # against base_url from site.yaml
#   scripts/smoke.sh --url http://127.0.0.1:8787       # against wrangler dev
#   scripts/smoke.sh --previous-manifest old.json      # also check URLs retired since old.json
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release -q --locked -p gatefold -- smoke --manifest dist/manifest.json "$@"

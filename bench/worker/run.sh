#!/usr/bin/env bash
# Edge worker benchmark against `wrangler dev` on this machine (see BENCHMARKS.md, "Edge worker"):
# gated image throughput (session checked, then the Cache API in front of R2) vs public static
# assets, page-open latency through the link's Durable Object, and the wasm size. Everything it
# writes goes under $WB_DIR (default /tmp/wb); the repo is only read.
#
#   bash bench/worker/run.sh                  # 3 runs, medians
#   WB_REQUESTS=500 WB_OPENS=100 WB_RUNS=1 bash bench/worker/run.sh   # a quick look
#
# Options (environment): WB_DIR, WB_PORT (8799), WB_RUNS (3), WB_REQUESTS (2000 per throughput
# phase), WB_CONCURRENCY (8), WB_OPENS (300), WB_RELOADS (300), WB_REBUILD=1 to rebuild the worker
# even when edge-worker/build/ exists.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${WB_DIR:-/tmp/wb}"
port="${WB_PORT:-8799}"
wrangler="$root/node_modules/.bin/wrangler"
cd "$root"

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/worker/run.sh: $*"; exit 1; }

[ -x "$wrangler" ] || die "$wrangler is missing: run \`npm ci\` in $root"
command -v gzip >/dev/null || die "gzip is missing: apt-get install gzip"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  die "port $port on 127.0.0.1 is already in use: set WB_PORT to a free port"
fi
mkdir -p "$work"

# 1. The worker. Other people build it in this tree too: never start a second build while one
#    runs, and benchmark a private copy so a rebuild mid-run cannot reload the server under us.
wait_for_other_build() {
  local waited=0
  while pgrep -f 'worker-build' >/dev/null; do
    [ "$waited" -eq 0 ] && say "waiting for a worker-build already running in this tree…"
    sleep 5; waited=$((waited + 5))
    [ "$waited" -lt 900 ] || die "a worker-build has been running for 15 minutes; try again later"
  done
}
wait_for_other_build
if [ "${WB_REBUILD:-0}" = 1 ] || [ ! -f edge-worker/build/index_bg.wasm ] || [ ! -f edge-worker/build-owner/index_bg.wasm ]; then
  say "building the worker (scripts/build-worker.sh)…"
  bash scripts/build-worker.sh >&2
fi
if [ -n "$(find edge-worker/src contract/src -newer edge-worker/build/index_bg.wasm -name '*.rs' -print -quit)" ]; then
  say "note: edge-worker/build/ is older than some sources; WB_REBUILD=1 measures the current code"
fi
rm -rf "$work/worker"
mkdir -p "$work/worker"
cp -r edge-worker/build/index.js edge-worker/build/index_bg.wasm edge-worker/build/package.json edge-worker/build/worker "$work/worker/"
# The owner's script (the gallery logs the visitor's writes to, /admin): wrangler.owner.toml.
rm -rf "$work/worker-owner"
mkdir -p "$work/worker-owner"
cp -r edge-worker/build-owner/index.js edge-worker/build-owner/index_bg.wasm edge-worker/build-owner/package.json edge-worker/build-owner/worker "$work/worker-owner/"
say "worker build: $(date -u -r "$work/worker/index_bg.wasm" '+%Y-%m-%d %H:%M UTC')"

# 2. The site: the benchmark gallery (bench/worker/galleries) with the launch photos, built
#    with a local key; its display images and originals are R2 objects (dist/objects.json),
#    seeded into each run's fresh local state. The same display files, copied to a public path
#    under the names visitors' URLs use, are the reference.
if [ ! -f "$work/.dev.vars" ]; then
  (umask 077; printf 'SIGNING_KEY=%s\nADMIN_TOKEN=%s\n' \
    "$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')" \
    "$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')" > "$work/.dev.vars")
fi
SIGNING_KEY="$(sed -n 's/^SIGNING_KEY=//p' "$work/.dev.vars")"
ADMIN_TOKEN="$(sed -n 's/^ADMIN_TOKEN=//p' "$work/.dev.vars")"
export SIGNING_KEY ADMIN_TOKEN
rm -rf "$work/galleries"
cp -r bench/worker/galleries "$work/galleries"
cp galleries/aurora-launch/*.jpg "$work/galleries/bench/"
say "building the benchmark site…"
cargo run --release -q --locked -p gatefold -- --galleries "$work/galleries" build --out "$work/dist" --cache "$work/cache" >&2
rm -rf "$work/dist/site/assets/bench"
node -e '
  const fs = require("fs"), path = require("path");
  const [dist] = process.argv.slice(1);
  const manifest = JSON.parse(fs.readFileSync(path.join(dist, "manifest.json"), "utf8"));
  const bytes = new Map(JSON.parse(fs.readFileSync(path.join(dist, "objects.json"), "utf8")).map((o) => [o.key, o.file]));
  const out = path.join(dist, "site/assets/bench");
  fs.mkdirSync(out, { recursive: true });
  for (const v of manifest.galleries.bench.images.flatMap((i) => i.variants)) fs.copyFileSync(bytes.get(v.key), path.join(out, v.file));
' "$work/dist"

# 3. wrangler.toml and wrangler.owner.toml with absolute paths and no [build] (which would
#    rebuild the worker in the shared tree) or [dev] section; bindings stay exactly the repo's.
rewrite_config() { # <repo config> <copied build>
  awk -v main="$work/$2/worker/shim.mjs" -v assets="$work/dist/site" '
    /^\[/ { skip = ($0 == "[build]" || $0 == "[dev]") }
    skip { next }
    /^main *=/ { print "main = \"" main "\""; next }
    /^directory *=/ { print "directory = \"" assets "\""; next }
    { print }
  ' "$1" > "$work/$1"
  grep -q "^main = \"$work" "$work/$1" && grep -q "^directory = \"$work" "$work/$1" \
    || die "could not rewrite main/directory in $1 for the temp config"
}
rewrite_config wrangler.toml worker
rewrite_config wrangler.owner.toml worker-owner
# The bucket bound as MEDIA, which the worker serves display images and originals from.
bucket="$(awk '/^\[/ { media = 0 } /^binding *= *"MEDIA"/ { media = 1 } media && /^bucket_name *=/ { gsub(/^[^"]*"|"$/, ""); print; exit }' wrangler.toml)"
[ -n "$bucket" ] || die "wrangler.toml binds no R2 bucket as MEDIA"

# 4. One fresh `wrangler dev` per run (fresh state, so view counts start at zero): under
#    sustained load wrangler's proxy process grows by ~16 MB/s and, after ~5 minutes, has
#    dropped the server mid-run. Each server runs in its own process group so SIGINT reaches
#    wrangler and the workerd it started, as Ctrl+C would.
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
server=""
stop_server() {
  [ -n "$server" ] && kill -0 "$server" 2>/dev/null || return 0
  kill -INT -- "-$server" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || return 0; sleep 0.2; done
  say "wrangler did not stop on SIGINT within 10 s; sending SIGTERM"
  kill -TERM -- "-$server" 2>/dev/null || true
}
trap stop_server EXIT

start_server() {
  rm -rf "$work/state"
  node scripts/r2.mjs put-list "$work/dist/objects.json" --bucket "$bucket" --local --persist-to "$work/state" >&2
  (cd "$work" && exec setsid "$wrangler" dev --config "$work/wrangler.toml" --config "$work/wrangler.owner.toml" --ip 127.0.0.1 --port "$port" \
    --persist-to "$work/state" --log-level warn </dev/null >"$work/wrangler.log" 2>&1) &
  server=$!
  for i in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/robots.txt" 2>/dev/null && return 0
    kill -0 "$server" 2>/dev/null || { cat "$work/wrangler.log" >&2; die "wrangler dev exited (log above)"; }
    [ "$i" -lt 120 ] || { tail -30 "$work/wrangler.log" >&2; die "wrangler dev did not answer within 60 s"; }
    sleep 0.5
  done
}

# CPU seconds (cumulative) of each process of the server as "pid seconds role": wrangler's own
# Node process and its proxy workerd sit in front of the worker locally, not in production.
server_cpu() {
  ps --sid "$server" -o pid=,times=,args= | awk -v entry="entry=127.0.0.1:$port " '
    { role = ($3 ~ /node$/) ? "wrangler-node" : ($3 ~ /workerd$/) ? (index($0, entry) ? "workerd-proxy" : "workerd-worker") : "" }
    role != "" { print $1, $2, role }' | LC_ALL=C sort
}

# 5. The load, one run per server, then one table of medians.
runs="${WB_RUNS:-3}"
results=()
cpu_log="$work/cpu.tsv"
: > "$cpu_log"
for run in $(seq 1 "$runs"); do
  start_server
  say "run $run/$runs: wrangler dev is up on 127.0.0.1:$port"
  cpu_before="$(server_cpu)"
  node bench/worker/load.mjs --base "http://127.0.0.1:$port" --dist "$work/dist" \
    --requests "${WB_REQUESTS:-2000}" --concurrency "${WB_CONCURRENCY:-8}" \
    --opens "${WB_OPENS:-300}" --reloads "${WB_RELOADS:-300}" --runs 1 \
    --wasm "$work/worker/index_bg.wasm" --json "$work/run$run.json" >/dev/null
  LC_ALL=C join <(echo "$cpu_before") <(server_cpu) | awk '{ print $3, $4 - $2 }' >> "$cpu_log"
  stop_server
  wait "$server" 2>/dev/null || true
  results+=("$work/run$run.json")
done

node bench/worker/load.mjs --summarize "${results[@]}"
echo
echo "CPU seconds used by the server during the load (all runs):"
awk '{ cpu[$1] += $2 } END { for (r in cpu) printf "  %-16s %5d s\n", r, cpu[r] }' "$cpu_log" | sort
say "details: $work/run*.json; last server log: $work/wrangler.log"

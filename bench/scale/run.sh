#!/usr/bin/env bash
# Scale benchmark (issue "scale", BENCHMARKS.md "How far it scales"): synthetic archives of 10, 100
# and 1,000 galleries × 25 small images × 4 links, and one gallery with 500 links. Prints, per
# archive: the whole `gatefold build` command cold, with nothing changed and with one gallery's
# image changed (wall and CPU seconds, release CLI); the static asset files it deploys; the bytes
# the worker reads to open one link; and, through `gatefold publish --local` against a local R2,
# how many images a publish encodes and how many objects it uploads. Prints figures, asserts
# nothing. Everything it writes goes under $SCALE_DIR (default /tmp/gatefold-scale).
#
#   bash bench/scale/run.sh                     # 10, 100, 1000 galleries (about 15 minutes on 2 cores,
#                                               # most of it the first publish of 125,000 objects)
#   SCALE_SIZES="10 100" bash bench/scale/run.sh
#   SCALE_PUBLISH=0 SCALE_SIZES="10 1000" bash bench/scale/run.sh   # no publish figures
#
# Then the worker itself (bench/scale/first-request.mjs): a link opened on a fresh isolate and on
# warm ones, under Miniflare (workerd), on the smallest and the largest archive; where a warm open
# of the largest loses time (bench/scale/open-gap.mjs: a gallery's records read the first time,
# its log object created); and what parsing one open's records costs (natively, the example
# contract/examples/parse_records.rs).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${SCALE_DIR:-/tmp/gatefold-scale}"
sizes="${SCALE_SIZES:-10 100 1000}"
cd "$root"

say() { printf '%s\n' "$*" >&2; }
command -v /usr/bin/time >/dev/null || { say "bench/scale: /usr/bin/time is missing (apt-get install time)"; exit 1; }
mkdir -p "$work"

# The archives are built with the end-to-end harness's key, which the worker that opens their
# links below holds: a worker serves only a site signed with its own SIGNING_KEY.
SIGNING_KEY="$(node -e 'import("./tests/e2e/harness.mjs").then(m => console.log(m.SIGNING_KEY))')"
export SIGNING_KEY

say "building the release CLI…"
cargo build --release -q --locked -p gatefold
bin="${CARGO_TARGET_DIR:-$root/target}/release/gatefold"

# `timed <command…>`: runs the command, its output appended to $work/log; prints "wall cpu".
timed() {
  local out="$work/time"
  if ! /usr/bin/time -f '%e %U %S' -o "$out" "$@" >>"$work/log" 2>&1; then
    say "bench/scale: failed: $* (see $work/log)"; tail -20 "$work/log" >&2; exit 1
  fi
  awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$out"
}

# The whole build command, as CI and `make run` run it, on archive $1 with cache $2 into $3.
build() { timed "$bin" --galleries "$1" build --themes "$root/themes" --cache "$2" --out "$3"; }
publish_local() { timed "$bin" --galleries "$1" publish --themes "$root/themes" --r2-tool "$root/scripts/r2.mjs" --cache "$2" --out "$3" --local --persist-to "$4"; }
has_publish_local=0
"$bin" publish --help 2>/dev/null | grep -q -- '--persist-to' && has_publish_local=1
[ "${SCALE_PUBLISH:-1}" = 0 ] && has_publish_local=0

printf 'scale benchmark, %s, %s cores, load:%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(uptime | sed 's/.*load average://')"
printf 'release CLI, images 64×48 PNG, 25 per gallery, 4 links each; wall s / CPU s (user+sys) of the whole command\n\n'
printf '%-11s %-14s %-14s %-14s %8s %14s %10s %11s\n' galleries "cold build" "no change" "one changed" "static" "per gal.+fixed" "open bytes" "manifest"

row() { # $1 label, $2 galleries, $3 links per gallery
  local repo="$work/repo-$1" cache="$work/cache-$1" dist="$work/dist-$1"
  rm -rf "$cache" "$dist"
  node bench/scale/synth.mjs "$repo" --galleries "$2" --links "$3"
  local cold same changed files bytes
  cold="$(build "$repo" "$cache" "$dist")"
  same="$(build "$repo" "$cache" "$dist")"
  node bench/scale/synth.mjs "$repo" --change g0001
  changed="$(build "$repo" "$cache" "$dist")"
  files="$(find "$dist/site" -type f | wc -l)"
  # Files named after one gallery (its record, page templates, previews, owner kits); the rest
  # (token shards, theme, denial pages) is fixed whatever the archive.
  per="$(find "$dist/site" -type f -path '*g0001*' | wc -l)"
  bytes="$(node bench/scale/open-bytes.mjs "$dist")"
  local open manifest
  open="$(node -e 'const b=JSON.parse(process.argv[1]); console.log(`${b.total} (${b.site}+${b.shard}+${b.gallery}+${b.page})`)' "$bytes")"
  manifest="$(node -e 'console.log(JSON.parse(process.argv[1]).manifest)' "$bytes")"
  printf '%-11s %-14s %-14s %-14s %8s %14s %10s %11s\n' "$1" "${cold/ //}" "${same/ //}" "${changed/ //}" "$files" \
    "$per + $((files - per * $2))" "${open%% *}" "$manifest"
  say "  $1: bytes for one open ${open} (site + shard + gallery + page)"
}

for n in $sizes; do row "$n" "$n" 4; done
row "500-links" 1 500

if [ "$has_publish_local" = 1 ]; then
  printf '\npublish --local (local R2, no deploy): what a publish encodes and uploads\n'
  n="$(echo "$sizes" | awk '{ print $NF }')"
  repo="$work/repo-$n" cache="$work/pcache-$n" dist="$work/pdist-$n" state="$work/r2-$n"
  rm -rf "$cache" "$dist" "$state"
  for step in "first publish" "nothing changed" "one gallery changed"; do
    [ "$step" = "one gallery changed" ] && node bench/scale/synth.mjs "$repo" --change g0002
    : >"$work/log"
    t="$(publish_local "$repo" "$cache" "$dist" "$state")"
    printf '%-22s %-14s %s\n' "$step" "${t/ //}" "$(grep -E '^encoded [0-9]+ images' "$work/log" | tail -1)"
  done
else
  printf '\n(publish figures skipped: this gatefold has no `publish --local`)\n'
fi
printf '\nopening a link under workerd (wall ms, median; first = fresh isolate, warm = later opens of other links)\n'
bash scripts/build-worker.sh >&2
first="$(echo "$sizes" | awk '{ print $1 }')" last="$(echo "$sizes" | awk '{ print $NF }')"
node bench/scale/first-request.mjs "$work/dist-$first" "$work/dist-$last"
printf '\nwhere a warm open of %s galleries loses time (wall ms, median)\n' "$last"
node bench/scale/open-gap.mjs "$work/dist-$last"
printf '\nparsing one open'"'"'s records, natively (µs, median)\n'
cargo build --release -q --locked -p gatefold-contract --example parse_records
"${CARGO_TARGET_DIR:-$root/target}/release/examples/parse_records" "$work/dist-$last" g0001 "$work/dist-500-links" g0001
printf '\nload after:%s\n' "$(uptime | sed 's/.*load average://')"

#!/usr/bin/env bash
# Recipients benchmark (issue 12: "500 recipients on one gallery: `gatefold build` stays within
# seconds of the same gallery with 4 links"). Two sites with the same gallery (the 8 photos of
# galleries/aurora-launch): one with 4 links, one with an audience of 500 recipients from a CSV
# (a link, QR PNG + SVG, card and mail-merge row each). Prints, for each, the whole
# `gatefold build` command cold (empty cache and output), with nothing changed, and with one
# change (a link's label; one recipient's label), wall seconds, and the ratio 500 / 4. Prints
# figures, asserts nothing. Writes under $RECIPIENTS_DIR (default /tmp/gatefold-recipients).
# Then the worker (bench/recipients/open.mjs): one site holding both galleries, the first open of
# each on a warm isolate under Miniflare (workerd), and the ratio 500 / 4.
#
#   bash bench/recipients/run.sh
#   RECIPIENTS_BUILDS=0 bash bench/recipients/run.sh     # the worker's figures only
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${RECIPIENTS_DIR:-/tmp/gatefold-recipients}"
cd "$root"
say() { printf '%s\n' "$*" >&2; }

# GATEFOLD_BIN: a gatefold built before (e.g. another version's, to compare), else the release build.
if [ -n "${GATEFOLD_BIN:-}" ]; then
  bin="$GATEFOLD_BIN"
else
  say "building the release CLI…"
  cargo build --release -q --locked -p gatefold
  bin="${CARGO_TARGET_DIR:-$root/target}/release/gatefold"
fi

rm -rf "$work" && mkdir -p "$work"
# `site <name> <links yaml>`: a galleries folder with one gallery `launch` of the 8 photos.
site() {
  local dir="$work/$1/galleries"
  mkdir -p "$dir/launch"
  cp galleries/site.yaml "$dir/"
  cp galleries/aurora-launch/*.jpg "$dir/launch/"
  printf 'title: Launch\nlinks:\n%s' "$2" > "$dir/launch/gallery.yaml"
}
site four '  market:
    max_views: 100
  sales:
    download: true
  channel:
    max_views: 20
  press:
    download: true
'
site five-hundred '  market:
    max_views: 100
  channel:
    max_views: 20
    download: true
    recipients: dealers.csv
'
{
  echo "name,label,email"
  for i in $(seq -w 1 500); do echo "dealer-$i,经销商 $i,dealer$i@dealers.example"; done
} > "$work/five-hundred/galleries/launch/dealers.csv"

# `timed <site> <what>`: one whole build of the site, wall seconds.
timed() {
  local s="$work/$1"
  /usr/bin/time -f '%e' -o "$s/time" "$bin" --galleries "$s/galleries" build --themes "$root/themes" --cache "$s/cache" --out "$s/dist" >>"$work/log" 2>&1 \
    || { say "failed: build of $1 (see $work/log)"; tail -20 "$work/log" >&2; exit 1; }
  cat "$s/time"
}
# `change <site>`: one edit an owner makes between builds.
change() {
  case "$1" in
    four) sed -i "s/^  press:/  press:\n    label: Press $RANDOM/" "$work/four/galleries/launch/gallery.yaml" ;;
    five-hundred) sed -i "s/^dealer-250,经销商 250/dealer-250,经销商 250 $RANDOM/" "$work/five-hundred/galleries/launch/dealers.csv" ;;
  esac
}

# The site the worker opens: both galleries side by side, and a third to warm the isolate with.
both="$work/both/galleries"
mkdir -p "$both"
cp galleries/site.yaml "$both/"
for g in four five-hundred; do cp -r "$work/$g/galleries/launch" "$both/$g"; done
cp -r "$work/four/galleries/launch" "$both/warm"
SIGNING_KEY="$(node -e 'import("./tests/e2e/harness.mjs").then(m => console.log(m.SIGNING_KEY))')" \
  "$bin" --galleries "$both" build --themes "$root/themes" --cache "$work/both/cache" --out "$work/both/dist" >>"$work/log" 2>&1 \
  || { say "failed: build of the site the worker opens (see $work/log)"; exit 1; }

if [ "${RECIPIENTS_BUILDS:-1}" != 0 ]; then
declare -A cold same one
for s in four five-hundred; do
  cold[$s]=$(timed $s)
  same[$s]=$(timed $s)
  change $s
  one[$s]=$(timed $s)
done
files() { find "$work/$1/dist/owner" -type f | wc -l; }
printf '%-28s %10s %10s %8s\n' "gatefold build (wall s)" "4 links" "500 recip." "ratio"
for row in cold same one; do
  declare -n t=$row
  label=$([ $row = cold ] && echo "cold (empty cache)" || ([ $row = same ] && echo "no change" || echo "one change"))
  printf '%-28s %10s %10s %8s\n' "$label" "${t[four]}" "${t[five-hundred]}" "$(awk -v a="${t[four]}" -v b="${t[five-hundred]}" 'BEGIN { printf "%.2f", b / a }')"
done
printf '%-28s %10s %10s\n' "owner files" "$(files four)" "$(files five-hundred)"
fi

printf '\nopening a link under workerd: first open of the gallery on a warm isolate (wall ms, median), load:%s\n' "$(uptime | sed 's/.*load average://')"
bash scripts/build-worker.sh >&2
node bench/recipients/open.mjs "$work/both/dist"
printf 'load after:%s\n' "$(uptime | sed 's/.*load average://')"

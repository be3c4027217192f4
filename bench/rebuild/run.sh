#!/usr/bin/env bash
# No-op build benchmark (BENCHMARKS.md "Builds"): how long `gatefold build` takes when nothing
# changed, on
#   - photos: two galleries, 14 camera-size JPEGs (Debian's wallpaper photos upscaled to ~20.8 MP,
#     as bench/images makes them), 4 + 2 links;
#   - synthetic archives of bench/scale/synth.mjs (25 small PNGs and 4 links per gallery).
# Per site and generator: the cold build, the first rebuild after it, and the best and median of
# five more no-change rebuilds, wall and CPU (user + sys) seconds of the whole command.
#
#   bash bench/rebuild/run.sh
#   BEFORE_BIN=/path/to/older/gatefold bash bench/rebuild/run.sh   # the same runs with an older
#       generator too, interleaved, as the reference in the same run
#   REBUILD_SIZES="10 1000" (default) picks the synthetic archives; REBUILD_DIR the work folder.
# Prints figures, asserts nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${REBUILD_DIR:-/tmp/gatefold-rebuild}"
sizes="${REBUILD_SIZES:-10 1000}"
cd "$root"
command -v /usr/bin/time >/dev/null || { echo "bench/rebuild: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
mkdir -p "$work"

# 1. The photos (made once): the 12 of bench/images and two more of the same package.
if [ ! -f "$work/in/.done" ]; then
  command -v vips >/dev/null || { apt-get update -qq && apt-get install -y -qq libvips-tools >/dev/null; }
  rm -rf "$work/deb" "$work/in"; mkdir -p "$work/deb" "$work/in"
  (cd "$work/deb" && apt-get download mate-backgrounds >/dev/null 2>&1 && dpkg-deb -x mate-backgrounds_*.deb x)
  n="$work/deb/x/usr/share/backgrounds/mate"
  for f in nature/Aqua nature/Garden nature/Wood nature/TwoWings nature/LadyBird nature/YellowFlower nature/Storm \
           nature/RainDrops nature/Blinds nature/Dune abstract/Elephants_5640x3172 desktop/GreenTraditional \
           nature/GreenMeadow nature/FreshFlower; do
    src="$n/$f.jpg"; w=$(vipsheader -f width "$src"); h=$(vipsheader -f height "$src")
    vips resize "$src" "$work/in/$(basename "$f").jpg[Q=90]" "$(python3 -c "print((20.8e6/($w*$h))**0.5)")" --kernel lanczos3
  done
  touch "$work/in/.done"
fi
photos="$work/photos"
if [ ! -d "$photos" ]; then
  mkdir -p "$photos/launch" "$photos/dealer"
  cp galleries/site.yaml "$photos/"
  gallery() { # $1 folder, $2 title, $3 links (YAML), then the images
    local dir="$photos/$1" title="$2" links="$3"; shift 3
    { echo "title: $title"; echo "images:"; for f in "$@"; do cp "$work/in/$f.jpg" "$dir/"; echo "  - file: $f.jpg"; done
      echo "links:"; printf '%s\n' "$links"; } >"$dir/gallery.yaml"
  }
  gallery launch "Launch" "$(printf '  %s: {max_views: 100, download: %s, expires: 2031-12-05}\n' market false sales true channel true press true)" \
    Aqua Garden Wood TwoWings LadyBird YellowFlower Storm RainDrops Blinds Dune
  gallery dealer "Dealer kit" "$(printf '  %s: {max_views: 40, download: true, expires: 2031-03-31}\n' dealer-shanghai dealer-beijing)" \
    Elephants_5640x3172 GreenTraditional GreenMeadow FreshFlower
  # A stamp is trusted only for a file unchanged for a few seconds (see ARCHITECTURE.md, "The
  # build cache"): photos copied this instant would be hashed once more by the first rebuild.
  sleep 4
fi
for n in $sizes; do [ -d "$work/repo-$n" ] || node bench/scale/synth.mjs "$work/repo-$n" --galleries "$n" --links 4; done

echo "building the release CLI…" >&2
cargo build --release -q --locked -p gatefold
after="${CARGO_TARGET_DIR:-$root/target}/release/gatefold"
bins=(after); [ -n "${BEFORE_BIN:-}" ] && bins=(before after)
bin_of() { if [ "$1" = before ]; then echo "$BEFORE_BIN"; else echo "$after"; fi; }

# `timed <command…>`: "wall cpu" of one run, its output in $work/log.
timed() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >>"$work/log" 2>&1 || { echo "failed: $*" >&2; tail -5 "$work/log" >&2; exit 1; }
  awk '{ printf "%.3f %.3f", $1, $2 + $3 }' "$work/time"
}
build() { timed "$(bin_of "$1")" --galleries "$2" build --themes "$root/themes" --cache "$work/cache-$1-$3" --out "$work/dist-$1-$3"; }
stats() { # best and median of "wall cpu" lines, by wall
  sort -n | awk '{ w[NR] = $1; c[NR] = $2 } END { m = int((NR + 1) / 2); printf "%.3f / %.3f   %.3f / %.3f", w[1], c[1], w[m], c[m] }'
}

printf 'no-op build benchmark, %s, %s cores, load:%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(uptime | sed 's/.*load average://')"
printf 'wall s / CPU s of the whole command\n\n%-12s %-7s %-15s %-15s %-17s %-17s\n' site generator "first build*" "first rebuild" "best of 5" "median of 5"
row() { # $1 label, $2 galleries folder
  local label="$1" dir="$2" bin
  # The cold build encodes every image: the first generator's cache is hard-linked for the
  # others (entries are only ever replaced by a rename, never written in place).
  local seed=""
  for bin in "${bins[@]}"; do
    rm -rf "$work/cache-$bin-$label" "$work/dist-$bin-$label"
    [ -n "$seed" ] && cp -al "$seed" "$work/cache-$bin-$label"
    local cold first; cold="$(build "$bin" "$dir" "$label")"
    seed="${seed:-$work/cache-$bin-$label}"
    first="$(build "$bin" "$dir" "$label")"
    local runs=""; for _ in 1 2 3 4 5; do runs+="$(build "$bin" "$dir" "$label")"$'\n'; done
    printf '%-12s %-7s %-15s %-15s %s\n' "$label" "$bin" "${cold/ / / }" "${first/ / / }" "$(printf '%s' "$runs" | stats)"
  done
}
row photos "$photos"
for n in $sizes; do row "$n" "$work/repo-$n"; done
printf '\nload at the end:%s\n' "$(uptime | sed 's/.*load average://')"
printf "* cold for the first generator; the next ones start from its image cache (hard links), with their own dist/ and source index\n"

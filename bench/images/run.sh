#!/usr/bin/env bash
# Image pipeline benchmark: Gatefold vs sharp vs vipsthumbnail on the same machine, same run.
# Prints figures (not a test; CI never runs it). usage: bash bench/images/run.sh
# Needs: apt (libvips-tools, time), cargo, node_modules (sharp). Work dir: $BENCH_WORK.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${BENCH_WORK:-/tmp/gatefold-bench}"
RUNS="${RUNS:-3}"
mkdir -p "$WORK"

command -v vipsthumbnail >/dev/null && [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq libvips-tools time >/dev/null; }
command -v dssim >/dev/null || cargo install dssim --locked

# 1. Inputs: Debian's wallpaper photos, upscaled to camera size (~20 MP each, ~250 MP total),
#    plus one 100 MP photo for the memory figure.
if [ ! -f "$WORK/in/.done" ]; then
  rm -rf "$WORK/deb" "$WORK/in" "$WORK/in100"; mkdir -p "$WORK/deb" "$WORK/in" "$WORK/in100"
  (cd "$WORK/deb" && apt-get download mate-backgrounds gnome-backgrounds >/dev/null 2>&1 && for f in *.deb; do dpkg-deb -x "$f" x; done)
  N="$WORK/deb/x/usr/share/backgrounds/mate"
  for f in nature/Garden nature/Wood nature/Aqua nature/TwoWings nature/LadyBird nature/YellowFlower nature/Storm \
           nature/RainDrops nature/Blinds nature/Dune abstract/Elephants_5640x3172 desktop/GreenTraditional; do
    src="$N/$f.jpg"; name="$(basename "$f")"
    w=$(vipsheader -f width "$src"); h=$(vipsheader -f height "$src")
    # Scale so each photo is ~20.8 MP, as from a 20 MP camera.
    scale=$(python3 -c "print((20.8e6/($w*$h))**0.5)")
    vips resize "$src" "$WORK/in/$name.jpg[Q=90]" "$scale" --kernel lanczos3
  done
  vips resize "$N/nature/Garden.jpg" "$WORK/in100/Garden100.jpg[Q=90]" 4.9375 --kernel lanczos3
  touch "$WORK/in/.done"
fi
MP=$(for f in "$WORK"/in/*.jpg; do echo "$(vipsheader -f width "$f") * $(vipsheader -f height "$f")"; done | python3 -c "import sys; print(round(sum(eval(l) for l in sys.stdin)/1e6))")
echo "inputs: $(ls "$WORK"/in/*.jpg | wc -l) JPEGs, ${MP} MP total; 100 MP input: $(vipsheader "$WORK"/in100/*.jpg)"

# 2. Ours: a release build of generator/src/images through the bench runner.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench-images}"
(cd "$HERE/runner" && cargo build --release --quiet)
RUNNER="$CARGO_TARGET_DIR/release/gatefold-bench-images"
# 3. Ours and sharp (decode once per image) alternate, run by run, so a burst of load from
#    other work on the machine hits both alike; wall and CPU (user+sys) seconds per run.
cpu() { /usr/bin/time -f "cpu_s=%U %S" "$@" 2>&1 >/dev/null | sed -n 's/^cpu_s=//p' | awk '{print $1+$2}'; }
echo "load_average_start=$(cut -d' ' -f1-3 /proc/loadavg)"
ours_all=(); sharp_all=(); ours_cpu=(); sharp_cpu=()
for i in $(seq "$RUNS"); do
  OURS=$("$RUNNER" "$WORK/in" "$WORK/ours" 1)
  ours_all+=("$(sed -n 's/^cold_median_s=//p' <<<"$OURS")")
  ours_cpu+=("$(cpu "$RUNNER" "$WORK/in" "$WORK/ours-cpu" 1)")
  rm -rf "$WORK/sharp"
  sharp_all+=("$(cd "$ROOT" && node "$HERE/sharp.mjs" "$WORK/in" "$WORK/sharp" | sed -n 's/^sharp_s=//p')")
  sharp_cpu+=("$(cd "$ROOT" && rm -rf "$WORK/sharp-cpu" && cpu node "$HERE/sharp.mjs" "$WORK/in" "$WORK/sharp-cpu")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
echo "$OURS"
ours_s=$(median "${ours_all[@]}"); sharp_s=$(median "${sharp_all[@]}")
warm_s=$(sed -n 's/^warm_s=//p' <<<"$OURS"); OURS_OUT=$(sed -n 's/^outputs=//p' <<<"$OURS")
echo "ours_runs_s=${ours_all[*]} ours_median_s=$ours_s ours_cpu_s=$(median "${ours_cpu[@]}")"
echo "sharp_runs_s=${sharp_all[*]} sharp_median_s=$sharp_s sharp_cpu_s=$(median "${sharp_cpu[@]}")"

# 4. vipsthumbnail: one call per output (4 sizes × 2 formats), two processes at a time. Its
#    JPEG is libvips' default too (baseline, no trellis).
rm -rf "$WORK/vips"; mkdir -p "$WORK/vips"
t0=$(date +%s.%N)
for f in "$WORK"/in/*.jpg; do for w in 1920 960 480 360; do for fmt in "webp[Q=80,strip]" "jpg[Q=82,strip]"; do
  echo "$f $w $fmt"; done; done; done |
  VIPS_CONCURRENCY=1 xargs -P2 -L1 sh -c 'vipsthumbnail "$0" --size "${1}x" -o "'"$WORK"'/vips/%s-$1.$2"'
vips_s=$(python3 -c "import time; print(f'{time.time()-$t0:.3f}')")
load=$(cut -d' ' -f1-3 /proc/loadavg); echo "load_average=$load"
echo "vipsthumbnail_s=$vips_s"

# 5. Quality: every tool's outputs at every width vs one neutral reference (full decode +
#    exact Lanczos3 in Pillow), see quality.py. Lower is better.
python3 -c "import PIL" 2>/dev/null || pip install --quiet pillow
rm -rf "$WORK/q"
QUALITY=$(python3 "$HERE/quality.py" "$WORK/in" "$WORK/q" ours="$OURS_OUT" sharp="$WORK/sharp" vipsthumbnail="$WORK/vips")
echo "$QUALITY"
q() { sed -n "s/^dssim_$1_mean=//p" <<<"$QUALITY"; }
for kind in webp jpg; do
  echo "dssim_${kind}: ours/sharp=$(python3 -c "print(f'{$(q ours_$kind)/$(q sharp_$kind):.3f}')") ours/vipsthumbnail=$(python3 -c "print(f'{$(q ours_$kind)/$(q vipsthumbnail_$kind):.3f}')") (target <= 1.05)"
done
# Per width as well: a mean over widths can hide one width over the target.
python3 - <<PY
import re
q = {m[0]: float(m[1]) for m in re.findall(r"^dssim_(\S+?)=([0-9.]+) ", """$QUALITY""", re.M)}
for kind in ("webp", "jpg"):
    r = {int(k.rsplit("_", 1)[1]): v / q[k.replace("ours", "sharp")] for k, v in q.items() if k.startswith(f"ours_{kind}_") and k.replace("ours", "sharp") in q}
    worst = max(r, key=r.get)
    print(f"dssim_{kind}_per_width ours/sharp: " + " ".join(f"{w}={x:.3f}" for w, x in sorted(r.items())) + f" worst={worst}:{r[worst]:.3f} (target <= 1.05 at every width)")
PY

# 6. Peak memory on a 100 MP input (cold, one run).
rss_kb=$(/usr/bin/time -v "$RUNNER" "$WORK/in100" "$WORK/ours100" 1 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p')
echo "peak_rss_100mp_MB=$((rss_kb / 1024))"

# 7. AVIF on (opt-in): one cold run with AVIF variants of every size as well.
if [ "${AVIF:-1}" = 1 ]; then
  "$RUNNER" "$WORK/in" "$WORK/ours-avif" 1 avif | sed -n 's/^cold_median_s=/avif_on_cold_s=/p'
fi

python3 - "$ours_s" "$sharp_s" "$vips_s" "$warm_s" "$(median "${ours_cpu[@]}")" "$(median "${sharp_cpu[@]}")" <<'PY'
import sys
ours, sharp, vips, warm, ours_cpu, sharp_cpu = map(float, sys.argv[1:])
print(f"ratio sharp/ours={sharp/ours:.2f}x wall, {sharp_cpu/ours_cpu:.2f}x CPU s (target >= 2 in both)  vipsthumbnail/ours={vips/ours:.2f}x (target >= 4)  cold/no-change={ours/warm:.0f}x (target >= 50)")
PY

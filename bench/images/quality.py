#!/usr/bin/env python3
"""Scores every tool's outputs against one neutral reference, the same way for everyone.

usage: quality.py <input dir> <work dir> <tool>=<output dir> [<tool>=<output dir> ...]

Reference: the source decoded at full resolution (no DCT-scaled decode) and resized in one
step with Pillow's Lanczos3 (an exact convolution, `reducing_gap=None`), to the exact pixel size
of the output being scored. Pillow shares no resize code with Gatefold (fast_image_resize),
sharp or vipsthumbnail (libvips), so no tool is scored against its own resampler. Outputs are
decoded with Pillow too and scored with the `dssim` CLI (lower is better; 0 = identical).

An output belongs to source `<name>` when its file name is `<name>-<anything>.<webp|jpg|avif>`;
its width is read from the file. Prints per tool, format and width: mean DSSIM over the
sources and total bytes, then a mean over widths, as `key=value` lines.
"""
import os
import re
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

src_dir, work = sys.argv[1], sys.argv[2]
tools = [a.split("=", 1) for a in sys.argv[3:]]
os.makedirs(work, exist_ok=True)
sources = sorted(f for f in os.listdir(src_dir) if f.lower().endswith(".jpg") and not f.startswith("."))

# (source, width, height) -> reference PNG path
refs = {}
# (tool, ext, width) -> list of (ref, candidate png, bytes)
pairs = defaultdict(list)

for s in sources:
    name = os.path.splitext(s)[0]
    full = None
    for tool, out in tools:
        for f in sorted(os.listdir(out)):
            m = re.fullmatch(re.escape(name) + r"-.*\.(webp|jpg|avif)", f)
            if not m:
                continue
            path = os.path.join(out, f)
            try:
                img = Image.open(path)
                img.load()
            except Exception:  # Pillow without AVIF support: skip those files
                continue
            size = img.size
            key = (name, size)
            if key not in refs:
                if full is None:
                    full = Image.open(os.path.join(src_dir, s)).convert("RGB")
                ref = os.path.join(work, f"{name}-{size[0]}x{size[1]}-ref.png")
                full.resize(size, Image.Resampling.LANCZOS, reducing_gap=None).save(ref, compress_level=1)
                refs[key] = ref
            cand = os.path.join(work, f"{tool}-{f}.png")
            img.convert("RGB").save(cand, compress_level=1)
            pairs[(tool, m.group(1), size[0])].append((refs[key], cand, os.path.getsize(path)))


def score(item):
    ref, cand, _ = item
    return float(subprocess.run(["dssim", ref, cand], check=True, capture_output=True, text=True).stdout.split()[0])


with ThreadPoolExecutor(max_workers=2) as pool:
    results = {k: list(pool.map(score, v)) for k, v in pairs.items()}

summary = defaultdict(list)
for (tool, ext, width), scores in sorted(results.items()):
    mean = sum(scores) / len(scores)
    size = sum(b for _, _, b in pairs[(tool, ext, width)])
    summary[(tool, ext)].append(mean)
    print(f"dssim_{tool}_{ext}_{width}={mean:.6f} n={len(scores)} bytes={size}")
for (tool, ext), means in sorted(summary.items()):
    print(f"dssim_{tool}_{ext}_mean={sum(means) / len(means):.6f}")

// Same work as Gatefold's pipeline with sharp: each image decoded once (shrink-on-load to the
// largest width), then 1920/960/480 + a 360 thumbnail, each as WebP q80 and JPEG q82.
// Two images at a time, one libvips thread each, like our two rayon workers. Encoders at
// sharp's defaults besides quality: WebP effort 4; JPEG without mozjpeg's trellis
// (`mozjpeg: false`: baseline, optimised Huffman, 4:2:0), like ours.
// usage: node sharp.mjs <input dir> <output dir>
import sharp from "sharp";
import { readdirSync, mkdirSync } from "node:fs";
import { join, parse } from "node:path";

const [input, output] = process.argv.slice(2);
mkdirSync(output, { recursive: true });
sharp.concurrency(1);
sharp.cache(false);
const widths = [1920, 960, 480, 360];

async function one(file) {
  const name = parse(file).name;
  const { data, info } = await sharp(join(input, file)).rotate().resize({ width: widths[0], withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  await Promise.all(widths.flatMap((w) => [
    sharp(data, raw).resize({ width: w, withoutEnlargement: true }).webp({ quality: 80 }).toFile(join(output, `${name}-${w}.webp`)),
    sharp(data, raw).resize({ width: w, withoutEnlargement: true }).jpeg({ quality: 82, mozjpeg: false }).toFile(join(output, `${name}-${w}.jpg`)),
  ]));
}

const files = readdirSync(input).filter((f) => !f.startsWith(".")).sort();
const t = performance.now();
let next = 0;
await Promise.all([0, 1].map(async () => { while (next < files.length) await one(files[next++]); }));
console.log(`sharp_s=${((performance.now() - t) / 1000).toFixed(3)}`);

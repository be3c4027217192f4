// Writes a synthetic galleries directory for the scale benchmark (bench/scale/run.sh):
//
//   node bench/scale/synth.mjs <dir> --galleries N [--images 25] [--links 4]
//   node bench/scale/synth.mjs <dir> --change <gallery>     # replace that gallery's first image
//
// Every image is a distinct 64×48 PNG (its pixels derive from the gallery, the image and a
// generation number), so every image has its own content hash, as in a real archive; they are
// small so that the benchmark measures the archive's size in files and records, not the codecs.
import { mkdirSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, crc32 } from "node:zlib";

const WIDTH = 64;
const HEIGHT = 48;

/** A 64×48 RGB PNG whose pixels are a function of `seed`. */
function png(seed) {
  const raw = Buffer.alloc((WIDTH * 3 + 1) * HEIGHT);
  let state = (seed * 2654435761) >>> 0 || 1;
  const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0), state >>> 24);
  const [r0, g0, b0] = [rand(), rand(), rand()];
  for (let y = 0; y < HEIGHT; y++) {
    const row = y * (WIDTH * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < WIDTH; x++) {
      const p = row + 1 + x * 3;
      raw[p] = (r0 + x * 3) & 255;
      raw[p + 1] = (g0 + y * 5) & 255;
      raw[p + 2] = (b0 + ((x * y) >> 3) + (rand() & 15)) & 255;
    }
  }
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(WIDTH, 0);
  ihdr.writeUInt32BE(HEIGHT, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const galleryId = (i) => `g${String(i).padStart(4, "0")}`;

const SITE = `# Synthetic site of the scale benchmark (bench/scale/synth.mjs).
title: Gatefold scale benchmark
base_url: http://127.0.0.1:8787
default_locale: en
timezone: UTC
theme: default
ip_logging: truncated
images:
  widths: [480, 960, 1920]
  thumbnail: 360
  webp_quality: 80
  jpeg_quality: 82
`;

function gallery(dir, i, images, links) {
  const id = galleryId(i);
  const gdir = join(dir, id);
  mkdirSync(gdir, { recursive: true });
  for (let n = 0; n < images; n++) {
    writeFileSync(join(gdir, `img-${String(n).padStart(3, "0")}.png`), png(i * 100_003 + n * 7 + 1));
  }
  const linkYaml = Array.from({ length: links }, (_, l) => `  a${String(l).padStart(3, "0")}:\n    label: Audience ${l} of gallery ${i}\n`).join("");
  writeFileSync(join(gdir, "gallery.yaml"), `title: Gallery ${i}\nlinks:\n${linkYaml}`);
}

function main(argv) {
  const [dir, ...rest] = argv;
  const opt = (name, dflt) => {
    const i = rest.indexOf(name);
    return i < 0 ? dflt : rest[i + 1];
  };
  if (!dir) throw new Error("usage: synth.mjs <dir> --galleries N [--images 25] [--links 4] | --change <gallery>");
  const change = opt("--change");
  if (change) {
    // A new generation of the first image: new pixels, new content hash, same file name.
    const file = join(dir, change, "img-000.png");
    const generation = readFileSync(file).length + Date.now();
    writeFileSync(file, png(generation >>> 0));
    return;
  }
  const galleries = Number(opt("--galleries"));
  const images = Number(opt("--images", 25));
  const links = Number(opt("--links", 4));
  if (!(galleries > 0 && images > 0 && links > 0)) throw new Error("--galleries, --images and --links must be positive numbers");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "site.yaml"), SITE);
  for (let i = 1; i <= galleries; i++) gallery(dir, i, images, links);
}

main(process.argv.slice(2));

// Marked images at the edge: what a recipient's first view of a marked 1920 px image costs
// (the worker fetches the pair's index, A and B and splices the recipient's copy), against
// later views (the copy from the Cache API) and an unmarked link's view of the same variant;
// then throughput of marked later views, unmarked gated views and the same file as a public
// asset, in the same run. Under Miniflare (workerd) on this machine, the real worker build.
//
//   node bench/worker/marks.mjs [--images 6] [--recipients 30] [--requests 600] [--concurrency 8] [--rounds 3]
//
// Needs the worker built (scripts/build-worker.sh), the `gatefold` CLI (GATEFOLD_BIN or the
// release build), Python with Pillow (to make 2400 px sources from the example photos).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { ROOT, buildSite, startWorker, cookieOf } from "../../tests/e2e/harness.mjs";

const { values: opt } = parseArgs({
  options: {
    images: { type: "string", default: "6" },
    recipients: { type: "string", default: "30" },
    requests: { type: "string", default: "600" },
    concurrency: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
  },
});
const IMAGES = Number(opt.images);
const RECIPIENTS = Number(opt.recipients);
const REQUESTS = Number(opt.requests);
const CONCURRENCY = Number(opt.concurrency);
const ROUNDS = Number(opt.rounds);
const load = () => loadavg()[0].toFixed(2);

// 1. The site: the example photos upscaled to 2400 px (so the 1920 px variant exists), one
//    unmarked link and an audience of forensic-marked recipients.
const work = mkdtempSync(join(tmpdir(), "gatefold-bench-marks-"));
const galleries = join(work, "galleries");
const dir = join(galleries, "bm");
mkdirSync(dir, { recursive: true });
const photos = ["dune", "garden", "wood", "storm", "aqua", "lady-bird", "two-wings", "yellow-flower"].slice(0, IMAGES);
execFileSync("python3", ["-c", `
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
for name in sys.argv[3:]:
    im = Image.open(f"{src}/{name}.jpg").convert("RGB")
    im.resize((2400, round(im.height * 2400 / im.width)), Image.LANCZOS).save(f"{out}/{name}.jpg", quality=92)
`, join(ROOT, "galleries/aurora-launch"), dir, ...photos]);
writeFileSync(join(galleries, "site.yaml"), `title: Marks benchmark
base_url: http://127.0.0.1:8787
default_locale: en
timezone: UTC
images:
  widths: [960, 1920]
  thumbnail: 360
  jpeg_quality: 82
`);
const recipients = Array.from({ length: RECIPIENTS }, (_, i) => `      - name: r${i}\n        label: Recipient ${i}`).join("\n");
writeFileSync(join(dir, "gallery.yaml"), `title: Marks benchmark
images:
${photos.map((p) => `  - ${p}.jpg`).join("\n")}
links:
  plain:
    label: Unmarked
    max_views: 1000000
  dealers:
    label: Dealers
    max_views: 1000000
    mark:
      forensic: true
    recipients:
${recipients}
`);
let started = performance.now();
const dist = buildSite(galleries);
const buildSeconds = (performance.now() - started) / 1000;
const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8"));
const gallery = manifest.galleries.bm;
const variants = gallery.images.map((img) => img.variants.find((v) => v.role === "display" && v.content_type === "image/jpeg" && v.width === 1920));
if (variants.some((v) => !v?.marked)) throw new Error("the build made no marked 1920 px JPEG variant for every image");
// The public reference: the same 1920 px files as public theme assets.
const objects = new Map(JSON.parse(readFileSync(join(dist, "objects.json"), "utf8")).map((o) => [o.key, o.file]));
mkdirSync(join(dist, "site/assets/bm"), { recursive: true });
for (const v of variants) copyFileSync(objects.get(v.key), join(dist, "site/assets/bm", v.file));

const w = await startWorker({ dist });
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
async function open(name) {
  const link = Object.values(gallery.links).find((l) => l.name === name);
  const res = await w.navigate(`/s/${link.token}`);
  if (res.status !== 200) throw new Error(`opening ${name}: ${res.status}`);
  return { token: link.token, cookie: cookieOf(res) };
}
async function timed(path, cookie, want) {
  const t = performance.now();
  const res = await w.fetch(path, { headers: { "user-agent": UA, ...(cookie ? { cookie } : {}) } });
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t;
  if (res.status !== 200 || (want && body.length !== want)) throw new Error(`${path}: ${res.status}, ${body.length} bytes`);
  return { ms, body };
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];
const fmt = (xs) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p90 ${pct(xs, 0.9).toFixed(1)} ms (n=${xs.length})`;

try {
  const loadStart = load();
  const plain = await open("plain");
  const sessions = [];
  for (let i = 0; i < RECIPIENTS; i++) sessions.push(await open(`dealers/r${i}`));
  // Warm the isolate (the page, records and one unrelated image) so the figures are the images'.
  await timed(`/s/${plain.token}/i/${gallery.images[0].variants[0].file}`, plain.cookie);

  // 2. Latency, one request at a time. Cold: the image's first marked view anywhere (index, A
  //    and B from R2); first: another recipient's first view (pair in the cache, splice);
  //    later: a recipient's next view (its copy in the cache); unmarked: the plain link's view
  //    of the same variant (after its first).
  const cold = [], first = [], later = [], unmarked = [], unmarkedFirst = [];
  for (const v of variants) {
    const u0 = await timed(`/s/${plain.token}/i/${v.file}`, plain.cookie);
    unmarkedFirst.push(u0.ms);
    cold.push((await timed(`/s/${sessions[0].token}/i/${v.file}`, sessions[0].cookie)).ms);
    for (const s of sessions.slice(1)) first.push((await timed(`/s/${s.token}/i/${v.file}`, s.cookie)).ms);
    // Alternating, so a burst of load from other work hits both alike.
    for (const s of sessions) {
      later.push((await timed(`/s/${s.token}/i/${v.file}`, s.cookie)).ms);
      unmarked.push((await timed(`/s/${plain.token}/i/${v.file}`, plain.cookie, u0.body.length)).ms);
    }
  }

  // 3. Throughput with CONCURRENCY clients: marked later views (round robin over recipients
  //    and images), unmarked gated views, public assets; alternating, ROUNDS times each, best kept.
  async function throughput(pathOf) {
    let next = 0, bytes = 0;
    const t = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const [path, cookie] = pathOf(i);
        bytes += (await timed(path, cookie)).body.length;
      }
    }));
    return { rps: REQUESTS / ((performance.now() - t) / 1000), mb: bytes / 1e6 };
  }
  const kinds = {
    marked: (i) => { const s = sessions[i % sessions.length]; return [`/s/${s.token}/i/${variants[i % variants.length].file}`, s.cookie]; },
    unmarked: (i) => [`/s/${plain.token}/i/${variants[i % variants.length].file}`, plain.cookie],
    public: (i) => [`/assets/bm/${variants[i % variants.length].file}`, null],
  };
  const runs = { marked: [], unmarked: [], public: [] };
  for (let round = 0; round < ROUNDS; round++) for (const [k, f] of Object.entries(kinds)) runs[k].push((await throughput(f)).rps);
  const best = (k) => Math.max(...runs[k]);

  const sizes = variants.map((v) => readFileSync(objects.get(v.key)).length);
  console.log(`marked 1920 px views under Miniflare: ${variants.length} images (${(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024).toFixed(0)} KB average), ${RECIPIENTS} recipients; build ${buildSeconds.toFixed(1)} s`);
  console.log(`load (1-minute average) at start ${loadStart}, at end ${load()}`);
  console.log(`cold first marked view (pair from R2):     ${fmt(cold)}`);
  console.log(`first marked view of a recipient (splice): ${fmt(first)}`);
  console.log(`later marked views (copy cached):          ${fmt(later)}`);
  console.log(`unmarked link's first view (R2):           ${fmt(unmarkedFirst)}`);
  console.log(`unmarked link's later views:               ${fmt(unmarked)}`);
  console.log(`first marked view adds over a later one: ${(pct(first, 0.5) - pct(later, 0.5)).toFixed(1)} ms at p50 (cold: ${(pct(cold, 0.5) - pct(later, 0.5)).toFixed(1)} ms)`);
  console.log(`throughput, ${CONCURRENCY} clients, ${REQUESTS} requests, best of ${ROUNDS}: marked ${best("marked").toFixed(0)}/s, unmarked gated ${best("unmarked").toFixed(0)}/s, public ${best("public").toFixed(0)}/s`);
  console.log(`ratios: marked/public ${(best("marked") / best("public")).toFixed(2)}, unmarked gated/public ${(best("unmarked") / best("public")).toFixed(2)}, marked/unmarked ${(best("marked") / best("unmarked")).toFixed(2)}`);
} finally {
  await w.stop();
}

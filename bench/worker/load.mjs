// Load generator for the edge worker benchmark (run it through bench/worker/run.sh, which
// builds the site, starts `wrangler dev` and passes these options).
//
//   node bench/worker/load.mjs --base http://127.0.0.1:8799 --dist /tmp/wb/dist
//        [--gallery bench] [--link bench] [--requests 2000] [--concurrency 8]
//        [--opens 300] [--reloads 300] [--runs 3] [--wasm path/index_bg.wasm]
//        [--phase-seconds 60] [--json out.json]
//   node bench/worker/load.mjs --summarize run1.json run2.json run3.json
//
// Node only, no dependencies, 127.0.0.1 only. Every request is checked (status, body size,
// cookie behaviour), so a worker that answers fast with the wrong thing fails the benchmark
// instead of winning it. The admin token for the final view-count check comes from the
// ADMIN_TOKEN environment variable, never from the command line.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import os from "node:os";

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    summarize: { type: "boolean", default: false },
    base: { type: "string", default: "http://127.0.0.1:8799" },
    dist: { type: "string" },
    gallery: { type: "string", default: "bench" },
    link: { type: "string", default: "bench" },
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    opens: { type: "string", default: "300" },
    reloads: { type: "string", default: "300" },
    runs: { type: "string", default: "3" },
    wasm: { type: "string" },
    "phase-seconds": { type: "string", default: "60" },
    json: { type: "string" },
  },
});

function fail(msg) {
  console.error(`load.mjs: ${msg}`);
  process.exit(1);
}

// `--summarize a.json b.json …`: one table from results saved with --json (run.sh starts a
// fresh server per run, because wrangler dev's proxy grows by ~16 MB/s under this load).
if (opt.summarize) {
  if (positionals.length === 0) fail("--summarize needs the result files saved with --json");
  report(merge(positionals));
  process.exit(0);
}

function positive(name) {
  const n = Number(opt[name]);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number ≥ 1, got ${JSON.stringify(opt[name])}`);
  return n;
}

const N = positive("requests");
const C = positive("concurrency");
const OPENS = positive("opens");
const RELOADS = positive("reloads");
const RUNS = positive("runs");
const PHASE_MS = positive("phase-seconds") * 1000;
if (!opt.dist) fail("--dist <dir> is required (the dist the running worker serves)");
const base = new URL(opt.base);
if (base.hostname !== "127.0.0.1") fail(`--base must be on 127.0.0.1 (got ${base.hostname}): this benchmark only loads a local server`);

// The full manifest the build writes beside the site (the worker reads the records cut from
// it): the benchmark follows whatever the generator built instead of hard-coding tokens or
// file names.
const manifestPath = path.join(opt.dist, "manifest.json");
let manifest;
try {
  manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
} catch (e) {
  fail(`reading ${manifestPath}: ${e.message} (build the site first, see run.sh)`);
}
const gallery = manifest.galleries?.[opt.gallery];
if (!gallery) fail(`${manifestPath}: no gallery ${JSON.stringify(opt.gallery)}`);
const link = gallery.links?.[opt.link];
if (!link) fail(`${manifestPath}: gallery ${opt.gallery} has no link ${JSON.stringify(opt.link)}`);
if (link.policy.max_views !== null && link.policy.max_views < (OPENS + 10) * RUNS + 100) {
  fail(`link ${opt.gallery}/${opt.link} allows ${link.policy.max_views} views: too few for ${RUNS} runs of ${OPENS} opens`);
}
const token = link.token;

// Two display images of the first photo: the 960 px WebP a page's srcset picks on a laptop
// and the full-size WebP the lightbox shows (whose views are also written to the access log).
const img = gallery.images[0];
const webp = img.variants.filter((v) => v.role === "display" && v.content_type === "image/webp");
const fullSize = webp.find((v) => v.full_size);
const mid = webp.filter((v) => !v.full_size).sort((a, b) => b.width - a.width)[0];
if (!fullSize || !mid) fail(`${manifestPath}: image ${img.id} needs a full-size and a smaller WebP display variant`);

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(C, 1) });
const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";

// A connection reset before any answer arrived (wrangler dev's proxy does this now and then
// under sustained load, and any server may close an idle keep-alive socket just as a request
// goes out on it) is retried once on a fresh socket and counted, with when it happened, so
// the table says how often it happened instead of a five-minute run dying on it.
const t0 = Date.now();
const resets = [];
async function get(pathname, headers = {}) {
  try {
    return await getOnce(pathname, headers);
  } catch (e) {
    if (e.code !== "ECONNRESET" || e.midResponse) throw e;
    resets.push({ at_s: (Date.now() - t0) / 1000, path: pathname, reused_socket: Boolean(e.reusedSocket) });
    return getOnce(pathname, headers);
  }
}

function getOnce(pathname, headers) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: pathname,
        method: "GET",
        agent,
        headers: { "User-Agent": BROWSER_UA, "Accept-Language": "en", ...headers },
      },
      (res) => {
        let bytes = 0;
        res.on("data", (chunk) => (bytes += chunk.length));
        res.on("end", () => {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          resolve({ status: res.statusCode, headers: res.headers, bytes, ms });
        });
        res.on("error", (e) => {
          e.midResponse = true;
          reject(e);
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${pathname}: no answer in 30 s`)));
    req.on("error", (e) => {
      e.reusedSocket = req.reusedSocket;
      reject(e);
    });
    req.end();
  });
}

function sessionCookie(res, what) {
  const set = res.headers["set-cookie"];
  if (res.status !== 200 || !set) fail(`${what}: expected 200 with a new session cookie, got ${res.status} ${set ? "" : "without Set-Cookie"}`);
  return set[0].split(";")[0];
}

// n GETs of one path from c concurrent keep-alive connections; every answer must be 200 with
// exactly `bytes` bytes. Stops early (and says so) if the phase runs past its time budget.
async function throughput(label, pathname, headers, bytes, n, c) {
  let next = 0;
  let done = 0;
  const deadline = Date.now() + PHASE_MS;
  const start = process.hrtime.bigint();
  async function worker() {
    while (next < n && Date.now() < deadline) {
      next++;
      const r = await get(pathname, headers);
      if (r.status !== 200 || r.bytes !== bytes) fail(`${label}: GET ${pathname} gave ${r.status} with ${r.bytes} bytes, expected 200 with ${bytes}`);
      done++;
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (done < n) console.error(`  note: ${label} stopped after ${done}/${n} requests (time budget ${PHASE_MS / 1000} s)`);
  return { requests: done, seconds: secs, rps: done / secs, mbps: (done * bytes) / secs / 1e6 };
}

function percentile(sorted, p) {
  // Nearest-rank: p99 of 300 samples is the 297th value, a real observation.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function latencySummary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] };
}

async function sequential(label, count, once) {
  const deadline = Date.now() + PHASE_MS;
  const samples = [];
  while (samples.length < count && Date.now() < deadline) samples.push(await once());
  if (samples.length < count) console.error(`  note: ${label} stopped after ${samples.length}/${count} (time budget ${PHASE_MS / 1000} s)`);
  return latencySummary(samples);
}

const pagePath = `/s/${token}`;
const imagePath = (v) => `/s/${token}/i/${v.file}`;
const refPath = (v) => `/assets/bench/${v.file}`;

async function checkReference(v) {
  const file = path.join(opt.dist, "site/assets/bench", v.file);
  if (!fs.existsSync(file)) fail(`${file} is missing: run.sh copies the gallery's images there as the public reference`);
  const size = fs.statSync(file).size;
  const r = await get(refPath(v));
  if (r.status !== 200 || r.bytes !== size) fail(`GET ${refPath(v)}: ${r.status} with ${r.bytes} bytes, expected 200 with ${size}`);
  return size;
}

// Only a person's top-level navigation counts an open (fetch metadata); anything else gets the
// interstitial, so the benchmark sends what a browser sends when someone clicks the link.
const NAVIGATION = { "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none", "Sec-Fetch-User": "?1" };
let opensMade = 0;
async function openOnce() {
  const r = await get(pagePath, NAVIGATION);
  opensMade++;
  return r;
}

async function oneRun(run) {
  console.error(`run ${run}/${RUNS}`);
  const cookie = sessionCookie(await openOnce(), `GET ${pagePath} (open)`);
  const withCookie = { Cookie: cookie };
  const out = {};
  for (const [key, v] of [["mid", mid], ["full", fullSize]]) {
    const bytes = await checkReference(v);
    const gated = await get(imagePath(v), withCookie);
    if (gated.status !== 200 || gated.bytes !== bytes) fail(`GET ${imagePath(v)} with a session: ${gated.status}, ${gated.bytes} bytes; expected 200, ${bytes}`);
    const warm = Math.min(200, Math.ceil(N / 10));
    await throughput("warm-up", refPath(v), {}, bytes, warm, C);
    await throughput("warm-up", imagePath(v), withCookie, bytes, warm, C);
    // Static first, gated second, then static again: the mean of the two static runs
    // brackets the gated one, so drift from other load on the shared cores cancels out.
    const s1 = await throughput(`static ${v.file}`, refPath(v), {}, bytes, N, C);
    const g = await throughput(`gated ${v.file}`, imagePath(v), withCookie, bytes, N, C);
    const s2 = await throughput(`static ${v.file}`, refPath(v), {}, bytes, N, C);
    const staticRps = (s1.rps + s2.rps) / 2;
    out[key] = { file: v.file, bytes, static_rps: staticRps, static_mbps: (staticRps * bytes) / 1e6, gated_rps: g.rps, gated_mbps: g.mbps, ratio: g.rps / staticRps };
    console.error(`  ${v.file} (${bytes} B): static ${staticRps.toFixed(0)} req/s, gated ${g.rps.toFixed(0)} req/s, ratio ${(g.rps / staticRps).toFixed(2)}`);
  }
  // Opens: no cookie, so each is a new visitor whose open the link's Durable Object counts.
  for (let i = 0; i < 10; i++) sessionCookie(await openOnce(), "warm-up open");
  out.open = await sequential("opens", OPENS, async () => {
    const r = await openOnce();
    sessionCookie(r, `GET ${pagePath} (open)`);
    return r.ms;
  });
  // A mail scanner's GET: no fetch metadata, so the interstitial with the link's real state
  // (one read of its Durable Object), no cookie, no view used.
  out.interstitial = await sequential("scanner GETs", RELOADS, async () => {
    const r = await get(pagePath);
    if (r.status !== 200 || r.headers["set-cookie"]) fail(`GET ${pagePath} without fetch metadata: expected the interstitial (200, no cookie), got ${r.status}`);
    return r.ms;
  });
  out.reload = await sequential("reloads", RELOADS, async () => {
    const r = await get(pagePath, { ...NAVIGATION, ...withCookie });
    if (r.status !== 200 || r.headers["set-cookie"]) fail(`GET ${pagePath} with a session: expected 200 without a new cookie, got ${r.status}`);
    return r.ms;
  });
  console.error(`  open p50 ${out.open.p50.toFixed(1)} p99 ${out.open.p99.toFixed(1)} ms; reload p50 ${out.reload.p50.toFixed(1)} p99 ${out.reload.p99.toFixed(1)} ms`);
  return out;
}

// Exact counting is the reason the Durable Object round trip exists: check it did count.
async function countedViews() {
  const adminToken = process.env.ADMIN_TOKEN;
  if (!adminToken) return null;
  const r = await new Promise((resolve, reject) => {
    http
      .get({ host: base.hostname, port: base.port, path: "/admin/api/links", agent, headers: { Authorization: `Bearer ${adminToken}` } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      })
      .on("error", reject);
  });
  if (r.status !== 200) fail(`GET /admin/api/links: ${r.status} ${r.body.slice(0, 200)}`);
  const row = JSON.parse(r.body).links.find((l) => l.gallery === opt.gallery && l.name === opt.link);
  return row ? row.views : null;
}

function wasmSize(file) {
  if (!file) return null;
  const raw = fs.statSync(file).size;
  let gz;
  try {
    gz = execFileSync("gzip", ["-9", "-c", file], { maxBuffer: 64 << 20 }).length;
  } catch {
    gz = zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
  }
  return { file, raw, gzip9: gz };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Other work on the machine moves every figure here: the 1-minute load is printed with them.
const load0 = os.loadavg()[0];
const views0 = await countedViews();
const runs = [];
for (let i = 1; i <= RUNS; i++) runs.push(await oneRun(i));
const views1 = await countedViews();
const result = {
  requests: N,
  concurrency: C,
  opens: OPENS,
  reloads: RELOADS,
  widths: { mid: mid.width, full: fullSize.width },
  loads: [[load0, os.loadavg()[0]]],
  resets,
  runs,
  wasm: wasmSize(opt.wasm),
  opens_made: opensMade,
  views_counted: views0 !== null && views1 !== null ? views1 - views0 : null,
};
agent.destroy();
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(result, null, 2));
report(result);

// Several results (one per server start) as one: runs, resets and opens add up.
function merge(files) {
  const parts = files.map((f) => {
    try {
      return JSON.parse(fs.readFileSync(f, "utf8"));
    } catch (e) {
      fail(`reading ${f}: ${e.message}`);
    }
  });
  const sum = (key) => (parts.some((p) => p[key] === null) ? null : parts.reduce((a, p) => a + p[key], 0));
  return {
    ...parts[0],
    loads: parts.flatMap((p) => p.loads),
    resets: parts.flatMap((p) => p.resets),
    runs: parts.flatMap((p) => p.runs),
    opens_made: sum("opens_made"),
    views_counted: sum("views_counted"),
  };
}

function report(res) {
  const runs = res.runs;
  const med = (f) => median(runs.map(f));
  const fmt = (x, d = 1) => x.toFixed(d);
  const each = (f, d = 1) => runs.map((r) => fmt(f(r), d)).join(" / ");
  const { mid, full } = res.widths;
  const rows = [
    ["figure", `median of ${runs.length}`, "runs", "target"],
    [`static ${mid}px WebP (${runs[0].mid.bytes} B), req/s`, fmt(med((r) => r.mid.static_rps), 0), each((r) => r.mid.static_rps, 0), ""],
    [`gated  ${mid}px WebP, req/s`, fmt(med((r) => r.mid.gated_rps), 0), each((r) => r.mid.gated_rps, 0), ""],
    [`ratio gated/static ${mid}px`, fmt(med((r) => r.mid.ratio), 2), each((r) => r.mid.ratio, 2), "≥ 0.7"],
    [`static full-size ${full}px WebP (${runs[0].full.bytes} B), req/s`, fmt(med((r) => r.full.static_rps), 0), each((r) => r.full.static_rps, 0), ""],
    [`gated  full-size ${full}px WebP (logged view), req/s`, fmt(med((r) => r.full.gated_rps), 0), each((r) => r.full.gated_rps, 0), ""],
    [`ratio gated/static full-size`, fmt(med((r) => r.full.ratio), 2), each((r) => r.full.ratio, 2), "≥ 0.7"],
    [`static / gated MB/s, full-size`, `${fmt(med((r) => r.full.static_mbps))} / ${fmt(med((r) => r.full.gated_mbps))}`, "", ""],
    [`page open (new visitor, DO round trip) p50 ms`, fmt(med((r) => r.open.p50)), each((r) => r.open.p50), ""],
    [`page open p90 ms`, fmt(med((r) => r.open.p90)), each((r) => r.open.p90), ""],
    [`page open p99 ms`, fmt(med((r) => r.open.p99)), each((r) => r.open.p99), "≤ 20"],
    [`page open max ms`, fmt(med((r) => r.open.max)), each((r) => r.open.max), ""],
    [`scanner GET → interstitial (no view used) p50 ms`, fmt(med((r) => r.interstitial.p50)), each((r) => r.interstitial.p50), ""],
    [`scanner GET → interstitial p99 ms`, fmt(med((r) => r.interstitial.p99)), each((r) => r.interstitial.p99), ""],
    [`in-session reload p50 ms`, fmt(med((r) => r.reload.p50)), each((r) => r.reload.p50), ""],
    [`in-session reload p99 ms`, fmt(med((r) => r.reload.p99)), each((r) => r.reload.p99), ""],
  ];
  if (res.wasm) {
    rows.push([`wasm raw`, `${fmt(res.wasm.raw / 1e6, 2)} MB`, "", ""]);
    rows.push([`wasm gzip -9`, `${fmt(res.wasm.gzip9 / 1e6, 2)} MB`, "", "≤ 1 MB"]);
  }
  if (res.views_counted !== null) {
    rows.push([`opens counted by the link's Durable Object`, `${res.views_counted} of ${res.opens_made}`, "", "exact"]);
    if (res.views_counted !== res.opens_made) console.error(`WARNING: ${res.opens_made} opens made but the link's count rose by ${res.views_counted}`);
  }
  rows.push([`connections reset before an answer (request resent)`, `${res.resets.length}`, "", ""]);

  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  const loads = res.loads.map(([a, b]) => `${a.toFixed(1)}→${b.toFixed(1)}`).join(", ");
  console.log(`\nrequests ${res.requests} per throughput phase at concurrency ${res.concurrency}; ${res.opens} opens and ${res.reloads} reloads one at a time; ${runs.length} runs; ${os.cpus().length} cores, 1-min load ${loads}`);
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

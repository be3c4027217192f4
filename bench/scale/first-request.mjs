// How long the worker takes to open a link on a fresh isolate and on a warm one, for built sites
// of different sizes (bench/scale/run.sh builds them). The real worker under Miniflare (workerd),
// its R2 left empty: a page open reads only static assets (site.json, a token shard, the gallery's
// record and a page template) and the link's Durable Object.
//
//   node bench/scale/first-request.mjs <dist> [<dist>…]      → one line per dist
//
// Miniflare reports no CPU time per request, so this prints wall times on one request at a time
// (the machine otherwise idle): a fresh isolate's first open includes instantiating the WASM,
// which is the same for every archive, and the reads and parses that could grow with it.
// `RUNS` fresh isolates per dist (default 7), `WARM` warm opens each (default 30); medians.
import { readdirSync } from "node:fs";
import { startWorker } from "../../tests/e2e/harness.mjs";

const RUNS = Number(process.env.RUNS ?? 7);
const WARM = Number(process.env.WARM ?? 30);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timedOpen(w, link) {
  const started = process.hrtime.bigint();
  const res = await w.navigate(link.path);
  await res.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200) throw new Error(`${link.gallery}/${link.link}: status ${res.status}`);
  return ms;
}

// The dists take turns run by run, so a change in the machine's load touches them alike.
const dists = process.argv.slice(2);
const first = dists.map(() => []);
const warm = dists.map(() => []);
for (let run = 0; run < RUNS; run++) {
  for (const [d, dist] of dists.entries()) {
    const w = await startWorker({ dist, seed: false });
    try {
      const links = Object.values(w.links).filter((l) => !l.policy.disabled);
      // A different gallery each run, spread over the archive.
      const pick = (i) => links[(run * 7919 + i * 104729) % links.length];
      first[d].push(await timedOpen(w, pick(0)));
      for (let i = 1; i <= WARM; i++) warm[d].push(await timedOpen(w, pick(i)));
    } finally {
      await w.stop();
    }
  }
}
for (const [d, dist] of dists.entries()) {
  const galleries = readdirSync(`${dist}/site/_gatefold/g`).length;
  console.log(JSON.stringify({ dist, galleries, first_ms: +median(first[d]).toFixed(1), warm_ms: +median(warm[d]).toFixed(1), runs: RUNS, warm_opens: WARM * RUNS }));
}

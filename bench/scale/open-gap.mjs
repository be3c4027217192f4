// Where a warm open at a large archive loses time against a small one (bench/scale/run.sh runs
// it after first-request.mjs): the first open of a gallery in an isolate reads its records, and
// the access-log write after it (`waitUntil`) creates the gallery's `GalleryLog` Durable Object
// the first time the gallery is ever opened. This separates the two on one built archive:
//
//   node bench/scale/open-gap.mjs <dist>[=<checkout>] …      → one JSON line per dist
//
// `=<checkout>`: open that dist with the worker built in another checkout of Gatefold (its
// tests/e2e/harness.mjs and edge-worker/build), to compare two versions in one run.
//
// Each run: a first isolate opens link `a000` of `N` galleries (creating their log objects and
// their first open), untimed, and stops; a second isolate on the same state, warmed by opens of
// other galleries, then times
// - `records`: link `a001` of those galleries — records read for the first time in this isolate,
//   log object already there;
// - `records_and_log`: link `a001` of `N` galleries never opened — records and a new log object;
// - `neither`: link `a002` of the first galleries again — records remembered, log object there.
// Interleaved (kinds, and dists run by run), one request at a time; medians in wall ms.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const RUNS = Number(process.env.RUNS ?? 3);
const N = Number(process.env.N ?? 20);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timedOpen(w, key) {
  const link = w.links[key];
  const started = process.hrtime.bigint();
  const res = await w.navigate(link.path);
  await res.text();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200) throw new Error(`${key}: status ${res.status}`);
  return ms;
}

const targets = [];
for (const arg of process.argv.slice(2)) {
  const [dist, checkout] = arg.split("=");
  const harness = checkout ? pathToFileURL(resolve(checkout, "tests/e2e/harness.mjs")).href : "../../tests/e2e/harness.mjs";
  targets.push({ dist, startWorker: (await import(harness)).startWorker, times: { neither: [], records: [], records_and_log: [] } });
}
if (!targets.length) throw new Error("usage: open-gap.mjs <dist>[=<checkout>] …");
const id = (i) => `g${String(i).padStart(4, "0")}`;

async function measure({ dist, startWorker, times }, run) {
  const persist = mkdtempSync(join(tmpdir(), "gatefold-open-gap-"));
  try {
    const base = 1 + run * 3 * N;
    const seen = Array.from({ length: N }, (_, i) => id(base + i));
    const fresh = Array.from({ length: N }, (_, i) => id(base + N + i));
    const warm = Array.from({ length: 5 }, (_, i) => id(base + 2 * N + i));
    const first = await startWorker({ dist, seed: false, persist });
    try {
      for (const g of seen) await timedOpen(first, `${g}/a000`);
    } finally {
      await first.stop();
    }
    const w = await startWorker({ dist, seed: false, persist });
    try {
      for (const g of warm) await timedOpen(w, `${g}/a000`);
      for (let i = 0; i < N; i++) {
        times.records.push(await timedOpen(w, `${seen[i]}/a001`));
        times.records_and_log.push(await timedOpen(w, `${fresh[i]}/a001`));
        times.neither.push(await timedOpen(w, `${seen[i]}/a002`));
      }
    } finally {
      await w.stop();
    }
  } finally {
    rmSync(persist, { recursive: true, force: true });
  }
}

for (let run = 0; run < RUNS; run++) for (const t of targets) await measure(t, run);
for (const { dist, times } of targets) {
  const out = Object.fromEntries(Object.entries(times).map(([k, xs]) => [`${k}_ms`, +median(xs).toFixed(2)]));
  console.log(JSON.stringify({ dist, runs: RUNS, per_kind: RUNS * N, ...out }));
}

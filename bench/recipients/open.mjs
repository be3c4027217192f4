// What opening a link of the 500-recipient gallery costs the worker against a link of the same
// gallery with 4 links (bench/recipients/run.sh builds one site holding both, and a third
// gallery to warm the isolate with). The real worker under Miniflare (workerd), its R2 left
// empty: a page open reads only static assets and the link's Durable Object.
//
//   node bench/recipients/open.mjs <dist>[=<checkout>] …      → one JSON line per dist
//
// `=<checkout>`: open that dist with the worker built in another checkout of Gatefold (its
// tests/e2e/harness.mjs and edge-worker/build), to compare two versions run by run.
//
// A gallery's records are read the first time an isolate serves it and then remembered, so the
// figure that can grow with recipients is the first open of the gallery on a warm isolate: each
// run starts a fresh isolate, warms it with `WARM` opens of the third gallery, then opens one
// link of each gallery (in alternating order), a different recipient each run. Wall ms, medians
// over `RUNS` isolates (default 15), one request at a time.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const RUNS = Number(process.env.RUNS ?? 15);
const WARM = Number(process.env.WARM ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timedOpen(w, link) {
  const started = process.hrtime.bigint();
  const res = await w.navigate(link.path);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await res.text();
  if (res.status !== 200) throw new Error(`${link.gallery}/${link.link}: status ${res.status}`);
  return ms;
}

const targets = [];
for (const arg of process.argv.slice(2)) {
  const [dist, checkout] = arg.split("=");
  const harness = checkout ? pathToFileURL(resolve(checkout, "tests/e2e/harness.mjs")).href : "../../tests/e2e/harness.mjs";
  targets.push({ dist, startWorker: (await import(harness)).startWorker, times: { four: [], recipients: [] } });
}
if (!targets.length) throw new Error("usage: open.mjs <dist>[=<checkout>] …");

async function measure({ dist, startWorker, times }, run) {
  const w = await startWorker({ dist, seed: false });
  try {
    const of = (gallery) => Object.values(w.links).filter((l) => l.gallery === gallery && !l.policy.disabled);
    const recipients = of("five-hundred").filter((l) => l.link.includes("/"));
    // Links of the same download mode, so both pages are the same template.
    const mode = (l) => JSON.stringify(l.policy.download);
    const [warm, four] = [of("warm"), of("four").filter((l) => mode(l) === mode(recipients[0]))];
    for (let i = 0; i < WARM; i++) await timedOpen(w, warm[i % warm.length]);
    const order = run % 2 ? ["four", "recipients"] : ["recipients", "four"];
    const pick = { four: four[run % four.length], recipients: recipients[(run * 137) % recipients.length] };
    for (const which of order) times[which].push(await timedOpen(w, pick[which]));
  } finally {
    await w.stop();
  }
}

for (let run = 0; run < RUNS; run++) for (const t of targets) await measure(t, run);
for (const { dist, times } of targets) {
  const [four, recipients] = [median(times.four), median(times.recipients)];
  console.log(JSON.stringify({ dist, runs: RUNS, four_links_ms: +four.toFixed(2), five_hundred_recipients_ms: +recipients.toFixed(2), ratio: +(recipients / four).toFixed(2) }));
}

// Notification latency benchmark: from a person's open to the message at a local receiver
// (every platform of the e2e site's `notify-g` gallery), under Miniflare with the real worker
// build, with the deployment's default timings (a one-minute window, no test knobs).
//
// Each sample is the first open of a fresh link of its own (the e2e site's recipients and
// links of `notify-g` are few, so samples take `open` notices of the gallery's links in turns,
// each in a window of its own: one sample per link per window). The figure is the time from
// sending the open to the webhook's `open` message arriving; the reference in the same run is
// the open's own response time.
//
//   node bench/notify/run.mjs [samples, default 20]
// Needs `scripts/build-worker.sh` and GATEFOLD_BIN (or GATEFOLD_E2E_DIST: a built e2e site).
import { startWorker, until } from "../../tests/e2e/harness.mjs";
import { startReceiver } from "../../tests/e2e/notify-receiver.mjs";
import { readFileSync } from "node:fs";

const SAMPLES = Number(process.argv[2] || 20);
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];

const receiver = await startReceiver();
const w = await startWorker({ bindings: receiver.bindings });
const links = ["alpha", "beta", "soon", "crew/ann", "crew/bob", "crew/cai"];
const latencies = [];
const responses = [];
const loads = [load()];
try {
  for (let i = 0; i < SAMPLES; i++) {
    const link = links[i % links.length];
    const before = receiver.received.length;
    const t0 = Date.now();
    const res = await w.navigate(w.links[`notify-g/${link}`].path, { headers: { "user-agent": CHROME, "cf-connecting-ip": `203.0.113.${i + 1}` } });
    await res.arrayBuffer();
    responses.push(Date.now() - t0);
    const arrived = () => receiver.received.slice(before).find((r) => r.platform === "webhook" && r.json?.type === "open" && r.json.link?.id === `notify-g/${link}`);
    await until(async () => arrived(), (r) => Boolean(r), { ms: 130_000, every: 20 });
    const got = arrived();
    if (!got) throw new Error(`sample ${i}: no open message for ${link}`);
    latencies.push(got.at - t0);
    // The next sample of this link must be a new window's first: wait for that window when
    // the links come round again (the default window is a minute).
    if ((i + 1) % links.length === 0 && i + 1 < SAMPLES) {
      await until(async () => Date.now() % 60_000, (ms) => ms < 500, { ms: 61_000, every: 50 });
    }
    loads.push(load());
  }
} finally {
  await w.stop();
  await receiver.stop();
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
const [p50, p95] = [pct(latencies, 50), pct(latencies, 95)];
const [r50, r95] = [pct(responses, 50), pct(responses, 95)];
console.log(`samples: ${SAMPLES}; 1-minute load ${loads[0]} → ${loads[loads.length - 1]} (max ${Math.max(...loads.map(Number))})`);
console.log(`open → receiver: p50 ${p50} ms, p95 ${p95} ms, max ${Math.max(...latencies)} ms`);
console.log(`reference, the open's own response: p50 ${r50} ms, p95 ${r95} ms`);
console.log(`ratio to the response: p50 ${(p50 / r50).toFixed(1)}×, p95 ${(p95 / r95).toFixed(1)}×`);
console.log(`within 10 s: ${latencies.filter((l) => l <= 10_000).length} of ${SAMPLES}`);

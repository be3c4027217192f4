// Analytics benchmark: loads N logged opens (default 100,000) plus N/4 image views, downloads
// and previews straight into a gallery's
// GalleryLog Durable Object under Miniflare (the binding is not reachable from outside the
// worker, so no test-only route exists in the deployed worker), then times the admin API's
// stats and export calls through the real worker.
//
//   node bench/analytics/run.mjs [events]        (needs scripts/build-worker.sh first)
import { startWorker } from "../../tests/e2e/harness.mjs";

const N = Number(process.argv[2] || 100_000);
const BATCH = 5_000;
const w = await startWorker({ http: false });
const gallery = "showroom";
const links = Object.keys(w.manifest.galleries[gallery].links);
const images = w.manifest.galleries[gallery].images.map((i) => i.id);
const countries = [["CN", "Shanghai"], ["CN", "Beijing"], ["JP", "Tokyo"], ["US", "New York"], ["DE", "Berlin"], ["SG", null]];
const agents = [["mobile", "iOS", "Safari"], ["mobile", "Android", "Chrome"], ["desktop", "Windows 10", "Chrome"], ["desktop", "Mac OSX", "Safari"]];
const referrers = [null, "https://weixin.qq.com/", "https://mail.example.com/inbox", null];
const outcomes = ["admitted", "admitted", "admitted", "admitted", "admitted", "admitted", "admitted", "view_limit_reached", "link_expired", "link_disabled"];
const kinds = ["open", "open", "open", "open", "open", "open", "image_view", "image_view", "download", "preview"];
const now = Date.now();
let seed = 42;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };

function event(i) {
  const [country, city] = countries[rnd(countries.length)];
  const [device, os, browser] = agents[rnd(agents.length)];
  const kind = i < N ? "open" : kinds[6 + rnd(4)];
  return {
    ts: now - rnd(90 * 86400) * 1000, link: links[rnd(links.length)], kind, count: 1,
    outcome: kind === "open" ? outcomes[rnd(outcomes.length)] : "admitted",
    image: kind === "image_view" || kind === "download" ? images[rnd(images.length)] : null,
    ip: `203.0.${rnd(256)}.0`, country, region: null, city, timezone: "Asia/Shanghai", asn: 4134, colo: "HKG",
    device, os, browser, referrer: referrers[rnd(referrers.length)], visitor: `v${rnd(20_000)}`,
  };
}

const ns = await w.mf.getDurableObjectNamespace("GALLERY_LOG");
const stub = ns.get(ns.idFromName(gallery));
const t0 = performance.now();
const TOTAL = N + Math.floor(N / 4);
for (let done = 0; done < TOTAL; done += BATCH) {
  const batch = Array.from({ length: Math.min(BATCH, TOTAL - done) }, (_, k) => event(done + k));
  const res = await stub.fetch("https://gallery-log/events", { method: "POST", body: JSON.stringify({ now_ms: now, retention_days: 400, events: batch }) });
  if (res.status !== 204) throw new Error(`loading events: ${res.status} ${await res.text()}`);
}
const loadS = (performance.now() - t0) / 1000;

const auth = { authorization: `Bearer ${w.adminToken}` };
async function time(path, runs, ok = [200]) {
  const ms = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = await w.fetch(path, { headers: auth });
    const body = new Uint8Array(await res.arrayBuffer());
    if (!ok.includes(res.status)) throw new Error(`${path}: ${res.status} ${new TextDecoder().decode(body)}`);
    ms.push(performance.now() - t);
    bytes = body.length;
    status = res.status;
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1], bytes, status };
}
const stats = await time(`/admin/api/galleries/${gallery}/stats`, 7);
const statsLink = await time(`/admin/api/galleries/${gallery}/stats?link=${links[0]}`, 7);
const csv = await time(`/admin/api/galleries/${gallery}/export.csv`, 3);
// Past its row cap the workbook is refused (413) in favour of the CSV.
const xlsx = await time(`/admin/api/galleries/${gallery}/export.xlsx`, 1, [200, 413]);
const s = await (await w.fetch(`/admin/api/galleries/${gallery}/stats`, { headers: auth })).json();
await w.stop();

const f = (x) => x.toFixed(0);
console.log(`events loaded: ${TOTAL} (${N} opens) in ${loadS.toFixed(1)} s (${f(TOTAL / loadS)} events/s, batches of ${BATCH})`);
console.log(`logged admitted opens in the stats: ${s.totals.opens_admitted}, all opens: ${s.totals.opens_admitted + s.totals.opens_denied}`);
console.log(`stats, whole gallery: median ${f(stats.median)} ms, max ${f(stats.max)} ms (${stats.bytes} B JSON)`);
console.log(`stats, one link:      median ${f(statsLink.median)} ms, max ${f(statsLink.max)} ms`);
console.log(`export.csv:  median ${f(csv.median)} ms, ${(csv.bytes / 1e6).toFixed(1)} MB`);
console.log(`export.xlsx: ${xlsx.status === 413 ? "refused past its row cap in" : ""} ${f(xlsx.median)} ms, ${(xlsx.bytes / 1e6).toFixed(1)} MB`);

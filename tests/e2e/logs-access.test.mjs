// End-to-end tests of the access log under attack: hostile Referers and geo fields, repeated
// denied requests, spreadsheet formulas in exports, and retention. Each test starts from its
// own traffic on links no other test here uses.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, until, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (name) => w.links[`showroom/${name}`];
const admin = adminApi({ worker: () => w, ip: "198.51.100.200" });

/** Polls `probe` until it returns a truthy value or a non-empty list (the worker logs after responding). */
async function logged(probe, what) {
  const v = await until(probe, (x) => (Array.isArray(x) ? x.length > 0 : Boolean(x)), { ms: 5000, every: 50 });
  if (!v) throw new Error(`timed out waiting for ${what}`);
  return v;
}

/** The CSV export's lines as arrays of raw (still quoted) fields, header first. */
async function csvLines(query = "") {
  const res = await admin(`galleries/showroom/export.csv${query}`);
  assert.equal(res.status, 200);
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(await res.arrayBuffer()));
  assert.equal(text[0], "\ufeff");
  return text.slice(1).trimEnd().split("\r\n");
}

/** Splits a CSV line whose fields are all quoted; fails if any field is not. */
function fields(line) {
  assert.match(line, /^"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*$/, `every field is quoted: ${line.slice(0, 300)}`);
  return line.slice(1, -1).split('","').map((f) => f.replaceAll('""', '"'));
}

async function rowsOf(link) {
  const [header, ...rest] = await csvLines(`?link=${link}`);
  const names = fields(header);
  return rest.map((l) => Object.fromEntries(fields(l).map((v, i) => [names[i], v])));
}

function readWorkbook(bytes) {
  const file = join(mkdtempSync(join(tmpdir(), "gatefold-logs-")), "export.xlsx");
  writeFileSync(file, bytes);
  return JSON.parse(execFileSync("python3", ["-c", `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ev = list(wb["Events"].iter_rows(values_only=True))
print(json.dumps([dict(zip(ev[0], r)) for r in ev[1:]]))
`, file], { encoding: "utf8" }));
}

test("a 40,000-character Referer is stored as its origin and both exports still work", async () => {
  const referer = `https://attacker.example:8443/${"a".repeat(40_000)}?token=secret`;
  const res = await w.navigate(L("press").path, { headers: { referer, "cf-connecting-ip": "203.0.113.90" } });
  assert.equal(res.status, 200);
  const [row] = await logged(async () => (await rowsOf("press")).filter((r) => r.kind === "open"), "the open to be logged");
  assert.equal(row.referrer, "https://attacker.example:8443");

  const xlsx = await admin("galleries/showroom/export.xlsx");
  assert.equal(xlsx.status, 200);
  const events = readWorkbook(new Uint8Array(await xlsx.arrayBuffer()));
  assert.deepEqual(events.filter((e) => e.link === "press").map((e) => e.referrer), ["https://attacker.example:8443"]);
  const stats = await (await admin("galleries/showroom/stats?link=press")).json();
  assert.deepEqual(stats.referrers, [{ key: "attacker.example", count: 1 }]);
});

test("50 denied requests from one visitor within a minute are one row counted 50 times", async () => {
  // All 50 must fall in one minute: sent at once (a second or two even on a loaded machine),
  // starting no later than 40 s into a minute.
  await until(async () => Date.now() % 60_000, (intoMinute) => intoMinute <= 40_000, { ms: 61_000, every: 250 });
  const headers = { "user-agent": "curl/8.5.0", "cf-connecting-ip": "203.0.113.91" };
  // A person's navigation: what reaches the gate and is refused (a scanner's GET is not an open).
  const denied = await Promise.all(Array.from({ length: 50 }, () => w.navigate(L("expired").path, { headers })));
  for (const res of denied) assert.equal(res.status, 410);
  const stats = await logged(async () => {
    const s = await (await admin("galleries/showroom/stats?link=expired")).json();
    return s.totals.opens_denied === 50 && s;
  }, "50 denials in the statistics");
  assert.deepEqual(stats.totals.denied_by_reason, { link_expired: 50 });
  assert.equal(stats.links[0].opens_denied, 50);
  const rows = await rowsOf("expired");
  assert.equal(rows.length, 1, "one row for the visitor's minute");
  assert.equal(rows[0].outcome, "link_expired");
  assert.equal(rows[0].count, "50");
});

test("CSV cells that a spreadsheet would run as formulas are defused, and every field is quoted", async () => {
  const cf = { country: "=1+1", region: "+SUM(A1:A9)", city: "@HYPERLINK(\"http://evil\")", timezone: "\t=cmd", colo: "-2" };
  const res = await w.navigate(L("viewonly").path, { headers: { "cf-connecting-ip": "203.0.113.92" }, cf });
  assert.equal(res.status, 200);
  const [row] = await logged(async () => (await rowsOf("viewonly")).filter((r) => r.kind === "open"), "the open to be logged");
  assert.equal(row.country, "'=1+1");
  assert.equal(row.region, "'+SUM(A1:A9)");
  assert.equal(row.city, "'@HYPERLINK(\"http://evil\")");
  assert.equal(row.visitor_timezone, "'\t=cmd");
  assert.equal(row.colo, "'-2");
  for (const line of await csvLines()) fields(line);
});

test("rows older than the site's retention are deleted by the gallery's log", async () => {
  const days = w.manifest.site.analytics.retention_days;
  assert.equal(days, 400, "the fixture site keeps the default");
  const res = await w.navigate(L("toggle").path, { headers: { "cf-connecting-ip": "203.0.113.93" } });
  assert.equal(res.status, 200);
  await logged(async () => (await rowsOf("toggle")).length === 1, "the recent open to be logged");

  // The log object is only reachable through the worker's binding: the test writes to it the
  // way the worker does, with the clock a write carries.
  const ns = await w.mf.getDurableObjectNamespace("GALLERY_LOG");
  const log = ns.get(ns.idFromName("showroom"));
  const write = async (nowMs, events) => {
    const r = await log.fetch("https://gallery-log/events", { method: "POST", body: JSON.stringify({ now_ms: nowMs, retention_days: days, events }) });
    assert.equal(r.status, 204, await r.text());
  };
  const event = (ts) => ({
    ts, link: "toggle", kind: "open", outcome: "admitted", count: 1, image: null, ip: null, country: "JP", region: null, city: null,
    timezone: null, asn: null, colo: null, device: "desktop", os: "Linux", browser: "Firefox", referrer: null, visitor: "v-old",
  });
  const now = Date.now();
  await write(now, [event(now - (days + 100) * 86_400e3), event(now - (days - 1) * 86_400e3)]);
  assert.equal((await rowsOf("toggle")).length, 3, "an hour has not passed since the last pruning");

  await write(now + 2 * 3600e3, []);
  const kept = await rowsOf("toggle");
  assert.equal(kept.length, 2, "the row past the retention is gone, the ones inside it stay");
  assert.ok(kept.every((r) => Number(r.timestamp_ms) > now - days * 86_400e3));
});

// End-to-end tests of the admin API and analytics: a known mix of traffic goes through the
// real worker under Miniflare, then every aggregate, the CSV and the workbook are checked.
// Each test that reads counts starts its own worker and makes its own traffic.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, cookieOf, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

/** Runs `body` against a worker of its own, so what it counts is only its own traffic. */
async function withOwnWorker(body) {
  const shared = w;
  w = await startWorker();
  try { await body(); } finally { await w.stop(); w = shared; }
}

const UA = {
  chromeWin: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  android: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
  firefox: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
};
const L = (name) => w.links[`showroom/${name}`];
const admin = adminApi({ worker: () => w, ip: "198.51.100.200" });

// A person's browser navigation: the only kind of request that counts an open.
async function visit(link, { ua, ip, cf = {}, referer } = {}) {
  const headers = { "user-agent": ua, "cf-connecting-ip": ip };
  if (referer) headers.referer = referer;
  const res = await w.navigate(L(link).path, { headers, cf });
  return { status: res.status, cookie: cookieOf(res), headers, cf };
}
async function sub(link, path, v) {
  const res = await w.fetch(`${L(link).path}/${path}`, { headers: { ...v.headers, cookie: v.cookie ?? "" }, cf: v.cf });
  await res.arrayBuffer();
  return res.status;
}
const shanghaiHour = () => Number(new Intl.DateTimeFormat("en-GB", { hour: "numeric", hour12: false, timeZone: "Asia/Shanghai" }).format(new Date())) % 24;
const shanghaiDay = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());

/** A known mix of traffic on the showroom gallery: 5 opens admitted, 3 refused, 2 downloads tried, 1 full-size view. */
async function knownTraffic() {
  const hero = w.manifest.galleries.showroom.images.find((i) => i.id === "hero");
  const heroFull = hero.variants.find((v) => v.full_size).file;
  const tokyo = { country: "JP", city: "Tokyo" };
  const press = await visit("press", { ua: UA.chromeWin, ip: "203.0.113.10", cf: tokyo, referer: "https://mail.example.com/inbox?id=7" });
  assert.equal(press.status, 200);
  const viewonly = await visit("viewonly", { ua: UA.iphone, ip: "203.0.113.11", cf: tokyo });
  assert.equal(viewonly.status, 200);
  assert.equal((await visit("toggle", { ua: UA.android, ip: "203.0.113.12", cf: { country: "CN", city: "Shanghai" }, referer: "https://weixin.qq.com/" })).status, 200);
  assert.equal((await visit("pair", { ua: UA.firefox, ip: "203.0.113.13", cf: { country: "US", city: "Seattle" } })).status, 200);
  assert.equal((await visit("pair", { ua: UA.firefox, ip: "203.0.113.13", cf: { country: "US", city: "Seattle" } })).status, 200);
  assert.equal((await visit("pair", { ua: UA.firefox, ip: "203.0.113.14", cf: { country: "US", city: "Seattle" } })).status, 410);
  assert.equal((await visit("expired", { ua: UA.firefox, ip: "203.0.113.15" })).status, 410);
  assert.equal((await visit("off", { ua: UA.firefox, ip: "203.0.113.16" })).status, 403);
  assert.equal(await sub("press", `download/${hero.id}`, press), 200);
  assert.equal(await sub("press", `i/${heroFull}`, press), 200);
  assert.equal(await sub("viewonly", `download/${hero.id}`, viewonly), 403);
  // 11 requests, none of them a preview: each is one admitted open, download or view, or one denial.
  const requests = (t) => t.opens_admitted + t.downloads + t.image_views + Object.values(t.denied_by_reason).reduce((a, b) => a + b, 0);
  assert.equal(requests(await w.logged("showroom", (t) => requests(t) >= 11)), 11, "every request of the traffic is in the log");
  return hero;
}

test("a known mix of traffic adds up exactly in the gallery's statistics", () => withOwnWorker(async () => {
  // The traffic may straddle an hour (or day) boundary in Shanghai: remember both ends.
  const [hourBefore, dayBefore] = [shanghaiHour(), shanghaiDay()];
  const hero = await knownTraffic();
  const res = await admin("galleries/showroom/stats");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const s = await res.json();
  assert.deepEqual(
    { ...s.totals, denied_by_reason: undefined },
    { opens_admitted: 5, opens_denied: 3, unique_visitors: 4, downloads: 1, image_views: 1, previews: 0, denied_by_reason: undefined },
  );
  assert.deepEqual(s.totals.denied_by_reason, { download_disabled: 1, link_disabled: 1, link_expired: 1, view_limit_reached: 1 });
  assert.deepEqual(s.countries, [{ key: "JP", count: 2 }, { key: "US", count: 2 }, { key: "CN", count: 1 }]);
  assert.deepEqual(s.cities, [{ key: "Seattle, US", count: 2 }, { key: "Tokyo, JP", count: 2 }, { key: "Shanghai, CN", count: 1 }]);
  assert.deepEqual(s.devices, [{ key: "desktop", count: 3 }, { key: "mobile", count: 2 }]);
  assert.deepEqual(s.referrers, [{ key: "(direct)", count: 3 }, { key: "mail.example.com", count: 1 }, { key: "weixin.qq.com", count: 1 }]);
  assert.equal(s.browsers.find((b) => b.key === "Firefox").count, 2);
  assert.equal(s.timezone, "Asia/Shanghai");
  const [hourAfter, dayAfter] = [shanghaiHour(), shanghaiDay()];
  const days = new Set([dayBefore, dayAfter]);
  assert.ok(s.opens_per_day.every((d) => days.has(d.key) || d.count === 0), JSON.stringify(s.opens_per_day));
  assert.equal(s.opens_per_day.reduce((n, d) => n + d.count, 0), 5);
  assert.equal(s.opens_per_hour.length, 24);
  const inWindow = hourBefore === hourAfter ? s.opens_per_hour[hourBefore] : s.opens_per_hour[hourBefore] + s.opens_per_hour[hourAfter];
  assert.equal(inWindow, 5, `the opens fall in the Shanghai hour(s) they were made in: ${JSON.stringify(s.opens_per_hour)}`);
  assert.deepEqual(s.images.find((i) => i.id === "hero"), { id: "hero", file_name: hero.file_name, views: 1, downloads: 1 });
  const byName = Object.fromEntries(s.links.map((l) => [l.name, l]));
  assert.equal(byName.pair.opens_admitted, 2);
  assert.equal(byName.pair.opens_denied, 1);
  assert.equal(byName.press.downloads, 1);
  assert.ok(byName.press.last_open > 0);
  const opened = new Set(["press", "viewonly", "toggle", "pair"]);
  const showroom = Object.keys(w.manifest.galleries.showroom.links).filter((name) => !opened.has(name));
  assert.deepEqual(s.never_opened.sort(), showroom.sort(), "every link of the gallery nobody opened, and only those");

  const one = await (await admin("galleries/showroom/stats?link=pair")).json();
  assert.equal(one.totals.opens_admitted, 2);
  assert.deepEqual(one.links.map((l) => l.name), ["pair"]);
  const tomorrow = new Date(Date.now() + 2 * 86400e3).toISOString().slice(0, 10);
  const empty = await (await admin(`galleries/showroom/stats?from=${tomorrow}`)).status;
  assert.equal(empty, 400, "a window starting after now ends before it starts");
}));

test("the CSV export starts with a BOM and holds one row per logged event", () => withOwnWorker(async () => {
  await knownTraffic();
  const res = await admin("galleries/showroom/export.csv");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/csv/);
  assert.match(res.headers.get("content-disposition"), /attachment; filename\*=UTF-8''showroom-\d{4}-\d{2}-\d{2}\.csv/);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes).slice(1).trimEnd().split("\r\n");
  assert.equal(lines[0].split(",")[0], '"time_local"', "every field is quoted");
  assert.equal(lines.length - 1, 11, "8 opens, 2 downloads, 1 full-size view");
  const tokyo = lines.find((l) => l.includes('"press","open","admitted"'));
  assert.ok(tokyo.includes('"JP"') && tokyo.includes('"Tokyo"') && tokyo.includes("203.0.113.0"), tokyo);
  assert.match(tokyo, /^"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00",/);
}));

test("the Excel export is a workbook an independent reader opens", () => withOwnWorker(async () => {
  await knownTraffic();
  const res = await admin("galleries/showroom/export.xlsx");
  assert.equal(res.status, 200);
  const dir = mkdtempSync(join(tmpdir(), "gatefold-xlsx-"));
  const file = join(dir, "stats.xlsx");
  writeFileSync(file, new Uint8Array(await res.arrayBuffer()));
  const out = execFileSync("python3", ["-c", `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0] is not None}
ev = list(wb["Events"].iter_rows(values_only=True))
print(json.dumps({"sheets": wb.sheetnames, "opens": summary.get("Opens admitted"), "denied": summary.get("Opens denied"),
  "header": list(ev[0]), "rows": len(ev) - 1, "links": sorted({r[2] for r in ev[1:]}), "ts_type": type(ev[1][1]).__name__}))
`, file], { encoding: "utf8" });
  const book = JSON.parse(out);
  assert.deepEqual(book.sheets, ["Summary", "Events", "Audit", "Follow-up"]);
  assert.equal(book.opens, 5);
  assert.equal(book.denied, 3);
  assert.equal(book.rows, 11);
  assert.equal(book.header[0], "time_local");
  assert.equal(book.ts_type, "int");
  assert.deepEqual(book.links, ["expired", "off", "pair", "press", "toggle", "viewonly"]);
}));

test("the links list shows state, views left and overrides", () => withOwnWorker(async () => {
  await knownTraffic();
  const res = await admin("links?gallery=showroom&limit=100");
  assert.equal(res.status, 200);
  const { links, timezone } = await res.json();
  assert.equal(timezone, "Asia/Shanghai");
  const pair = links.find((l) => l.gallery === "showroom" && l.name === "pair");
  assert.equal(pair.state, "limit_reached");
  assert.equal(pair.views, 2);
  assert.equal(pair.views_left, 0);
  assert.equal(pair.url, `http://127.0.0.1:8787${L("pair").path}`);
  assert.equal(links.find((l) => l.name === "expired").state, "expired");
  assert.equal(links.find((l) => l.name === "off").state, "disabled");
  assert.equal(links.length, Object.keys(w.links).filter((k) => k.startsWith("showroom/")).length, "every link of the gallery");
}));

test("disabling refuses the next visitor at once and enabling lets them in again", async () => {
  const off = await admin("links/showroom/crowd/disable", { method: "POST" });
  assert.equal(off.status, 200);
  assert.equal((await off.json()).state, "disabled");
  assert.equal((await visit("crowd", { ua: UA.firefox, ip: "203.0.113.30" })).status, 403);
  const on = await admin("links/showroom/crowd/enable", { method: "POST" });
  assert.equal((await on.json()).overrides.disabled, null);
  assert.equal((await visit("crowd", { ua: UA.firefox, ip: "203.0.113.30" })).status, 200);
});

test("raising the limit and extending the expiry reopen the link", async () => {
  for (const ip of ["203.0.113.42", "203.0.113.43"]) assert.equal((await visit("pair", { ua: UA.firefox, ip })).status, 200);
  assert.equal((await visit("pair", { ua: UA.firefox, ip: "203.0.113.44" })).status, 410);
  const raised = await admin("links/showroom/pair", { method: "PATCH", body: JSON.stringify({ max_views: 3 }) });
  assert.equal(raised.status, 200);
  assert.deepEqual((({ state, views_left }) => ({ state, views_left }))(await raised.json()), { state: "active", views_left: 1 });
  assert.equal((await visit("pair", { ua: UA.firefox, ip: "203.0.113.40" })).status, 200);
  const extended = await (await admin("links/showroom/expired", { method: "PATCH", body: JSON.stringify({ expires: "2099-12-31" }) })).json();
  assert.equal(extended.state, "active");
  assert.equal(extended.expires_at, Date.UTC(2100, 0, 1) / 1000 - 8 * 3600, "through the end of the day in Shanghai");
  assert.equal((await visit("expired", { ua: UA.firefox, ip: "203.0.113.41" })).status, 200);
  const past = await admin("links/showroom/pair", { method: "PATCH", body: JSON.stringify({ expires: "2001-01-01" }) });
  assert.equal(past.status, 400);
  assert.match((await past.json()).message, /expires/);
  const typo = await admin("links/showroom/pair", { method: "PATCH", body: JSON.stringify({ max_view: 9 }) });
  assert.equal(typo.status, 400);
});

test("unknown galleries and links get a clear 404", async () => {
  const g = await admin("galleries/nope/stats");
  assert.equal(g.status, 404);
  assert.deepEqual(await g.json(), { error: "unknown_gallery", message: 'no gallery "nope" in the published site' });
  assert.equal((await admin("links/showroom/nope/disable", { method: "POST" })).status, 404);
  assert.equal((await admin("links/showroom/press/disable")).status, 405);
});

test("the API refuses a missing, wrong or almost-right token, and slows down guessing", async () => {
  const call = (auth, ip) => w.fetch("/admin/api/links", { headers: { ...(auth ? { authorization: auth } : {}), "cf-connecting-ip": ip } });
  const none = await call(null, "192.0.2.1");
  assert.equal(none.status, 401);
  assert.equal(none.headers.get("cache-control"), "no-store");
  assert.equal((await none.json()).error, "unauthorized");
  assert.equal((await call("Bearer wrong", "192.0.2.2")).status, 401);
  const almost = w.adminToken.slice(0, -1) + (w.adminToken.endsWith("9") ? "8" : "9");
  assert.equal((await call(`Bearer ${almost}`, "192.0.2.3")).status, 401);
  assert.equal((await call(`Basic ${w.adminToken}`, "192.0.2.4")).status, 401);

  // The throttle counts networks (IPv4 /24): the wrong tokens above came from 192.0.2.0/24.
  const ip = "192.0.20.50";
  for (let i = 0; i < 3; i++) assert.equal((await call("Bearer guess", ip)).status, 401, `free failure ${i + 1}`);
  const locked = await call("Bearer guess", ip);
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  assert.equal((await call(`Bearer ${w.adminToken}`, ip)).status, 429, "even the right token waits while locked");
  assert.equal((await call(`Bearer ${w.adminToken}`, "192.0.21.51")).status, 200, "other networks are not affected");
});

test("the admin page is served with a strict CSP and no inline code", async () => {
  const res = await w.fetch("/admin");
  assert.equal(res.status, 200);
  const csp = res.headers.get("content-security-policy");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  const html = await res.text();
  assert.ok(html.includes('src="/admin/admin.js"') && !/<script>/.test(html));
});

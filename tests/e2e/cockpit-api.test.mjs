// End-to-end tests of the owner's cockpit API: QR codes, printable cards and share kits drawn
// per request from the private owner kit, and the links list paged and filtered in the worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const IP = "198.51.100.77";
const admin = adminApi({ worker: () => w, ip: IP });
const urlOf = (key) => `http://127.0.0.1:8787${w.links[key].path}`;

/** Decodes the QR code(s) in an image file with zbar. */
function zbar(path) {
  return execFileSync("zbarimg", ["--raw", "-q", path], { encoding: "utf8" }).trim();
}
function tempFile(name, bytes) {
  const path = join(mkdtempSync(join(tmpdir(), "gatefold-qr-")), name);
  writeFileSync(path, bytes);
  return path;
}

/** Every page of `links?<query>`, following `next_offset`. */
async function allPages(query) {
  const pages = [];
  let offset = 0;
  while (offset !== null && offset !== undefined) {
    const res = await admin(`links?${query}&offset=${offset}`);
    assert.equal(res.status, 200, await res.clone().text());
    const page = await res.json();
    pages.push(page);
    assert.ok(pages.length < 100, "paging ends");
    offset = page.next_offset;
  }
  return pages;
}
const keysOf = (pages) => pages.flatMap((p) => p.links.map((l) => `${l.gallery}/${l.name}`));

const OWNER_ROUTES = [
  ["links/showroom/press/qr.svg", "image/svg+xml"],
  ["links/showroom/press/qr.png", "image/png"],
  ["links/dealer/c-card/card.html", "text/html; charset=utf-8"],
  ["galleries/dealer/share-kit.txt", "text/plain; charset=utf-8"],
];

test("every owner file refuses a request without the token or with a wrong one, and is never stored", async () => {
  // Each refusal counts against its address's sign-in throttle: one address per route.
  for (const [i, [path, type]] of OWNER_ROUTES.entries()) {
    const ip = `198.51.100.${90 + i}`;
    const none = await w.fetch(`/admin/api/${path}`, { headers: { "cf-connecting-ip": ip } });
    assert.equal(none.status, 401, path);
    assert.equal(none.headers.get("cache-control"), "no-store", path);
    const wrong = await w.fetch(`/admin/api/${path}`, { headers: { authorization: "Bearer not-the-admin-token-at-all-0123", "cf-connecting-ip": ip } });
    assert.equal(wrong.status, 401, path);
    assert.equal(wrong.headers.get("cache-control"), "no-store", path);
    assert.equal(await wrong.text().then((t) => t.includes("<svg") || t.includes("■")), false, "nothing of the file leaks");
    const ok = await admin(path);
    assert.equal(ok.status, 200, path);
    assert.equal(ok.headers.get("content-type"), type, path);
    assert.equal(ok.headers.get("cache-control"), "no-store", path);
    await ok.arrayBuffer();
  }
});

test("a query token or cookie is no way in", async () => {
  const byQuery = await w.fetch(`/admin/api/links/showroom/press/qr.png?token=${w.adminToken}`, { headers: { "cf-connecting-ip": "198.51.100.98" } });
  assert.equal(byQuery.status, 401);
  const byCookie = await w.fetch("/admin/api/links/showroom/press/qr.png", { headers: { cookie: `token=${w.adminToken}`, "cf-connecting-ip": "198.51.100.99" } });
  assert.equal(byCookie.status, 401);
});

test("the PNG QR code is at least 1024 px and scans to exactly the link's URL", async () => {
  const png = Buffer.from(await (await admin("links/showroom/press/qr.png")).arrayBuffer());
  assert.equal(png.subarray(1, 4).toString(), "PNG");
  const width = png.readUInt32BE(16);
  assert.ok(width >= 1024 && png.readUInt32BE(20) === width, `${width} px`);
  assert.equal(zbar(tempFile("press.png", png)), urlOf("showroom/press"));
});

test("the SVG QR code scans, rasterised, to exactly the link's URL", async () => {
  const svg = await (await admin("links/dealer/shanghai/qr.svg")).text();
  assert.match(svg, /viewBox="0 0 \d+ \d+"/);
  const out = join(mkdtempSync(join(tmpdir(), "gatefold-qr-")), "shanghai.png");
  execFileSync("vips", ["copy", tempFile("shanghai.svg", svg), out]);
  assert.equal(zbar(out), urlOf("dealer/shanghai"));
});

test("the card shows the escaped label, the URL, the QR code and the expiry in both languages", async () => {
  const card = await (await admin("links/dealer/c-card/card.html?locale=en")).text();
  assert.match(card, /<html lang="en">/);
  assert.ok(card.includes('<p class="gf-audience">Partners &lt;b&gt;&amp;&lt;/b&gt; &quot;R&amp;D&quot;</p>'), card);
  assert.ok(!card.includes("<b>&</b>"), "the label is never markup");
  assert.ok(card.includes(`<p class="gf-url">${urlOf("dealer/c-card")}</p>`));
  assert.ok(card.includes("Available until 30 Jun 2099 23:59 (Asia/Shanghai)"), card);
  assert.ok(card.includes("有效期至 2099年6月30日 23:59（Asia/Shanghai）"), card);
  assert.ok(card.includes("<h1>Dealer kit</h1>") && card.includes("<svg"));
  // Opened from a blob URL under the admin page's CSP: an absolute stylesheet, nothing inline.
  assert.ok(card.includes(`<link rel="stylesheet" href="${w.url}/admin/owner.css">`), card);
  assert.ok(!/<script|style="|<style/.test(card));
  const css = await w.fetch("/admin/owner.css");
  assert.equal(css.status, 200);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  assert.match(await css.text(), /\.gf-card/);
});

test("the card takes the site's language by default and an extension made at runtime", async () => {
  const patched = await admin("links/dealer/c-card", { method: "PATCH", body: JSON.stringify({ expires: "2100-01-31" }) });
  assert.equal(patched.status, 200, await patched.clone().text());
  const card = await (await admin("links/dealer/c-card/card.html")).text();
  assert.match(card, /<html lang="en">/, "the fixture site's default language");
  assert.ok(card.includes("Available until 31 Jan 2100 23:59 (Asia/Shanghai)"), card);
  assert.equal((await admin("links/dealer/c-card/card.html?locale=fr")).status, 400);
  assert.match(await (await admin("links/dealer/c-card/card.html?locale=zh-CN")).text(), /<html lang="zh-CN">/);
});

test("unknown galleries and links are not found", async () => {
  for (const path of ["links/dealer/nope/qr.svg", "links/nope/press/qr.png", "links/showroom/nope/card.html", "galleries/nope/share-kit.txt"]) {
    const res = await admin(path);
    assert.equal(res.status, 404, path);
    assert.equal(res.headers.get("cache-control"), "no-store");
    await res.arrayBuffer();
  }
});

test("the share kit lists every link that opens, with its terms, and no disabled one", async () => {
  assert.equal((await admin("links/showroom/toggle/disable", { method: "POST" })).status, 200);
  const text = await (await admin("galleries/showroom/share-kit.txt?locale=en")).text();
  const { links } = await (await admin("links?gallery=showroom&limit=100")).json();
  const open = links.filter((l) => l.state === "active");
  assert.ok(open.length > 5);
  for (const l of open) assert.ok(text.includes(`■ ${l.label}\n  ${l.url}\n`), `${l.name} is listed`);
  for (const l of links.filter((l) => l.state !== "active")) assert.ok(!text.includes(l.url), `${l.name} (${l.state}) is not listed`);
  assert.ok(!text.includes(urlOf("showroom/toggle")), "disabled at runtime");
  assert.ok(!text.includes(urlOf("showroom/off")), "disabled in gallery.yaml");
  assert.ok(text.includes("Subject: Showroom launch") && text.includes("Up to 50 opens") && text.includes("Each open lasts 10 s"), text);
  const zh = await (await admin("galleries/showroom/share-kit.txt?locale=zh-CN")).text();
  assert.ok(zh.includes("主题：Showroom launch") && zh.includes(urlOf("showroom/press")));
});

test("paging returns each link exactly once, in the site's order", async () => {
  const pages = await allPages("limit=5");
  const keys = keysOf(pages);
  assert.equal(keys.length, new Set(keys).size, "no link twice");
  // The manifest lists galleries by id and links by name, as the worker pages them.
  assert.deepEqual(keys, Object.keys(w.links), "every link, in order");
  assert.ok(pages.every((p) => p.total === keys.length && p.links.length <= 5));
  assert.deepEqual(pages.map((p) => p.offset), pages.map((_, i) => i * 5));
  assert.equal(pages.at(-1).next_offset, null);
  const galleries = Object.values(w.manifest.galleries).sort((a, b) => a.id.localeCompare(b.id));
  assert.deepEqual(pages[0].galleries, galleries.map((g) => ({ id: g.id, title: g.title, links: Object.keys(g.links).length, audiences: Object.keys(g.audiences ?? {}).length })));
  assert.ok(pages[0].galleries.some((g) => g.id === "showroom" && g.title === "Showroom launch"));
  const first = await (await admin("links")).json();
  assert.equal(first.links.length, Math.min(50, keys.length), "50 a page by default");
  assert.equal((await admin("links?limit=0")).status, 400);
  assert.equal((await admin("links?state=open")).status, 400);
});

test("gallery, search and state filters narrow the list and page on", async () => {
  const showroom = keysOf(await allPages("gallery=showroom&limit=4"));
  assert.deepEqual(showroom.sort(), Object.keys(w.links).filter((k) => k.startsWith("showroom/")).sort());
  const search = await allPages("q=SESSIONS&limit=2");
  assert.deepEqual(keysOf(search).sort(), ["dealer/o-revoke", "showroom/timed", "showroom/v-bound", "showroom/v-revoke"].sort());
  assert.equal(search[0].total, 4);
  assert.deepEqual(keysOf(await allPages("q=dealer%20KIT&limit=100")).sort(), Object.keys(w.links).filter((k) => k.startsWith("dealer/")).sort(), "the gallery title matches");
  assert.deepEqual(keysOf(await allPages("gallery=dealer&q=press")), []);

  const everything = (await allPages("limit=100")).flatMap((p) => p.links);
  for (const state of ["active", "disabled", "expired", "limit_reached"]) {
    const expected = everything.filter((l) => l.state === state).map((l) => `${l.gallery}/${l.name}`);
    // 3 a page: several pages for the rare states, under 100 for the 200 active dealers.
    const pages = await allPages(`state=${state}&limit=3`);
    assert.deepEqual(keysOf(pages), expected, state);
    assert.ok(pages.every((p) => p.links.every((l) => l.state === state)));
  }
});

test("the private owner kits are not reachable directly", async () => {
  for (const path of ["/_gatefold/owner/dealer.kit.en.json", "/_gatefold/owner/owner.css", "/assets/../_gatefold/owner/dealer.kit.en.json", "/admin/api/../../_gatefold/owner/dealer.kit.en.json"]) {
    const res = await w.fetch(path, { headers: { authorization: `Bearer ${w.adminToken}` } });
    assert.equal(res.status, 404, path);
    assert.ok(!(await res.text()).includes("{{gf:"), path);
  }
  assert.ok(w.siteFiles().includes("_gatefold/owner/dealer.kit.en.json"), "the kit is in the deployed assets");
});

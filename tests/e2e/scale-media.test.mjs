// Display images come from R2 (binding MEDIA) through the Workers Cache API, behind the same
// gate as ever; gallery pages are one template per gallery that the worker fills per link.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, cookieOf, until, NAVIGATION_HEADERS, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (key) => w.links[key];
const BROWSER = NAVIGATION_HEADERS["user-agent"];
/** The worker's internal cache key of an R2 object (visitor.rs, MEDIA_CACHE_ORIGIN). */
const cacheUrl = (key) => `https://media.gatefold.internal/${key}`;

/** A person opening the link in their browser: the page and its session cookie. */
async function open(key, headers = {}) {
  const res = await w.navigate(L(key).path, { headers: { "accept-language": "en", ...headers } });
  return { res, body: await res.text(), cookie: cookieOf(res) };
}
const sameBrowser = (cookie, headers = {}) => ({ headers: { "user-agent": BROWSER, cookie, ...headers } });
const variants = (gallery) => w.manifest.galleries[gallery].images.flatMap((img) => img.variants);
const admin = adminApi({ worker: () => w, headers: { "content-type": "application/json" } });

test("a variant is never served without a session of its link, whatever its name, and even once it is cached", async () => {
  const press = L("showroom/press");
  const own = variants("showroom");
  const other = variants("dealer");
  // A visitor with a session views every variant, so the cache holds them all.
  const visitor = await open("showroom/press");
  assert.equal(visitor.res.status, 200);
  const bytes = new Map();
  for (const v of own) {
    const r = await w.fetch(`${press.path}/i/${v.file}`, sameBrowser(visitor.cookie));
    assert.equal(r.status, 200, v.file);
    bytes.set(v.file, Buffer.from(await r.arrayBuffer()));
  }
  const caches = await w.mf.getCaches();
  const cached = await until(async () => Promise.all(own.map((v) => caches.default.match(cacheUrl(v.key)))), (all) => all.every(Boolean), { ms: 10_000, every: 100 });
  assert.ok(cached.every(Boolean), "every viewed variant is in the cache");
  for (const c of cached) await c.arrayBuffer();

  // Route-valid names: real files of this and another gallery, R2 key names without their
  // prefix, made-up names. Without a session of this link each answers exactly like the others.
  const keyNames = own.map((v) => v.key.split("/").pop());
  const names = [...own.map((v) => v.file), ...other.map((v) => v.file), ...keyNames, "made-up-0123456789abcdef-640.webp"];
  const dealer = await open("dealer/shanghai");
  assert.equal(dealer.res.status, 200);
  const forged = visitor.cookie.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
  const asks = [
    ["no cookie", {}],
    ["another link's session", sameBrowser(dealer.cookie).headers],
    ["a forged session", sameBrowser(forged).headers],
    ["the session from another browser", { cookie: visitor.cookie, "user-agent": "curl/8.5.0" }],
  ];
  for (const name of names) {
    for (const [why, headers] of asks) {
      for (const method of ["GET", "HEAD"]) {
        const r = await w.fetch(`${press.path}/i/${name}`, { method, headers: { accept: "application/json", ...headers } });
        const body = Buffer.from(await r.arrayBuffer());
        assert.equal(r.status, 403, `${method} ${name} with ${why}`);
        if (method === "GET") assert.equal(JSON.parse(body).error, "no_session", `${name} with ${why}`);
        assert.ok(![...bytes.values()].some((b) => b.equals(body)), `${name} with ${why} answered image bytes`);
        assert.ok(!r.headers.get("content-type").startsWith("image/"), `${name} with ${why}`);
      }
    }
  }

  // Names shaped like R2 keys or the cache's URL, encoded or not: no route at all, so no
  // session, cookie or header gets them anywhere near the bucket or the cache.
  const key = own[0].key;
  const paths = [
    `${press.path}/i/${key}`, `${press.path}/i/${encodeURIComponent(key)}`, `${press.path}/i/${key.replace("/", "%2f")}`,
    `${press.path}/i/..%2f${key}`, `${press.path}/i/%2e%2e/%2e%2e/${key}`, `${press.path}/i/${own[0].file.toUpperCase()}`,
    `/${key}`, `/${w.manifest.galleries.showroom.images[0].original.key}`, `/i/${own[0].file}`,
    `/s/${press.token}/i/${cacheUrl(key)}`, `/s/${press.token}/i/${encodeURIComponent(cacheUrl(key))}`,
  ];
  for (const path of paths) {
    const r = await w.fetch(path, sameBrowser(visitor.cookie));
    const body = Buffer.from(await r.arrayBuffer());
    assert.equal(r.status, 404, path);
    assert.ok(![...bytes.values()].some((b) => b.equals(body)), `${path} answered image bytes`);
  }
});

test("a variant deleted from R2 after its first view is served from the cache, still private to the visitor", async () => {
  // The dealer gallery: the test above viewed only the showroom's variants.
  const link = L("dealer/shanghai");
  const variant = variants("dealer").find((v) => v.full_size);
  const caches = await w.mf.getCaches();
  assert.equal(await caches.default.match(cacheUrl(variant.key)), undefined, "not cached before its first view");
  const visitor = await open("dealer/shanghai");
  assert.equal(visitor.res.status, 200);
  const url = `${link.path}/i/${variant.file}`;

  const first = await w.fetch(url, sameBrowser(visitor.cookie));
  assert.equal(first.status, 200);
  const original = Buffer.from(await first.arrayBuffer());
  const stored = await w.media.get(variant.key);
  assert.ok(original.equals(Buffer.from(await stored.arrayBuffer())), "the first view is R2's object");

  // The cached copy is public and immutable under the internal key, with no cookie.
  const cached = await until(() => caches.default.match(cacheUrl(variant.key)), Boolean, { ms: 10_000, every: 100 });
  assert.ok(cached, "the first view was put into the cache");
  assert.equal(cached.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(cached.headers.get("content-type"), variant.content_type);
  assert.equal(cached.headers.get("content-length"), String(original.length));
  assert.ok(cached.headers.get("etag"), "the cached copy carries R2's ETag");
  assert.equal(cached.headers.get("set-cookie"), null);
  assert.ok(Buffer.from(await cached.arrayBuffer()).equals(original));

  await w.media.delete(variant.key);
  assert.equal(await w.media.head(variant.key), null, "gone from R2");

  for (const [who, cookie] of [["the same visitor", visitor.cookie], ["another visitor", (await open("dealer/shanghai")).cookie]]) {
    const again = await w.fetch(url, sameBrowser(cookie));
    assert.equal(again.status, 200, who);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(original), `${who}: the same bytes, from the cache`);
    assert.equal(again.headers.get("cache-control"), "private, no-store", who);
    assert.equal(again.headers.get("content-type"), variant.content_type, who);
    assert.equal(again.headers.get("x-content-type-options"), "nosniff", who);
    assert.equal(again.headers.get("set-cookie"), null, who);
    for (const shared of ["age", "expires", "cf-cache-status"]) assert.equal(again.headers.get(shared), null, `${who}: ${shared}`);
  }
  const head = await w.raw(url, { method: "HEAD", ...sameBrowser(visitor.cookie) });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0, "HEAD answers without a body");
  assert.equal(head.headers.get("cache-control"), "private, no-store");
  assert.equal(head.headers.get("content-length"), String(original.length));

  // A variant never viewed and missing from R2 is not found, and the log says why.
  const unseen = variants("dealer").find((v) => v.key !== variant.key && !v.full_size);
  await w.media.delete(unseen.key);
  const missing = await w.fetch(`${link.path}/i/${unseen.file}`, sameBrowser(visitor.cookie));
  assert.equal(missing.status, 404); await missing.arrayBuffer();
  const logged = await until(async () => w.logs(), (l) => l.includes(unseen.key), { ms: 5000, every: 100 });
  assert.match(logged, new RegExp(`${unseen.key} is in the site's records but not in the MEDIA bucket`));
});

test("a gallery page fills in its link's label, expiry and token, escaped, and shows a runtime-extended expiry", async () => {
  const card = L("dealer/c-card");
  const visitor = await open("dealer/c-card");
  assert.equal(visitor.res.status, 200);
  const page = visitor.body;
  assert.ok(page.includes("Partners &lt;b&gt;&amp;&lt;/b&gt; &quot;R&amp;D&quot;"), "the label, escaped");
  assert.ok(!page.includes("<b>&</b>"), "never the raw label");
  assert.ok(page.includes("Available until 30 Jun 2099 23:59 (Asia/Shanghai)"), "the published expiry, as written");
  assert.ok(page.includes(`/s/${card.token}/i/`), "image URLs carry the link's token");
  assert.ok(!page.includes("{{gf:"), "no placeholder left");
  for (const other of Object.values(w.links).filter((l) => l.token !== card.token)) {
    assert.ok(!page.includes(other.token), `names no other link's token (${other.gallery}/${other.link})`);
  }
  // Another link of the same gallery gets the same template with its own parts.
  const shanghai = await open("dealer/shanghai");
  assert.ok(shanghai.body.includes("Dealer Shanghai") && shanghai.body.includes("No expiry") && shanghai.body.includes(`/s/${L("dealer/shanghai").token}/i/`));
  assert.ok(!shanghai.body.includes(card.token));

  const patched = await admin("links/dealer/c-card", { method: "PATCH", body: JSON.stringify({ expires: "2100-01-15" }) });
  assert.equal(patched.status, 200, await patched.text());
  const shown = await until(
    async () => (await w.navigate(card.path, { headers: { cookie: visitor.cookie, "accept-language": "en" } })).text(),
    (body) => body.includes("15 Jan 2100"),
  );
  assert.ok(shown.includes("Available until 15 Jan 2100 23:59 (Asia/Shanghai)"), "the runtime expiry, on the page the session shows");
  const zh = await until(
    async () => (await w.navigate(card.path, { headers: { cookie: visitor.cookie, "accept-language": "zh-CN" } })).text(),
    (body) => body.includes("2100年1月15日"),
  );
  assert.match(zh, /有效期至 2100年1月15日 23:59/);
  assert.equal((await w.status("dealer/c-card")).views, 1, "showing the page to its session counted no open");
});

test("a gallery record or token shard of another format fails closed, the reason in the log, other galleries unharmed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gatefold-e2e-format-"));
  const dist = join(dir, "dist");
  cpSync(w.dist, dist, { recursive: true });
  const records = join(dist, "site/_gatefold");
  const bump = (file) => {
    const record = JSON.parse(readFileSync(file, "utf8"));
    record.format += 1;
    writeFileSync(file, JSON.stringify(record));
    return record.format;
  };
  const wrong = bump(join(records, "g/showroom.json"));
  // The shard holding one dealer link's token (found by content: the hash is the worker's business).
  const inShard = (f, token) => readFileSync(join(records, "t", f), "utf8").includes(`"${token}"`);
  const token = w.links["dealer/o-shape"].token;
  const shard = readdirSync(join(records, "t")).find((f) => inShard(f, token));
  assert.ok(shard, "the token is in some shard");
  bump(join(records, "t", shard));
  const current = Object.keys(w.links).find((k) => k.startsWith("dealer/") && w.links[k].policy.disabled === false && !inShard(shard, w.links[k].token) && !w.links[k].policy.expires);
  const stale = await startWorker({ dist });
  try {
    for (const [key, path] of [["showroom/press", "/_gatefold/g/showroom.json"], ["dealer/o-shape", `/_gatefold/t/${shard}`]]) {
      const res = await stale.navigate(stale.links[key].path);
      const body = await res.text();
      assert.equal(res.status, 500, key);
      assert.equal(res.headers.get("cache-control"), "no-store", key);
      assert.ok(!body.includes(stale.links[key].token), `${key}: the answer names no token`);
      const logged = await until(async () => stale.logs(), (l) => l.includes(path), { ms: 5000, every: 100 });
      assert.ok(logged.includes(`${path}: format ${wrong} but this worker reads format ${wrong - 1}`), logged);
    }
    const open = await stale.navigate(stale.links[current].path);
    assert.equal(open.status, 200, `${current}: a gallery whose records are current still opens`); await open.text();
    assert.ok(!Object.values(stale.links).some((l) => stale.logs().includes(l.token)), "no token in the log");
  } finally {
    await stale.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

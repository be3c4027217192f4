// Sessions bound to the client that opened them (issue 9 §2), files that answer the same
// without a session, and a worker that refuses to run with unfit secrets (§4) or to log a
// token (§5).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, buildSite, cookieOf, until, FIXTURE, NAVIGATION_HEADERS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (name) => w.links[`showroom/${name}`];
const views = async (name) => (await w.status(`showroom/${name}`)).views;
const CHROME_WINDOWS = NAVIGATION_HEADERS["user-agent"];
const CHROME_WINDOWS_NEXT = CHROME_WINDOWS.replace("Chrome/126", "Chrome/127");
const FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
function fullSizeFile() {
  return w.manifest.galleries.showroom.images[0].variants.find((v) => v.full_size).file;
}
const image = (name, ua, cookie) =>
  w.fetch(`${L(name).path}/i/${fullSizeFile()}`, { headers: { "user-agent": ua, accept: "application/json", ...(cookie ? { cookie } : {}) } });

test("the session cookie carries the __Secure- prefix and stays scoped to its link", async () => {
  const res = await w.navigate(L("v-bound").path);
  const set = res.headers.getSetCookie().find((c) => c.startsWith("__Secure-gf_session="));
  assert.match(set, /^__Secure-gf_session=[^;]+; Path=\/s\/[a-z2-7]{26}; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/);
  assert.ok(set.includes(`Path=${L("v-bound").path};`));
});

test("a session cookie copied to another browser or system is no session there: it counts a new open", async () => {
  const opened = await w.navigate(L("v-bound").path);
  assert.equal(opened.status, 200);
  const cookie = cookieOf(opened);
  const start = await views("v-bound");
  const own = await image("v-bound", CHROME_WINDOWS, cookie);
  assert.equal(own.status, 200, "the browser that opened it sees the images");
  await own.arrayBuffer();
  const updated = await image("v-bound", CHROME_WINDOWS_NEXT, cookie);
  assert.equal(updated.status, 200, "a browser update keeps the session");
  await updated.arrayBuffer();
  for (const [name, ua] of [["Firefox on the same system", FIREFOX_WINDOWS], ["Chrome on a Mac", CHROME_MAC]]) {
    const img = await image("v-bound", ua, cookie);
    assert.equal(img.status, 403, name);
    assert.equal((await img.json()).error, "no_session", name);
    const before = await views("v-bound");
    const page = await w.navigate(L("v-bound").path, { headers: { "user-agent": ua, cookie } });
    assert.equal(page.status, 200, name);
    assert.ok(cookieOf(page), `${name} gets its own session`);
    await page.text();
    assert.equal(await views("v-bound"), before + 1, `${name}: a new open`);
  }
  const back = await w.navigate(L("v-bound").path, { headers: { cookie } });
  assert.equal(back.headers.get("set-cookie"), null);
  await back.text();
  assert.equal(await views("v-bound"), start + 2, "the original browser still has its session");
});

test("revoking a link's sessions ends every open session: the page counts a new open, images answer no_session", async () => {
  const opened = await w.navigate(L("v-revoke").path);
  const cookie = cookieOf(opened);
  await opened.text();
  const ok = await image("v-revoke", CHROME_WINDOWS, cookie);
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
  const revoked = await w.gate("showroom/v-revoke", "revoke", { method: "POST" });
  assert.ok(revoked.session_epoch >= 1, JSON.stringify(revoked));
  const refused = await until(() => image("v-revoke", CHROME_WINDOWS, cookie).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) })), (r) => r.status !== 200);
  assert.equal(refused.status, 403, "images still served 60 s after the revoke");
  assert.equal(refused.body.error, "no_session");
  const before = await views("v-revoke");
  const again = await w.navigate(L("v-revoke").path, { headers: { cookie } });
  assert.equal(again.status, 200);
  const fresh = cookieOf(again);
  assert.ok(fresh && fresh !== cookie, "a new session of the new epoch");
  await again.text();
  assert.equal(await views("v-revoke"), before + 1, "the old cookie's return is a new open");
  // The browser keeps its device cookie (set once, on its first open) beside the new session.
  const device = cookie.split("; ").find((c) => c.startsWith("__Secure-gf_device="));
  const img = await image("v-revoke", CHROME_WINDOWS, `${fresh}; ${device}`);
  assert.equal(img.status, 200, "the new session sees the images");
  await img.arrayBuffer();
});

test("without a session, a real and a made-up image answer the same", async () => {
  const answer = async (path, method = "GET") => {
    const res = await w.fetch(path, { method, headers: { accept: "application/json" } });
    return { status: res.status, body: method === "HEAD" ? "" : await res.text() };
  };
  const base = L("v-ids").path;
  for (const method of ["GET", "HEAD"]) {
    assert.deepEqual(await answer(`${base}/i/${fullSizeFile()}`, method), await answer(`${base}/i/made-up-640.webp`, method), `${method} display image`);
    assert.deepEqual(await answer(`${base}/download/hero`, method), await answer(`${base}/download/made-up`, method), `${method} original`);
  }
  const real = await answer(`${base}/i/${fullSizeFile()}`);
  assert.equal(real.status, 403);
  assert.equal(JSON.parse(real.body).error, "no_session");
  const opened = await w.navigate(base);
  const cookie = cookieOf(opened);
  await opened.text();
  const made = await w.fetch(`${base}/i/made-up-640.webp`, { headers: { "user-agent": CHROME_WINDOWS, cookie } });
  assert.equal(made.status, 404, "inside a session a made-up file is not found");
  await made.text();
});

test("a worker with a short or development secret refuses to serve and says why in its log", async () => {
  const cases = {
    "short SIGNING_KEY": { SIGNING_KEY: "too-short" },
    "development SIGNING_KEY": { SIGNING_KEY: "gatefold-dev-signing-key-NOT-FOR-PRODUCTION" },
    "short ADMIN_TOKEN": { ADMIN_TOKEN: "short-admin-token" },
  };
  for (const [name, bindings] of Object.entries(cases)) {
    const bad = await startWorker({ bindings });
    try {
      for (const path of [L("v-quiet").path, "/admin", "/robots.txt"]) {
        const res = await bad.navigate(path);
        const body = await res.text();
        assert.equal(res.status, 503, `${name}: ${path}`);
        assert.match(body, /not available: its configuration is unsafe or incomplete/);
        assert.match(body, /此图库网站暂不可用/);
        for (const secret of Object.values(bindings)) assert.ok(!body.includes(secret), "the page names no secret");
      }
      const logged = await until(async () => bad.logs(), (l) => l.includes("refusing to serve"), { ms: 5000, every: 100 });
      assert.match(logged, new RegExp(`refusing to serve: secret ${Object.keys(bindings)[0]} is`), name);
    } finally {
      await bad.stop();
    }
  }
  const dev = await startWorker({ bindings: { SIGNING_KEY: "gatefold-dev-signing-key-NOT-FOR-PRODUCTION", GATEFOLD_DEV: "1" } });
  try {
    const res = await dev.raw("/robots.txt");
    assert.equal(res.status, 200, "a local run (GATEFOLD_DEV=1) may use the development key");
  } finally {
    await dev.stop();
  }
});

/** What every route that touches a link or an owner's data answers while the site is refused. */
async function assertRefused(worker, why) {
  const link = worker.links["showroom/v-quiet"];
  const image = worker.manifest.galleries.showroom.images[0].variants.find((v) => v.full_size).file;
  const asks = {
    "a person's open": () => worker.navigate(link.path),
    "an image": () => worker.raw(`${link.path}/i/${image}`),
    "the interstitial's POST": () => worker.raw(link.path, { method: "POST", headers: { "sec-fetch-site": "same-origin" }, body: "" }),
    "the admin page": () => worker.raw("/admin"),
    "the admin API": () => worker.raw("/admin/api/links", { headers: { authorization: `Bearer ${worker.adminToken}` } }),
  };
  for (const [what, ask] of Object.entries(asks)) {
    const res = await ask();
    const body = await res.text();
    assert.equal(res.status, 503, `${why}: ${what}`);
    assert.match(body, /not available: its configuration is unsafe or incomplete/, what);
    assert.match(body, /此图库网站暂不可用/, what);
    assert.ok(!body.includes(worker.signingKey), "the page names no secret");
  }
  assert.equal((await worker.status("showroom/v-quiet")).views, 0, "nothing was counted");
}

test("a site built without SIGNING_KEY (the public development key) is refused outside a local run", async () => {
  const dist = buildSite(FIXTURE, { signingKey: null });
  // Strong secrets, no GATEFOLD_DEV: a production worker given a careless first deploy.
  const prod = await startWorker({ dist });
  try {
    await assertRefused(prod, "development-key site");
    const logged = await until(async () => prod.logs(), (l) => l.includes("refusing to serve"), { ms: 5000, every: 100 });
    assert.match(logged, /refusing to serve: the site was built with the public development key/);
  } finally {
    await prod.stop();
  }
  // The same dist in a local run (GATEFOLD_DEV=1, the development key as SIGNING_KEY) opens.
  const local = await startWorker({ dist, bindings: { SIGNING_KEY: "gatefold-dev-signing-key-NOT-FOR-PRODUCTION", GATEFOLD_DEV: "1" } });
  try {
    const res = await local.navigate(local.links["showroom/v-quiet"].path);
    assert.equal(res.status, 200, "a local run may serve a development-key site");
    await res.text();
  } finally {
    await local.stop();
  }
});

test("a site built with another key than the worker's SIGNING_KEY is refused, even in a local run", async () => {
  const dist = buildSite(FIXTURE, { signingKey: "another-signing-key-than-the-workers-0123456789" });
  for (const bindings of [{}, { GATEFOLD_DEV: "1" }]) {
    const other = await startWorker({ dist, bindings });
    try {
      await assertRefused(other, `another key ${JSON.stringify(bindings)}`);
      const logged = await until(async () => other.logs(), (l) => l.includes("refusing to serve"), { ms: 5000, every: 100 });
      assert.match(logged, /refusing to serve: the site was built with another signing key/);
      assert.ok(!logged.includes(other.signingKey) && !logged.includes("another-signing-key-than"), "the log names fingerprints, never a key");
    } finally {
      await other.stop();
    }
  }
});

test("a 500 logs the path with the link token redacted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gatefold-e2e-broken-"));
  const dist = join(dir, "dist");
  cpSync(w.dist, dist, { recursive: true });
  // The gallery page's files gone: the worker cannot render it and answers 500.
  const pages = join(dist, "site/_gatefold/pages");
  for (const f of readdirSync(pages).filter((f) => f.startsWith("showroom."))) rmSync(join(pages, f));
  const broken = await startWorker({ dist });
  try {
    const token = broken.links["showroom/v-quiet"].token;
    const res = await broken.navigate(`/s/${token}`);
    assert.equal(res.status, 500);
    await res.text();
    const logged = await until(async () => broken.logs(), (l) => l.includes("gatefold: GET"), { ms: 5000, every: 100 });
    assert.match(logged, /gatefold: GET \/s\/<redacted>: /);
    assert.ok(!logged.includes(token), "the token is not in the log");
  } finally {
    await broken.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// End-to-end tests of the edge worker under Miniflare, against the real generator's output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, cookieOf, until, NAVIGATION_HEADERS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (key) => w.links[key];
const BROWSER = NAVIGATION_HEADERS["user-agent"];
/** A person opening the link in their browser (a counted open when they have no session). */
async function open(key, headers = {}) {
  const res = await w.navigate(L(key).path, { headers });
  return { res, body: await res.text(), cookie: cookieOf(res) };
}
/** Later requests of the same browser: its session cookie and User-Agent (sessions are bound to it). */
const sameBrowser = (cookie, headers = {}) => ({ headers: { "user-agent": BROWSER, cookie, ...headers } });
function fullSizeFile(gallery) {
  return w.manifest.galleries[gallery].images[0].variants.find((v) => v.full_size).file;
}

test("an open shows the page with its session end, sets a scoped session cookie and counts once", async () => {
  const { res, body, cookie } = await open("showroom/press");
  assert.equal(res.status, 200);
  assert.ok(!body.includes("{{gf:"), "every placeholder filled");
  const set = res.headers.get("set-cookie");
  assert.ok(set.startsWith("__Secure-gf_session="), set);
  for (const part of [`Path=/s/${L("showroom/press").token}`, "HttpOnly", "Secure", "SameSite=Lax"]) assert.ok(set.includes(part), set);
  assert.equal(res.headers.get("cache-control"), "private, no-store");
  assert.match(res.headers.get("content-security-policy"), /default-src 'none'/);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  assert.equal(res.headers.get("x-robots-tag"), "noindex, nofollow");
  const again = await w.navigate(L("showroom/press").path, { headers: { cookie } });
  assert.equal(again.status, 200); await again.text();
  assert.equal((await w.status("showroom/press")).views, 1, "a returning session is not a new open");
});

test("a link with two views admits two opens and then answers view_limit_reached", async () => {
  assert.equal((await open("showroom/pair")).res.status, 200);
  assert.equal((await open("showroom/pair")).res.status, 200);
  const third = await open("showroom/pair");
  assert.equal(third.res.status, 410);
  assert.equal(third.cookie, null);
  const json = await w.fetch(L("showroom/pair").path, { headers: { accept: "application/json", "accept-language": "zh-CN" } });
  assert.equal(json.status, 410);
  const j = await json.json();
  assert.equal(j.error, "view_limit_reached");
  assert.match(j.message, /次数/);
});

test("200 concurrent opens of a 50-view link admit exactly 50", async () => {
  const results = await Promise.all(Array.from({ length: 200 }, () => w.navigate(L("showroom/crowd").path).then((r) => r.status)));
  assert.equal(results.filter((s) => s === 200).length, 50);
  assert.equal(results.filter((s) => s === 410).length, 150);
  assert.equal((await w.status("showroom/crowd")).views, 50);
});

test("expired and disabled links are refused in the visitor's language", async () => {
  const expired = await open("showroom/expired", { "accept-language": "zh-CN,zh;q=0.9" });
  assert.equal(expired.res.status, 410);
  assert.match(expired.body, /lang="zh-CN"/);
  const off = await open("showroom/off");
  assert.equal(off.res.status, 403);
  assert.equal((await w.status("showroom/off")).views, 0);
});

test("disabling a link at runtime refuses new opens at once, and enabling reopens it", async () => {
  const before = await open("showroom/toggle");
  assert.equal(before.res.status, 200);
  await w.setOverrides("showroom/toggle", { disabled: true });
  const res = await w.fetch(L("showroom/toggle").path, { headers: { accept: "application/json" } });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error, "link_disabled");
  const kv = await (await w.mf.getKVNamespace("LINK_STATE")).get("runtime/showroom/toggle", "json");
  assert.equal(kv.overrides.disabled, true, "overrides mirrored to KV for open sessions");
  await w.setOverrides("showroom/toggle", {});
  assert.equal((await open("showroom/toggle")).res.status, 200);
});

test("an already-open session loses its images within 60 s of a disable, and gets them back on enable", async () => {
  const visitor = await open("showroom/toggle");
  assert.equal(visitor.res.status, 200);
  const image = `${L("showroom/toggle").path}/i/${fullSizeFile("showroom")}`;
  const fetchImage = async () => {
    const res = await w.fetch(image, sameBrowser(visitor.cookie, { accept: "application/json" }));
    return { status: res.status, body: res.status === 200 ? (await res.arrayBuffer(), null) : await res.json() };
  };
  assert.equal((await fetchImage()).status, 200);
  await w.setOverrides("showroom/toggle", { disabled: true });
  const refused = await until(fetchImage, (r) => r.status !== 200);
  assert.equal(refused.status, 403, "still served 60 s after the disable");
  assert.equal(refused.body.error, "link_disabled");
  await w.setOverrides("showroom/toggle", {});
  const again = await until(fetchImage, (r) => r.status === 200);
  assert.equal(again.status, 200, "the session's images come back after enabling");
});

test("downloads: originals where on, nothing where off, whatever the request looks like", async () => {
  const press = await open("showroom/press");
  const dl = await w.fetch(`${L("showroom/press").path}/download/hero`, sameBrowser(press.cookie));
  assert.equal(dl.status, 200);
  assert.equal(dl.headers.get("content-disposition"), "attachment; filename*=UTF-8''hero.jpg");
  assert.equal(dl.headers.get("content-type"), "image/jpeg");
  const img = w.manifest.galleries.showroom.images.find((i) => i.id === "hero");
  assert.equal((await dl.arrayBuffer()).byteLength, img.original.size);
  const part = await w.fetch(`${L("showroom/press").path}/download/hero`, sameBrowser(press.cookie, { range: "bytes=0-9" }));
  assert.equal(part.status, 206);
  assert.equal((await part.arrayBuffer()).byteLength, 10);
  assert.equal((await w.fetch(`${L("showroom/press").path}/download/hero`)).status, 403, "no session");

  const view = await open("showroom/viewonly");
  for (const [method, headers] of [["GET", {}], ["HEAD", {}], ["GET", { range: "bytes=0-9" }], ["GET", { "accept-encoding": "identity" }]]) {
    const r = await w.fetch(`${L("showroom/viewonly").path}/download/hero`, { method, ...sameBrowser(view.cookie, headers) });
    assert.equal(r.status, 403, `${method} ${JSON.stringify(headers)}`);
    assert.ok(!r.headers.get("content-disposition"));
    await r.arrayBuffer();
  }
  const cross = await w.fetch(`${L("showroom/viewonly").path}/download/hero`, sameBrowser(press.cookie));
  assert.equal(cross.status, 403, "another link's cookie");
  await cross.arrayBuffer();
});

test("gated images need a session of that link, and only list the gallery's own files", async () => {
  const press = await open("showroom/press");
  const file = fullSizeFile("showroom");
  const ok = await w.fetch(`${L("showroom/press").path}/i/${file}`, sameBrowser(press.cookie));
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("cache-control"), "private, no-store");
  assert.ok((await ok.arrayBuffer()).byteLength > 0);
  const none = await w.fetch(`${L("showroom/press").path}/i/${file}`, { headers: { accept: "application/json" } });
  assert.equal(none.status, 403);
  assert.equal((await none.json()).error, "no_session");
  const forged = await w.fetch(`${L("showroom/press").path}/i/${file}`, sameBrowser(press.cookie.replace(/.$/, (c) => (c === "0" ? "1" : "0"))));
  assert.equal(forged.status, 403); await forged.arrayBuffer();
  const dealer = await open("dealer/shanghai");
  const cross = await w.fetch(`${L("dealer/shanghai").path}/i/${file}`, sameBrowser(dealer.cookie));
  assert.equal(cross.status, 404, "a file of another gallery"); await cross.arrayBuffer();
});

test("link-preview bots and HEAD requests never use a view", async () => {
  for (const ua of ["facebookexternalhit/1.1", "WhatsApp/2.23", "Slackbot-LinkExpanding 1.0", "TelegramBot (like TwitterBot)", "MicroMessenger Client"]) {
    const r = await w.fetch(L("showroom/wechat").path, { headers: { "user-agent": ua } });
    assert.equal(r.status, 200, ua);
    assert.equal(r.headers.get("set-cookie"), null);
    await r.text();
  }
  const head = await w.raw(L("showroom/wechat").path, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal((await w.status("showroom/wechat")).views, 0);
  const human = await open("showroom/wechat", { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2d) NetType/WIFI Language/zh_CN" });
  assert.equal(human.res.status, 200, "a person in WeChat opens the link");
  assert.equal((await w.status("showroom/wechat")).views, 1);
});

test("a timed session ends for good: the returning visitor is told their time is over", async () => {
  const timed = await open("showroom/timed");
  assert.equal(timed.res.status, 200);
  const seconds = L("showroom/timed").policy.view_seconds;
  const comeBack = () => w.navigate(L("showroom/timed").path, { headers: { cookie: timed.cookie, accept: "application/json" } });
  const back = await until(comeBack, (r) => r.status !== 200, { ms: (seconds + 5) * 1000 });
  assert.equal(back.status, 403);
  assert.equal((await back.json()).error, "session_expired");
  const img = await w.fetch(`${L("showroom/timed").path}/i/${fullSizeFile("showroom")}`, sameBrowser(timed.cookie));
  assert.equal(img.status, 403); await img.arrayBuffer();
  assert.equal((await w.status("showroom/timed")).views, 1);
});

test("bypasses: encoded, doubled, case-changed, traversing and private paths are not found and name no token", async () => {
  const t = L("showroom/press").token;
  const file = fullSizeFile("showroom");
  const paths = [
    `/s/${t.toUpperCase()}`, `/s/${t}/`, `/s//${t}`, `/s/${t}//i/${file}`, `/s/${t}/i/%2e%2e/%2e%2e/_gatefold/manifest.json`,
    `/s/${t}%2fi%2f${file}`, `/s/${t}/I/${file}`, `/s/${t}/i/${file}/x`, `/s/${t}/download/hero.jpg`, `/s/${t}x`,
    "/_gatefold/manifest.json", "/%5fgatefold/manifest.json", "/assets/..%2f_gatefold/manifest.json", "/assets//x", "/", "/index.html",
  ];
  const tokens = Object.values(w.links).map((l) => l.token);
  const viewsBefore = (await w.status("showroom/press")).views;
  for (const p of paths) {
    const r = await w.navigate(p);
    assert.equal(r.status, 404, `${p} → ${r.status}`);
    const body = await r.text();
    const leaked = tokens.filter((tok) => body.includes(tok) || [...r.headers.values()].some((v) => v.includes(tok)));
    assert.deepEqual(leaked, [], `${p} names a token`);
  }
  assert.equal((await w.status("showroom/press")).views, viewsBefore, "no path shaped like a bypass counted an open");
});

test("a link's page answers GET, HEAD and POST; its files and every other path refuse other methods", async () => {
  const t = L("showroom/press").token;
  for (const [path, allow] of [[`/s/${t}`, "GET, HEAD, POST"], [`/s/${t}/i/${fullSizeFile("showroom")}`, "GET, HEAD"], [`/s/${t}/download/hero`, "GET, HEAD"]]) {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const r = await w.raw(path, { method });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.get("allow"), allow);
    }
  }
  const post = await w.raw(`/s/${t}/download/hero`, { method: "POST", headers: { origin: w.url } });
  assert.equal(post.status, 405, "POST exists for the page's button only");
});

test("walking every file of dist/site directly: only /assets/* answers 200", async () => {
  assert.ok(w.siteFiles().some((f) => f.startsWith("_gatefold/owner/")), "the private owner kits are walked too");
  for (const f of w.siteFiles()) {
    const r = await w.fetch(`/${f}`);
    await r.arrayBuffer();
    if (f.startsWith("assets/")) {
      assert.equal(r.status, 200, f);
      assert.equal(r.headers.get("cache-control"), "public, max-age=31536000, immutable");
    } else {
      assert.equal(r.status, 404, f);
    }
  }
  const robots = await w.fetch("/robots.txt");
  assert.match(await robots.text(), /Disallow: \//);
});

// Opens that only people make (issue 9 §1): only a person's top-level browser navigation, or
// the interstitial's "View gallery" button, uses a view. Mail gateways, link checkers, curl,
// unfurlers, prefetches, bots and HEAD see the link's real state and count nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, cookieOf, NAVIGATION_HEADERS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (name) => w.links[`showroom/${name}`];
const views = async (name) => (await w.status(`showroom/${name}`)).views;

// What mail gateways, link checkers and unfurlers present: browser-like, tool-like or nothing,
// and never fetch metadata.
const SCANNERS = {
  "Outlook Safe Links": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
  Proofpoint: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
  Mimecast: "Mozilla/5.0 (compatible; Mimecast URL Protect)",
  Barracuda: "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.1",
  curl: "curl/8.5.0",
  Mastodon: "http.rb/5.1.1 (Mastodon/4.2.8; +https://mastodon.social/) Bot",
  Iframely: "Iframely/1.3.1 (+https://iframely.com/docs/about)",
  "no User-Agent": undefined,
};
const scannerGet = (path, ua, headers = {}) => w.raw(path, { headers: { ...(ua ? { "user-agent": ua } : {}), ...headers } });

test("8 GETs from mail gateways, link checkers and unknown agents use no view and get the interstitial without a cookie", async () => {
  const before = await views("v-mail");
  for (const [name, ua] of Object.entries(SCANNERS)) {
    const res = await scannerGet(L("v-mail").path, ua);
    const body = await res.text();
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get("set-cookie"), null, `${name}: no cookie`);
    assert.match(body, /<h1>Showroom launch<\/h1>/, name);
    assert.match(body, /<form method="post"[^>]*>\s*<button type="submit"[^>]*>View gallery<\/button>/, name);
    assert.match(body, /<meta name="robots" content="noindex/);
    assert.ok(!body.includes("<img") && !body.includes(L("v-mail").token), `${name}: no image, no token`);
    assert.equal(res.headers.get("cache-control"), "private, no-store");
  }
  assert.equal(await views("v-mail"), before);
  const zh = await scannerGet(L("v-mail").path, SCANNERS.curl, { "accept-language": "zh-CN,zh;q=0.9" });
  assert.match(await zh.text(), /查看图库/, "the interstitial speaks the visitor's language");
  const navigation = await w.navigate(L("v-mail").path);
  assert.equal(navigation.status, 200);
  assert.match(await navigation.text(), /gf-grid/, "a person's navigation shows the gallery");
  assert.equal(await views("v-mail"), before + 1, "and counts exactly one open");
});

test("no header, query or setting makes a GET without fetch metadata count", async () => {
  const tries = [
    { path: L("v-mail").path + "?open=1", headers: {} },
    { path: L("v-mail").path, headers: { accept: NAVIGATION_HEADERS.accept, "upgrade-insecure-requests": "1", "sec-fetch-user": "?1" } },
    { path: L("v-mail").path, headers: { "sec-fetch-mode": "navigate" } },
    { path: L("v-mail").path, headers: { "sec-fetch-dest": "document" } },
    { path: L("v-mail").path, headers: { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" } },
  ];
  const before = await views("v-mail");
  for (const { path, headers } of tries) {
    const res = await scannerGet(path, SCANNERS.Proofpoint, headers);
    assert.equal(res.status, 200, JSON.stringify(headers));
    assert.equal(res.headers.get("set-cookie"), null);
  }
  const api = await w.fetch(L("v-mail").path, { headers: { accept: "application/json" } });
  assert.equal(api.status, 200);
  assert.equal((await api.json()).state, "active", "API clients keep JSON answers");
  assert.equal(await views("v-mail"), before);
});

test("prefetches and prerenders never count, even when they look like navigations", async () => {
  for (const marker of [{ "sec-purpose": "prefetch" }, { "sec-purpose": "prefetch;prerender" }, { purpose: "prefetch" }, { "x-moz": "prefetch" }]) {
    const res = await w.navigate(L("v-prefetch").path, { headers: marker });
    assert.equal(res.status, 200, JSON.stringify(marker));
    assert.equal(res.headers.get("set-cookie"), null);
    assert.match(await res.text(), /View gallery/);
  }
  assert.equal(await views("v-prefetch"), 0, "a link only ever prefetched");
});

test("the interstitial's button counts the open, sets the session cookie and sends the browser back with a 303", async () => {
  const ua = SCANNERS.Barracuda; // an old browser that sends no fetch metadata
  const page = await scannerGet(L("v-confirm").path, ua);
  assert.equal(page.status, 200);
  const post = await w.raw(L("v-confirm").path, {
    method: "POST",
    headers: { "user-agent": ua, origin: w.url, "content-type": "application/x-www-form-urlencoded" },
    body: "",
  });
  assert.equal(post.status, 303);
  assert.equal(post.headers.get("location"), L("v-confirm").path);
  const set = post.headers.get("set-cookie");
  assert.ok(set?.startsWith("__Secure-gf_session="), set);
  for (const part of [`Path=${L("v-confirm").path}`, "HttpOnly", "Secure", "SameSite=Lax"]) assert.ok(set.includes(part), set);
  assert.equal(await views("v-confirm"), 1);
  const cookie = cookieOf(post);
  const back = await scannerGet(L("v-confirm").path, ua, { cookie });
  assert.equal(back.status, 200);
  assert.match(await back.text(), /gf-grid/, "the redirect shows the gallery");
  const twice = await w.raw(L("v-confirm").path, { method: "POST", headers: { "user-agent": ua, origin: w.url, cookie } });
  assert.equal(twice.status, 303, "a second press inside the session goes back to the page");
  assert.equal(await views("v-confirm"), 1, "without a second open");
  const modern = await w.raw(L("v-confirm").path, { method: "POST", headers: { ...NAVIGATION_HEADERS, "sec-fetch-site": "same-origin", origin: "null" } });
  assert.equal(modern.status, 303, "a browser with fetch metadata proves the origin with Sec-Fetch-Site");
  assert.equal(await views("v-confirm"), 2);
});

test("a POST from another site, or from nowhere it can show, is refused with a clear 403 and counts nothing", async () => {
  const before = await views("v-confirm");
  const tries = {
    "another site's form": { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    "a forged Origin from a cross-site page": { origin: w.url, "sec-fetch-site": "cross-site" },
    "another origin, no fetch metadata": { origin: "https://evil.example" },
    "Origin null": { origin: "null" },
    "no Origin at all": {},
  };
  for (const [name, headers] of Object.entries(tries)) {
    const res = await w.raw(L("v-confirm").path, { method: "POST", headers: { "user-agent": SCANNERS.Proofpoint, ...headers } });
    assert.equal(res.status, 403, name);
    assert.equal(res.headers.get("set-cookie"), null, name);
    assert.match(await res.text(), /did not come from the gallery page/, name);
  }
  const json = await w.raw(L("v-confirm").path, { method: "POST", headers: { accept: "application/json", origin: "https://evil.example" } });
  assert.equal((await json.json()).error, "cross_site_request");
  assert.equal(await views("v-confirm"), before);
});

test("bots, HEAD and the interstitial answer the link's real state and never count", async () => {
  const once = await w.navigate(L("v-once").path);
  assert.equal(once.status, 200, "the one view is used");
  const expected = { off: 403, expired: 410, "v-once": 410, "v-quiet": 200 };
  const before = Object.fromEntries(await Promise.all(Object.keys(expected).map(async (n) => [n, await views(n)])));
  for (const [name, status] of Object.entries(expected)) {
    const asks = {
      bot: () => w.raw(L(name).path, { headers: { "user-agent": "facebookexternalhit/1.1" } }),
      HEAD: () => w.raw(L(name).path, { method: "HEAD", headers: { "user-agent": SCANNERS.curl } }),
      interstitial: () => scannerGet(L(name).path, SCANNERS["Outlook Safe Links"]),
      "API client": () => w.fetch(L(name).path, { headers: { accept: "application/json" } }),
    };
    for (const [who, ask] of Object.entries(asks)) {
      const res = await ask();
      assert.equal(res.status, status, `${who} on ${name}`);
      assert.equal(res.headers.get("set-cookie"), null, `${who} on ${name}`);
      await res.text();
    }
    assert.equal(await views(name), before[name], `${name} counted nothing`);
  }
});

test("a preview bot sending a browser's navigation headers still counts nothing", async () => {
  const before = await views("v-bot");
  const bots = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
  ];
  for (const ua of bots) {
    // Sec-Fetch-Mode: navigate, Sec-Fetch-Dest: document, Sec-Fetch-User: ?1, as a person's click.
    const res = await w.navigate(L("v-bot").path, { headers: { "user-agent": ua } });
    const body = await res.text();
    assert.equal(res.status, 200, ua);
    assert.equal(res.headers.get("set-cookie"), null, `${ua}: no session`);
    assert.ok(!body.includes("<img"), `${ua}: the title-only page, not the gallery`);
  }
  assert.equal(await views("v-bot"), before, "no view used");
});

test("only the interstitial and a closed link's request form may post a form, and only to this origin", async () => {
  const csp = (res) => res.headers.get("content-security-policy");
  const interstitial = await scannerGet(L("v-quiet").path, SCANNERS.curl);
  // A disabled link's denial page carries "Request access", posting to the link's own path.
  const requestForm = await w.navigate(L("off").path);
  for (const res of [interstitial, requestForm]) {
    assert.match(csp(res), /form-action 'self'/);
    assert.match(csp(res), /frame-ancestors 'none'/);
    assert.equal(res.headers.get("referrer-policy"), "same-origin");
  }
  const others = {
    gallery: await w.navigate(L("v-mail").path),
    "not found": await w.navigate("/s/aaaaaaaaaaaaaaaaaaaaaaaaaa"),
    admin: await w.raw("/admin"),
  };
  for (const [name, res] of Object.entries(others)) {
    assert.match(csp(res), /form-action 'none'/, name);
    assert.doesNotMatch(csp(res), /form-action 'self'/, name);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", name);
  }
});

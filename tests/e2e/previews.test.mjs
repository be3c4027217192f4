// Chat previews that leak nothing (issue 21 §5): a link pasted into Feishu, DingTalk, Slack,
// WhatsApp, Telegram… is fetched by the app's server to draw a card. The fetcher gets Open
// Graph and Twitter card tags (gallery title, site title, "N images · until <date>" or the
// denial in the link's real state, in the request's language), never a session, a view or a
// gated image; a gallery with `preview_image: cover` shows a small copy of its cover made for
// previews only, at a public URL from which no gated variant can be derived.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const admin = adminApi({ worker: () => w, ip: "198.51.100.121" });
const L = (name) => w.links[name];
/** A link's views as the owner's admin API reports them. */
const views = async (gallery, link) => {
  const { links } = await (await admin(`links?gallery=${gallery}&limit=100`)).json();
  return links.find((l) => l.name === link).views;
};

// The preview fetchers' User-Agents as the platforms document or send them. Feishu/Lark and
// DingTalk publish none for their link cards; they are covered below by what every server-side
// fetcher has in common: no browser fetch metadata.
const FETCHERS = {
  // https://developers.facebook.com/docs/sharing/webmasters/web-crawlers (also Messenger, Instagram)
  Facebook: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  // https://api.slack.com/robots
  Slack: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  // Telegram's link preview server
  Telegram: "TelegramBot (like TwitterBot)",
  // WhatsApp's in-app preview fetch: `WhatsApp/<version> <platform>`
  WhatsApp: "WhatsApp/2.23.20.0 A",
  // https://developer.x.com/en/docs/x-for-websites/cards/guides/troubleshooting-cards
  "Twitter/X": "Twitterbot/1.0",
  // Discord's embed fetcher
  Discord: "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
  // https://www.linkedin.com/robots.txt names LinkedInBot
  LinkedIn: "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
  // iMessage's link presentation (Apple): a Safari string carrying Facebook's and Twitter's tokens
  iMessage: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
  // WeChat's server-side fetch presents no browser (`MicroMessenger` without `Mozilla/`)
  WeChat: "MicroMessenger Client",
};

/** The content of every `<meta property|name="key">`, in page order. */
const meta = (html, key) => [...html.matchAll(/<meta (?:property|name)="([^"]+)" content="([^"]*)">/g)].filter((m) => m[1] === key).map((m) => m[2]);
const TITLE = 'Spring &quot;Launch&quot; &lt;script&gt;alert(1)&lt;/script&gt;';

/** Every answer to a preview: no cookie, not cacheable by a shared cache, no token, no gated image. */
function leaksNothing(res, body, token, who) {
  assert.equal(res.headers.get("set-cookie"), null, `${who}: no session`);
  assert.equal(res.headers.get("cache-control"), "private, no-store", `${who}: never in a shared cache`);
  assert.ok(!body.includes(token), `${who}: the page holds no token`);
  assert.ok(!body.includes("<img") && !/\/s\/[^"]*\/i\//.test(body), `${who}: no gated image`);
  assert.ok(!body.includes("<script>alert"), `${who}: the title stays text`);
}

test("every chat app's preview fetcher gets the card's tags and no image, no cookie, no view", async () => {
  const link = L("chat-card/open");
  const before = await views("chat-card", "open");
  for (const [app, ua] of Object.entries(FETCHERS)) {
    const res = await w.raw(link.path, { headers: { "user-agent": ua } });
    const body = await res.text();
    assert.equal(res.status, 200, app);
    assert.match(res.headers.get("content-type"), /^text\/html/, app);
    leaksNothing(res, body, link.token, app);
    assert.deepEqual(meta(body, "og:title"), [TITLE], app);
    assert.deepEqual(meta(body, "og:site_name"), ["Gatefold E2E"], app);
    assert.deepEqual(meta(body, "og:description"), ["2 images · until 31 Dec 2030 23:59"], app);
    assert.deepEqual(meta(body, "twitter:description"), ["2 images · until 31 Dec 2030 23:59"], app);
    assert.deepEqual(meta(body, "twitter:card"), ["summary"], app);
    assert.deepEqual(meta(body, "og:image"), [], `${app}: no image without preview_image: cover`);
  }
  // Some fetchers copy a browser's navigation headers: known by name, they still count nothing.
  for (const app of ["Slack", "Facebook", "Telegram", "WhatsApp"]) {
    const res = await w.navigate(link.path, { headers: { "user-agent": FETCHERS[app] } });
    const body = await res.text();
    assert.equal(res.status, 200, app);
    leaksNothing(res, body, link.token, `${app} with navigation headers`);
    assert.deepEqual(meta(body, "og:title"), [TITLE], app);
  }
  await w.logged("chat-card", (t) => t.previews >= Object.keys(FETCHERS).length + 4, { link: "open" });
  assert.equal(await views("chat-card", "open"), before, "no view used");
});

test("fetchers not known by name (Feishu, DingTalk, none at all) get the same card", async () => {
  const link = L("chat-card/forever");
  for (const ua of [undefined, "Go-http-client/1.1", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"]) {
    const res = await w.raw(link.path, { headers: ua ? { "user-agent": ua } : {} });
    const body = await res.text();
    assert.equal(res.status, 200, String(ua));
    leaksNothing(res, body, link.token, String(ua));
    assert.deepEqual(meta(body, "og:description"), ["2 images"], "no expiry: the count alone");
  }
  assert.equal(await views("chat-card", "forever"), 0);
});

test("the card speaks the language the fetcher asks for, else the site's", async () => {
  const zh = await w.raw(L("chat-card/open").path, { headers: { "user-agent": FETCHERS.Slack, "accept-language": "zh-CN,zh;q=0.9" } });
  const body = await zh.text();
  assert.deepEqual(meta(body, "og:description"), ["共 2 张图片 · 有效期至 2030年12月31日 23:59"]);
  assert.deepEqual(meta(body, "og:locale"), ["zh_CN"]);
  const en = await (await w.raw(L("chat-card/open").path, { headers: { "user-agent": FETCHERS.Slack } })).text();
  assert.deepEqual(meta(en, "og:locale"), ["en_US"], "the site's default language");
});

test("a closed link's card says its real state, with its status and no image", async () => {
  const once = await w.navigate(L("chat-card/once").path);
  assert.equal(once.status, 200, "a person uses the one view");
  await once.text();
  const cases = [
    ["chat-card/expired", 410, "This link has expired"],
    ["chat-card/off", 403, "This link has been disabled"],
    ["chat-card/once", 410, "This link has reached its view limit"],
    ["chat-cover/expired", 410, "This link has expired"],
  ];
  for (const [name, status, text] of cases) {
    const [gallery, link] = name.split("/");
    const before = await views(gallery, link);
    for (const [app, ua] of Object.entries(FETCHERS)) {
      const res = await w.raw(L(name).path, { headers: { "user-agent": ua } });
      const body = await res.text();
      assert.equal(res.status, status, `${app} on ${name}`);
      leaksNothing(res, body, L(name).token, `${app} on ${name}`);
      assert.deepEqual(meta(body, "og:description"), [text], `${app} on ${name}`);
      assert.match(body, new RegExp(`<h1>${text}</h1>`), "the page says it too");
      assert.deepEqual(meta(body, "og:image"), [], `${name}: a closed link shows no image`);
      assert.equal(meta(body, "og:title").length, 1);
    }
    assert.equal(await views(gallery, link), before, `${name}: no view used`);
  }
  const zh = await w.raw(L("chat-card/expired").path, { headers: { "user-agent": FETCHERS.Telegram, "accept-language": "zh-CN" } });
  assert.deepEqual(meta(await zh.text(), "og:description"), ["链接已过期"]);
  // A runtime disable reaches the card at once.
  assert.equal((await admin("links/chat-card/forever/disable", { method: "POST" })).status, 200);
  const off = await w.raw(L("chat-card/forever").path, { headers: { "user-agent": FETCHERS.Slack } });
  assert.equal(off.status, 403);
  assert.deepEqual(meta(await off.text(), "og:description"), ["This link has been disabled"]);
});

test("a gallery with preview_image: cover shows a small copy of its cover, and nothing else", async () => {
  const link = L("chat-cover/open");
  const res = await w.raw(link.path, { headers: { "user-agent": FETCHERS.Slack } });
  const body = await res.text();
  assert.equal(res.status, 200);
  leaksNothing(res, body, link.token, "cover card");
  const [url] = meta(body, "og:image");
  assert.deepEqual(meta(body, "twitter:image"), [url]);
  assert.deepEqual(meta(body, "twitter:card"), ["summary_large_image"]);
  assert.deepEqual(meta(body, "og:image:alt"), ["The interior, seen from the driver&#39;s seat"]);
  const { pathname, origin } = new URL(url);
  assert.equal(origin, w.url, "absolute, on the site's own origin");
  assert.match(pathname, /^\/assets\/preview\/[0-9a-f]{32}\.jpg$/);
  // Its name reveals nothing of the cover's gated files: no R2 key, display file or hash of them.
  const gallery = w.manifest.galleries["chat-cover"];
  for (const img of gallery.images) {
    for (const v of img.variants) {
      assert.ok(!pathname.includes(v.file) && !pathname.includes(v.key.split("/")[1].slice(0, 16)), `${pathname} names ${v.file}`);
    }
  }
  const image = await w.fetch(pathname);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get("content-type"), "image/jpeg");
  assert.equal(image.headers.get("set-cookie"), null);
  const bytes = Buffer.from(await image.arrayBuffer());
  const [width, height] = jpegSize(bytes);
  assert.deepEqual([width, height], [Number(meta(body, "og:image:width")[0]), Number(meta(body, "og:image:height")[0])]);
  assert.ok(width <= 600, `${width} px wide: low resolution`);
  assert.equal(width / height, 640 / 800, "the cover (interior.jpg), upright");
  // Made for previews only: not one of the gated files in R2.
  for (const img of gallery.images) {
    for (const key of [...img.variants.map((v) => v.key), img.original.key]) {
      const obj = await w.media.get(key);
      assert.ok(!Buffer.from(await obj.arrayBuffer()).equals(bytes), `the preview is not ${key}`);
    }
  }
  // The only public image of the site: one preview file, for the one gallery that opted in.
  const previews = w.siteFiles().filter((f) => f.includes("assets/preview/"));
  assert.equal(previews.length, 1, previews.join(", "));
  // The gated files stay gated: without a session, none of them is served.
  for (const v of gallery.images.flatMap((i) => i.variants)) {
    const gated = await w.fetch(`${link.path}/i/${v.file}`);
    assert.equal(gated.status, 403, v.file);
    await gated.arrayBuffer();
  }
  assert.equal(await views("chat-cover", "open"), 0);
});

test("HEAD counts nothing either, and a person's navigation still opens the gallery and counts once", async () => {
  const link = L("chat-card/open");
  const before = await views("chat-card", "open");
  const head = await w.raw(link.path, { method: "HEAD", headers: { "user-agent": FETCHERS.Facebook } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("set-cookie"), null);
  assert.equal(head.headers.get("cache-control"), "private, no-store");
  assert.equal(await views("chat-card", "open"), before, "HEAD uses no view");
  const person = await w.navigate(link.path);
  assert.equal(person.status, 200);
  assert.match(await person.text(), /gf-grid/, "the gallery itself");
  assert.equal(await views("chat-card", "open"), before + 1, "exactly one view, the person's");
});

/** Width and height from a baseline or progressive JPEG's SOF marker. */
function jpegSize(b) {
  let i = 2;
  while (i < b.length) {
    const marker = b[i + 1];
    const length = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    i += 2 + length;
  }
  throw new Error("no SOF marker");
}

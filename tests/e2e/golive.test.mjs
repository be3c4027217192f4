// End-to-end tests of scheduled go-live (`opens_at:`): a site built for this file with a link
// that opens a few seconds after the build, one scheduled far ahead, and a gallery whose own
// `opens_at:` holds every link under it. Before the moment a person gets the "opens on" page
// (403 `not_yet_open`, no view used, no session), bots, HEAD and JSON clients the code; from
// that second the same URL opens with no redeploy; the gallery's log announces `go_live` once
// at the local receiver; "open now" through the admin API opens a link early and is audited.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, buildSite, until, adminApi, signInAdmin, launchBrowser, FIXTURE, ROOT } from "./harness.mjs";
import { startReceiver, signatureValid } from "./notify-receiver.mjs";

/** Seconds between the build and the moment `press` opens: the build, the worker's start and
 * the "before" checks fit well inside, on a loaded machine too. */
const OPENS_IN = 40;
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

let w;
let receiver;
let opensAt;

/** The e2e site's settings with two galleries of this file's own. */
function goLiveSite() {
  const galleries = mkdtempSync(join(tmpdir(), "gatefold-golive-"));
  writeFileSync(join(galleries, "site.yaml"), readFileSync(join(FIXTURE, "site.yaml"), "utf8"));
  opensAt = Math.floor(Date.now() / 1000) + OPENS_IN;
  const moment = new Date(opensAt * 1000).toISOString().replace(".000Z", "Z");
  const webhook = ["notify:", "  - to: webhook", "    url_secret: NOTIFY_WEBHOOK_URL", "    sign_secret: NOTIFY_WEBHOOK_SIGN", "    on: [go_live, owner_action]"];
  const gallery = (id, lines) => {
    mkdirSync(join(galleries, id));
    copyFileSync(join(FIXTURE, "notify-g", "front.jpg"), join(galleries, id, "front.jpg"));
    writeFileSync(join(galleries, id, "gallery.yaml"), [...lines, ""].join("\n"));
  };
  gallery("launch", [
    "title: Launch day",
    ...webhook,
    "links:",
    "  press:",
    "    label: Press",
    `    opens_at: "${moment}"`,
    "    expires: 2099-01-01",
    "  embargo:",
    "    label: Embargoed",
    "    opens_at: 2099-01-01 09:30",
    "  open:",
    "    label: Open already",
  ]);
  gallery("held", ["title: Held", "opens_at: 2099-01-01", "links:", "  any:", "    label: Any", "    opens_at: 2026-01-01"]);
  return galleries;
}

before(async () => {
  receiver = await startReceiver();
  w = await startWorker({ dist: buildSite(goLiveSite()), bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "1" } });
});
after(async () => {
  await w?.stop();
  await receiver?.stop();
});

const admin = adminApi({ worker: () => w, ip: "198.51.100.21" });
const L = (key) => w.links[key];
const person = (key, headers = {}) => w.navigate(L(key).path, { headers: { "user-agent": CHROME, ...headers } });
const goLives = () => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === "go_live");

test("before its moment a person gets the 'opens on' page in their language, with no view used and no session", async () => {
  assert.ok(Date.now() / 1000 < opensAt - 5, "the checks run before the moment");
  const res = await person("launch/press");
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("set-cookie"), null, "no session");
  const html = await res.text();
  assert.match(html, /gf-denied-not_yet_open/);
  assert.match(html, /not open yet/);
  // The site is in Asia/Shanghai: the moment in its wall time, to the second.
  const local = new Date((opensAt + 8 * 3600) * 1000).toISOString();
  const shown = `${local.slice(0, 10)} ${local.slice(11, 16)}`;
  assert.ok(html.includes(`Opens on ${shown}`), `the page names ${shown} (Asia/Shanghai): ${html.match(/gf-opens-at[^<]*<[^>]*>[^<]*/)?.[0]}`);
  assert.match(html, /Asia\/Shanghai/);
  const zh = await (await person("launch/press", { "accept-language": "zh-CN,zh;q=0.9" })).text();
  assert.match(zh, /尚未开放/);
  assert.ok(zh.includes(`开放时间：${shown}`), "in Chinese too");
  assert.equal((await w.status("launch/press")).views, 0, "no view used");
});

test("before its moment bots, HEAD and JSON clients see not_yet_open with its 403", async () => {
  const head = await w.fetch(L("launch/press").path, { method: "HEAD" });
  assert.equal(head.status, 403);
  const bot = await w.raw(L("launch/press").path, { headers: { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" } });
  assert.equal(bot.status, 403);
  assert.match(await bot.text(), /not_yet_open/);
  const json = await w.raw(L("launch/press").path, { headers: { accept: "application/json" } });
  assert.equal(json.status, 403);
  assert.equal((await json.json()).error, "not_yet_open");
  assert.equal((await w.status("launch/press")).views, 0);
});

test("a gallery's opens_at holds every link under it: the later moment wins", async () => {
  const res = await person("held/any");
  assert.equal(res.status, 403);
  assert.match(await res.text(), /Opens on 2099-01-01 00:00/);
  assert.equal((await person("launch/open")).status, 200, "a link without opens_at is open");
});

test("the admin page shows scheduled links with their opening and 'Open now', at 390 and 1280 px", async () => {
  const output = join(ROOT, "tests/output");
  mkdirSync(output, { recursive: true });
  const browser = await launchBrowser();
  try {
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-US" });
      const page = await context.newPage();
      const errors = await signInAdmin(page, w);
      await page.selectOption("#f-state", "not_yet_open");
      // The worker filters: wait for the page it answers.
      await page.waitForFunction(() => !document.querySelector('tr[data-link="open"]') && document.querySelector('tr[data-link="embargo"]'));
      const row = page.locator('tr[data-link="embargo"]');
      await row.waitFor();
      assert.match(await row.locator(".opens-at").innerText(), /Opens on .*2099.*9:30/);
      assert.equal(await row.locator('[data-action="open-now"]').count(), 1);
      assert.equal(await page.locator('tr[data-link="open"]').count(), 0, "the filter lists scheduled links only");
      await page.screenshot({ path: join(output, `admin-${width}-golive.png`), fullPage: width > 400 });
      assert.deepEqual(errors, []);
      await context.close();
    }
  } finally {
    await browser.close();
  }
});

test("the admin API lists a scheduled link's opening, and 'open now' opens it early, once, with an audit row", async () => {
  const row = async () => (await (await admin("links?gallery=launch")).json()).links.find((l) => l.name === "embargo");
  const before = await row();
  assert.equal(before.state, "not_yet_open");
  assert.ok(before.opens_at > Date.now() / 1000);
  assert.equal((await person("launch/embargo")).status, 403);
  const opened = await admin("links/launch/embargo/open-now", { method: "POST" });
  assert.equal(opened.status, 200, await opened.clone().text());
  const st = await opened.json();
  assert.equal(st.state, "active");
  assert.equal(st.opens_at, undefined);
  assert.equal((await person("launch/embargo")).status, 200, "the same URL opens at once");
  const again = await admin("links/launch/embargo/open-now", { method: "POST" });
  assert.equal(again.status, 400, "already open");
  const audit = await (await admin("galleries/launch/audit")).json();
  const entry = audit.entries.find((e) => e.action === "open_now");
  assert.ok(entry, `an open_now row: ${JSON.stringify(audit.entries.map((e) => e.action))}`);
  assert.equal(entry.target, "launch/embargo");
  assert.match(entry.after, /active/);
});

test("from its moment the same URL opens without a redeploy, and go_live is notified once", async () => {
  // Not before the second it opens: the worker compares with its own clock on every request.
  await until(async () => Date.now(), (now) => now >= opensAt * 1000, { ms: (OPENS_IN + 10) * 1000, every: 200 });
  const res = await until(() => person("launch/press"), (r) => r.status === 200, { ms: 5_000, every: 200 });
  assert.equal(res.status, 200);
  assert.ok(res.headers.get("set-cookie"), "a session now");
  assert.equal((await w.status("launch/press")).views, 1);
  await until(async () => goLives().length, (n) => n >= 1, { ms: 60_000, every: 200 });
  const [sent] = goLives();
  assert.ok(sent, "go_live arrived");
  assert.ok(sent.at - opensAt * 1000 < 60_000, `within a minute of the moment (${sent.at - opensAt * 1000} ms)`);
  assert.ok(sent.at >= opensAt * 1000, "not before it");
  assert.equal(sent.json.link.id, "launch/press");
  assert.equal(sent.json.count, 1);
  assert.ok(signatureValid(sent));
  // Later requests and alarms announce nothing more.
  await person("launch/press");
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal(goLives().length, 1, "once");
});

// End-to-end tests of the follow-up lists (issue 13): with known opens and downloads on
// `launch-a`'s recipients, who has not opened and who opened without downloading, grouped by
// audience, each group with its reminder text; disabled audiences and recipients left out, and a
// recipient's own runtime changes counted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, cookieOf, until, launchBrowser, signInAdmin } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const dealer = (n) => `channel/dealer-${String(n).padStart(3, "0")}`;
const L = (name) => w.links[`launch-a/${name}`];
const admin = (path, init = {}) => w.fetch(`/admin/api/${path}`, { ...init, headers: { authorization: `Bearer ${w.adminToken}`, ...(init.headers || {}) } });
const open = (name, ip) => w.navigate(L(name).path, { headers: { "user-agent": CHROME, "cf-connecting-ip": ip } });
const followUp = async () => (await admin("galleries/launch-a/follow-up")).json();

/** Runs `body` against a worker of its own, so what it counts is only its own traffic. */
async function withOwnWorker(body) {
  const shared = w;
  w = await startWorker();
  try { await body(); } finally { await w.stop(); w = shared; }
}

test("the follow-up lists exactly who has not opened, and who opened without downloading where download is on", async () => {
  await withOwnWorker(async () => {
    // dealer-001 opens and downloads, dealer-002 only opens; team opens; nobody else does.
    const first = await open(dealer(1), "203.0.113.60");
    assert.equal(first.status, 200);
    const image = w.manifest.galleries["launch-a"].images[0].id;
    const dl = await w.fetch(`${L(dealer(1)).path}/download/${image}`, { headers: { "user-agent": CHROME, "cf-connecting-ip": "203.0.113.60", cookie: cookieOf(first) } });
    await dl.arrayBuffer();
    assert.equal(dl.status, 200);
    assert.equal((await open(dealer(2), "203.0.113.61")).status, 200);
    assert.equal((await open("team", "203.0.113.62")).status, 200);
    const f = await until(followUp, (f) => f.groups?.some((g) => g.audience === "channel" && g.not_downloaded.length === 1) && f.groups.some((g) => g.label === "Team"));
    assert.deepEqual([f.gallery, f.gallery_title, f.timezone], ["launch-a", "Launch A", "Asia/Shanghai"]);
    const group = (pred) => f.groups.find(pred);

    const channel = group((g) => g.audience === "channel");
    assert.equal(channel.label, "渠道伙伴");
    const expected = Array.from({ length: 200 }, (_, i) => dealer(i + 1)).filter((n) => n !== dealer(1) && n !== dealer(2));
    assert.deepEqual(channel.not_opened.map((l) => l.name), expected, "198 dealers never opened");
    assert.deepEqual(channel.not_downloaded.map((l) => l.name), [dealer(2)], "dealer-002 opened, did not download");
    const [d2] = channel.not_downloaded;
    assert.ok(d2.first_open && d2.last_open && Math.abs(d2.first_open * 1000 - Date.now()) < 120_000, JSON.stringify(d2));
    assert.equal(d2.views_left, 19, "20 views published, one counted");
    assert.equal(channel.not_opened.find((l) => l.name === dealer(7)).views_left, 2, "dealer-007's own limit");
    assert.equal(channel.not_opened[0].first_open, null);

    // Press recipients have downloads off: never opened is the only list they can be on.
    const press = group((g) => g.audience === "press");
    assert.deepEqual(press.not_opened.map((l) => l.name).sort(), ["press/caixin", "press/xinhua"]);
    assert.deepEqual(press.not_downloaded, []);

    // A plain link is a group (and a reminder) of its own.
    const team = group((g) => g.audience === null && g.label === "Team");
    assert.deepEqual([team.not_opened, team.not_downloaded.map((l) => l.name)], [[], ["team"]]);

    // The reminder, in the site locale (en), after the seed's template.
    assert.match(channel.reminder, /Launch A/);
    assert.match(channel.reminder, /Hello 渠道伙伴,/);
    assert.match(channel.reminder, /2 images, Originals can be downloaded/);
    assert.match(channel.reminder, /Valid until: no expiry/);
    assert.match(channel.reminder, /do not forward/i);
  });
});

test("a disabled audience has nobody to remind, and the reminder names the expiry in force", async () => {
  await withOwnWorker(async () => {
    assert.equal((await admin("audiences/launch-a/press/disable", { method: "POST" })).status, 200);
    const patch = await admin("audiences/launch-a/channel", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ expires: "2099-12-01", force: true }) });
    assert.equal(patch.status, 200);
    const f = await followUp();
    assert.equal(f.groups.find((g) => g.audience === "press"), undefined, "press is disabled: left out");
    const channel = f.groups.find((g) => g.audience === "channel");
    assert.equal(channel.not_opened.length, 200);
    assert.match(channel.reminder, /Valid until: 1 Dec 2099 23:59 \(Asia\/Shanghai\)/);
  });
});

test("a recipient's own runtime changes show in the follow-up: disabled, nobody to remind; raised, its views left", async () => {
  await withOwnWorker(async () => {
    assert.equal((await admin(`links/launch-a/${dealer(3)}/disable`, { method: "POST" })).status, 200);
    const raised = await admin(`links/launch-a/${dealer(4)}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ max_views: 40 }) });
    assert.equal(raised.status, 200, await raised.clone().text());
    const f = await followUp();
    const channel = f.groups.find((g) => g.audience === "channel");
    assert.equal(channel.not_opened.length, 199, "everyone but the disabled dealer");
    assert.equal(channel.not_opened.find((l) => l.name === dealer(3)), undefined, "disabled: left out");
    assert.equal(channel.not_opened.find((l) => l.name === dealer(4)).views_left, 40, "its own raise, not the 20 published");
  });
});

test("at 390 px the admin page shows the follow-up with a copyable reminder and the audit log, in the site timezone, without sideways scrolling", async () => {
  await withOwnWorker(async () => {
    assert.equal((await admin("links/launch-a/team/disable", { method: "POST", headers: { "cf-connecting-ip": "198.51.100.9" } })).status, 200);
    await until(async () => (await (await admin("galleries/launch-a/audit")).json()).entries, (e) => e.length === 1);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "en-US", timezoneId: "America/New_York" });
      const errors = await signInAdmin(page, w);
      await page.selectOption("#gallery", "launch-a");
      await page.waitForSelector('#follow-up .follow-group[data-group="channel"]');
      await page.waitForSelector("#audit .audit-entry");
      const channel = page.locator('#follow-up .follow-group[data-group="channel"]');
      assert.match(await channel.locator("summary").first().textContent(), /Not opened yet \(200\)/);
      const reminder = await channel.locator("textarea.reminder").inputValue();
      assert.match(reminder, /Launch A/);
      assert.match(reminder, /do not forward/i);
      const entry = await page.locator("#audit .audit-entry").first().textContent();
      assert.match(entry, /disable/);
      assert.match(entry, /launch-a\/team/);
      assert.match(entry, /active → disabled/);
      assert.match(entry, /198\.51\.100\.0/);
      // The site's timezone (Asia/Shanghai), not the browser's (New York): the hour matches Shanghai's.
      const shanghaiHour = new Intl.DateTimeFormat("en", { hour: "numeric", hour12: true, timeZone: "Asia/Shanghai" }).formatToParts(new Date()).find((p) => p.type === "hour").value;
      assert.match(await page.locator("#audit .audit-entry time").first().textContent(), new RegExp(`\\b${shanghaiHour}:`));
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: w.url });
      await channel.locator("button").click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), reminder);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `the page scrolls sideways: ${width}px`);
      assert.deepEqual(errors, []);
    } finally { await browser.close(); }
  });
});

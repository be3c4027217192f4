// One policy in force for every scope, and tighter publishes reaching sessions already out.
// Two real builds of a copy of the e2e site with the Durable Object and KV state kept between
// them (a republish): an audience's runtime extension lapses like a link's own once the
// audience's published expiry moves (even when a recipient's own later expiry keeps the
// audience's widest terms where they were), and is shown lapsed for its row and its recipients
// alike; a session opened before `password: required` or a shorter `view_seconds` was published
// ends.
// Then, on the fixture as it is: the daily digest counts views left under a runtime raise.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, buildSite, cookieOf, until, FIXTURE, NAVIGATION_HEADERS, adminApi, OWNER_WORKER } from "./harness.mjs";
import { startReceiver } from "./notify-receiver.mjs";

const DAY = 86_400;
/** `YYYY-MM-DD` in the e2e site's timezone (Asia/Shanghai), `days` from today. */
const shanghaiDate = (days) => new Date(Date.now() + 8 * 3600_000 + days * DAY * 1000).toISOString().slice(0, 10);
const endOfShanghaiDay = (date) => Date.parse(`${date}T00:00:00Z`) / 1000 + DAY - 8 * 3600;

const admin = adminApi({ ip: "198.51.100.31" });
const navigate = (worker, target, cookie) =>
  worker.navigate(worker.links[target].path, { headers: { "cf-connecting-ip": "203.0.113.31", ...(cookie ? { cookie } : {}) } });
const image = (worker, target, cookie) => {
  const g = worker.manifest.galleries[worker.links[target].gallery];
  return worker.fetch(`${worker.links[target].path}/i/${g.images[0].variants[0].file}`, {
    headers: { cookie, accept: "application/json", "user-agent": NAVIGATION_HEADERS["user-agent"] },
  });
};

/** The recipients of `f-dealers`: the third has its own expiry, later than the audience's. */
const DEALERS = `name,label,expires
d1,Dealer One,
d2,Dealer Two,
d3,Dealer Three with a later deadline,${shanghaiDate(400)}
`;
/** The links `dealer` gains in the copy, first as published, then as republished. */
const FIRST = `
  f-dealers:
    label: Dealers with a deadline
    expires: ${shanghaiDate(365)}
    recipients: f-dealers.csv
  f-locked-later:
    label: Open, then behind a password
    download: true
  f-password-set-later:
    label: Open, then behind a password the owner sets
    download: true
  f-short-later:
    label: An hour to look, then ten seconds
    view_seconds: 3600
`;
const SECOND = FIRST.replace(/expires: \S+/, `expires: ${shanghaiDate(-2)}`)
  .replaceAll("    download: true\n", "    download: true\n    password: required\n")
  .replace("view_seconds: 3600", "view_seconds: 10");
const PASSWORD = "ochre lantern drifts past 47 quiet harbours";

describe("a republish after runtime changes and sessions under the first publish", () => {
  // What the first publish's visitors and owner did, for the tests of the second publish.
  const before1 = {};
  let second;

  before(async () => {
    const persist = mkdtempSync(join(tmpdir(), "gatefold-persist-"));
    const site = mkdtempSync(join(tmpdir(), "gatefold-site-"));
    cpSync(FIXTURE, site, { recursive: true });
    const yaml = join(site, "dealer/gallery.yaml");
    const original = readFileSync(yaml, "utf8");
    writeFileSync(yaml, original + FIRST);
    writeFileSync(join(site, "dealer/f-dealers.csv"), DEALERS);
    const first = await startWorker({ dist: buildSite(site), persist });
    try {
      // The owner extends the whole audience by 30 days at runtime.
      const extended = await admin("audiences/dealer/f-dealers", { method: "PATCH", body: JSON.stringify({ extend_days: 30 }) }, first);
      assert.equal(extended.status, 200, await extended.clone().text());
      before1.recipient = (await navigate(first, "dealer/f-dealers/d1")).status;
      for (const target of ["dealer/f-locked-later", "dealer/f-password-set-later", "dealer/f-short-later"]) {
        const opened = await navigate(first, target);
        assert.equal(opened.status, 200, target);
        before1[target] = { cookie: cookieOf(opened), image: (await image(first, target, cookieOf(opened))).status };
      }
    } finally { await first.stop(); }
    writeFileSync(yaml, original + SECOND);
    second = await startWorker({ dist: buildSite(site), persist });
  });
  after(async () => { await second?.stop(); });

  test("an audience's runtime extension lapses when a republish moves its published expiry: its recipients get 410", async () => {
    assert.equal(before1.recipient, 200, "extended, the recipient opened under the first publish");
    // The third dealer's own later expiry keeps the audience's widest terms where they were.
    assert.equal(second.manifest.galleries.dealer.audiences["f-dealers"].terms.expires.at, endOfShanghaiDay(shanghaiDate(400)));
    for (const target of ["dealer/f-dealers/d1", "dealer/f-dealers/d2"]) {
      const res = await navigate(second, target);
      assert.equal(res.status, 410, `${target}: the newer decision in git wins`);
      assert.match(await res.text(), /expired/i);
      assert.equal((await second.fetch(second.links[target].path, { method: "HEAD" })).status, 410, `${target}: HEAD sees it too`);
    }
    const asJson = await second.fetch(second.links["dealer/f-dealers/d2"].path, { headers: { accept: "application/json" } });
    assert.equal((await asJson.json()).error, "link_expired");
  });

  test("the recipient with its own later expiry keeps its own, not the lapsed extension", async () => {
    const res = await navigate(second, "dealer/f-dealers/d3");
    assert.equal(res.status, 200);
    const page = await (await admin("links?gallery=dealer&audience=f-dealers", {}, second)).json();
    const st = page.links.find((l) => l.name === "f-dealers/d3");
    assert.equal(st.state, "active");
    assert.equal(st.expires_at, endOfShanghaiDay(shanghaiDate(400)), "its published expiry, not the audience's 30 days past it");
    assert.equal(st.audience_overrides.expires_at, null);
  });

  test("the admin API shows the audience row and its recipients' rows alike: no extension in force, the links expired", async () => {
    const page = await (await admin("links?gallery=dealer&audience=f-dealers", {}, second)).json();
    const row = page.audiences.find((a) => a.name === "f-dealers");
    assert.equal(row.overrides.expires_at, null);
    assert.deepEqual(page.links.map((l) => l.name).sort(), ["f-dealers/d1", "f-dealers/d2", "f-dealers/d3"]);
    for (const l of page.links.filter((l) => l.name !== "f-dealers/d3")) {
      assert.equal(l.state, "expired", l.name);
      assert.equal(l.expires_at, endOfShanghaiDay(shanghaiDate(-2)), l.name);
      assert.equal(l.audience_overrides.expires_at, null, l.name);
    }
    const expired = await (await admin("links?gallery=dealer&state=expired", {}, second)).json();
    assert.ok(expired.links.some((l) => l.name === "f-dealers/d1"), "the state filter agrees");
  });

  test("a session opened before `password: required` was published gets neither the page nor an image", async () => {
    const { cookie, image: imageBefore } = before1["dealer/f-locked-later"];
    assert.equal(imageBefore, 200, "its image was served under the first publish");
    const page = await navigate(second, "dealer/f-locked-later", cookie);
    // No password set yet: the link is closed to everyone, this session included.
    assert.equal(page.status, 403);
    assert.doesNotMatch(await page.text(), /<img/);
    const refused = await image(second, "dealer/f-locked-later", cookie);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error, "password_required");
    const original = await second.fetch(`${second.links["dealer/f-locked-later"].path}/download/${second.manifest.galleries.dealer.images[0].id}`, {
      headers: { cookie, accept: "application/json", "user-agent": NAVIGATION_HEADERS["user-agent"] },
    });
    assert.equal(original.status, 401, "nor an original");
  });

  test("a session opened before `password: required` was published gets the password page once the owner sets one", async () => {
    const { cookie, image: imageBefore } = before1["dealer/f-password-set-later"];
    assert.equal(imageBefore, 200, "its image was served under the first publish");
    const set = await admin("links/dealer/f-password-set-later/password", { method: "PUT", body: JSON.stringify({ password: PASSWORD }) }, second);
    assert.equal(set.status, 200, await set.clone().text());
    const page = await navigate(second, "dealer/f-password-set-later", cookie);
    assert.equal(page.status, 401);
    const html = await page.text();
    assert.match(html, /<form method="post"[^>]*>/, "the password page");
    assert.doesNotMatch(html, /<img/, "not the gallery");
    // Setting the password ended every session issued before it.
    const refused = await image(second, "dealer/f-password-set-later", cookie);
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error, "no_session");
  });

  test("a session opened under a longer view time ends at the shorter one published since", async () => {
    const { cookie, image: imageBefore } = before1["dealer/f-short-later"];
    assert.equal(imageBefore, 200);
    // Ten seconds from its opening under the first publish, not an hour.
    const refused = await until(() => image(second, "dealer/f-short-later", cookie), (r) => r.status !== 200, { ms: 30_000 });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error, "session_expired");
    const page = await navigate(second, "dealer/f-short-later", cookie);
    assert.equal(page.status, 403, "the page says the viewing time is over");
    assert.match(await page.text(), /viewing time/i);
  });
});

test("the daily digest counts the views left under a runtime raise of the limit", async () => {
  const receiver = await startReceiver();
  const w = await startWorker({ bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1" } });
  try {
    const alpha = w.links["notify-g/alpha"];
    assert.equal(alpha.policy.max_views, 5);
    const raised = await admin("links/notify-g/alpha", { method: "PATCH", body: JSON.stringify({ max_views: 50 }) }, w);
    assert.equal(raised.status, 200, await raised.clone().text());
    assert.equal((await raised.json()).views_left, 50);
    assert.equal((await w.navigate(alpha.path, { headers: { "cf-connecting-ip": "203.0.113.33" } })).status, 200);
    // The site's digest hour is 09:00 in Shanghai: 01:00 UTC.
    const now = new Date();
    const worker = await w.mf.getWorker(OWNER_WORKER);
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 1, 0)) });
    const digests = () => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === "digest");
    await until(async () => digests().length, (n) => n > 0, { ms: 20_000, every: 100 });
    const row = digests()[0]?.json.digest.links.find((l) => l.id === "notify-g/alpha");
    assert.equal(row?.views_left, 49, "50 in force, one used");
  } finally {
    await w.stop();
    await receiver.stop();
  }
});

// "Extend by N days" counts calendar days in the site timezone (issue 18 §5), end to end: a
// small Europe/Berlin site built here, whose links end just before the 2027 daylight-saving
// changes, extended by one day through the admin API (a link, and an audience for its
// recipients). The new end is the same local wall-clock time a calendar day later: 23 hours
// on across the spring change, 25 across the autumn one, never a flat 86,400 seconds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, buildSite, FIXTURE } from "./harness.mjs";

const HOUR = 3600;
const unix = (iso) => Date.parse(iso) / 1000;
/** The wall-clock time of `at` in Berlin, e.g. "2027-03-29 00:00". */
const berlin = (at) => new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Berlin", dateStyle: "short", timeStyle: "short" }).format(new Date(at * 1000));

let w;

/** A site in Europe/Berlin of one gallery: a link ending with 27 March 2027, one ending with
 *  30 October 2027, and an audience whose recipients end with 27 March 2027. */
function berlinSite() {
  const galleries = join(mkdtempSync(join(tmpdir(), "gatefold-e2e-berlin-")), "galleries");
  const g = join(galleries, "berlin");
  mkdirSync(g, { recursive: true });
  const site = readFileSync(join(FIXTURE, "site.yaml"), "utf8");
  assert.match(site, /^timezone: Asia\/Shanghai$/m);
  writeFileSync(join(galleries, "site.yaml"), site.replace(/^timezone: .*$/m, "timezone: Europe/Berlin"));
  cpSync(join(FIXTURE, "notify-g", "front.jpg"), join(g, "front.jpg"));
  writeFileSync(join(g, "gallery.yaml"), [
    "title: Berlin",
    "images:",
    "  - file: front.jpg",
    "    caption: Front",
    "links:",
    "  spring:",
    "    label: Until the day before summer time",
    "    expires: 2027-03-27",
    "  autumn:",
    "    label: Until the day before winter time",
    "    expires: 2027-10-30",
    "  dealers:",
    "    label: Dealers",
    "    expires: 2027-03-27",
    "    recipients:",
    "      - name: d1",
    "        label: Dealer One",
    "",
  ].join("\n"));
  return galleries;
}

before(async () => { w = await startWorker({ dist: buildSite(berlinSite()) }); });
after(async () => { await w?.stop(); });

const admin = (path, init = {}) => w.fetch(`/admin/api/${path}`, { ...init, headers: { authorization: `Bearer ${w.adminToken}`, ...(init.headers || {}) } });
const extendByOneDay = (path) => admin(path, { method: "PATCH", body: JSON.stringify({ extend_days: 1 }) });
const linkRow = async (name) => (await (await admin("links?gallery=berlin")).json()).links.find((l) => l.name === name);

test("a link ending with the day before summer time, extended by one day, ends with the next day: 23 hours on", async () => {
  const published = w.links["berlin/spring"].policy.expires.at;
  // The end of 27 March 2027 in Berlin: midnight into the 28th, CET.
  assert.equal(published, unix("2027-03-27T23:00:00Z"));
  const res = await extendByOneDay("links/berlin/spring");
  assert.equal(res.status, 200, await res.clone().text());
  const { expires_at } = await res.json();
  // The end of 28 March: midnight into the 29th, now CEST.
  assert.equal(expires_at, unix("2027-03-28T22:00:00Z"));
  assert.equal(expires_at - published, 23 * HOUR);
  assert.deepEqual([berlin(published), berlin(expires_at)], ["2027-03-28 00:00", "2027-03-29 00:00"], "the same wall-clock time, a calendar day later");
});

test("a link ending with the day before winter time, extended by one day, ends with the next day: 25 hours on", async () => {
  const published = w.links["berlin/autumn"].policy.expires.at;
  assert.equal(published, unix("2027-10-30T22:00:00Z"));
  const res = await extendByOneDay("links/berlin/autumn");
  assert.equal(res.status, 200, await res.clone().text());
  const { expires_at } = await res.json();
  assert.equal(expires_at, unix("2027-10-31T23:00:00Z"));
  assert.equal(expires_at - published, 25 * HOUR);
  assert.deepEqual([berlin(published), berlin(expires_at)], ["2027-10-31 00:00", "2027-11-01 00:00"]);
});

test("an audience extended by one day across the spring change gives its recipients the end of the next local day", async () => {
  const res = await extendByOneDay("audiences/berlin/dealers");
  assert.equal(res.status, 200, await res.clone().text());
  const d1 = await linkRow("dealers/d1");
  assert.equal(d1.expires_at, unix("2027-03-28T22:00:00Z"));
  assert.equal(berlin(d1.expires_at), "2027-03-29 00:00");
});

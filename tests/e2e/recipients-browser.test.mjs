// The admin page groups recipients under their audience in a real browser (390 px wide, as on
// a phone): the audience's row leads with its counts, its recipients follow with their
// activity, the row folds them away, and disabling the audience there closes a recipient.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, launchBrowser, signInAdmin } from "./harness.mjs";

let w, browser;
before(async () => {
  w = await startWorker();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await w?.stop(); });

test("recipients are shown under a collapsible audience row whose disable closes them all", async () => {
  const dealer1 = w.links["launch-a/channel/dealer-001"];
  assert.equal((await w.navigate(dealer1.path, { headers: { "cf-connecting-ip": "203.0.113.60" } })).status, 200);
  assert.equal((await w.logged("launch-a", (t) => t.opens_admitted >= 1, { link: "channel/dealer-001" })).opens_admitted, 1, "the open is in the log");

  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "en-US" });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await signInAdmin(page, w);
  await page.selectOption("#f-gallery", "launch-a");
  const row = 'tr.audience-row[data-audience="launch-a/channel"]';
  await page.waitForSelector(row);
  assert.match(await page.textContent(`${row} .counts`), /200 recipients · 1 opened · 0 downloaded/);
  const recipients = 'tr.recipient[data-audience="launch-a/channel"]';
  assert.equal(await page.getAttribute(`${recipients}[data-link="channel/dealer-001"] [data-activity]`, "data-activity"), "opened");
  assert.equal(await page.getAttribute(`${recipients}[data-link="channel/dealer-002"] [data-activity]`, "data-activity"), "neither");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling at 390 px (${width})`);

  await page.click(`${row} [data-action=fold]`);
  assert.equal(await page.$$eval(recipients, (rows) => rows.filter((r) => !r.hidden).length), 0, "folded away");
  await page.click(`${row} [data-action=fold]`);
  assert.ok(await page.$$eval(recipients, (rows) => rows.filter((r) => !r.hidden).length) > 0, "shown again");

  await page.click(`${row} [data-action=disable]`);
  await page.click("#confirm button[value=ok]");
  await page.waitForSelector(`${row} [data-action=enable]`);
  assert.equal((await w.navigate(w.links["launch-a/channel/dealer-150"].path, { headers: { "cf-connecting-ip": "203.0.113.61" } })).status, 403);
  assert.deepEqual(errors, []);
});

// A real browser against the worker under Miniflare: images load, the lightbox opens, and a
// timed session ends on screen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, launchBrowser } from "./harness.mjs";

let w, browser;
before(async () => {
  w = await startWorker();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await w?.stop(); });

test("a visitor sees the images, opens the lightbox, and sees the session end after its time", async () => {
  const page = await browser.newPage();
  const link = w.links["showroom/timed"];
  const res = await page.goto(`${w.url}${link.path}`);
  assert.equal(res.status(), 200);
  const imgs = page.locator("ul.gf-grid li button.gf-thumb img");
  assert.equal(await imgs.count(), w.manifest.galleries.showroom.images.length);
  await page.waitForFunction(() => [...document.querySelectorAll("ul.gf-grid img")].every((i) => i.complete && i.naturalWidth > 0));
  assert.equal(await page.locator("a.gf-download").count() > 0, true, "download is on for this link");
  await imgs.first().click();
  await page.waitForSelector("dialog#gf-lightbox[open]");
  await page.waitForFunction(() => document.body.dataset.state === "session-over", null, { timeout: (link.policy.view_seconds + 5) * 1000 });
  assert.ok(await page.locator("#gf-session-over").isVisible());
});

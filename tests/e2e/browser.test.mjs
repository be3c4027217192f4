// A real browser against the worker under Miniflare: images load, the lightbox opens, and a
// timed session ends on screen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startWorker, launchBrowser, ROOT } from "./harness.mjs";

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

test("a browser's navigation counts one open, and a reload inside the session none", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const link = w.links["showroom/v-bound"];
  const before = (await w.status("showroom/v-bound")).views;
  assert.equal((await page.goto(`${w.url}${link.path}`)).status(), 200);
  await page.waitForSelector("ul.gf-grid");
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === "__Secure-gf_session" && c.path === link.path && c.httpOnly), JSON.stringify(cookies));
  await page.reload();
  await page.waitForSelector("ul.gf-grid");
  assert.equal((await w.status("showroom/v-bound")).views, before + 1);
  await context.close();
});

test("reached without a navigation's fetch metadata, the interstitial's button opens the gallery", async () => {
  // A prefetch marker on every request makes Chromium's navigation one that must not count:
  // the worker answers the interstitial, as it does for browsers that send no fetch metadata.
  const context = await browser.newContext({ extraHTTPHeaders: { purpose: "prefetch" } });
  const page = await context.newPage();
  const link = w.links["showroom/v-confirm"];
  const before = (await w.status("showroom/v-confirm")).views;
  const res = await page.goto(`${w.url}${link.path}`);
  assert.equal(res.status(), 200);
  assert.equal(await page.locator("ul.gf-grid").count(), 0, "the interstitial shows no gallery");
  assert.equal((await w.status("showroom/v-confirm")).views, before);
  await page.getByRole("button", { name: "View gallery" }).click();
  await page.waitForSelector("ul.gf-grid");
  assert.equal(page.url(), `${w.url}${link.path}`, "the 303 brings the browser back to the link");
  await page.waitForFunction(() => [...document.querySelectorAll("ul.gf-grid img")].every((i) => i.complete && i.naturalWidth > 0));
  assert.equal((await w.status("showroom/v-confirm")).views, before + 1, "the button made exactly one open");
  await context.close();
});

test("screenshots: the gallery page at phone and desktop width in Chinese and English", async () => {
  const output = join(ROOT, "tests/output");
  mkdirSync(output, { recursive: true });
  const link = w.links["showroom/press"];
  for (const [locale, tag] of [["zh-CN", "zh-CN"], ["en-US", "en"]]) {
    for (const [width, height, mobile] of [[390, 844, true], [1280, 900, false]]) {
      const context = await browser.newContext({ viewport: { width, height }, isMobile: mobile, hasTouch: mobile, locale });
      const page = await context.newPage();
      assert.equal((await page.goto(`${w.url}${link.path}`)).status(), 200);
      assert.equal(await page.getAttribute("html", "lang"), tag, "the page speaks the browser's language");
      await page.waitForFunction(() => [...document.querySelectorAll("ul.gf-grid img")].every((i) => i.complete && i.naturalWidth > 0));
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0, `${tag} ${width}px: no sideways scrolling`);
      await page.screenshot({ path: join(output, `gallery-${width}-${tag}.png`), fullPage: true });
      await context.close();
    }
  }
});

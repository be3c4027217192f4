// A person opens a password link in a real browser on a phone-sized screen: the password page,
// typed password, the gallery with its images. Real worker under Miniflare, Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, launchBrowser } from "./harness.mjs";

let w, browser;
before(async () => {
  w = await startWorker();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await w?.stop(); });

test("at 390 px a person types the password into the page, submits, and sees the gallery", async () => {
  const link = w.links["kit/locked"];
  const set = await w.fetch("/admin/api/links/kit/locked/password", {
    method: "PUT", headers: { authorization: `Bearer ${w.adminToken}` }, body: JSON.stringify({ password: "browser horse 1" }),
  });
  assert.equal(set.status, 200);
  const before = (await w.status("kit/locked")).views;
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "en-US" });
  const page = await context.newPage();
  const res = await page.goto(`${w.url}${link.path}`);
  assert.equal(res.status(), 401);
  const input = page.getByLabel("Password");
  assert.equal(await input.getAttribute("autocomplete"), "current-password");
  // Fits the phone's width: nothing scrolls sideways.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
  await input.fill("not it at all");
  await page.getByRole("button", { name: "Open gallery" }).click();
  await page.waitForSelector(".gf-password-error");
  assert.equal((await w.status("kit/locked")).views, before, "a wrong password counts nothing");
  await page.getByLabel("Password").fill("browser horse 1");
  await page.getByRole("button", { name: "Open gallery" }).click();
  await page.waitForSelector("ul.gf-grid");
  assert.equal(page.url(), `${w.url}${link.path}`, "the 303 brings the browser back to the link, no password in the URL");
  await page.waitForFunction(() => [...document.querySelectorAll("ul.gf-grid img")].every((i) => i.complete && i.naturalWidth > 0));
  assert.equal((await w.status("kit/locked")).views, before + 1);
  await context.close();
});

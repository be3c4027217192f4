// The admin page in a real browser: sign in, see charts with the right numbers, disable a
// link, and a visitor opening it right after is refused. Saves a dashboard screenshot.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startWorker, launchBrowser, signInAdmin, ROOT } from "./harness.mjs";

let w, browser;
before(async () => {
  w = await startWorker();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await w?.stop(); });

const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

test("an owner signs in, reads the charts and disables a link that a visitor is then refused", async () => {
  for (const [ip, cf] of [["203.0.113.1", { country: "JP", city: "Tokyo" }], ["203.0.113.2", { country: "JP", city: "Osaka" }], ["203.0.113.3", { country: "CN", city: "Shanghai" }]]) {
    const res = await w.navigate(w.links["showroom/crowd"].path, { headers: { "user-agent": UA, "cf-connecting-ip": ip }, cf });
    assert.equal(res.status, 200);
  }
  assert.equal((await w.logged("showroom", (t) => t.opens_admitted >= 3, { link: "crowd" })).opens_admitted, 3, "the three opens are in the log");

  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 }, locale: "en-US" });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  assert.equal((await page.goto(`${w.url}/admin`)).status(), 200);
  await page.fill("#token", "wrong-token");
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#sign-in-error:not([hidden])");
  await page.fill("#token", w.adminToken);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#dashboard:not([hidden])");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("gf-admin-token")), w.adminToken);
  assert.equal((await page.context().cookies()).length, 0, "no cookie carries the token");

  // The links list shows one gallery at a time (filtered and paged by the worker).
  await page.selectOption("#f-gallery", "showroom");
  await page.selectOption("#gallery", "showroom");
  await page.waitForSelector('#chart-countries g[data-key="JP"]');
  assert.equal(await page.getAttribute('#chart-countries g[data-key="JP"]', "data-count"), "2");
  assert.equal(await page.getAttribute('#chart-countries g[data-key="CN"]', "data-count"), "1");
  assert.equal(await page.textContent('[data-total="opensAdmitted"] b'), "3");
  const hourTotal = await page.$$eval("#chart-hours g[data-count]", (gs) => gs.reduce((n, g) => n + Number(g.dataset.count), 0));
  assert.equal(hourTotal, 3);
  assert.equal(await page.getAttribute('#chart-devices g[data-key="desktop"]', "data-count"), "3");
  mkdirSync(join(ROOT, "tests/output"), { recursive: true });
  await page.screenshot({ path: join(ROOT, "tests/output/admin-dashboard.png"), fullPage: true });

  const row = page.locator('#links tr[data-gallery="showroom"][data-link="crowd"]');
  await row.locator('button[data-action="disable"]').click();
  await page.waitForSelector("dialog#confirm[open]");
  await page.click("#confirm-ok");
  await row.locator('[data-state="disabled"]').waitFor();
  const refused = await w.fetch(w.links["showroom/crowd"].path, { headers: { "user-agent": UA, accept: "application/json" } });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, "link_disabled");

  const off = page.locator('#links tr[data-gallery="showroom"][data-link="off"]');
  await off.locator('[data-why="disabled_in_yaml"]').waitFor();
  assert.equal(await off.locator('button[data-action="enable"]').count(), 0, "a link published disabled shows why instead of an Enable button");

  const before = (await w.status("showroom/press")).session_epoch;
  await page.locator('#links tr[data-gallery="showroom"][data-link="press"] button[data-action="revoke"]').click();
  await page.waitForSelector("dialog#confirm[open]");
  assert.match(await page.textContent("#confirm-text"), /End every open session/);
  await page.click("#confirm-ok");
  await page.waitForFunction(() => document.querySelector("#status").textContent === "Saved.");
  assert.equal((await w.status("showroom/press")).session_epoch, before + 1);

  await page.click("#lang");
  assert.equal(await page.textContent("#links-card h2"), "分享链接");
  // The one expected failure is the wrong-token sign-in's 401.
  assert.deepEqual(errors.filter((e) => !e.includes("401")), []);
});

test("the page fits a phone screen without sideways scrolling", async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true });
  await signInAdmin(page, w);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
});

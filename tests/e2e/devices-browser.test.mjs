// A link tied to its recipient's devices in real browsers: three browser contexts (three
// devices) on a `devices: 2` link — two admitted, the third refused with the device_limit page
// — then the owner in the admin page at 390 and 1280 px: the devices badge and the "possibly
// forwarded" badge on the row, the devices panel (screenshots in tests/output/), "allow one
// more" letting the third device in, and "forget" freeing a slot.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startWorker, launchBrowser, signInAdmin, ROOT } from "./harness.mjs";

let w, browser;
const OUTPUT = join(ROOT, "tests/output");
before(async () => {
  w = await startWorker();
  browser = await launchBrowser();
  mkdirSync(OUTPUT, { recursive: true });
});
after(async () => { await browser?.close(); await w?.stop(); });

const link = () => w.links["devices-g/pair"];

/** A fresh browser (its own cookies: its own device) opening the link. */
async function device(locale = "en-US") {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const res = await page.goto(`${w.url}${link().path}`);
  return { context, page, status: res.status() };
}

/** The admin page signed in at `width`, filtered to the fixture's gallery. */
async function adminPage(width, locale = "en-US") {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, locale });
  const page = await context.newPage();
  const errors = await signInAdmin(page, w);
  await page.selectOption("#f-gallery", "devices-g");
  await page.waitForSelector('tr[data-link="pair"] [data-why="devices"]');
  return { context, page, errors };
}

test("two devices open a devices: 2 link, the third gets the device_limit page, and the owner's allow lets it in", async () => {
  const a = await device();
  const b = await device();
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  await a.page.waitForSelector(".gf-grid");
  const c = await device("zh-CN");
  assert.equal(c.status, 403);
  assert.match(await c.page.textContent("body"), /此链接仅限收件人本人的设备打开/);
  assert.match(await c.page.textContent("body"), /无痕/);
  // A device already admitted comes back (the session ended or not): still one of the two.
  assert.equal((await a.page.reload()).status(), 200);
  assert.equal((await w.status("devices-g/pair")).views, 2);

  for (const width of [390, 1280]) {
    const { context, page, errors } = await adminPage(width);
    const row = 'tr[data-link="pair"]';
    assert.match(await page.textContent(`${row} [data-why="devices"]`), /2 of 2 devices/);
    assert.match(await page.textContent(`${row} [data-why="forwarding"]`), /Possibly forwarded/);
    await page.check("#f-forwarded");
    await page.waitForFunction(() => [...document.querySelectorAll("#links tbody tr[data-link]")].every((r) => r.dataset.link === "pair"));
    await page.click(`${row} [data-action="devices"]`);
    await page.waitForSelector("dialog#devices[open] #devices-list li");
    assert.equal(await page.locator("#devices-list li.device:not(.refused)").count(), 2);
    assert.equal(await page.locator("#devices-list li.refused").count(), 1);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0, `${width}px: no sideways scrolling`);
    await page.screenshot({ path: join(OUTPUT, `admin-${width}-devices.png`) });
    await page.click("dialog#devices button[value=close]");
    await page.screenshot({ path: join(OUTPUT, `admin-${width}-forwarded.png`), fullPage: width > 400 });
    assert.deepEqual(errors, []);
    await context.close();
  }

  const { context, page, errors } = await adminPage(390);
  await page.click('tr[data-link="pair"] [data-action="devices"]');
  await page.waitForSelector("dialog#devices[open] #devices-list li");
  await page.click("#devices-allow");
  await page.waitForFunction(() => /2 of 3/.test(document.querySelector("#devices-title").textContent));
  assert.equal((await c.page.reload()).status(), 200, "the refused device is let in");
  await c.page.waitForSelector(".gf-grid");
  // Forgetting a device frees its slot: the list shows one device fewer.
  await page.click("dialog#devices button[value=close]");
  await page.click('tr[data-link="pair"] [data-action="devices"]');
  await page.waitForSelector("dialog#devices[open] #devices-list li");
  const before = await page.locator("#devices-list li.device:not(.refused)").count();
  assert.equal(before, 3);
  await page.locator("#devices-list li.device:not(.refused) [data-action=forget]").first().click();
  await page.waitForFunction(() => document.querySelectorAll("#devices-list li").length === 2);
  assert.equal((await w.gate("devices-g/pair", "devices")).summary.count, 2);
  assert.deepEqual(errors, []);
  await context.close();
  for (const d of [a, b, c]) await d.context.close();
});

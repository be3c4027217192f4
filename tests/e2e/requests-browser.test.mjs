// Access requests in real browsers (issue 21 §3): on a phone, a person refused by an expired
// link asks for access from its page; the request reaches the owner's channel (a local
// receiver) with a link to the admin page opened on it; the owner taps "+7 days" there at
// 390 px; the same URL then opens in the browser that asked. Screenshots of the Requests panel
// at 390 and 1280 px land in tests/output/. Real worker under Miniflare, Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startWorker, launchBrowser, until, ROOT } from "./harness.mjs";
import { startReceiver } from "./notify-receiver.mjs";

const OUTPUT = join(ROOT, "tests/output");
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: "en-US" };
const DESKTOP = { viewport: { width: 1280, height: 900 }, locale: "en-US" };

let receiver, w, browser;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  receiver = await startReceiver();
  w = await startWorker({ bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "1" } });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await w?.stop(); await receiver?.stop(); });

/** Asks for access to `link` from a new phone-sized browser, as a person fills the form. */
async function askFromPhone(link, name, message) {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const refused = await page.goto(`${w.url}${w.links[`requests-g/${link}`].path}`);
  assert.equal(refused.status(), 410);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "the form fits the phone");
  await page.getByLabel("Your name (optional)").fill(name);
  await page.getByLabel("Message (optional)").fill(message);
  await Promise.all([page.waitForURL(`**${w.links[`requests-g/${link}`].path}`), page.getByRole("button", { name: "Request access" }).click()]);
  await page.getByText(/Requested at .*, waiting for the owner\./).waitFor();
  return { context, page };
}

const hookOf = (link) => receiver.received.find((r) => r.platform === "webhook" && r.json?.type === "access_requested" && r.json.link.id === `requests-g/${link}`);

test("a request from an expired link, one tap on \"+7 days\" in the admin page at 390 px, and the same URL opens in the browser that asked", async () => {
  const asker = await askFromPhone("wang", "Wang", "The QR code on my card says expired");
  const other = await askFromPhone("li", "Li", "Me too, please");
  const hook = await until(async () => hookOf("wang"), Boolean, { ms: 20_000, every: 100 });
  assert.ok(hook, "the owner's channel was told");
  assert.equal(hook.json.message, "Wang: The QR code on my card says expired");
  const id = decodeURIComponent(new URL(hook.json.admin_url).hash.replace(/^#request=/, ""));

  // The owner follows the message's link on a phone and signs in: the page opens on the request.
  const owner = await browser.newContext(PHONE);
  const admin = await owner.newPage();
  const errors = [];
  admin.on("pageerror", (e) => errors.push(String(e)));
  await admin.goto(`${w.url}/admin#request=${encodeURIComponent(id)}`);
  await admin.fill("#token", w.adminToken);
  await admin.click("#sign-in-form button[type=submit]");
  const item = admin.locator(`#requests [data-request="${id}"]`);
  await item.and(admin.locator(".focused")).waitFor();
  assert.equal(await admin.locator("#requests-count").textContent(), "2", "the badge counts the open requests");
  assert.match(await item.textContent(), /Dealer Wang[\s\S]*expired[\s\S]*The QR code on my card says expired/);
  assert.ok(await admin.evaluate(() => document.documentElement.scrollWidth <= 390), "nothing scrolls sideways at 390 px");
  await admin.screenshot({ path: join(OUTPUT, "requests-390.png") });

  await item.locator("[data-grant=grant7]").tap();
  await admin.locator(`#requests [data-request="${id}"].rq-granted`).waitFor();
  assert.match(await admin.locator("#status").textContent(), /Granted \+7 days: Dealer Wang/);
  assert.equal(await admin.locator("#requests-count").textContent(), "1");
  assert.deepEqual(errors, []);

  // The same URL, in the browser that asked: the gallery.
  const again = await asker.page.goto(`${w.url}${w.links["requests-g/wang"].path}`);
  assert.equal(again.status(), 200);
  assert.equal(await asker.page.locator(".gf-request").count(), 0);
  // The other request is still waiting, and its browser still sees so.
  await other.page.reload();
  await other.page.getByText(/waiting for the owner/).waitFor();

  const desk = await browser.newContext(DESKTOP);
  const wide = await desk.newPage();
  await wide.goto(`${w.url}/admin`);
  await wide.fill("#token", w.adminToken);
  await wide.click("#sign-in-form button[type=submit]");
  await wide.locator("#requests .rq-granted").waitFor();
  await wide.locator("#requests .rq-open").waitFor();
  await wide.locator("#requests-card").screenshot({ path: join(OUTPUT, "requests-1280.png") });
  for (const c of [asker.context, other.context, owner, desk]) await c.close();
});

test("a decline's reply is shown on the phone of the person who asked", async () => {
  const asker = await askFromPhone("chen", "Chen", "Can I see it once more?");
  const hook = await until(async () => hookOf("chen"), Boolean, { ms: 20_000, every: 100 });
  const id = decodeURIComponent(new URL(hook.json.admin_url).hash.replace(/^#request=/, ""));
  const owner = await browser.newContext(PHONE);
  const admin = await owner.newPage();
  await admin.goto(`${w.url}/admin#request=${encodeURIComponent(id)}`);
  await admin.fill("#token", w.adminToken);
  await admin.click("#sign-in-form button[type=submit]");
  const item = admin.locator(`#requests [data-request="${id}"]`);
  await item.locator("[data-decline]").tap();
  await item.locator(".decline-reply").fill("The launch is over, sorry");
  await item.locator("[data-decline-send]").tap();
  await admin.locator(`#requests [data-request="${id}"].rq-declined`).waitFor();
  await asker.page.reload();
  await asker.page.getByText("The owner declined your request.").waitFor();
  assert.match(await asker.page.locator(".gf-request-reply").textContent(), /The launch is over, sorry/);
  await asker.context.close();
  await owner.close();
});

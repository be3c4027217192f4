// A person opens a password link in a real browser on a phone-sized screen: the password page,
// typed password, the gallery with its images; and the owner sees in the admin page that a
// link's password is not set yet, and sets and clears it there. Real worker under Miniflare,
// Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, launchBrowser, signInAdmin, NAVIGATION_HEADERS } from "./harness.mjs";

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

test("the admin page says plainly that a password is not set yet, and sets and clears it", async () => {
  const auth = { authorization: `Bearer ${w.adminToken}` };
  assert.equal((await w.fetch("/admin/api/links/kit/locked-2/password", { method: "DELETE", headers: auth })).status, 200);
  const page = await browser.newPage();
  const errors = await signInAdmin(page, w);
  await page.selectOption("#f-gallery", "kit");
  const row = page.locator('#links tr[data-gallery="kit"][data-link="locked-2"]');
  await row.locator('[data-why="password_not_set"]').waitFor();
  assert.match(await row.locator('[data-why="password_not_set"]').textContent(), /Password not set yet/);
  assert.equal(await page.locator('#links tr[data-gallery="kit"][data-link="everything"] button[data-action="password"]').count(), 0, "only password links have the control");
  const epoch = (await w.status("kit/locked-2")).session_epoch;
  await row.locator('button[data-action="password"]').click();
  await page.waitForSelector("dialog#password[open]");
  assert.ok(await page.locator("#password-clear").isHidden(), "nothing to clear yet");
  await page.fill("#password-input", "paper lantern 41");
  await page.click("#password-set");
  await row.locator('[data-why="password_set"]').waitFor();
  assert.match(await page.textContent("#status"), /Password saved/);
  assert.equal(await page.inputValue("#password-input"), "", "the page keeps no password once sent");
  assert.equal((await w.status("kit/locked-2")).password_set, true);
  assert.equal((await w.status("kit/locked-2")).session_epoch, epoch + 1);
  await row.locator('button[data-action="password"]').click();
  await page.waitForSelector("dialog#password[open]");
  await page.click("#password-clear");
  await row.locator('[data-why="password_not_set"]').waitFor();
  assert.equal((await w.status("kit/locked-2")).password_set, false);
  await page.click("#lang");
  assert.match(await row.locator('[data-why="password_not_set"]').textContent(), /尚未设置密码/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the admin page refuses a weak password and offers a generated passphrase in its place", async () => {
  const page = await browser.newPage();
  const errors = await signInAdmin(page, w);
  await page.selectOption("#f-gallery", "kit");
  const row = page.locator('#links tr[data-gallery="kit"][data-link="locked-2"]');
  await row.locator('button[data-action="password"]').click();
  await page.waitForSelector("dialog#password[open]");
  await page.fill("#password-input", "Summer2024!");
  await page.click("#password-set");
  await page.waitForSelector("#password-error:not([hidden])");
  assert.match(await page.textContent("#password-error"), /too easy to guess/);
  assert.equal((await w.status("kit/locked-2")).password_set, false, "nothing was set");
  const offer = page.locator("#password-suggested");
  assert.match(await offer.textContent(), /^Use [a-z]{6}-[a-z]{6}-[a-z]{6}-[a-z]{6}$/);
  await offer.click();
  const offered = await page.inputValue("#password-input");
  assert.match(offered, /^[a-z]{6}(-[a-z]{6}){3}$/);
  assert.equal(await page.getAttribute("#password-input", "type"), "text", "a generated passphrase is shown, to be passed on");
  await page.click("#password-set");
  await row.locator('[data-why="password_set"]').waitFor();
  assert.equal((await w.status("kit/locked-2")).password_set, true);
  assert.deepEqual(errors.filter((e) => !e.includes("400")), [], "only the refused weak password's 400");
  await page.close();
});

test("a password_attack notice's link opens that link's password dialog with a passphrase ready", async () => {
  const page = await browser.newPage();
  await signInAdmin(page, w);
  // A fresh load of the page, as when the notice's link is tapped (the tab keeps its token).
  await page.goto("about:blank");
  await page.goto(`${w.url}/admin#password=kit/locked-2`);
  await page.waitForSelector("#dashboard:not([hidden])");
  await page.waitForSelector("dialog#password[open]");
  assert.match(await page.textContent("#password-title"), /Password, view only/);
  assert.match(await page.inputValue("#password-input"), /^[a-z]{6}(-[a-z]{6}){3}$/, "one tap on Set password from a new one");
  assert.equal(new URL(page.url()).hash, "", "the fragment is consumed");
  const first = await page.inputValue("#password-input");
  await page.click("#password-generate");
  await page.waitForFunction((old) => document.querySelector("#password-input").value !== old, first);
  assert.match(await page.inputValue("#password-input"), /^[a-z]{6}(-[a-z]{6}){3}$/, "Generate offers another");
  await page.close();
});

test("the admin page shows a password attack going on on the link itself, with its tries and networks", async () => {
  const auth = { authorization: `Bearer ${w.adminToken}` };
  assert.equal((await w.fetch("/admin/api/links/kit/locked-big/password", { method: "PUT", headers: auth, body: JSON.stringify({ password: "quiet harbour 77" }) })).status, 200);
  const page = await browser.newPage();
  const errors = await signInAdmin(page, w);
  await page.selectOption("#f-gallery", "kit");
  const row = page.locator('#links tr[data-gallery="kit"][data-link="locked-big"]');
  await row.locator('[data-why="password_set"]').waitFor();
  assert.equal(await row.locator('[data-why="password_attack"]').count(), 0, "no attack, nothing shown");
  // Six networks guess wrong, more than a recipient has: the link counts as attacked.
  for (let n = 0; n < 6; n++) {
    const res = await w.raw(w.links["kit/locked-big"].path, {
      method: "POST",
      headers: { ...NAVIGATION_HEADERS, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": `100.70.${n}.1` },
      body: new URLSearchParams({ password: `guess ${n}` }).toString(),
    });
    assert.equal(res.status, 401);
  }
  await page.reload();
  await page.selectOption("#f-gallery", "kit");
  await row.locator('[data-why="password_attack"]').waitFor();
  assert.equal(await row.locator('[data-why="password_attack"]').textContent(), "Under a password attack: 6 wrong passwords from 6 networks in the last hour. Change its password.");
  await page.click("#lang");
  assert.match(await row.locator('[data-why="password_attack"]').textContent(), /最近 1 小时内来自 6 个网络的 6 次错误密码/);
  assert.deepEqual(errors, []);
  await page.close();
});

// The owner's cockpit in a real browser (issue 10): links handed out from the admin page (URL,
// copy, QR code, PNG/SVG, printable card, share kit), a phone layout where a link is disabled
// with two taps, filters and paging done by the worker, and Chinese drawn with real glyphs.
// Screenshots of the admin page at phone and desktop width in both languages land in
// tests/output/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1280, height: 900 } };

/** The URL the generator published for a link (what its QR code and owner files carry). */
const publishedUrl = (key) => `${w.manifest.site.base_url}/s/${w.links[key].token}`;

/** A fresh browser context signed in to the admin page; `locale` picks the page's language. */
async function signedIn({ locale = "en-US", permissions = [], ...options } = {}) {
  const context = await browser.newContext({ ...DESKTOP, locale, ...options });
  if (permissions.length) await context.grantPermissions(permissions, { origin: w.url });
  const page = await context.newPage();
  const errors = await signInAdmin(page, w);
  await page.waitForSelector("#links tbody tr");
  return { context, page, errors };
}

/** Narrows the list to one link by typing its name in the search box, as an owner would. */
async function search(page, gallery, link) {
  await page.fill("#f-q", link);
  const row = page.locator(`#links tr[data-gallery="${gallery}"][data-link="${link}"]`);
  await row.waitFor();
  return row;
}

const row = (page, gallery, link) => page.locator(`#links tr[data-gallery="${gallery}"][data-link="${link}"]`);

test("on a phone, links are cards without sideways scrolling, and two taps disable one that a visitor is then refused", async () => {
  const { context, page, errors } = await signedIn(PHONE);
  const card = await search(page, "showroom", "toggle");
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0, "no sideways scrolling");
  assert.equal(await card.evaluate((tr) => getComputedStyle(tr).display), "grid", "a link is a card, not a table row");
  const [cardWidth, urlWidth] = await card.evaluate((tr) => [tr.clientWidth, tr.querySelector(".url-line").clientWidth]);
  assert.ok(urlWidth > cardWidth * 0.8, `the URL line spans the card: ${urlWidth} of ${cardWidth}px`);
  const text = await card.innerText();
  for (const part of ["Disabled and enabled at runtime", "Showroom launch", "active", "used", "no expiry", publishedUrl("showroom/toggle")]) {
    assert.ok(text.includes(part), `the card shows ${part}: ${text}`);
  }

  const disable = card.locator('button[data-action="disable"]');
  await disable.scrollIntoViewIfNeeded();
  const box = await disable.boundingBox();
  assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844, `Disable lies inside the screen: ${JSON.stringify(box)}`);
  assert.ok(box.height >= 44, `Disable is a finger-sized target: ${box.height}px`);
  await disable.tap();
  await page.waitForSelector("dialog#confirm[open]");
  assert.match(await page.textContent("#confirm-text"), /Disable Disabled and enabled at runtime of Showroom launch\?/);
  await page.locator("#confirm-ok").tap();
  await card.locator('[data-state="disabled"]').waitFor();
  assert.equal(await card.locator('button[data-action="enable"]').count(), 1, "the card offers Enable at once");

  const refused = await w.fetch(w.links["showroom/toggle"].path, { headers: { accept: "application/json" } });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, "link_disabled");
  assert.deepEqual(errors, []);
  await context.close();
});

test("copy link puts exactly the published URL on the clipboard and says so", async () => {
  const { context, page, errors } = await signedIn({ permissions: ["clipboard-read", "clipboard-write"] });
  const press = await search(page, "showroom", "press");
  const button = press.locator('button[data-action="copy"]');
  await button.click();
  await press.locator('button[data-action="copy"][data-copied]').waitFor();
  assert.match(await button.textContent(), /Copied/);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), publishedUrl("showroom/press"));
  assert.deepEqual(errors, []);
  await context.close();
});

test("filters and paging are answered by the worker, one page at a time", async () => {
  const { context, page, errors } = await signedIn();
  const asked = [];
  page.on("request", (r) => { if (r.url().includes("/admin/api/links?")) asked.push(new URL(r.url()).searchParams); });
  // Link rows only: an audience's row heads its recipients on a page.
  const shown = () => page.$$eval("#links tbody tr[data-link]", (trs) => trs.map((tr) => `${tr.dataset.gallery}/${tr.dataset.link}`));
  const all = Object.keys(w.links);

  // The first page holds 20 links; Next asks the worker for the next 20 from its next_offset.
  assert.equal((await shown()).length, 20);
  assert.equal(await page.textContent("#page-info"), `1–20 of ${all.length}`);
  const firstShown = await shown();
  await page.click("#next-page");
  await page.waitForFunction(() => document.querySelector("#page-info").textContent.startsWith("21–40"));
  assert.equal(asked.at(-1).get("offset"), "20");
  const second = await shown();
  await page.click("#prev-page");
  await page.waitForFunction(() => document.querySelector("#page-info").textContent.startsWith("1–20"));
  const first = await shown();
  assert.deepEqual(first, firstShown, "back to the same first page");
  assert.deepEqual([...first, ...second], all.slice(0, 40), "the two pages hold the first 40 links once, in the site's order");

  await page.selectOption("#f-gallery", "dealer");
  await page.waitForFunction(() => [...document.querySelectorAll("#links tbody tr")].every((tr) => tr.dataset.gallery === "dealer"));
  assert.equal(asked.at(-1).get("gallery"), "dealer");
  assert.equal(asked.at(-1).get("offset"), "0", "a new filter starts at the first page");
  assert.deepEqual((await shown()).sort(), all.filter((k) => k.startsWith("dealer/")).sort());

  await page.selectOption("#f-gallery", "showroom");
  await page.selectOption("#f-state", "expired");
  await page.waitForFunction(() => [...document.querySelectorAll("#links tbody tr")].map((tr) => tr.dataset.link).join() === "expired");
  assert.equal(asked.at(-1).get("state"), "expired");

  await page.selectOption("#f-state", "");
  await page.fill("#f-q", "WECHAT");
  await page.waitForFunction(() => [...document.querySelectorAll("#links tbody tr")].map((tr) => tr.dataset.link).join() === "wechat");
  assert.equal(asked.at(-1).get("q"), "WECHAT");
  await page.fill("#f-q", "no link is called this");
  await page.waitForSelector("#links-empty:not([hidden])");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the QR code shown decodes to the link's URL; PNG, SVG and the printable card come with it", async () => {
  const { context, page, errors } = await signedIn({ acceptDownloads: true });
  const owner = [];
  page.on("response", (r) => { if (/\/(qr\.svg|qr\.png|card\.html)/.test(r.url())) owner.push(r); });
  const press = await search(page, "showroom", "press");
  await press.locator('button[data-action="share"]').click();
  await page.waitForSelector("dialog#share[open] #share-qr:not([hidden])");
  await page.waitForFunction(() => document.querySelector("#share-qr").naturalWidth > 0);
  const url = publishedUrl("showroom/press");
  assert.equal(await page.textContent("#share-url"), url);

  // Loaded is not yet painted: on a busy machine a screenshot could catch the image half drawn.
  await page.evaluate(() => document.querySelector("#share-qr").decode());
  const dir = mkdtempSync(join(tmpdir(), "gatefold-qr-"));
  const shot = join(dir, "shown.png");
  await page.locator("#share-qr").screenshot({ path: shot });
  assert.equal(decodeQr(shot), url, "the QR code on the page");

  const [png] = await Promise.all([page.waitForEvent("download"), page.click("#dl-png")]);
  const pngPath = join(dir, png.suggestedFilename());
  await png.saveAs(pngPath);
  const bytes = readFileSync(pngPath);
  assert.equal(bytes.subarray(1, 4).toString(), "PNG");
  assert.ok(bytes.readUInt32BE(16) >= 1024 && bytes.readUInt32BE(20) >= 1024, `the PNG is print-sized: ${bytes.readUInt32BE(16)} px`);
  assert.equal(decodeQr(pngPath), url, "the downloaded PNG");

  const [svg] = await Promise.all([page.waitForEvent("download"), page.click("#dl-svg")]);
  assert.match(svg.suggestedFilename(), /\.svg$/);
  assert.match(readFileSync(await svg.path(), "utf8"), /<svg[\s>]/);

  const [card] = await Promise.all([context.waitForEvent("page"), page.click("#open-card")]);
  await card.waitForLoadState();
  const cardText = await card.textContent("body");
  assert.ok(cardText.includes("Press (downloads on)") && cardText.includes("Showroom launch"), cardText);
  await card.close();

  // Every file came through the page's fetches with the token in a header, never cacheable.
  assert.ok(owner.length >= 3, owner.map((r) => r.url()).join());
  for (const r of owner) {
    assert.ok(!r.url().includes(w.adminToken), "no token in a URL");
    assert.equal(r.headers()["cache-control"], "no-store", r.url());
    assert.equal((await r.request().allHeaders()).authorization, `Bearer ${w.adminToken}`);
  }
  assert.equal((await context.cookies()).length, 0, "no cookie");
  assert.deepEqual(errors, []);
  await context.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the share kit comes in the owner's language with every enabled link, ready to copy", async () => {
  const { context, page, errors } = await signedIn({ locale: "zh-CN", permissions: ["clipboard-read", "clipboard-write"] });
  await page.click('#gallery-list li[data-gallery="showroom"] button[data-action="kit"]');
  await page.waitForSelector("dialog#kit[open]");
  await page.waitForFunction(() => document.querySelector("#kit-text").value.includes("/s/"));
  const kit = await page.inputValue("#kit-text");
  assert.ok(kit.includes(publishedUrl("showroom/press")), "an enabled link is in the kit");
  assert.ok(!kit.includes(publishedUrl("showroom/off")), "a disabled link is not");
  assert.match(kit, /[\u4e00-\u9fff]/, "the kit is written in Chinese");
  await page.click("#kit-copy");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), kit);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the QR code, card and share kit answer only the admin token, and are never cacheable", async () => {
  for (const path of ["links/showroom/press/qr.svg", "links/showroom/press/qr.png", "links/showroom/press/card.html?locale=en", "galleries/showroom/share-kit.txt?locale=zh-CN"]) {
    const without = await w.fetch(`/admin/api/${path}`);
    assert.equal(without.status, 401, path);
    assert.equal(without.headers.get("cache-control"), "no-store", path);
    const withToken = await w.fetch(`/admin/api/${path}`, { headers: { authorization: `Bearer ${w.adminToken}` } });
    assert.equal(withToken.status, 200, path);
    assert.equal(withToken.headers.get("cache-control"), "no-store", path);
    await withToken.arrayBuffer();
  }
});

test("the zh-CN admin page draws its Chinese with real glyphs, not boxes", async () => {
  const { context, page } = await signedIn({ locale: "zh-CN" });
  const heading = page.locator("#links-card h2");
  assert.equal(await heading.textContent(), "分享链接");

  // Chromium names the fonts that drew the heading: a CJK font drew every character.
  const cdp = await context.newCDPSession(page);
  await cdp.send("DOM.enable");
  await cdp.send("CSS.enable");
  const { root } = await cdp.send("DOM.getDocument");
  const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "#links-card h2" });
  const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
  const cjk = fonts.filter((f) => /CJK|Han Sans|Hei|Song|Ming/i.test(f.familyName));
  assert.equal(cjk.reduce((n, f) => n + f.glyphCount, 0), 4, `fonts that drew 分享链接: ${JSON.stringify(fonts)}`);

  // Drawn in the heading's font, different characters make different shapes; a missing glyph
  // is the same box every time.
  const shapes = await heading.evaluate((h) => {
    const font = `${getComputedStyle(h).fontSize} ${getComputedStyle(h).fontFamily}`;
    return [...h.textContent].map((ch) => {
      const c = document.createElement("canvas");
      c.width = c.height = 40;
      const g = c.getContext("2d");
      g.font = font.replace(/^[\d.]+px/, "32px");
      g.fillText(ch, 2, 32);
      return c.toDataURL();
    });
  });
  assert.equal(new Set(shapes).size, 4, "each of 分享链接 draws its own shape");
  await context.close();
});

test("screenshots: the admin page at phone and desktop width in Chinese and English", async () => {
  for (const [locale, tag] of [["zh-CN", "zh-CN"], ["en-US", "en"]]) {
    for (const [width, options] of [[390, PHONE], [1280, DESKTOP]]) {
      const { context, page } = await signedIn({ ...options, locale });
      await page.waitForSelector("#totals .total");
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0, `${tag} ${width}px: no sideways scrolling`);
      await page.screenshot({ path: join(OUTPUT, `admin-${width}-${tag}.png`), fullPage: width > 400 });
      await page.locator('#links tbody tr button[data-action="share"]').first().click();
      await page.waitForSelector("dialog#share[open] #share-qr:not([hidden])");
      await page.screenshot({ path: join(OUTPUT, `admin-${width}-${tag}-share.png`) });
      await context.close();
    }
  }
});

/** What zbarimg reads from a PNG file (the one code's text). */
function decodeQr(path) {
  return execFileSync("zbarimg", ["--raw", "-q", path], { encoding: "utf8" }).trim();
}

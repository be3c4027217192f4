// The admin page's charts in a real browser: a known mix of traffic goes through the real
// worker, and every chart shows exactly those counts in its labels — opens per day over every
// day of the chosen range, the weekday × hour cell of the site timezone, countries, devices and
// images — at phone and desktop widths, in English and Chinese. Saves screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startWorker, cookieOf, launchBrowser, signInAdmin, ROOT } from "./harness.mjs";

let w, browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Runs `body` against a worker of its own, so the charts show only its own traffic. */
async function withOwnWorker(body) {
  w = await startWorker();
  try { await body(); } finally { await w.stop(); w = null; }
}

const UA = {
  iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  windows: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
};
const TZ = "Asia/Shanghai";
const OUT = join(ROOT, "tests/output");

/** Local date, ISO weekday (0 = Monday) and hour of `at` in the site timezone. */
function siteTime(at = new Date()) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", weekday: "short", hourCycle: "h23" })
    .formatToParts(at).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, weekday: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday), hour: Number(parts.hour) };
}
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** 3 opens from Japan on iPhones, 2 from Germany on Windows, 1 full-size view and 1 download. */
async function knownTraffic() {
  const link = w.links["dealer/shanghai"];
  const image = w.manifest.galleries.dealer.images[0];
  const full = image.variants.find((v) => v.full_size).file;
  const visits = [];
  for (const [i, country, ua] of [[1, "JP", UA.iphone], [2, "JP", UA.iphone], [3, "JP", UA.iphone], [4, "DE", UA.windows], [5, "DE", UA.windows]]) {
    const headers = { "user-agent": ua, "cf-connecting-ip": `203.0.113.${40 + i}` };
    const res = await w.navigate(link.path, { headers, cf: { country, city: country === "JP" ? "Tokyo" : "Berlin" } });
    assert.equal(res.status, 200);
    visits.push({ headers: { ...headers, cookie: cookieOf(res) }, cf: { country } });
  }
  const german = visits[3];
  for (const path of [`i/${full}`, `download/${image.id}`]) {
    const res = await w.fetch(`${link.path}/${path}`, german);
    await res.arrayBuffer();
    assert.equal(res.status, 200, path);
  }
  const logged = await w.logged("dealer", (t) => t.opens_admitted >= 5 && t.image_views >= 1 && t.downloads >= 1);
  assert.deepEqual([logged.opens_admitted, logged.image_views, logged.downloads], [5, 1, 1], "5 opens, a view and a download in the log");
  return image;
}

async function signIn(viewport, locale = "en-US") {
  const page = await browser.newPage({ viewport, locale, isMobile: viewport.width < 600 });
  return { page, errors: await signInAdmin(page, w) };
}

/** Shows the dealer gallery's statistics for `from`..`to` (dates, both included). */
async function showRange(page, from, to, days) {
  await page.selectOption("#gallery", "dealer");
  await page.fill("#from", from);
  await page.fill("#to", to);
  await page.click("#stats-form button[type=submit]");
  await page.waitForFunction(([first, n]) => {
    const bars = document.querySelectorAll("#chart-days g[data-key]");
    return bars.length === n && bars[0].dataset.key === first;
  }, [from, days]);
}

const attr = (page, sel, name) => page.getAttribute(sel, name);
const text = async (page, sel) => (await page.textContent(sel)).trim();

/** Every SVG chart lies inside its box, and no two date labels overlap. */
async function assertLegible(page) {
  const problems = await page.evaluate(() => {
    const out = [];
    for (const svg of document.querySelectorAll(".charts svg.gf-chart")) {
      const box = svg.closest(".chart").getBoundingClientRect();
      const r = svg.getBoundingClientRect();
      if (r.right > box.right + 1 && !svg.closest(".gf-scroll")) out.push(`${svg.getAttribute("class")} overflows its box by ${r.right - box.right}px`);
    }
    const ticks = [...document.querySelectorAll("#chart-days text.x-tick")].map((t) => t.getBoundingClientRect());
    for (let i = 1; i < ticks.length; i++) if (ticks[i].left < ticks[i - 1].right) out.push(`date labels ${i - 1} and ${i} overlap`);
    if (ticks.length < 2) out.push(`only ${ticks.length} date label(s) on a week`);
    const sizes = [...document.querySelectorAll(".charts svg.gf-chart text")].map((t) => t.getBoundingClientRect().height).filter((h) => h > 0);
    if (Math.min(...sizes) < 10) out.push(`text drawn ${Math.min(...sizes)}px high`);
    return out;
  });
  assert.deepEqual(problems, []);
}

/** The statistics card, top to bottom, without the sticky header over it. */
async function shoot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const clip = await page.evaluate(() => {
    const r = document.querySelector("#stats-form").closest("section.card").getBoundingClientRect();
    return { x: r.left, y: r.top + window.scrollY, width: r.width, height: r.height };
  });
  await page.screenshot({ path: join(OUT, name), fullPage: true, clip });
}

test("the charts show a known mix of traffic with exact counts, every day of the range and the local weekday and hour", () => withOwnWorker(async () => {
  const before = siteTime();
  const image = await knownTraffic();
  const after = siteTime();
  const today = after.day;
  const from = addDays(today, -6);
  mkdirSync(OUT, { recursive: true });

  for (const width of [1280, 390]) {
    const { page, errors } = await signIn({ width, height: 900 });
    await showRange(page, from, today, 7);

    // Opens per day: the seven days of the range in order, zeros included, 5 on the traffic's day(s).
    const days = await page.$$eval("#chart-days g[data-key]", (gs) => gs.map((g) => [g.dataset.key, Number(g.dataset.count)]));
    assert.deepEqual(days.map(([d]) => d), [...Array(7)].map((_, i) => addDays(from, i)));
    assert.equal(days.reduce((n, [, c]) => n + c, 0), 5);
    assert.ok(days.every(([d, c]) => c === 0 || d === before.day || d === after.day), JSON.stringify(days));
    assert.equal(await text(page, "#chart-days >> xpath=ancestor::figure/figcaption"), `Admitted opens per day, ${TZ}`);
    if (before.day === after.day) {
      assert.match(await attr(page, `#chart-days g[data-key="${today}"]`, "aria-label"), /: 5 opens$/);
      assert.equal(await text(page, `#chart-days g[data-key="${today}"] text.value`), "5");
    }

    // Weekday × hour: 7 × 24 cells; the traffic's local hour holds all five opens.
    assert.equal(await page.locator("#chart-hours g[data-weekday][data-hour]").count(), 168);
    const cell = (t) => `#chart-hours g[data-weekday="${t.weekday}"][data-hour="${t.hour}"]`;
    const counted = Number(await attr(page, cell(before), "data-count")) + (cell(before) === cell(after) ? 0 : Number(await attr(page, cell(after), "data-count")));
    assert.equal(counted, 5, "the opens sit in the Shanghai weekday and hour they were made in");
    const total = await page.$$eval("#chart-hours g[data-count]", (gs) => gs.reduce((n, g) => n + Number(g.dataset.count), 0));
    assert.equal(total, 5);
    if (cell(before) === cell(after)) {
      assert.match(await page.textContent(`${cell(after)} title`), /\d\d:00–\d\d:00: 5 opens$/);
      assert.match(await text(page, "#chart-hours .chart-note"), /Busiest hour: .* · 5 opens$/);
    }
    assert.ok(await page.locator("#chart-hours .chart-legend li[data-level]").count() >= 2, "the shades have a legend");
    assert.equal(await text(page, "#chart-hours >> xpath=ancestor::figure/figcaption"), `Admitted opens by weekday and hour, ${TZ}`);

    // Labelled bars with the exact counts written next to them.
    assert.equal(await text(page, '#chart-countries g[data-key="JP"] text.value'), "3");
    assert.equal(await text(page, '#chart-countries g[data-key="DE"] text.value'), "2");
    assert.match(await text(page, '#chart-countries g[data-key="JP"] text.label'), /Japan|JP/);
    assert.equal(await attr(page, '#chart-countries g[data-key="JP"]', "aria-label"), "Japan (JP): 3 opens");
    assert.equal(await text(page, '#chart-devices g[data-key="mobile"] text.value'), "3");
    assert.equal(await text(page, '#chart-devices g[data-key="desktop"] text.value'), "2");
    assert.equal(await text(page, '#chart-devices g[data-key="mobile"] text.label'), "Phone");
    assert.equal(await text(page, `#chart-images g[data-key="${image.id}"] g[data-series="views"] text.value`), "1");
    assert.equal(await text(page, `#chart-images g[data-key="${image.id}"] g[data-series="downloads"] text.value`), "1");
    assert.equal(await text(page, "#chart-images >> xpath=ancestor::figure/figcaption"), "Full-size views and downloads per image");
    assert.equal(await text(page, '#chart-links g[data-key="shanghai"] text.value'), "5");

    await assertLegible(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await page.mouse.move(0, 0);
    await shoot(page, `cockpit-charts-${width}.png`);

    // The same charts in Chinese: captions in the page's language, the same counts.
    await page.click("#lang");
    await page.waitForFunction(() => document.querySelector("#chart-days")?.closest("figure").querySelector("figcaption").textContent.startsWith("每日打开次数（"));
    assert.equal(await text(page, "#chart-days >> xpath=ancestor::figure/figcaption"), `每日打开次数（不含被拒绝），${TZ} 时间`);
    assert.equal(await text(page, '#chart-countries g[data-key="JP"] text.value'), "3");
    assert.match(await text(page, '#chart-countries g[data-key="JP"] text.label'), /日本/);
    assert.equal(await text(page, '#chart-devices g[data-key="mobile"] text.label'), "手机");
    await shoot(page, `cockpit-charts-${width}-zh-CN.png`);
    await page.click("#lang");
    assert.deepEqual(errors, []);
    await page.close();
  }
}));

test("one day of opens draws a narrow column, not one bar across the chart", () => withOwnWorker(async () => {
  const opened = await w.navigate(w.links["dealer/shanghai"].path, { headers: { "user-agent": UA.windows, "cf-connecting-ip": "203.0.113.60" } });
  assert.equal(opened.status, 200);
  assert.equal((await w.logged("dealer", (t) => t.opens_admitted >= 1)).opens_admitted, 1, "the open is in the log");
  const today = siteTime().day;
  const { page, errors } = await signIn({ width: 1280, height: 900 });
  await showRange(page, today, today, 1);
  const widths = await page.evaluate(() => {
    const bar = document.querySelector("#chart-days rect.bar");
    return { bar: bar.getBoundingClientRect().width, chart: document.querySelector("#chart-days svg").getBoundingClientRect().width };
  });
  assert.ok(widths.bar <= 40 && widths.bar < widths.chart / 10, JSON.stringify(widths));
  assert.equal(await page.locator("#chart-days text.x-tick").count(), 1, "the one day is named");
  assert.deepEqual(errors, []);
  await page.close();
}));

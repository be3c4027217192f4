// The trace benchmark's two uses of headless Chromium (Debian's, through playwright-core):
//
//   node bench/trace/chromium.mjs scenes <out dir> <count> <seed>
//     Synthesizes the flat bench set: product-style scenes (an object on a plain or softly lit
//     background, text-heavy packaging with Chinese and Latin text, a barcode), rendered at
//     1920 px wide as PNG. Deterministic for a seed.
//
//   node bench/trace/chromium.mjs lightbox <jobs.json>
//     The screenshot transform: each job's JPEG is shown in the default theme's lightbox (its
//     gallery.css and dialog markup, opened with showModal as gallery.js does) in a 1280×800
//     viewport at device scale 2, and the whole viewport is saved as PNG. Prints one JSON line
//     per job with where the image landed on the screenshot (device px), for the report.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");

async function browser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

// A small deterministic generator (mulberry32), so a seed always gives the same set.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BRANDS = ["NORDLYS", "Kōfu", "AURELIA", "青山茶社", "Maison Lune", "霁月", "TERRA", "北岸咖啡"];
const NAMES = ["冷萃咖啡 · 限定款", "有机绿茶礼盒", "Hydrating Serum", "桂花乌龙", "Sparkling Water", "手工皂 · 薰衣草", "Dark Roast 250 g", "蜂蜜柚子茶"];
const LINES = [
  "产地：云南普洱 · 海拔 1,600 米", "净含量 250 g", "保质期 18 个月", "Ingredients: water, green tea extract, citric acid",
  "贮存条件：阴凉干燥处，避免阳光直射", "Made in Hangzhou", "每 100 ml 含能量 12 kJ", "配料：乌龙茶、桂花",
  "Net wt. 8.8 oz", "生产日期见瓶身", "Recyclable packaging", "执行标准 GB/T 21733",
];
const PALETTE = ["#f4f1ea", "#ffffff", "#eef2f5", "#f7efe9", "#e9efe6", "#fafafa", "#f2ecf7", "#1d1f22"];
const INKS = ["#b4532a", "#2e5e4e", "#1f3b73", "#8a1c2b", "#c9a227", "#3d3d3d", "#6b4fa0"];

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function barcode(r) {
  let bars = "";
  for (let i = 0; i < 48; i++) bars += `<i style="width:${1 + Math.floor(r() * 4)}px;margin-right:${1 + Math.floor(r() * 3)}px"></i>`;
  return `<div class="bc">${bars}</div>`;
}

// One scene: an object on a plain background (even seeds) or a packaging front (odd seeds).
function scene(i, seed) {
  const r = rng(seed * 7919 + i);
  const bg = pick(r, PALETTE);
  const dark = bg === "#1d1f22";
  const ink = pick(r, INKS);
  const brand = pick(r, BRANDS);
  const name = pick(r, NAMES);
  const lines = Array.from({ length: 4 + Math.floor(r() * 6) }, () => pick(r, LINES));
  const height = pick(r, [1280, 1080, 1440]);
  const light = `radial-gradient(ellipse at ${30 + r() * 40}% ${20 + r() * 30}%, ${dark ? "#3a3d42" : "#ffffff"} 0%, ${bg} 65%)`;
  const style = `
    * { margin: 0; box-sizing: border-box; }
    body { width: 1920px; height: ${height}px; overflow: hidden; font-family: "Noto Sans CJK SC", sans-serif; color: ${dark ? "#eee" : "#222"};
           background: ${r() < 0.5 ? bg : light}; position: relative; }
    .bc { display: flex; height: 90px; background: #fff; padding: 8px; width: max-content; }
    .bc i { display: block; background: #111; height: 100%; }`;
  let body;
  if (i % 2 === 0) {
    const w = 380 + Math.floor(r() * 260);
    const h = Math.min(height - 260, 620 + Math.floor(r() * 380));
    const x = 500 + Math.floor(r() * (1920 - 1000 - w + 400));
    const shape = pick(r, ["bottle", "box", "can"]);
    const radius = shape === "bottle" ? `${w / 2}px ${w / 2}px 40px 40px` : shape === "can" ? "28px" : "6px";
    body = `
      <div style="position:absolute;left:${x}px;top:${height - h - 140}px;width:${w}px;height:${h}px;border-radius:${radius};
        background:linear-gradient(90deg, ${ink} 0%, color-mix(in srgb, ${ink} 60%, white) 35%, ${ink} 70%, color-mix(in srgb, ${ink} 70%, black) 100%);
        box-shadow: 30px 40px 60px rgba(0,0,0,.28);">
        <div style="position:absolute;left:12%;right:12%;top:38%;padding:28px 18px;background:${dark ? "#f4f1ea" : "#fff"};color:#222;text-align:center;border-radius:4px">
          <div style="font-size:44px;font-weight:700;letter-spacing:.08em">${brand}</div>
          <div style="font-size:26px;margin-top:10px">${name}</div>
        </div>
      </div>
      <div style="position:absolute;left:${x - 60}px;top:${height - 150}px;width:${w + 200}px;height:40px;border-radius:50%;background:rgba(0,0,0,.18);filter:blur(18px)"></div>
      <div style="position:absolute;left:120px;top:120px;font-size:72px;font-weight:700;color:${ink}">${brand}</div>
      <div style="position:absolute;left:124px;top:220px;font-size:34px">${name}</div>`;
  } else {
    body = `
      <div style="position:absolute;inset:${60 + Math.floor(r() * 60)}px ${100 + Math.floor(r() * 120)}px;background:${ink};color:#fff;padding:70px 90px;
        border-radius:12px;box-shadow: 0 30px 80px rgba(0,0,0,.3);display:grid;grid-template-columns:1.3fr 1fr;gap:60px">
        <div>
          <div style="font-size:96px;font-weight:700;letter-spacing:.04em">${brand}</div>
          <div style="font-size:52px;margin-top:18px">${name}</div>
          <div style="margin-top:40px;font-size:28px;line-height:1.7">${lines.slice(0, 4).join("<br>")}</div>
          <div style="margin-top:40px;width:180px;height:180px;border-radius:50%;border:10px solid rgba(255,255,255,.85);
            display:grid;place-items:center;font-size:44px;font-weight:700">${Math.floor(r() * 90 + 10)}%</div>
        </div>
        <div style="background:#fff;color:#222;padding:36px;border-radius:8px;font-size:22px;line-height:1.6">
          <div style="font-size:30px;font-weight:700;margin-bottom:12px">营养成分表 Nutrition</div>
          ${lines.map((l) => `<div style="border-bottom:1px solid #ccc">${l}</div>`).join("")}
          <div style="margin-top:24px">${barcode(r)}</div>
        </div>
      </div>`;
  }
  return { html: `<!doctype html><meta charset="utf-8"><style>${style}</style><body>${body}</body>`, height };
}

async function scenes(out, count, seed) {
  mkdirSync(out, { recursive: true });
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1920, height: 1440 }, deviceScaleFactor: 1 });
  for (let i = 0; i < count; i++) {
    const { html, height } = scene(i, seed);
    await page.setViewportSize({ width: 1920, height });
    await page.setContent(html);
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(out, `flat-${String(i).padStart(2, "0")}.png`) });
  }
  await b.close();
}

// The lightbox as the default theme draws it: gallery.css, the dialog's markup from
// gallery.html, opened modally; the image in a <picture> like the page's large template.
function lightboxPage() {
  const css = pathToFileURL(join(ROOT, "themes/default/static/gallery.css")).href;
  return `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><link rel="stylesheet" href="${css}">
<body><dialog id="gf-lightbox" class="gf-lightbox" aria-label="图片查看器">
  <div class="gf-lb-bar">
    <p id="gf-lb-counter" class="gf-lb-counter" aria-live="polite">3 / 12</p>
    <a class="gf-download" href="#" download>下载</a>
    <button class="gf-lb-close" type="button" aria-label="关闭">✕</button>
  </div>
  <div id="gf-lb-stage" class="gf-lb-stage"><picture><img id="shot" alt="" sizes="100vw" decoding="async"></picture></div>
  <p id="gf-lb-caption" class="gf-lb-caption">新品发布 · 仅限经销商预览</p>
  <button class="gf-lb-prev" type="button" aria-label="上一张">‹</button>
  <button class="gf-lb-next" type="button" aria-label="下一张">›</button>
</dialog></body></html>`;
}

async function lightbox(jobsFile) {
  const jobs = JSON.parse(readFileSync(jobsFile, "utf8"));
  const dir = dirname(resolve(jobsFile));
  const pageFile = join(dir, "lightbox.html");
  writeFileSync(pageFile, lightboxPage());
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  await page.goto(pathToFileURL(pageFile).href);
  await page.evaluate(() => document.getElementById("gf-lightbox").showModal());
  // The close button takes focus on open (gallery.js); blur it so no focus ring is drawn.
  await page.evaluate(() => document.activeElement?.blur());
  for (const job of jobs) {
    const rect = await page.evaluate(async (src) => {
      const img = document.getElementById("shot");
      img.src = src;
      await img.decode();
      const r = img.getBoundingClientRect();
      return { x: r.x * devicePixelRatio, y: r.y * devicePixelRatio, width: r.width * devicePixelRatio, height: r.height * devicePixelRatio };
    }, pathToFileURL(job.input).href);
    await page.screenshot({ path: job.output, type: "png" });
    console.log(JSON.stringify({ output: job.output, ...rect }));
  }
  await b.close();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "scenes") await scenes(args[0], Number(args[1]), Number(args[2]));
else if (mode === "lightbox") await lightbox(args[0]);
else {
  console.error("usage: chromium.mjs scenes <out dir> <count> <seed> | lightbox <jobs.json>");
  process.exit(2);
}

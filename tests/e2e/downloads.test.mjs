// Downloads of gallery `kit` (tests/fixtures/sites/e2e/kit): every original as one ZIP, checked
// by three independent readers and byte for byte; web sizes (the widest display JPEG, no GPS);
// who may download what; the access log and stats; the page's sizes in a 390 px browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, cookieOf, until, launchBrowser, NAVIGATION_HEADERS, ROOT, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (name) => w.links[`kit/${name}`];
const gallery = () => w.manifest.galleries.kit;
const BROWSER = NAVIGATION_HEADERS["user-agent"];
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const admin = adminApi({ worker: () => w });

/** A person opening the link in their browser: the session cookie it got. */
async function session(name, lang = "en") {
  const res = await w.navigate(L(name).path, { headers: { "accept-language": lang } });
  assert.equal(res.status, 200, `opening kit/${name}`);
  const cookie = cookieOf(res);
  assert.ok(cookie, "a session cookie");
  return cookie;
}

/** A request from the same browser as the session (no cookie: a visitor without one). */
function get(path, cookie, { method = "GET", json = false } = {}) {
  const headers = { "user-agent": BROWSER, "accept-language": "en" };
  if (cookie) headers.cookie = cookie;
  if (json) headers.accept = "application/json";
  return w.fetch(path, { method, headers });
}

async function bytesOf(res) {
  return Buffer.from(await res.arrayBuffer());
}

/** Python's `zipfile` on `file`: testzip, names, the UTF-8 flag and each member's SHA-256. */
function pythonZip(file) {
  return JSON.parse(execFileSync("python3", ["-c", `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({
        "bad": z.testzip(),
        "members": [{"name": i.filename, "utf8": bool(i.flag_bits & 0x800), "stored": i.compress_type == zipfile.ZIP_STORED,
                     "sha256": hashlib.sha256(z.read(i)).hexdigest()} for i in z.infolist()],
    }))
`, file], { encoding: "utf8" }));
}

/** Width and height from a JPEG's first SOF marker. */
function jpegSize(buf) {
  assert.equal(buf.readUInt16BE(0), 0xffd8, "a JPEG");
  let at = 2;
  while (at < buf.length) {
    const marker = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    if (marker >= 0xffc0 && marker <= 0xffcf && ![0xffc4, 0xffc8, 0xffcc].includes(marker)) {
      return { height: buf.readUInt16BE(at + 5), width: buf.readUInt16BE(at + 7) };
    }
    at += 2 + len;
  }
  throw new Error("no SOF marker");
}

/** Whether a JPEG's EXIF (APP1 "Exif") points to a GPS IFD (tag 0x8825 in IFD0). */
function hasGpsIfd(buf) {
  let at = 2;
  while (at + 4 <= buf.length && buf[at] === 0xff && buf[at + 1] !== 0xda) {
    const len = buf.readUInt16BE(at + 2);
    if (buf[at + 1] === 0xe1 && buf.subarray(at + 4, at + 10).equals(Buffer.from("Exif\0\0"))) {
      const tiff = buf.subarray(at + 10, at + 2 + len);
      const big = tiff.toString("latin1", 0, 2) === "MM";
      const u16 = (o) => (big ? tiff.readUInt16BE(o) : tiff.readUInt16LE(o));
      const ifd = big ? tiff.readUInt32BE(4) : tiff.readUInt32LE(4);
      for (let i = 0; i < u16(ifd); i++) if (u16(ifd + 2 + 12 * i) === 0x8825) return true;
    }
    at += 2 + len;
  }
  return false;
}

test("the ZIP of every original opens in unzip, Python's zipfile and 7-Zip, member for member identical to the originals", async () => {
  const cookie = await session("everything");
  const res = await get(`${L("everything").path}/download-all`, cookie);
  assert.equal(res.status, 200);
  const zip = await bytesOf(res);
  assert.equal(Number(res.headers.get("content-length")), zip.length, "Content-Length is the bytes received");
  assert.equal(res.headers.get("content-type"), "application/zip");
  assert.equal(res.headers.get("content-disposition"), "attachment; filename*=UTF-8''Kit.zip");
  assert.equal(res.headers.get("accept-ranges"), "none");
  assert.equal(res.headers.get("cache-control"), "private, no-store");

  // HEAD announces the same length; a Range is answered with the whole archive.
  const head = await get(`${L("everything").path}/download-all`, cookie, { method: "HEAD" });
  assert.equal(Number(head.headers.get("content-length")), zip.length);
  const ranged = await w.fetch(`${L("everything").path}/download-all`, { headers: { "user-agent": BROWSER, cookie, range: "bytes=100-" } });
  assert.equal(ranged.status, 200);
  assert.ok((await bytesOf(ranged)).equals(zip), "the same archive, byte for byte");

  const file = join(mkdtempSync(join(tmpdir(), "gatefold-zip-")), "kit.zip");
  writeFileSync(file, zip);
  execFileSync("unzip", ["-t", file], { encoding: "utf8" });
  const sevenZip = execFileSync("7zz", ["t", file], { encoding: "utf8" });
  assert.match(sevenZip, /Everything is Ok/);
  const py = pythonZip(file);
  assert.equal(py.bad, null, "zipfile.testzip finds no bad CRC");

  const images = gallery().images;
  assert.deepEqual(py.members.map((m) => m.name), images.map((i) => i.file_name));
  assert.ok(py.members.some((m) => m.name === "产品图.jpg"), "the Chinese name survives as UTF-8");
  for (const [i, member] of py.members.entries()) {
    assert.ok(member.utf8 && member.stored, `${member.name}: UTF-8 flag, stored`);
    const own = await get(`${L("everything").path}/download/${images[i].id}`, cookie);
    assert.equal(own.status, 200, images[i].id);
    assert.equal(member.sha256, sha256(await bytesOf(own)), `${member.name} is byte-identical to its own download`);
  }
});

test("without a session the ZIP answers no_session", async () => {
  const res = await get(`${L("everything").path}/download-all`, null, { json: true });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error, "no_session");
  const head = await get(`${L("everything").path}/download-all`, null, { method: "HEAD" });
  assert.equal(head.status, 403);
});

test("view-only and web-size links refuse the ZIP and the originals with download_disabled", async () => {
  const id = gallery().images[0].id;
  for (const name of ["viewonly", "slides"]) {
    const cookie = await session(name);
    for (const path of [`${L(name).path}/download-all`, `${L(name).path}/download/${id}`]) {
      const res = await get(path, cookie, { json: true });
      assert.equal(res.status, 403, `${name}: ${path}`);
      assert.equal((await res.json()).error, "download_disabled", `${name}: ${path}`);
    }
  }
  const viewer = await session("viewonly");
  const web = await get(`${L("viewonly").path}/web/${id}`, viewer, { json: true });
  assert.equal((await web.json()).error, "download_disabled", "no web size on a view-only link");
});

test("a web-size download is a JPEG at the widest display width, named -web.jpg, with no GPS or EXIF", async () => {
  assert.ok(hasGpsIfd(readFileSync(join(ROOT, "tests/fixtures/sites/e2e/kit/site-visit.jpg"))), "the fixture carries GPS, so the check below can fail");
  const cookie = await session("slides");
  for (const image of gallery().images) {
    const widest = image.variants.filter((v) => v.role === "display" && v.content_type === "image/jpeg").sort((a, b) => b.width - a.width)[0];
    const res = await get(`${L("slides").path}/web/${image.id}`, cookie);
    assert.equal(res.status, 200, image.id);
    const body = await bytesOf(res);
    assert.equal(res.headers.get("content-type"), "image/jpeg");
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    const stem = image.file_name.replace(/\.[^.]*$/, "");
    assert.equal(res.headers.get("content-disposition"), `attachment; filename*=UTF-8''${encodeURIComponent(`${stem}-web.jpg`)}`);
    assert.deepEqual(jpegSize(body), { width: widest.width, height: widest.height }, image.file_name);
    assert.ok(!body.includes(Buffer.from("Exif\0\0")), `${image.file_name}: no EXIF block`);
    assert.ok(!hasGpsIfd(body), `${image.file_name}: no GPS`);
    // The page asks for the size with HEAD: the same length, no body.
    const head = await get(`${L("slides").path}/web/${image.id}`, cookie, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get("content-length")), body.length);
  }
});

test("one ZIP is one download_all event, and stats count it as a download of each image", async () => {
  const cookie = await session("both");
  const res = await get(`${L("both").path}/download-all`, cookie);
  assert.equal(res.status, 200);
  await bytesOf(res);
  // A HEAD (the page asking sizes) is neither logged nor counted.
  await get(`${L("both").path}/web/${gallery().images[0].id}`, cookie, { method: "HEAD" });
  const rows = await until(async () => {
    const text = await (await admin("galleries/kit/export.csv?link=both")).text();
    return text.split("\r\n").filter((l) => l.includes('"download_all"') || l.includes('"download"'));
  }, (r) => r.length > 0, { ms: 5000, every: 50 });
  assert.equal(rows.length, 1, rows.join("\n"));
  assert.match(rows[0], /"download_all","admitted"/);
  const stats = await until(async () => (await admin("galleries/kit/stats?link=both")).json(), (s) => s.totals?.downloads > 0, { ms: 5000, every: 50 });
  const n = gallery().images.length;
  assert.equal(stats.totals.downloads, n);
  assert.equal(stats.links.find((l) => l.name === "both").downloads, n);
  assert.deepEqual(stats.images.map((i) => i.downloads), Array(n).fill(1));
});

test("an original missing from R2 makes the ZIP download fail instead of arriving corrupt, and the worker says why", async () => {
  const cookie = await session("everything");
  const missing = gallery().images[1].original.key;
  const stored = await w.media.get(missing);
  const bytes = new Uint8Array(await stored.arrayBuffer());
  await w.media.delete(missing);
  try {
    const res = await get(`${L("everything").path}/download-all`, cookie);
    assert.equal(res.status, 200, "the answer started before the missing file was reached");
    await assert.rejects(res.arrayBuffer(), "the body fails instead of ending early");
    const logged = await until(async () => w.logs(), (t) => t.includes(missing), { ms: 5000, every: 50 });
    assert.match(logged, new RegExp(`download-all of kit stopped: ${missing}`));
  } finally {
    await w.media.put(missing, bytes);
  }
});

test("at 390 px the page shows each image's sizes and the download-all button, in English and Chinese", async () => {
  const browser = await launchBrowser();
  try {
    const total = gallery().images.reduce((sum, i) => sum + i.original.size, 0);
    const first = gallery().images[0];
    const web = first.variants.filter((v) => v.role === "display" && v.content_type === "image/jpeg").sort((a, b) => b.width - a.width)[0];
    for (const [locale, label] of [["en", /^Download all \(3 files, [\d.]+ KB\)$/], ["zh-CN", /^全部下载（3 个文件，[\d.]+ KB）$/]]) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale, extraHTTPHeaders: { "accept-language": locale } });
      const page = await context.newPage();
      assert.equal((await page.goto(`${w.url}${L("both").path}`)).status(), 200);
      const all = page.locator("a.gf-download-all");
      assert.match((await all.textContent()).trim(), label);
      assert.ok((await all.textContent()).includes(`${(total / 1000).toFixed(total < 99_950 ? 1 : 0)} KB`), "the total of the originals");
      assert.ok(await all.isVisible());
      const sizes = page.locator("details.gf-sizes").first();
      await sizes.locator("summary").click();
      const original = sizes.locator(".gf-size-original");
      assert.match(await original.textContent(), new RegExp(`${first.width} × ${first.height} · [\\d.]+ KB`));
      const webBytes = sizes.locator(".gf-size-web .gf-size-bytes");
      await page.waitForFunction((el) => el.textContent.trim() !== "", await webBytes.elementHandle());
      assert.match(await sizes.locator(".gf-size-web").textContent(), new RegExp(`${web.width} × ${web.height} · [\\d.]+ KB`));
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "nothing wider than the screen");
      await context.close();
    }
  } finally {
    await browser.close();
  }
});

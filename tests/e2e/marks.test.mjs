// Marked links (gallery `marks`, tests/fixtures/sites/e2e/marks): each recipient's copy of a
// still image spliced by the worker from the variant's marked pair in R2 by the link's codeword;
// unmarked links served exactly as before; a marked copy never reaching another link; originals
// and the ZIP's entries marked when the link says `originals: true`, laid out from sizes and
// CRC-32s known before streaming; key mismatches and damaged pieces failing closed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, cookieOf, NAVIGATION_HEADERS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const GALLERY = "marks";
const L = (name) => w.links[`${GALLERY}/${name}`];
const gallery = () => w.manifest.galleries[GALLERY];
const BROWSER = NAVIGATION_HEADERS["user-agent"];
const image = (id) => gallery().images.find((i) => i.id === id);
/** The still image every test reads: its widest display JPEG, which has a marked pair. */
const still = () => gallery().images.find((i) => !i.animated && i.original.marked);
const widestJpeg = (img) => img.variants.filter((v) => v.role === "display" && v.content_type === "image/jpeg").sort((a, b) => b.width - a.width)[0];

/** A person opening the link in their browser: the cookies it got. */
async function session(name, target = w) {
  const res = await target.navigate(target.links[`${GALLERY}/${name}`].path);
  assert.equal(res.status, 200, `opening ${GALLERY}/${name}`);
  const cookie = cookieOf(res);
  assert.ok(cookie, "a session cookie");
  return { cookie, page: await res.text() };
}

function get(path, cookie, { method = "GET", headers = {}, target = w } = {}) {
  return target.fetch(path, { method, headers: { "user-agent": BROWSER, "accept-language": "en", ...(cookie ? { cookie } : {}), ...headers } });
}

async function bytesOf(res) {
  return Buffer.from(await res.arrayBuffer());
}

async function r2(key) {
  const object = await w.media.get(key);
  assert.ok(object, `${key} in R2`);
  return Buffer.from(await object.arrayBuffer());
}

/** Width and height of an image as Pillow decodes it (every pixel read: a damaged copy fails). */
function decoded(buf) {
  const dir = mkdtempSync(join(tmpdir(), "gatefold-marks-"));
  const file = join(dir, "copy");
  writeFileSync(file, buf);
  return JSON.parse(execFileSync("python3", ["-c", `
import json, sys
from PIL import Image
im = Image.open(sys.argv[1]); im.load()
print(json.dumps({"format": im.format, "width": im.width, "height": im.height}))
`, file], { encoding: "utf8" }));
}

function assertGated(res, what) {
  const cc = res.headers.get("cache-control") ?? "";
  assert.match(cc, /private/, `${what}: ${cc}`);
  assert.match(cc, /no-store/, `${what}: ${cc}`);
  assert.doesNotMatch(cc, /public/, `${what}: ${cc}`);
  assert.equal(res.headers.get("set-cookie"), null, `${what}: no cookie`);
}

test("two recipients of one audience get different copies of the same image, each a whole JPEG of the variant's size", async () => {
  const img = still();
  const v = widestJpeg(img);
  const [sh, bj] = [await session("dealers/sh"), await session("dealers/bj")];
  const a = await get(`${L("dealers/sh").path}/i/${v.file}`, sh.cookie);
  const b = await get(`${L("dealers/bj").path}/i/${v.file}`, bj.cookie);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assertGated(a, "a marked copy");
  assert.equal(a.headers.get("content-type"), "image/jpeg");
  const [copyA, copyB] = [await bytesOf(a), await bytesOf(b)];
  assert.equal(Number(a.headers.get("content-length")), copyA.length);
  assert.notDeepEqual(copyA, copyB, "each recipient's own bytes");
  for (const copy of [copyA, copyB]) {
    assert.deepEqual(decoded(copy), { format: "JPEG", width: v.width, height: v.height });
    for (const side of [v.marked.a, v.marked.b, v.key]) assert.notDeepEqual(copy, await r2(side), `never ${side} whole`);
  }
});

test("a marked link's page loads only the marked JPEG variants, and every still file without a pair is refused to it", async () => {
  const { cookie, page } = await session("dealers/gz");
  const files = [...page.matchAll(/\/i\/([^"'\s?,]+)/g)].map((m) => m[1]);
  assert.ok(files.length > 0, "the page shows images");
  for (const file of new Set(files)) {
    const owner = gallery().images.find((i) => i.variants.some((v) => v.file === file));
    const v = owner.variants.find((x) => x.file === file);
    assert.ok(owner.animated || (v.marked && v.content_type === "image/jpeg"), `${file} on a marked page`);
  }
  for (const img of gallery().images.filter((i) => !i.animated)) {
    for (const v of img.variants.filter((x) => !x.marked)) {
      const res = await get(`${L("dealers/gz").path}/i/${v.file}`, cookie);
      assert.equal(res.status, 404, `${v.file} (${v.content_type}, ${v.role}) refused to a marked link`);
    }
  }
  const spin = gallery().images.find((i) => i.animated);
  const anim = spin.variants.find((x) => x.full_size);
  const res = await get(`${L("dealers/gz").path}/i/${anim.file}`, cookie);
  assert.equal(res.status, 200, "animations are never marked");
  assert.deepEqual(await bytesOf(res), await r2(anim.key));
});

test("an unmarked link of the same gallery gets today's bytes, every variant", async () => {
  const { cookie } = await session("plain");
  for (const img of gallery().images) {
    for (const v of img.variants) {
      const res = await get(`${L("plain").path}/i/${v.file}`, cookie);
      assert.equal(res.status, 200, v.file);
      assertGated(res, v.file);
      assert.deepEqual(await bytesOf(res), await r2(v.key), `${v.file} byte for byte as published`);
    }
  }
  const original = await get(`${L("plain").path}/download/${still().id}`, cookie);
  assert.deepEqual(await bytesOf(original), await r2(still().original.key), "the original untouched");
});

test("one recipient's session cannot fetch another's copy, and a cached copy is never another link's", async () => {
  const v = widestJpeg(still());
  const [sh, bj] = [await session("dealers/sh"), await session("dealers/bj")];
  const own = await bytesOf(await get(`${L("dealers/sh").path}/i/${v.file}`, sh.cookie));
  const refused = await get(`${L("dealers/bj").path}/i/${v.file}`, sh.cookie, { headers: { accept: "application/json" } });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, "no_session");
  // Both copies are in this data centre's cache now: each link still gets its own.
  const again = await bytesOf(await get(`${L("dealers/sh").path}/i/${v.file}`, sh.cookie));
  const theirs = await bytesOf(await get(`${L("dealers/bj").path}/i/${v.file}`, bj.cookie));
  assert.deepEqual(again, own, "the same copy on every view");
  assert.notDeepEqual(theirs, own);
});

test("HEAD gives a marked copy's exact length before it is ever spliced", async () => {
  const img = still();
  const v = img.variants.filter((x) => x.marked).sort((a, b) => a.width - b.width)[0];
  const { cookie } = await session("dealers/cd");
  const head = await get(`${L("dealers/cd").path}/i/${v.file}`, cookie, { method: "HEAD" });
  assert.equal(head.status, 200);
  assertGated(head, "HEAD of a marked copy");
  const copy = await bytesOf(await get(`${L("dealers/cd").path}/i/${v.file}`, cookie));
  assert.equal(Number(head.headers.get("content-length")), copy.length);
  assert.equal(copy.readUInt16BE(copy.length - 2), 0xffd9, "ends with EOI");
});

test("a web download of a marked link is its copy of the widest display JPEG", async () => {
  const img = still();
  const v = widestJpeg(img);
  const { cookie } = await session("dealers/sh");
  const shown = await bytesOf(await get(`${L("dealers/sh").path}/i/${v.file}`, cookie));
  const res = await get(`${L("dealers/sh").path}/web/${img.id}`, cookie);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-disposition"), /attachment/);
  assertGated(res, "web download");
  assert.deepEqual(await bytesOf(res), shown);
});

test("originals are each recipient's own marked JPEG with `originals: true`, and ranges read the same copy", async () => {
  const img = still();
  const [sh, bj] = [await session("dealers/sh"), await session("dealers/bj")];
  const a = await get(`${L("dealers/sh").path}/download/${img.id}`, sh.cookie);
  assert.equal(a.status, 200);
  assert.equal(a.headers.get("content-type"), "image/jpeg");
  assertGated(a, "a marked original");
  const copyA = await bytesOf(a);
  const copyB = await bytesOf(await get(`${L("dealers/bj").path}/download/${img.id}`, bj.cookie));
  assert.notDeepEqual(copyA, copyB);
  assert.deepEqual(decoded(copyA), { format: "JPEG", width: img.width, height: img.height });
  assert.notDeepEqual(copyA, await r2(img.original.key));
  const part = await get(`${L("dealers/sh").path}/download/${img.id}`, sh.cookie, { headers: { range: "bytes=100-299" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 100-299/${copyA.length}`);
  assert.deepEqual(await bytesOf(part), copyA.subarray(100, 300));
  const head = await get(`${L("dealers/sh").path}/download/${img.id}`, sh.cookie, { method: "HEAD" });
  assert.equal(Number(head.headers.get("content-length")), copyA.length);
});

test("download-all lays out each recipient's marked originals from sizes and CRCs known in advance: every entry equals its download", async () => {
  const { cookie } = await session("dealers/sh");
  const res = await get(`${L("dealers/sh").path}/download-all`, cookie);
  assert.equal(res.status, 200);
  const zip = await bytesOf(res);
  assert.equal(Number(res.headers.get("content-length")), zip.length);
  const dir = mkdtempSync(join(tmpdir(), "gatefold-marks-zip-"));
  writeFileSync(join(dir, "all.zip"), zip);
  const listed = JSON.parse(execFileSync("python3", ["-c", `
import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({"bad": z.testzip(), "members": [{"name": i.filename, "data": base64.b64encode(z.read(i)).decode()} for i in z.infolist()]}))
`, join(dir, "all.zip")], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }));
  assert.equal(listed.bad, null, "every CRC-32 checks");
  assert.equal(listed.members.length, gallery().images.length);
  for (const [i, img] of gallery().images.entries()) {
    const member = listed.members[i];
    const download = await bytesOf(await get(`${L("dealers/sh").path}/download/${img.id}`, cookie));
    assert.deepEqual(Buffer.from(member.data, "base64"), download, `${member.name} equals its download`);
    if (img.animated) assert.equal(member.name, img.file_name, "an animation's original untouched");
    else assert.match(member.name, /\.jpg$/, `${img.file_name}: a marked original is a JPEG`);
  }
});

test("a stamped link's copy carries its own band's segments and still decodes whole", async () => {
  const v = widestJpeg(still());
  const stamp = L("stamped") && w.manifest.galleries[GALLERY].links.stamped.mark.stamp;
  assert.ok(stamp, "the stamped link has a visible stamp");
  const { cookie } = await session("stamped");
  const res = await get(`${L("stamped").path}/i/${v.file}`, cookie);
  assert.equal(res.status, 200);
  const copy = await bytesOf(res);
  assert.deepEqual(decoded(copy), { format: "JPEG", width: v.width, height: v.height });
  // The band object: "GFMB", first chip, chip count, (length, CRC) per chip, then the bytes.
  const band = await r2(`${v.marked.index.replace(/\.idx$/, "")}.${stamp}.band`);
  assert.equal(band.toString("latin1", 0, 4), "GFMB");
  const n = band.readUInt32LE(8);
  const segments = band.subarray(12 + 8 * n);
  assert.ok(n > 0 && segments.length > 0, "the band covers some chips");
  assert.ok(copy.includes(segments), "the band's segments are in the copy, in one run");
  const web = await get(`${L("stamped").path}/web/${still().id}`, cookie);
  assert.deepEqual(await bytesOf(web), copy, "its web download is the same stamped copy");
});

test("a worker whose mark key differs from the link's, or a damaged pair, refuses the marked image and logs why", async () => {
  // A copy of the site whose records say the link was marked under another key.
  const dist = mkdtempSync(join(tmpdir(), "gatefold-marks-key-"));
  cpSync(w.dist, dist, { recursive: true });
  const token = L("dealers/xa").token;
  const shards = join(dist, "site/_gatefold/t");
  for (const file of readdirSync(shards)) {
    const path = join(shards, file);
    const text = readFileSync(path, "utf8");
    if (!text.includes(token)) continue;
    const shard = JSON.parse(text);
    shard.tokens[token].link.mark.key_id = "000000000000";
    writeFileSync(path, JSON.stringify(shard));
  }
  const other = await startWorker({ dist });
  try {
    const v = widestJpeg(still());
    const { cookie } = await session("dealers/xa", other);
    const res = await get(`${other.links[`${GALLERY}/dealers/xa`].path}/i/${v.file}`, cookie, { target: other });
    assert.equal(res.status, 500);
    assert.match(other.logs(), /mark key 000000000000/);
    // A damaged pair (one byte of the last chip changed, same lengths) in R2: the splice's CRC
    // check refuses it, whichever side the chip comes from.
    for (const side of [v.marked.a, v.marked.b]) {
      const bad = new Uint8Array(await r2(side));
      bad[bad.length - 3] ^= 0x01;
      await other.media.put(side, bad);
    }
    const { cookie: c2 } = await session("dealers/hz", other);
    const damaged = await get(`${other.links[`${GALLERY}/dealers/hz`].path}/i/${v.file}`, c2, { target: other });
    assert.equal(damaged.status, 500);
    assert.match(other.logs(), /differ from its index/);
  } finally {
    await other.stop();
  }
});

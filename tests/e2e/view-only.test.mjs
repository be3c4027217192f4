// View-only means view-only (issue 18 §5): a link with `download: false` never receives bytes
// that a download gives. Every display file every view-only link of the e2e site is served
// (`/i/…`) is compared with every original in R2; an animation (motion/spin.gif) is shown as
// a display file of its own, re-encoded at a display width and still animated.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, cookieOf } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/** The SHA-256 of every original the site's downloads give, read back from R2. */
async function originals() {
  const hashes = new Set();
  for (const g of Object.values(w.manifest.galleries)) {
    for (const image of g.images) {
      const object = await w.media.get(image.original.key);
      assert.ok(object, `${image.original.key} is in R2`);
      hashes.add(sha256(Buffer.from(await object.arrayBuffer())));
    }
  }
  return hashes;
}

/** Whether `bytes` is an animated WebP: RIFF/WEBP with the VP8X animation flag and an ANIM chunk. */
function animatedWebp(bytes) {
  const riff = bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP";
  return riff && bytes.toString("latin1", 12, 16) === "VP8X" && (bytes[20] & 0x02) !== 0 && bytes.includes(Buffer.from("ANIM"));
}

test("no file a view-only link is shown equals an original, for any image of any gallery", async () => {
  const given = await originals();
  const viewOnly = Object.values(w.links).filter((l) => !l.policy.disabled && !l.policy.password && !l.policy.download.original && !l.policy.download.web);
  assert.ok(viewOnly.some((l) => l.gallery === "motion"), "the animation's gallery has a view-only link");
  let served = 0;
  for (const link of viewOnly) {
    const opened = await w.navigate(link.path, { headers: { "user-agent": UA } });
    if (opened.status !== 200) continue; // expired or used up by its own test: nothing to serve
    const cookie = cookieOf(opened);
    for (const image of w.manifest.galleries[link.gallery].images) {
      for (const v of image.variants) {
        const res = await w.fetch(`${link.path}/i/${v.file}`, { headers: { "user-agent": UA, cookie } });
        assert.equal(res.status, 200, `${link.gallery}/${link.link}: ${v.file}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.ok(!given.has(sha256(bytes)), `${link.gallery}/${link.link}: ${v.file} is an original's bytes`);
        served += 1;
      }
    }
  }
  assert.ok(served > 0, "some display files were compared");
});

test("an animation is shown re-encoded at the widest display size and still animated", async () => {
  const spin = w.manifest.galleries.motion.images.find((i) => i.file_name === "spin.gif");
  assert.ok(spin.animated);
  const display = spin.variants.filter((v) => v.role === "display");
  assert.deepEqual(display.map((v) => [v.content_type, v.width, v.height, v.full_size]), [["image/webp", 640, 356, true]], "one animated WebP, 720 px cut to the widest display size");
  const link = w.links["motion/view"];
  const cookie = cookieOf(await w.navigate(link.path, { headers: { "user-agent": UA } }));
  const res = await w.fetch(`${link.path}/i/${display[0].file}`, { headers: { "user-agent": UA, cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "image/webp");
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.ok(animatedWebp(bytes), "an animated WebP");
  assert.equal(bytes.readUIntLE(24, 3) + 1, 640, "canvas width");
  assert.equal(bytes.readUIntLE(27, 3) + 1, 356, "canvas height");
  // The download still gives the animation itself.
  const downloader = cookieOf(await w.navigate(w.links["motion/originals"].path, { headers: { "user-agent": UA } }));
  const original = await w.fetch(`${w.links["motion/originals"].path}/download/${spin.id}`, { headers: { "user-agent": UA, cookie: downloader } });
  assert.equal(original.status, 200);
  assert.equal((await original.arrayBuffer()).byteLength, spin.original.size);
});

// Leaks traced end to end (gallery `marks`, tests/fixtures/sites/e2e/marks): a recipient's
// copy downloaded from the real worker, re-encoded and resized the way a forwarded file is, is
// named by `gatefold trace` as that recipient's (a visibly stamped link's too); the unmarked link's copy of the same image is
// ours without a mark (exit 3); a photo the build does not have is not ours (exit 4).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startWorker, cookieOf, gatefold, FIXTURE, ROOT, SIGNING_KEY, NAVIGATION_HEADERS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const GALLERY = "marks";
const L = (name) => w.links[`${GALLERY}/${name}`];
const still = () => w.manifest.galleries[GALLERY].images.find((i) => !i.animated && i.original.marked);
const scratch = mkdtempSync(join(tmpdir(), "gatefold-marks-trace-"));

/** The still image as `name`'s browser saves it: the web download, or (`lightbox`) the widest
 * display JPEG the lightbox shows. */
async function download(name, { lightbox = false } = {}) {
  const opened = await w.navigate(L(name).path);
  assert.equal(opened.status, 200, `opening ${GALLERY}/${name}`);
  const widest = still().variants.filter((v) => v.role === "display" && v.content_type === "image/jpeg").sort((a, b) => b.width - a.width)[0];
  const path = lightbox ? `${L(name).path}/i/${widest.file}` : `${L(name).path}/web/${still().id}`;
  const res = await w.fetch(path, { headers: { "user-agent": NAVIGATION_HEADERS["user-agent"], cookie: cookieOf(opened) } });
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

/** `bytes` as forwarded: decoded, resized to `scale`, saved as a JPEG of `quality` (Pillow). */
function forwarded(bytes, file, { scale = 0.9, quality = 85 } = {}) {
  const source = join(scratch, `${file}.source`);
  writeFileSync(source, bytes);
  const out = join(scratch, file);
  execFileSync("python3", ["-c", `
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
s = float(sys.argv[3])
im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS).save(sys.argv[2], quality=int(sys.argv[4]))
`, source, out, String(scale), String(quality)]);
  return out;
}

/** `gatefold trace --json` over this build's galleries and image cache (the dist's sibling). */
function trace(file) {
  const { code, out } = gatefold(["--galleries", FIXTURE, "trace", file, "--cache", join(dirname(w.dist), "cache"), "--json"], { env: { SIGNING_KEY } });
  const json = out.slice(out.indexOf("["), out.lastIndexOf("]") + 1);
  return { code, out, finding: json ? JSON.parse(json)[0] : null };
}

test("a recipient's copy, resized and re-encoded, is traced to that recipient above the threshold, a stamped one too", async () => {
  for (const name of ["dealers/sh", "dealers/bj", "stamped"]) {
    const file = forwarded(await download(name), `${name.replace("/", "-")}.jpg`);
    const { code, out, finding } = trace(file);
    assert.equal(code, 0, out);
    assert.equal(finding.verdict, "identified");
    assert.equal(finding.image.gallery, GALLERY);
    assert.equal(finding.image.image, still().id);
    assert.equal(finding.link.id, `${GALLERY}/${name}`, out);
    assert.ok(finding.link.score > finding.threshold, `score ${finding.link.score} over threshold ${finding.threshold}`);
    assert.ok(finding.runner_up < finding.threshold, `no other link passes: ${finding.runner_up}`);
  }
});

test("the unmarked link's copy of the same image is ours without a mark (exit 3)", async () => {
  const file = forwarded(await download("plain", { lightbox: true }), "plain.jpg");
  const { code, out, finding } = trace(file);
  assert.equal(code, 3, out);
  assert.equal(finding.verdict, "no_mark");
  assert.equal(finding.image.image, still().id);
  assert.equal(finding.link, undefined, "no link is named");
});

test("a photo this build does not have is not ours (exit 4)", () => {
  const other = join(ROOT, "galleries/aurora-preview/blinds.jpg");
  const { code, out, finding } = trace(other);
  assert.equal(code, 4, out);
  assert.equal(finding.verdict, "not_ours");
  assert.equal(finding.image, undefined);
});

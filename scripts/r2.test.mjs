// scripts/r2.mjs against a real local R2 (Miniflare on a temporary persist directory), read back
// by wrangler itself, which is what `wrangler dev --persist-to` serves from.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createServer } from "node:http";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);
const BUCKET = "gatefold-media";

/** Runs r2.mjs; resolves to { code, stdout, stderr } whatever the exit status. */
async function r2(...args) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, "scripts/r2.mjs"), ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== "number") throw e;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), "gatefold-r2-"));
  const objects = [
    ["display/0123456789abcdef-960.webp", "image/webp", "webp bytes"],
    ["display/0123456789abcdef-960.jpg", "image/jpeg", "jpeg bytes, a little longer"],
    ["originals/fedcba9876543210.jpg", "image/jpeg", "original bytes"],
  ].map(([key, content_type, body], i) => {
    const file = join(dir, `object-${i}`);
    writeFileSync(file, body);
    return { key, file, content_type };
  });
  const list = join(dir, "objects.json");
  writeFileSync(list, JSON.stringify(objects));
  const persist = join(dir, "state");
  return { dir, objects, list, persist, local: ["--bucket", BUCKET, "--local", "--persist-to", persist] };
}

test("put-list uploads what local R2 lacks, and nothing on a second run", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  const first = await r2("put-list", f.list, ...f.local);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.trim(), "uploaded 3 objects (51 bytes), 0 already there");
  const second = await r2("put-list", f.list, ...f.local);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), "uploaded 0 objects (0 bytes), 3 already there");

  // One more object in the list: only that one goes up.
  const extra = join(f.dir, "extra");
  writeFileSync(extra, "new");
  writeFileSync(f.list, JSON.stringify([...f.objects, { key: "display/aaaaaaaaaaaaaaaa-480.webp", file: extra, content_type: "image/webp" }]));
  const third = await r2("put-list", f.list, ...f.local);
  assert.equal(third.stdout.trim(), "uploaded 1 objects (3 bytes), 3 already there");
});

test("wrangler's local R2 (what wrangler dev --persist-to serves) sees the objects with their type", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  assert.equal((await r2("put-list", f.list, ...f.local)).code, 0);
  const out = join(f.dir, "back");
  await run(
    join(root, "node_modules/.bin/wrangler"),
    ["r2", "object", "get", `${BUCKET}/${f.objects[1].key}`, "--file", out, "--local", "--persist-to", f.persist],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  assert.equal(readFileSync(out, "utf8"), "jpeg bytes, a little longer");

  const { Miniflare } = await import("miniflare");
  const { localR2Persist } = await import("./r2.mjs");
  const mf = new Miniflare({ modules: true, script: "export default {}", r2Buckets: { MEDIA: BUCKET }, r2Persist: localR2Persist(f.persist) });
  try {
    const head = await (await mf.getR2Bucket("MEDIA")).head(f.objects[0].key);
    assert.equal(head?.httpMetadata?.contentType, "image/webp");
  } finally {
    await mf.dispose();
  }
});

test("get writes an object to a file, and exits 2 for a key that does not exist", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  const manifest = join(f.dir, "manifest.json");
  writeFileSync(manifest, '{"format":3}');
  assert.equal((await r2("put", "gatefold/published-manifest.json", manifest, "--content-type", "application/json", ...f.local)).code, 0);
  const back = join(f.dir, "manifest-back.json");
  assert.equal((await r2("get", "gatefold/published-manifest.json", back, ...f.local)).code, 0);
  assert.equal(readFileSync(back, "utf8"), '{"format":3}');

  const missing = await r2("get", "gatefold/no-such-key.json", join(f.dir, "nothing"), ...f.local);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no object gatefold\/no-such-key\.json in bucket gatefold-media/);
});

test("a failed upload exits 1 and names the key", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  writeFileSync(f.list, JSON.stringify([{ key: "display/gone-960.webp", file: join(f.dir, "no-such-file"), content_type: "image/webp" }]));
  const res = await r2("put-list", f.list, ...f.local);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /uploading display\/gone-960\.webp .* failed/);
});

test("usage errors name the fix: one mode, remote credentials, a well-formed list", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.dir, { recursive: true, force: true }));
  const both = await r2("get", "k", "f", "--bucket", BUCKET, "--local", "--remote");
  assert.equal(both.code, 1);
  assert.match(both.stderr, /exactly one of --local --persist-to <dir> or --remote/);
  const env = { ...process.env };
  for (const v of ["CLOUDFLARE_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"]) delete env[v];
  const remote = await run(process.execPath, [join(root, "scripts/r2.mjs"), "get", "k", "f", "--bucket", BUCKET, "--remote"], { env }).catch((e) => e);
  assert.equal(remote.code, 1);
  assert.match(remote.stderr, /--remote needs CLOUDFLARE_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY/);
  writeFileSync(f.list, JSON.stringify([{ key: "display/x-960.webp", file: "/x" }]));
  const bad = await r2("put-list", f.list, ...f.local);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /entry 0 \(display\/x-960\.webp\) has no content_type/);
});

test("remote mode speaks S3: signed PUTs with their type, path-style keys, a 404 is exit 2", async (t) => {
  // A stand-in for R2's S3 endpoint that records what it is sent and holds objects in memory.
  const objects = new Map();
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, type: req.headers["content-type"], auth: req.headers.authorization ?? "" });
      if (req.method === "PUT") {
        objects.set(req.url, Buffer.concat(chunks));
        res.end();
      } else if (objects.has(req.url)) {
        res.end(objects.get(req.url));
      } else {
        res.writeHead(404).end("<Error><Code>NoSuchKey</Code></Error>");
      }
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const f = fixture();
  t.after(() => {
    server.close();
    rmSync(f.dir, { recursive: true, force: true });
  });
  const env = {
    ...process.env,
    CLOUDFLARE_ACCOUNT_ID: "0123456789abcdef",
    R2_ACCESS_KEY_ID: "test-access-key",
    R2_SECRET_ACCESS_KEY: "test-secret",
    R2_ENDPOINT: `http://127.0.0.1:${server.address().port}`,
  };
  const remote = (...args) =>
    run(process.execPath, [join(root, "scripts/r2.mjs"), ...args, "--bucket", BUCKET, "--remote"], { env }).then(
      (r) => ({ code: 0, ...r }),
      (e) => e,
    );
  const put = await remote("put-list", f.list);
  assert.equal(put.code, 0, put.stderr);
  assert.equal(put.stdout.trim(), "uploaded 3 objects (51 bytes), 0 already there", "remote uploads every entry: the caller diffs");
  const puts = seen.filter((r) => r.method === "PUT");
  assert.deepEqual(puts.map((r) => [r.url, r.type]).sort(), f.objects.map((o) => [`/${BUCKET}/${o.key}`, o.content_type]).sort());
  assert.ok(puts.every((r) => r.auth.startsWith("AWS4-HMAC-SHA256 Credential=test-access-key/") && r.auth.includes("/auto/s3/aws4_request")), puts[0].auth);

  const back = join(f.dir, "back");
  assert.equal((await remote("get", f.objects[2].key, back)).code, 0);
  assert.equal(readFileSync(back, "utf8"), "original bytes");
  assert.equal((await remote("get", "gatefold/published-manifest.json", back)).code, 2);
});

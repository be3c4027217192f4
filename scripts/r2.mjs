#!/usr/bin/env node
// One process for many R2 objects: `gatefold publish` and the local run upload every display
// image and original through this instead of one `wrangler r2 object put` process per object
// (about a second each: hours for a large archive).
//
//   node scripts/r2.mjs put-list <list.json> --bucket <name> (--local --persist-to <dir> | --remote)
//   node scripts/r2.mjs get <key> <file>     --bucket <name> (...)   exit 2: no such key
//   node scripts/r2.mjs put <key> <file> [--content-type T] --bucket <name> (...)
//
// <list.json> is what `gatefold build` writes to dist/objects.json: an array of
// {"key", "file" (absolute path of the bytes), "content_type"}.
//
// Local mode goes through Miniflare's R2 API on the directory `wrangler dev --persist-to <dir>`
// uses (it keeps R2 under <dir>/v3/r2), so what is seeded here is what the local worker serves;
// put-list skips keys the bucket already has (a head per key: cheap, and the local state can be
// deleted at any time). Remote mode speaks R2's S3-compatible API (CLOUDFLARE_ACCOUNT_ID,
// R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY; R2_ENDPOINT for another endpoint) and uploads every entry it is given: the caller diffs
// against the manifest it published last, which costs no R2 operation per object.
//
// The functions are exported for tests and the end-to-end harness.

import { readFile, writeFile, rename, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** How many uploads are in flight at once: enough to hide latency, few enough for 2 cores. */
export const IN_FLIGHT = 4;
/** Exit status of `get` when the key does not exist (any other failure exits 1). */
export const EXIT_NO_SUCH_KEY = 2;

/** Where Miniflare keeps R2 under a `wrangler dev --persist-to <dir>` directory. */
export function localR2Persist(persistTo) {
  return join(resolve(persistTo), "v3", "r2");
}

/**
 * Opens `bucket` locally (Miniflare on `persistTo`) or remotely (S3 API). The result has
 * `has(key)`, `get(key)` → Uint8Array | null, `put(key, bytes, contentType)`, `close()`, and
 * `skipsExisting`: whether put-list checks each key first.
 */
export async function openBucket({ bucket, local, persistTo, remote, env = process.env }) {
  if (!bucket) throw new UsageError("--bucket <name> is required");
  if (Boolean(local) === Boolean(remote)) throw new UsageError("give exactly one of --local --persist-to <dir> or --remote");
  if (local) {
    if (!persistTo) throw new UsageError("--local needs --persist-to <dir> (the directory `wrangler dev --persist-to` uses)");
    return openLocal(bucket, persistTo);
  }
  return openRemote(bucket, env);
}

async function openLocal(bucket, persistTo) {
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
    r2Buckets: { MEDIA: bucket },
    r2Persist: localR2Persist(persistTo),
  });
  return { ...wrapR2Binding(await mf.getR2Bucket("MEDIA")), close: () => mf.dispose() };
}

/**
 * The bucket interface over an R2 binding from Miniflare (`mf.getR2Bucket(name)`), e.g. for a test
 * harness that runs its own Miniflare: `putList(wrapR2Binding(bucket), list)`.
 */
export function wrapR2Binding(r2) {
  return {
    skipsExisting: true,
    async has(key) {
      return (await r2.head(key)) !== null;
    },
    async get(key) {
      const object = await r2.get(key);
      return object === null ? null : new Uint8Array(await object.arrayBuffer());
    },
    async put(key, bytes, contentType) {
      // Miniflare's proxy serialises plain typed arrays only and refuses a Node Buffer.
      const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      await r2.put(key, plain, { httpMetadata: contentType ? { contentType } : undefined });
    },
    close: async () => {},
  };
}

async function openRemote(bucket, env) {
  const missing = ["CLOUDFLARE_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"].filter((v) => !env[v]);
  if (missing.length) {
    throw new UsageError(
      `--remote needs ${missing.join(", ")} in the environment (fix: create an R2 API token with Object Read & Write on ${bucket} in the Cloudflare dashboard, R2 → Manage API tokens)`,
    );
  }
  const { AwsClient } = await import("aws4fetch");
  const client = new AwsClient({
    accessKeyId: env.R2_ACCESS_KEY_ID,
    secretAccessKey: env.R2_SECRET_ACCESS_KEY,
    service: "s3",
    region: "auto",
    // aws4fetch retries 5xx and 429 answers and network errors with backoff.
    retries: 5,
  });
  // R2_ENDPOINT: another S3 endpoint of the account, e.g. `https://<account>.eu.r2.cloudflarestorage.com`
  // for a bucket under the EU jurisdiction.
  const endpoint = (env.R2_ENDPOINT || `https://${env.CLOUDFLARE_ACCOUNT_ID}.r2.cloudflarestorage.com`).replace(/\/+$/, "");
  const base = `${endpoint}/${encodeURIComponent(bucket)}`;
  const url = (key) => `${base}/${key.split("/").map(encodeURIComponent).join("/")}`;
  const fail = async (what, key, res) => {
    const body = (await res.text()).slice(0, 300).replace(/\s+/g, " ");
    return new Error(`${what} ${key}: R2 answered ${res.status} ${res.statusText} ${body}`);
  };
  return {
    skipsExisting: false,
    async has(key) {
      const res = await client.fetch(url(key), { method: "HEAD" });
      if (res.status === 404) return false;
      if (!res.ok) throw await fail("head", key, res);
      return true;
    },
    async get(key) {
      const res = await client.fetch(url(key));
      if (res.status === 404) return null;
      if (!res.ok) throw await fail("get", key, res);
      return new Uint8Array(await res.arrayBuffer());
    },
    async put(key, bytes, contentType) {
      const headers = contentType ? { "content-type": contentType } : {};
      const res = await client.fetch(url(key), { method: "PUT", body: bytes, headers });
      if (!res.ok) throw await fail("put", key, res);
      await res.arrayBuffer();
    },
    close: async () => {},
  };
}

/** Reads and checks an objects list (dist/objects.json), naming the entry that is wrong. */
export async function readObjectList(path) {
  let list;
  try {
    list = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new UsageError(`${path}: ${e.message} (fix: run \`gatefold build\`, which writes dist/objects.json)`);
  }
  if (!Array.isArray(list)) throw new UsageError(`${path}: expected a JSON array of {key, file, content_type}`);
  list.forEach((entry, i) => {
    for (const field of ["key", "file", "content_type"]) {
      if (typeof entry?.[field] !== "string" || entry[field] === "") {
        throw new UsageError(`${path}: entry ${i}${entry?.key ? ` (${entry.key})` : ""} has no ${field}`);
      }
    }
  });
  return list;
}

/**
 * Uploads each entry of `list` the bucket lacks (remote: every entry), IN_FLIGHT at a time.
 * Returns { uploaded, bytes, already }. Throws an error naming the key on the first failure.
 */
export async function putList(r2, list, { inFlight = IN_FLIGHT } = {}) {
  const totals = { uploaded: 0, bytes: 0, already: 0 };
  let next = 0;
  let failed = null;
  const worker = async () => {
    while (failed === null && next < list.length) {
      const { key, file, content_type } = list[next++];
      try {
        if (r2.skipsExisting && (await r2.has(key))) {
          totals.already++;
          continue;
        }
        const bytes = await readFile(file);
        await r2.put(key, bytes, content_type);
        totals.uploaded++;
        totals.bytes += bytes.length;
      } catch (e) {
        failed ??= new Error(`uploading ${key} (from ${file}) failed: ${e.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, list.length) }, worker));
  if (failed) throw failed;
  return totals;
}

/** Writes object `key` to `file` (temp file + rename); false when the key does not exist. */
export async function getToFile(r2, key, file) {
  const bytes = await r2.get(key);
  if (bytes === null) return false;
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
  return true;
}

export async function putFile(r2, key, file, contentType) {
  await stat(file);
  await r2.put(key, await readFile(file), contentType);
}

export class UsageError extends Error {}

const USAGE = `usage: node scripts/r2.mjs <command> --bucket <name> (--local --persist-to <dir> | --remote)
  put-list <list.json>                      upload each object of the list the bucket lacks
  get <key> <file>                          write an object to a file (exit 2: no such key)
  put <key> <file> [--content-type <type>]  upload one file`;

/** Parses the command line: { command, args, bucket, local, remote, persistTo, contentType }. */
export function parseArgs(argv) {
  const opts = { args: [], local: false, remote: false };
  const value = (i, flag) => {
    if (i >= argv.length || argv[i].startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--bucket") opts.bucket = value(++i, a);
    else if (a === "--persist-to") opts.persistTo = value(++i, a);
    else if (a === "--content-type") opts.contentType = value(++i, a);
    else if (a === "--local") opts.local = true;
    else if (a === "--remote") opts.remote = true;
    else if (a === "-h" || a === "--help") throw new UsageError("");
    else if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
    else opts.args.push(a);
  }
  opts.command = opts.args.shift();
  const arity = { "put-list": 1, get: 2, put: 2 }[opts.command];
  if (arity === undefined) throw new UsageError(opts.command ? `unknown command ${opts.command}` : "no command given");
  if (opts.args.length !== arity) throw new UsageError(`${opts.command} takes ${arity} argument${arity > 1 ? "s" : ""}`);
  if (opts.contentType && opts.command !== "put") throw new UsageError("--content-type is for put only");
  return opts;
}

/** Runs one command; returns the exit status. */
export async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error(e.message ? `r2: ${e.message}\n${USAGE}` : USAGE);
    return 1;
  }
  let r2;
  try {
    r2 = await openBucket(opts);
    const [a, b] = opts.args;
    switch (opts.command) {
      case "put-list": {
        const t = await putList(r2, await readObjectList(a));
        console.log(`uploaded ${t.uploaded} objects (${t.bytes} bytes), ${t.already} already there`);
        return 0;
      }
      case "get":
        if (!(await getToFile(r2, a, b))) {
          console.error(`r2: no object ${a} in bucket ${opts.bucket}`);
          return EXIT_NO_SUCH_KEY;
        }
        return 0;
      case "put":
        await putFile(r2, a, b, opts.contentType);
        return 0;
    }
  } catch (e) {
    console.error(`r2: ${e.message}`);
    return 1;
  } finally {
    await r2?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
}

// Shared Miniflare harness for the end-to-end tests: builds the fixture site with the real
// generator, loads the real worker build, seeds R2 (binding MEDIA) with the build's display
// images and originals as `dist/objects.json` lists them.
//
//   const w = await startWorker();
//   const res = await w.fetch(`/s/${w.links["showroom/press"].token}`);
//   await w.stop();
//
// Environment: GATEFOLD_E2E_DIST reuses a dist already built by scripts/test-e2e.sh (so the
// test files don't each rebuild it); otherwise it is built into a temp dir on first use.
// GATEFOLD_BIN is the `gatefold` CLI to run (scripts/test-e2e.sh exports the release build the
// Rust tests made); otherwise that same release build is asked of cargo once.
import { Miniflare } from "miniflare";
import { execFileSync, spawnSync } from "node:child_process";
import http from "node:http";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { putList, readObjectList, wrapR2Binding } from "../../scripts/r2.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = join(ROOT, "tests/fixtures/sites/e2e");
export const SIGNING_KEY = "e2e-signing-key-only-for-tests-0123456789";
export const ADMIN_TOKEN = "e2e-admin-token-only-for-tests-0123456789";
const BUILD = join(ROOT, "edge-worker/build");
const OWNER_BUILD = join(ROOT, "edge-worker/build-owner");
/** The scripts' names (wrangler.toml, wrangler.owner.toml): `mf.getWorker(OWNER_WORKER)` runs the cron. */
export const VISITOR_WORKER = "gatefold";
export const OWNER_WORKER = "gatefold-owner";

let bin = process.env.GATEFOLD_BIN;

/**
 * The `gatefold` CLI: `GATEFOLD_BIN`, else the release build (`cargo build --release -p
 * gatefold`, which the Rust tests' `cargo test --release` has already made: one compile for
 * every step), asked of cargo once per process.
 */
export function gatefoldBin() {
  if (!bin) {
    const out = execFileSync("cargo", ["build", "--release", "-q", "--locked", "-p", "gatefold", "--message-format=json-render-diagnostics"], {
      cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 * 1024 * 1024,
    });
    const artifact = out.split("\n").filter(Boolean).map((line) => JSON.parse(line))
      .find((m) => m.reason === "compiler-artifact" && m.target?.name === "gatefold" && m.executable);
    if (!artifact) throw new Error("cargo build -p gatefold named no gatefold executable");
    bin = artifact.executable;
  }
  return bin;
}

/** Runs `gatefold <args>` from the repository root with `env` added: exit code and output. */
export function gatefold(args, { env = {} } = {}) {
  const r = spawnSync(gatefoldBin(), args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout + r.stderr };
}

/**
 * Builds `galleries` into a fresh temp dist with the real generator (the release build every
 * other step uses); returns the dist path. `signingKey` is the build's SIGNING_KEY (default the
 * harness's, which the worker has); `null` builds without one, as a careless first deploy would:
 * with the public development key.
 */
export function buildSite(galleries = FIXTURE, { signingKey = SIGNING_KEY } = {}) {
  const out = mkdtempSync(join(tmpdir(), "gatefold-e2e-"));
  const dist = join(out, "dist");
  const env = { ...process.env, SIGNING_KEY: signingKey ?? "" };
  execFileSync(
    gatefoldBin(),
    ["--galleries", galleries, "build", "--out", dist, "--cache", join(out, "cache")],
    { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] },
  );
  return dist;
}

/**
 * A KV binding that prints one line per operation (`gatefold-e2e-kv <op> <keys>`) before doing
 * it on the real namespace: what Cloudflare counts against an invocation's 1,000 operations (a
 * bulk get of up to 100 keys is one). Miniflare enforces no such limit, so tests count here.
 */
const KV_COUNTER = `
export default function (env) {
  const counted = (op) => (...args) => {
    console.log(\`gatefold-e2e-kv \${op} \${Array.isArray(args[0]) ? args[0].length : 1}\`);
    return env.inner[op](...args);
  };
  return { get: counted("get"), getWithMetadata: counted("getWithMetadata"), put: counted("put"), delete: counted("delete"), list: counted("list") };
}
`;

/** The KV operations a worker started with `countKv` has made so far, per its log. */
export function kvOperations(logs) {
  return logs.split("\n").filter((l) => l.includes("gatefold-e2e-kv ")).length;
}

/** Every file under `dir`, as paths relative to it with forward slashes. */
export function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p).map((q) => `${name}/${q}`));
    else out.push(name);
  }
  return out;
}

/**
 * Every `name=value` a response sets, ready for a Cookie header: a counted open sets the
 * session and, for a browser without one, the device cookie the session is bound to.
 */
export function cookieOf(res) {
  const set = res.headers.getSetCookie();
  return set.length ? set.map((c) => c.split(";")[0]).join("; ") : null;
}

/**
 * Polls `probe` (async) until `done(value)` holds or `ms` pass; answers the last value, so the
 * caller's exact assertion reports what was seen. For effects that are allowed to lag (KV).
 */
export async function until(probe, done, { ms = 60_000, every = 500 } = {}) {
  const started = Date.now();
  let value = await probe();
  while (!done(value) && Date.now() - started < ms) {
    await new Promise((r) => setTimeout(r, every));
    value = await probe();
  }
  return value;
}

/**
 * Starts the real worker under Miniflare. `bindings` replace the default secrets (tests of the
 * worker's own checks); `dist` another built site; `persist` a folder keeping Durable Object and
 * KV state across workers (a redeploy); `seed: false` leaves R2 empty (benchmarks of page opens).
 * `logs()` answers what the worker printed.
 */
export async function startWorker({ dist = process.env.GATEFOLD_E2E_DIST, http = true, bindings = {}, persist, seed = true, countKv = false } = {}) {
  for (const build of [BUILD, OWNER_BUILD]) {
    if (!existsSync(join(build, "index.js"))) throw new Error(`no worker build at ${build}: run scripts/build-worker.sh first`);
  }
  dist ??= buildSite();
  // The full manifest (never deployed) names every link and image the tests use.
  const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8"));
  let printed = "";
  // The two scripts as wrangler.toml and wrangler.owner.toml declare them: the visitor's (first,
  // so it answers `url`) and the owner's, reached through the OWNER service binding; each
  // Durable Object class lives in one and is bound from the other by `scriptName`.
  const script = (build) => ({
    modules: true,
    scriptPath: join(build, "index.js"),
    modulesRoot: build,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    assets: {
      directory: join(dist, "site"),
      binding: "ASSETS",
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true },
      // Exact paths only, as in wrangler.toml: no `.html` stripping or redirects.
      assetConfig: { html_handling: "none", not_found_handling: "none" },
    },
    bindings: { SIGNING_KEY, ADMIN_TOKEN, ...bindings },
  });
  const main = {
    name: VISITOR_WORKER,
    ...script(BUILD),
    ...(countKv ? { wrappedBindings: { LINK_STATE: { scriptName: "kv-counter" } } } : { kvNamespaces: ["LINK_STATE"] }),
    r2Buckets: ["MEDIA"],
    // The Cache API in front of R2 (Miniflare's default, stated because tests rely on it).
    cache: true,
    serviceBindings: { OWNER: OWNER_WORKER },
    durableObjects: {
      LINK_GATE: { className: "LinkGate", useSQLite: true },
      GALLERY_LOG: { className: "GalleryLog", scriptName: OWNER_WORKER, useSQLite: true },
    },
  };
  const owner = {
    name: OWNER_WORKER,
    ...script(OWNER_BUILD),
    kvNamespaces: ["LINK_STATE"],
    durableObjects: {
      LINK_GATE: { className: "LinkGate", scriptName: VISITOR_WORKER, useSQLite: true },
      GALLERY_LOG: { className: "GalleryLog", useSQLite: true },
      SIGN_IN_THROTTLE: { className: "SignInThrottle", useSQLite: true },
      DAILY_DIGEST: { className: "DailyDigest", useSQLite: true },
    },
  };
  const counter = { name: "kv-counter", modules: [{ type: "ESModule", path: "kv-counter.mjs", contents: KV_COUNTER }], kvNamespaces: { inner: "LINK_STATE" } };
  const mf = new Miniflare({
    workers: [main, owner, ...(countKv ? [counter] : [])],
    ...(persist ? { durableObjectsPersist: join(persist, "do"), kvPersist: join(persist, "kv") } : {}),
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) stream.on("data", (chunk) => { printed += chunk; });
    },
    host: "127.0.0.1",
    port: http ? 0 : undefined,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");

  const media = await mf.getR2Bucket("MEDIA");
  // The same upload `make run` and `publish --local` use (scripts/r2.mjs), into this worker's R2.
  if (seed) await putList(wrapR2Binding(media), await readObjectList(join(dist, "objects.json")));

  const links = {};
  for (const g of Object.values(manifest.galleries)) {
    for (const l of Object.values(g.links)) {
      links[`${g.id}/${l.name}`] = { gallery: g.id, link: l.name, token: l.token, policy: l.policy, path: `/s/${l.token}` };
    }
  }

  const gateNs = await mf.getDurableObjectNamespace("LINK_GATE");
  /** Calls the link's LinkGate Durable Object directly (`/open`, `/status`, `/overrides`). */
  async function gate(key, op, init) {
    const stub = gateNs.get(gateNs.idFromName(key));
    const res = await stub.fetch(`https://link-gate/${op}`, init);
    if (!res.ok) throw new Error(`LinkGate ${key} ${op}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  const logNs = await mf.getDurableObjectNamespace("GALLERY_LOG");
  const digestNs = await mf.getDurableObjectNamespace("DAILY_DIGEST", OWNER_WORKER);
  /** What a gallery's log (or the digest coordinator, `gatefold:digest`, a `DailyDigest`) has waiting to send. */
  async function notifications(name) {
    const [ns, cls] = name === "gatefold:digest" ? [digestNs, "DailyDigest"] : [logNs, "GalleryLog"];
    const res = await ns.get(ns.idFromName(name)).fetch("https://gallery-log/notifications", { method: "POST", body: "{}" });
    if (!res.ok) throw new Error(`${cls} ${name} notifications: ${res.status} ${await res.text()}`);
    return res.json();
  }

  const worker = {
    mf,
    url,
    dist,
    manifest,
    links,
    /** The R2 bucket of display images and originals (binding MEDIA). */
    media,
    signingKey: SIGNING_KEY,
    adminToken: ADMIN_TOKEN,
    /** Request through Miniflare's dispatcher (supports `cf` in init), path relative to the worker. */
    fetch: (path, init = {}) => mf.dispatchFetch(path.startsWith("http") ? path : `${url}${path}`, { redirect: "manual", ...init }),
    /** A person's top-level browser navigation to `path` (extra headers override the defaults). */
    navigate: (path, { headers = {}, cf } = {}) => rawRequest(url, path, { headers: { ...NAVIGATION_HEADERS, ...headers }, cf }),
    /** Any raw request with exactly these headers (see `rawRequest`). */
    raw: (path, init = {}) => rawRequest(url, path, init),
    gate,
    notifications,
    /**
     * Polls the gallery's statistics (`?link=` one link's) until `done(totals)` holds: the
     * worker logs after answering (waitUntil). Answers the last totals seen, for the caller's
     * exact assertion.
     */
    logged(gallery, done, { link } = {}) {
      const path = `galleries/${gallery}/stats${link ? `?link=${encodeURIComponent(link)}` : ""}`;
      const totals = async () => (await (await statsApi(path, {}, worker)).json()).totals;
      return until(totals, done, { ms: 10_000, every: 100 });
    },
    setOverrides: (key, overrides) => gate(key, "overrides", { method: "PUT", body: JSON.stringify(overrides) }),
    status: (key) => gate(key, "status"),
    siteFiles: () => walk(join(dist, "site")),
    logs: () => printed,
    stop: () => mf.dispose(),
  };
  return worker;
}

// `logged`'s calls come from an address of their own, so they never share a sign-in throttle
// with a test's.
const statsApi = adminApi({ ip: "198.51.100.254" });

/**
 * The admin API with the admin token, as an owner's tools call it: `admin(path, init, target)`
 * fetches `/admin/api/<path>` from `target`, by default the worker `worker()` answers (a file's
 * worker, started in its `before`). `ip` is the address every call comes from (each file its
 * own, so a test of the sign-in throttle never counts another's calls); `headers` go with every
 * call, `init.headers` after them.
 */
export function adminApi({ worker, ip, headers = {} } = {}) {
  return (path, init = {}, target = worker?.()) =>
    target.fetch(`/admin/api/${path}`, {
      ...init,
      headers: { authorization: `Bearer ${target.adminToken}`, ...(ip ? { "cf-connecting-ip": ip } : {}), ...headers, ...(init.headers || {}) },
    });
}

/** What a current desktop Chrome sends for a top-level navigation typed or clicked by a person. */
export const NAVIGATION_HEADERS = {
  "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "sec-fetch-mode": "navigate",
  "sec-fetch-dest": "document",
  "sec-fetch-site": "none",
  "sec-fetch-user": "?1",
};

/**
 * A raw HTTP request to the worker with exactly the headers given. Node's `fetch` (undici, and
 * Miniflare's dispatchFetch with it) always rewrites `Sec-Fetch-Mode` to `cors`, so it can never
 * send a browser navigation; this can. `cf` sets `request.cf` the way Miniflare's own entry
 * socket reads it. Answers a fetch-like object: status, headers (a `Headers`), text(), json().
 */
export function rawRequest(baseUrl, path, { method = "GET", headers = {}, body, cf } = {}) {
  const url = new URL(path.startsWith("http") ? path : `${baseUrl}${path}`);
  const sent = { ...headers };
  if (cf) sent["MF-CF-Blob"] = JSON.stringify(cf);
  if (body !== undefined) sent["content-length"] = Buffer.byteLength(body);
  return new Promise((resolveReq, reject) => {
    const req = http.request(url, { method, headers: sent, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const buf = Buffer.concat(chunks);
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        resolveReq({
          status: res.statusCode,
          headers: h,
          ok: res.statusCode >= 200 && res.statusCode < 300,
          body: buf,
          text: async () => buf.toString("utf8"),
          json: async () => JSON.parse(buf.toString("utf8")),
          arrayBuffer: async () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
        });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Opens the admin page in a browser `page` and signs in with the admin token; answers the
 * console and page errors collected from then on.
 */
export async function signInAdmin(page, w) {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${w.url}/admin`);
  await page.fill("#token", w.adminToken);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#dashboard:not([hidden])");
  return errors;
}

/** Debian's Chromium, headless, without the background traffic a closed network refuses. */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

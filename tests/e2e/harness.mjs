// Shared Miniflare harness for the end-to-end tests: builds the fixture site with the real
// generator, loads the real worker build, seeds R2 with the originals.
//
//   const w = await startWorker();
//   const res = await w.fetch(`/s/${w.links["showroom/press"].token}`);
//   await w.stop();
//
// Environment: GATEFOLD_E2E_DIST reuses a dist already built by scripts/test-e2e.sh (so the
// test files don't each rebuild it); otherwise it is built into a temp dir on first use.
import { Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = join(ROOT, "tests/fixtures/sites/e2e");
export const SIGNING_KEY = "e2e-signing-key-only-for-tests-0123456789";
export const ADMIN_TOKEN = "e2e-admin-token-only-for-tests-0123456789";
const BUILD = join(ROOT, "edge-worker/build");

/** Builds `galleries` into a fresh temp dist with the real generator; returns the dist path. */
export function buildSite(galleries = FIXTURE) {
  const out = mkdtempSync(join(tmpdir(), "gatefold-e2e-"));
  const dist = join(out, "dist");
  execFileSync(
    "cargo",
    ["run", "-q", "-p", "gatefold", "--", "--galleries", galleries, "build", "--out", dist, "--cache", join(out, "cache")],
    { cwd: ROOT, env: { ...process.env, SIGNING_KEY }, stdio: ["ignore", "ignore", "inherit"] },
  );
  return dist;
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

/** `name=value` of the first Set-Cookie of a response, ready for a Cookie header. */
export function cookieOf(res) {
  const set = res.headers.get("set-cookie");
  return set ? set.split(";")[0] : null;
}

export async function startWorker({ dist = process.env.GATEFOLD_E2E_DIST, http = true } = {}) {
  if (!existsSync(join(BUILD, "index.js"))) {
    throw new Error(`no worker build at ${BUILD}: run scripts/build-worker.sh first`);
  }
  dist ??= buildSite();
  const manifest = JSON.parse(readFileSync(join(dist, "site/_gatefold/manifest.json"), "utf8"));
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(BUILD, "index.js"),
    modulesRoot: BUILD,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    assets: {
      directory: join(dist, "site"),
      binding: "ASSETS",
      routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true },
      // Exact paths only, as in wrangler.toml: no `.html` stripping or redirects.
      assetConfig: { html_handling: "none", not_found_handling: "none" },
    },
    kvNamespaces: ["LINK_STATE"],
    r2Buckets: ["ORIGINALS"],
    durableObjects: {
      LINK_GATE: { className: "LinkGate", useSQLite: true },
      GALLERY_LOG: { className: "GalleryLog", useSQLite: true },
    },
    bindings: { SIGNING_KEY, ADMIN_TOKEN },
    host: "127.0.0.1",
    port: http ? 0 : undefined,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");

  const bucket = await mf.getR2Bucket("ORIGINALS");
  const originals = join(dist, "originals");
  for (const g of Object.values(manifest.galleries)) {
    for (const img of g.images) {
      // A plain Uint8Array copy: Miniflare's serialiser rejects Node's pooled Buffers.
      await bucket.put(img.original.key, new Uint8Array(readFileSync(join(originals, img.original.key))), {
        httpMetadata: { contentType: img.original.content_type },
      });
    }
  }

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

  return {
    mf,
    url,
    dist,
    manifest,
    links,
    signingKey: SIGNING_KEY,
    adminToken: ADMIN_TOKEN,
    /** Request through Miniflare's dispatcher (supports `cf` in init), path relative to the worker. */
    fetch: (path, init = {}) => mf.dispatchFetch(path.startsWith("http") ? path : `${url}${path}`, { redirect: "manual", ...init }),
    gate,
    setOverrides: (key, overrides) => gate(key, "overrides", { method: "PUT", body: JSON.stringify(overrides) }),
    status: (key) => gate(key, "status"),
    siteFiles: () => walk(join(dist, "site")),
    stop: () => mf.dispose(),
  };
}

/** Debian's Chromium, headless, without the background traffic a closed network refuses. */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

// Link password benchmark: what one PBKDF2-SHA256 derive costs under workerd (Miniflare's
// runtime, the same Web Crypto the worker's `password` module calls through web-sys), at
// several iteration counts, against a reference in the same run: one SHA-256 digest of the
// same input. The Free plan gives a request 10 ms of CPU, so the chosen count must leave most
// of that to the rest of an open.
//
// workerd stops its clocks while a request computes (timing side channels), so the time is
// taken outside: each request runs `n` derives back to back, and the empty request's time is
// subtracted before dividing by `n`.
//
//   node bench/password/run.mjs [derives per request, default 20]
import { Miniflare } from "miniflare";

const N = Number(process.argv[2] || 20);
const COUNTS = [5_000, 10_000, 20_000, 50_000, 100_000];
const ROUNDS = 7;

const script = `
const enc = new TextEncoder();
const password = enc.encode("correct horse battery");
const salt = new Uint8Array(16).fill(7); // random values are not allowed at global scope; a fixed salt costs the same
export default {
  async fetch(req) {
    const u = new URL(req.url);
    const n = Number(u.searchParams.get("n") || 0);
    const iterations = Number(u.searchParams.get("iterations") || 0);
    let out = 0;
    for (let i = 0; i < n; i++) {
      if (iterations) {
        const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
        const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
        out ^= new Uint8Array(bits)[0];
      } else if (u.pathname === "/sha") {
        out ^= new Uint8Array(await crypto.subtle.digest("SHA-256", password))[0];
      }
    }
    return new Response(String(out));
  },
};`;

const mf = new Miniflare({ modules: true, script, compatibilityDate: "2026-04-01" });
await mf.ready;

async function median(path) {
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const res = await mf.dispatchFetch(`http://bench${path}`);
    await res.text();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(ROUNDS / 2)];
}

await median(`/derive?n=${N}&iterations=1000`); // warm-up
const empty = await median("/empty?n=0");
const shaN = 20_000; // enough digests to stand out of the empty request's noise
const sha = Math.max(0, (await median(`/sha?n=${shaN}`)) - empty) / shaN;
console.log(`derives per request: ${N}; median of ${ROUNDS} requests; empty request ${empty.toFixed(2)} ms`);
console.log(`reference: one SHA-256 digest of the same input: ${(sha * 1000).toFixed(1)} µs`);
console.log("| iterations | ms per derive | × SHA-256 digest |");
console.log("|---|---|---|");
for (const iterations of COUNTS) {
  const per = Math.max(0, (await median(`/derive?n=${N}&iterations=${iterations}`)) - empty) / N;
  console.log(`| ${iterations.toLocaleString("en")} | ${per.toFixed(2)} | ${sha > 0 ? Math.round(per / sha).toLocaleString("en") : "n/a"} |`);
}
await mf.dispose();

// A fresh workerd per sample loading one worker build and answering its first request: process
// start, the wasm's compile and instantiation, one request. No bindings, so the worker's first
// check (its secrets) answers 503 at once: what is timed is the script, not the site. Builds
// alternate sample by sample so the machine's load falls on each alike; medians.
//
//   node bench/worker/cold-start.mjs [<build dir> …]   (default: edge-worker/build edge-worker/build-owner)
//
// Compare two versions by passing an older checkout's build directory beside this one's. An empty
// worker (no wasm) runs alongside as the baseline: what a fresh workerd costs by itself (process,
// runtime). Over it (`over_empty_ms`) is the script's own share, compile, instantiate and the
// first request: the part a fresh isolate pays on Cloudflare, where the process is already up.
import { Miniflare } from "miniflare";
import { resolve } from "node:path";

const dirs = process.argv.length > 2 ? process.argv.slice(2) : ["edge-worker/build", "edge-worker/build-owner"];
const N = Number(process.env.N ?? 9);
const EMPTY = "(empty worker)";
const times = new Map([EMPTY, ...dirs].map((d) => [d, []]));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (let i = 0; i < N; i++) {
  for (const dir of times.keys()) {
    const root = resolve(dir);
    const started = process.hrtime.bigint();
    const script =
      dir === EMPTY
        ? { script: 'export default { fetch() { return new Response("", { status: 503 }); } };' }
        : { scriptPath: `${root}/index.js`, modulesRoot: root, modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }] };
    const mf = new Miniflare({
      modules: true,
      ...script,
      compatibilityDate: "2026-04-01",
      handleRuntimeStdio() {},
    });
    const res = await mf.dispatchFetch("http://cold-start/robots.txt");
    await res.arrayBuffer();
    times.get(dir).push(Number(process.hrtime.bigint() - started) / 1e6);
    await mf.dispose();
    if (res.status !== 503) throw new Error(`${dir}: expected the unconfigured worker's 503, got ${res.status}`);
  }
}
const empty = median(times.get(EMPTY));
for (const [dir, xs] of times) {
  const m = median(xs);
  console.log(JSON.stringify({ build: dir, median_ms: +m.toFixed(0), over_empty_ms: +(m - empty).toFixed(0), samples: N }));
}

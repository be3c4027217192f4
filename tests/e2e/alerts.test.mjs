// End-to-end tests of alerts in seconds (gallery `notify-g`, every channel at a local
// receiver): a window's first notice reaches the receiver within seconds of the open, later
// ones of the window fold into one trailing message with their count (a burst of 1,000 opens
// is at most two messages a window), and a failing receiver is retried on the schedule
// 1, 3, 6 times the first delay, then doubling (10 s, 30 s, 1 min, … at the default 10 s).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, until } from "./harness.mjs";
import { startReceiver } from "./notify-receiver.mjs";

let receiver;
let w;

async function withWorker(body, extra = {}) {
  receiver.clear();
  w = await startWorker({ bindings: { ...receiver.bindings, ...extra } });
  try { await body(); } finally { await w.stop(); }
}

before(async () => { receiver = await startReceiver(); });
after(async () => { await receiver?.stop(); });

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const L = (name) => w.links[`notify-g/${name}`];
const open = (name, ip = "203.0.113.9") => w.navigate(L(name).path, { headers: { "user-agent": CHROME, "cf-connecting-ip": ip } });
const hooks = (type) => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === type);
const ipOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

test("a first open reaches every platform within seconds, with the default one-minute window", async () => {
  await withWorker(async () => {
    const t0 = Date.now();
    assert.equal((await open("alpha")).status, 200);
    await until(async () => hooks("first_open").length, (n) => n >= 1, { ms: 15_000, every: 50 });
    const [first] = hooks("first_open");
    assert.ok(first, "first_open arrived");
    assert.ok(first.at - t0 <= 10_000, `open to receiver in ${first.at - t0} ms`);
    const platforms = ["feishu", "dingtalk", "wecom", "slack", "webhook"];
    const each = () => platforms.every((p) => receiver.received.filter((r) => r.platform === p).length >= 2);
    await until(async () => each(), (ok) => ok, { ms: 15_000, every: 50 });
    for (const p of platforms) {
      const got = receiver.received.filter((r) => r.platform === p);
      assert.ok(got.length >= 2 && got.every((r) => r.at - t0 <= 10_000), `${p}: both messages within 10 s`);
    }
  });
});

test("a burst of 1,000 opens is one message at once and one trailing message with the rest of the window's count", async () => {
  await withWorker(async () => {
    // Windows of 30 s starting on multiples of 30 s: start just after one starts, so the
    // burst fits in it on a loaded machine.
    await until(async () => Date.now() % 30_000, (ms) => ms < 200, { ms: 31_000, every: 5 });
    const t0 = Date.now();
    let next = 0;
    const worker = async () => { while (next < 1000) { const i = next++; await open("beta", ipOf(i + 1)); } };
    await Promise.all(Array.from({ length: 20 }, worker));
    const burstMs = Date.now() - t0;
    const total = () => hooks("open").reduce((n, r) => n + r.json.count, 0);
    // The last window's trailing message comes at its end.
    await until(async () => total(), (n) => n >= 1000, { ms: 120_000, every: 200 });
    assert.equal(total(), 1000, "every open counted once");
    const windows = new Map();
    for (const r of hooks("open")) {
      const window = Math.floor(Date.parse(r.json.first_at) / 30_000);
      windows.set(window, (windows.get(window) ?? 0) + 1);
    }
    for (const [window, messages] of windows) assert.ok(messages <= 2, `window ${window}: ${messages} messages`);
    if (burstMs < 25_000) {
      assert.equal(hooks("open").length, 2, "the burst within one window: two messages");
      const [lead, trailing] = hooks("open").sort((a, b) => a.at - b.at);
      assert.ok(lead.at - t0 <= 10_000, `the first within seconds (${lead.at - t0} ms)`);
      assert.equal(trailing.json.count, 1000 - lead.json.count, "the trailing message carries the rest");
      assert.notEqual(trailing.json.id, lead.json.id, "its own idempotency key");
      assert.ok(trailing.at >= t0 - (t0 % 30_000) + 30_000 - 1000, "the trailing one at the window's end");
    }
  }, { NOTIFY_BATCH_SECONDS: "30" });
});

test("a failing receiver is retried after 1, 3 and 6 times the first delay, with the same event id", async () => {
  await withWorker(async () => {
    receiver.failNext("webhook", 3);
    assert.equal((await open("gamma")).status, 403);
    const tries = () => hooks("denied_after_close");
    await until(async () => tries().length, (n) => n >= 4, { ms: 30_000, every: 50 });
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(tries().length, 4, "three refused, the fourth delivered, then nothing more");
    assert.equal(new Set(tries().map((r) => r.json.id)).size, 1, "one idempotency key");
    const gaps = tries().slice(1).map((r, i) => r.at - tries()[i].at);
    // 2 s first delay here: 2, 6 and 12 s (10 s, 30 s and 1 min at the default 10 s).
    for (const [gap, want] of gaps.map((g, i) => [g, [2_000, 6_000, 12_000][i]])) {
      assert.ok(gap >= want - 300 && gap <= want + 3_000, `gaps ${gaps.join(", ")} ms: want about ${want}`);
    }
    const st = await w.notifications("notify-g");
    assert.equal(st.pending, 0);
  }, { NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "2" });
});

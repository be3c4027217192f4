// End-to-end tests of owner notifications (gallery `notify-g`, whose 5 channels — Feishu,
// DingTalk, WeCom, Slack, webhook — all point at a local receiver): the events each visit
// becomes, the platforms' payloads and signatures (checked with Node's crypto), batching under a
// burst, retries with the same event id, nothing for HEAD, bots or scanners, the daily digest
// through the scheduled handler, and the admin API's notify test and notification status.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, until, adminApi, cookieOf, OWNER_WORKER } from "./harness.mjs";
import { startReceiver, PLATFORMS, signatureValid } from "./notify-receiver.mjs";

let receiver;
let w;

/** A worker of its own per test, so what the receiver gets is only that test's traffic. */
async function withWorker(body, extra = {}) {
  receiver.clear();
  w = await startWorker({ bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "1", ...extra } });
  try { await body(); } finally { await w.stop(); }
}

before(async () => { receiver = await startReceiver(); });
after(async () => { await receiver?.stop(); });

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const L = (name) => w.links[`notify-g/${name}`];
const open = (name, ip = "203.0.113.9") => w.navigate(L(name).path, { headers: { "user-agent": CHROME, "cf-connecting-ip": ip } });
const admin = adminApi({ worker: () => w, ip: "198.51.100.7" });

/** The webhook messages received so far, by type. */
const hooks = (type) => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === type);
const of = (platform) => receiver.received.filter((r) => r.platform === platform);

/**
 * Waits until nothing more can be sent: the gallery's log has no notice waiting (a notice stays
 * in its outbox until the receiver took it) and the digest coordinator no gallery left to ask.
 * Call it once the events that could notify are in the log.
 */
async function settled() {
  const waiting = async () => (await w.notifications("notify-g")).pending + (await w.notifications("gatefold:digest")).pending;
  assert.equal(await until(waiting, (n) => n === 0, { ms: 20_000, every: 100 }), 0, "the outbox drains");
}

/** Waits until `done()` holds (polling the receiver), then until nothing more can arrive. */
async function receive(done, { ms = 20_000 } = {}) {
  await until(async () => done(), (ok) => ok, { ms, every: 100 });
  assert.ok(done(), `expected messages did not arrive: got ${JSON.stringify(receiver.received.map((r) => [r.platform, r.json?.type]))}`);
  await settled();
}

test("a first open sends one first_open and one open message to every platform, in its format, signed", async () => {
  await withWorker(async () => {
    assert.equal((await open("alpha")).status, 200);
    await receive(() => PLATFORMS.every((p) => of(p).length >= 2));
    for (const p of PLATFORMS) assert.equal(of(p).length, 2, `${p}: first_open and open, nothing else`);
    const [first] = hooks("first_open");
    const [opened] = hooks("open");
    assert.ok(first && opened, "the webhook names both events");
    assert.equal(first.json.count, 1);
    assert.equal(first.json.gallery.id, "notify-g");
    assert.equal(first.json.link.id, "notify-g/alpha");
    assert.equal(first.json.link.label, "Alpha team");
    assert.match(first.json.detail, /1 of 5 views used/);
    assert.match(first.json.admin_url, /\/admin$/);
    assert.match(first.json.device, /desktop · Windows.* · Chrome/);
    assert.notEqual(first.json.id, opened.json.id);
    for (const r of receiver.received) assert.ok(signatureValid(r), `${r.platform}: valid signature`);
    // Each platform's own shape, carrying the same event ids.
    for (const r of of("feishu")) {
      assert.equal(r.json.msg_type, "interactive");
      assert.ok(r.json.card.header.title.content);
      assert.ok([first.json.id, opened.json.id].some((id) => r.body.includes(id)));
    }
    for (const r of of("dingtalk")) assert.equal(r.json.msgtype, "markdown");
    for (const r of of("wecom")) assert.equal(r.json.msgtype, "markdown");
    for (const r of of("slack")) assert.ok(Array.isArray(r.json.blocks) && r.json.text);
    assert.equal(of("wecom")[0].query.get("key"), "e2e", "the secret URL is used as given");
    assert.ok(of("feishu").some((r) => r.body.includes("Alpha team")));
  });
});

test("a burst of 30 opens of one link is one open message with count 30, plus the limit messages", async () => {
  await withWorker(async () => {
    // Windows are 10 s here and start on multiples of 10 s: start the burst just after one
    // starts, leaving it far more time than it takes on a loaded machine. The window's first
    // message gathers for 8 s here, so the whole burst folds into it.
    await until(async () => Date.now() % 10_000, (ms) => ms < 150, { ms: 11_000, every: 5 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => w.navigate(L("beta").path, { headers: { "user-agent": CHROME, "cf-connecting-ip": `203.0.113.${i + 1}` } })));
    const total = () => hooks("open").reduce((n, r) => n + r.json.count, 0);
    await receive(() => total() >= 30 && hooks("first_open").length === 1);
    assert.equal(total(), 30, "every open counted once");
    assert.equal(hooks("open").length, 1, "one message for the burst");
    assert.equal(hooks("open")[0].json.count, 30);
    assert.equal(hooks("limit_near").length + hooks("limit_reached").length, 0, "beta has no view limit");

    // alpha: 5 views, the 4th is 80 %, the 5th the last, the 6th is denied.
    for (let i = 0; i < 6; i++) await open("alpha", `198.51.100.${i + 1}`);
    await receive(() => hooks("limit_near").length === 1 && hooks("limit_reached").length === 1 && hooks("denied_after_close").length === 1);
    assert.match(hooks("limit_near")[0].json.detail, /4 of 5 views used/);
    assert.match(hooks("limit_reached")[0].json.detail, /5 of 5 views used/);
    assert.equal(hooks("denied_after_close")[0].json.detail, "view_limit_reached");
  }, { NOTIFY_BATCH_SECONDS: "10", NOTIFY_GATHER_SECONDS: "8" });
});

test("downloads notify", async () => {
  await withWorker(async () => {
    const page = await open("alpha");
    const cookie = cookieOf(page);
    const image = w.manifest.galleries["notify-g"].images[0].id;
    const res = await w.fetch(`${L("alpha").path}/download/${image}`, { headers: { cookie, "user-agent": CHROME } });
    assert.equal(res.status, 200);
    await receive(() => hooks("download").length === 1);
    assert.equal(hooks("download")[0].json.link.id, "notify-g/alpha");
  });
});

test("a platform answering 500 twice is retried until it takes the message, with the same event id", async () => {
  await withWorker(async () => {
    // A first open is two messages (first_open, open), each sent in the same alarm run: four
    // 500s refuse each of them twice.
    receiver.failNext("webhook", 4);
    await open("beta");
    const firstOpens = () => of("webhook").filter((r) => r.json?.type === "first_open");
    await receive(() => firstOpens().length === 3 && hooks("open").length === 3);
    assert.equal(firstOpens().length, 3, "two refused tries and one delivered, then nothing more");
    assert.equal(hooks("open").length, 3);
    assert.equal(new Set(firstOpens().map((r) => r.json.id)).size, 1, "one idempotency key");
    assert.equal(new Set(firstOpens().map((r) => r.headers["x-gatefold-event-id"])).size, 1);
    for (const r of firstOpens()) assert.ok(signatureValid(r), "each retry signed afresh");
    assert.equal(of("slack").filter((r) => r.body.includes(firstOpens()[0].json.id)).length, 1, "other channels got it once");
    const st = await (await admin("galleries/notify-g/notifications")).json();
    assert.equal(st.pending, 0);
    assert.deepEqual(st.dead_letters, []);
  });
});

test("nothing is sent for HEAD, a link-preview bot or a scanner's GET without fetch metadata", async () => {
  await withWorker(async () => {
    assert.equal((await w.fetch(L("alpha").path, { method: "HEAD" })).status, 200);
    assert.equal((await w.raw(L("alpha").path, { headers: { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" } })).status, 200);
    assert.equal((await w.raw(L("alpha").path, { headers: { "user-agent": CHROME } })).status, 200);
    // Nor for the closed link gamma: previews of a disabled link are no person's attempt.
    await w.raw(L("gamma").path, { headers: { "user-agent": CHROME } });
    // The three GETs are in the log (HEAD is not logged): whatever they notify is decided.
    assert.equal((await w.logged("notify-g", (t) => t.previews >= 3)).previews, 3);
    await settled();
    assert.deepEqual(receiver.received.map((r) => r.platform), []);
  });
});

test("a person opening the disabled link gamma is denied_after_close", async () => {
  await withWorker(async () => {
    assert.equal((await open("gamma")).status, 403);
    await receive(() => PLATFORMS.every((p) => of(p).length >= 1));
    for (const p of PLATFORMS) assert.equal(of(p).length, 1, p);
    assert.equal(hooks("denied_after_close")[0].json.detail, "link_disabled");
    assert.equal(hooks("denied_after_close")[0].json.link.id, "notify-g/gamma");
  });
});

test("the daily digest goes out through the scheduled handler at the digest hour only, once per day", async () => {
  await withWorker(async () => {
    await open("alpha");
    await receive(() => hooks("open").length === 1);
    // soon: shortened at runtime to expire within 48 h.
    const inADay = Math.floor(Date.now() / 1000) + 24 * 3600;
    const before = receiver.received.length;
    const patched = await admin("links/notify-g/soon", { method: "PATCH", body: JSON.stringify({ expires_at: inADay, force: true }) });
    assert.equal(patched.status, 200, await patched.clone().text());
    // The owner's change is itself notified: let it arrive before watching the digest alone.
    await receive(() => receiver.received.length >= before + PLATFORMS.length && hooks("owner_action").length === 1);
    receiver.clear();
    const worker = await w.mf.getWorker(OWNER_WORKER);
    // The site is in Asia/Shanghai with the default digest hour 09:00: 01:00 UTC.
    const today = new Date();
    const at = (h) => Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), h, 0);
    // The handler hands a due gallery to the coordinator before it returns: settled, anything
    // it planned has been sent.
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: new Date(at(5)) });
    await settled();
    assert.deepEqual(receiver.received.map((r) => r.platform), [], "nothing at 13:00 in Shanghai");
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: new Date(at(1)) });
    await receive(() => hooks("digest").length === 1 && hooks("expires_soon").length === 1 && PLATFORMS.every((p) => of(p).length >= 2));
    const digest = hooks("digest")[0].json.digest;
    const day = new Date(at(1) + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
    assert.equal(digest.day, day);
    const alpha = digest.links.find((l) => l.id === "notify-g/alpha");
    assert.deepEqual([alpha.opened, alpha.downloaded, alpha.download_on, alpha.views_left], [true, false, true, 4]);
    assert.equal(digest.links.find((l) => l.id === "notify-g/soon").expires_at, inADay);
    assert.equal(hooks("expires_soon")[0].json.link.id, "notify-g/soon");
    for (const p of PLATFORMS) assert.equal(of(p).length, 2, `${p}: the digest and expires_soon`);
    for (const r of receiver.received) assert.ok(signatureValid(r), r.platform);
    // The same hour again (a retried cron) sends nothing new.
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: new Date(at(1)) });
    await settled();
    assert.equal(hooks("digest").length, 1);
    assert.equal(hooks("expires_soon").length, 1);
  });
});

test("the notify test route sends one test message per channel and reports each answer", async () => {
  await withWorker(async () => {
    const res = await admin("notify/test", { method: "POST", body: JSON.stringify({ gallery: "notify-g" }) });
    assert.equal(res.status, 200);
    const { channels } = await res.json();
    assert.deepEqual(channels.map((c) => c.to).sort(), [...PLATFORMS].sort());
    for (const c of channels) {
      assert.equal(c.gallery, "notify-g");
      assert.equal(c.ok, true, `${c.to}: ${c.detail}`);
      assert.ok(c.status >= 200 && c.status < 300);
    }
    assert.equal(hooks("test").length, 1);
    for (const r of receiver.received) assert.ok(signatureValid(r), r.platform);
    const all = await (await admin("notify/test", { method: "POST" })).json();
    assert.equal(all.channels.length, 5, "site-wide: the same 5 channels, once each");
    assert.equal((await admin("notify/test", { method: "POST", body: JSON.stringify({ gallery: "nope" }) })).status, 404);
  });
});

test("a channel whose secret is missing is reported by the notify test and becomes a dead letter at once", async () => {
  await withWorker(async () => {
    const { channels } = await (await admin("notify/test", { method: "POST", body: "{}" })).json();
    const slack = channels.find((c) => c.to === "slack");
    assert.deepEqual([slack.ok, slack.status], [false, null]);
    assert.match(slack.detail, /NOTIFY_SLACK_URL is not set/);
    await open("gamma");
    await receive(() => of("webhook").length === 1);
    const st = await (await admin("galleries/notify-g/notifications")).json();
    assert.equal(st.dead_letters.length, 1);
    assert.deepEqual([st.dead_letters[0].to, st.dead_letters[0].kind, st.dead_letters[0].link], ["slack", "denied_after_close", "notify-g/gamma"]);
    assert.match(st.dead_letters[0].reason, /NOTIFY_SLACK_URL/);
    assert.ok(!w.logs().includes(receiver.base), "no URL in the worker's log");
  }, { NOTIFY_SLACK_URL: "" });
});

test("an owner's action through the admin API is notified once, saying what changed and from where", async () => {
  await withWorker(async () => {
    assert.equal((await admin("links/notify-g/beta/disable", { method: "POST" })).status, 200);
    await receive(() => PLATFORMS.every((p) => of(p).length >= 1));
    for (const p of PLATFORMS) assert.equal(of(p).length, 1, `${p}: one owner_action message`);
    const [action] = hooks("owner_action");
    assert.equal(action.json.link.id, "notify-g/beta");
    assert.match(action.json.detail, /^disable: .*active.* → .*disabled.* · 198\.51\.100\.0$/);
    for (const r of receiver.received) assert.ok(signatureValid(r), `${r.platform}: valid signature`);
  });
});

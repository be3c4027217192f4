// End-to-end tests of links tied to their recipient's devices and of forwarding flagged
// (gallery `devices-g`): the device cookie a counted open sets, `devices: N` admitting the first
// N devices and refusing one more with `device_limit`, sessions bound to their device, the owner
// forgetting a device and allowing one more (API, CLI, audit), and a link opened from three
// devices or two cities flagged "possibly forwarded" — in the links list and its filter, the
// export's column, the follow-up — and notified once to a local receiver.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, until, adminApi, cookieOf, gatefold } from "./harness.mjs";
import { startReceiver, signatureValid } from "./notify-receiver.mjs";

let w, receiver;
before(async () => {
  receiver = await startReceiver();
  w = await startWorker({ bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "1" } });
});
after(async () => { await w?.stop(); await receiver?.stop(); });

const CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const L = (name) => w.links[`devices-g/${name}`];
const admin = adminApi({ worker: () => w, ip: "198.51.100.31" });
const cli = (args) => gatefold(args, { env: { GATEFOLD_URL: w.url, GATEFOLD_ADMIN_TOKEN: w.adminToken } });
/** A person opening the link on a device: `cookie` is what that browser already holds. */
const open = (name, { cookie, city, lang } = {}) => w.navigate(L(name).path, {
  headers: { "user-agent": CHROME, ...(cookie ? { cookie } : {}), ...(lang ? { "accept-language": lang } : {}) },
  ...(city ? { cf: { city, country: "CN" } } : {}),
});
const deviceCookie = (res) => res.headers.getSetCookie().find((c) => c.startsWith("__Secure-gf_device="));
const devices = async (name) => (await (await admin(`links/devices-g/${name}/devices`)).json());
const linkRow = async (name) => (await (await admin(`links?gallery=devices-g&q=${name}`)).json()).links.find((l) => l.name === name);

test("a counted open sets a site-wide device cookie: __Secure-, HttpOnly, SameSite=Lax, 400 days", async () => {
  const res = await open("crew/lee");
  assert.equal(res.status, 200);
  const set = deviceCookie(res);
  assert.match(set, /^__Secure-gf_device=[0-9a-f]{32}\.[0-9a-f]{32}; Path=\/; Max-Age=34560000; HttpOnly; Secure; SameSite=Lax$/);
  const again = await open("crew/lee", { cookie: deviceCookie(res).split(";")[0] });
  assert.equal(deviceCookie(again), undefined, "a browser that has one is not given another");
  assert.equal((await devices("crew/lee")).summary.count, 1, "the same device, counted once");
});

test("a devices: 2 link admits the first two devices and refuses a third with device_limit, in its language", async () => {
  const first = await open("pair");
  const second = await open("pair");
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  const third = await open("pair");
  assert.equal(third.status, 403);
  const page = await third.text();
  assert.match(page, /tied to the devices of the person it was sent to/);
  assert.match(page, /private window counts as a new device/);
  const zh = await open("pair", { lang: "zh-CN,zh;q=0.9" });
  assert.equal(zh.status, 403);
  assert.match(await zh.text(), /此链接仅限收件人本人的设备打开/);
  assert.equal((await w.status("devices-g/pair")).views, 2, "a refused device uses no view");
  // The first device comes back without its session: still one of the link's two.
  const back = await open("pair", { cookie: deviceCookie(first).split(";")[0] });
  assert.equal(back.status, 200);
  const listed = await devices("pair");
  assert.equal(listed.limit, 2);
  assert.equal(listed.summary.count, 2);
  assert.equal(listed.devices.filter((d) => !d.admitted).length, 2, "the refused devices are kept as evidence");
  assert.equal((await linkRow("pair")).devices.forwarding.reason, "over_limit", "an extra device flags the link");
});

test("a session is bound to its device: its cookie presented with another device's is no session", async () => {
  const mine = await open("crew/lee");
  const other = await open("crew/ming");
  const session = mine.headers.getSetCookie().find((c) => c.startsWith("__Secure-gf_session=")).split(";")[0];
  const file = w.manifest.galleries["devices-g"].images[0].variants.find((v) => v.full_size).file;
  const image = (cookie) => w.fetch(`${L("crew/lee").path}/i/${file}`, { headers: { "user-agent": CHROME, cookie } });
  assert.equal((await image(cookieOf(mine))).status, 200, "on its own device");
  assert.equal((await image(`${session}; ${deviceCookie(other).split(";")[0]}`)).status, 403, "with another device's cookie");
  assert.equal((await image(session)).status, 403, "with no device cookie");
});

test("HEAD, bots and scanners never add a device", async () => {
  await w.raw(L("shown").path, { method: "HEAD", headers: { "user-agent": CHROME } });
  await w.raw(L("shown").path, { headers: { "user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" } });
  await w.raw(L("shown").path, { headers: { "user-agent": CHROME } }); // no fetch metadata: a scanner's GET
  assert.equal((await devices("shown")).devices.length, 0);
});

test("owners forget a device (freeing its slot) and allow one more, through the API and the CLI, each an audit row", async () => {
  const a = await open("solo");
  assert.equal(a.status, 200);
  const b = await open("solo");
  assert.equal(b.status, 403);
  const bCookie = deviceCookie(b).split(";")[0];
  const listed = await devices("solo");
  const admitted = listed.devices.find((d) => d.admitted);
  assert.equal(listed.devices.length, 2);
  const forget = await admin("links/devices-g/solo/devices/forget", { method: "POST", body: JSON.stringify({ device: admitted.id }) });
  assert.equal(forget.status, 200);
  assert.equal((await forget.json()).summary.count, 0);
  assert.equal((await open("solo", { cookie: bCookie })).status, 200, "the refused device takes the freed slot");
  const c = await open("solo");
  assert.equal(c.status, 403);
  const allowed = cli(["devices", "devices-g/solo", "--allow"]);
  assert.equal(allowed.code, 0, allowed.out);
  assert.match(allowed.out, /devices-g\/solo \(Solo\): 1 of 2 device\(s\) \(devices: 1, \+1 allowed\)/);
  assert.equal((await open("solo", { cookie: deviceCookie(c).split(";")[0] })).status, 200, "the next device is let in");
  const shown = cli(["devices", "devices-g/solo"]);
  assert.equal(shown.code, 0, shown.out);
  assert.match(shown.out, /2 of 2 device\(s\)/);
  const missing = await admin("links/devices-g/solo/devices/forget", { method: "POST", body: JSON.stringify({ device: "0123456789abcdef" }) });
  assert.equal(missing.status, 409);
  assert.equal((await admin("links/devices-g/solo/devices/forget", { method: "POST", body: "{\"device\": \"../x\"}" })).status, 400);
  const rows = await until(async () => (await (await admin("galleries/devices-g/audit")).json()).entries.filter((e) => e.target === "devices-g/solo"),
    (r) => r.length >= 3, { ms: 10_000, every: 100 });
  const actions = rows.map((r) => r.action.split(" ")[0]).sort();
  assert.deepEqual(actions, ["device_allow", "device_forget", "device_forget"], "forget, allow and the refused forget");
  const allow = rows.find((r) => r.action === "device_allow");
  assert.equal(allow.before, "1 devices, limit 1");
  assert.equal(allow.after, "1 devices, limit 1 +1");
});

test("a recipient's row sets its own device limit over its audience's", async () => {
  assert.equal(w.links["devices-g/crew/lee"].policy.devices, 3);
  assert.equal(w.links["devices-g/crew/ming"].policy.devices, 1);
});

test("a link opened from three devices is flagged possibly forwarded, notified once, filtered and exported", async () => {
  const hooks = () => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === "forwarding_suspected" && r.json.link?.id === "devices-g/roam");
  for (let i = 0; i < 2; i++) assert.equal((await open("roam")).status, 200);
  assert.equal((await linkRow("roam")).devices.forwarding, undefined, "two devices are no evidence");
  const third = await open("roam");
  assert.equal(third.status, 200, "without a limit nobody is refused");
  for (let i = 0; i < 2; i++) assert.equal((await open("roam")).status, 200);
  await until(async () => hooks().length, (n) => n >= 1, { ms: 20_000, every: 100 });
  await until(async () => (await w.notifications("devices-g")).pending, (n) => n === 0, { ms: 20_000, every: 100 });
  const sent = hooks();
  assert.equal(sent.length, 1, "once per link and day, however many opens follow");
  assert.ok(signatureValid(sent[0]));
  assert.match(sent[0].json.detail, /^\d devices, \d+ cities.* within 24 h$/);
  assert.match(sent[0].json.device, /Chrome/);
  const flagged = (await (await admin("links?gallery=devices-g&forwarded=1")).json()).links.map((l) => l.name);
  assert.ok(flagged.includes("roam"));
  assert.ok(!flagged.includes("shown") && !flagged.includes("crew/lee"), `${flagged}`);
  const csv = await (await admin("galleries/devices-g/export.csv")).text();
  const [header, ...rows] = csv.trim().split("\r\n");
  assert.match(header, /"possibly_forwarded"$/);
  const roamRow = rows.find((r) => r.includes(`"roam"`));
  assert.match(roamRow, /"\d devices, \d+ cities[^"]* within 24 h"$/);
  const follow = await (await admin("galleries/devices-g/follow-up")).json();
  assert.ok(follow.forwarded.some((f) => f.name === "roam" && f.forwarding.reason === "devices"));
});

test("a link opened in two cities within a day is flagged with its cities", async () => {
  assert.equal((await open("travel", { city: "Shanghai" })).status, 200);
  assert.equal((await open("travel", { city: "Beijing" })).status, 200);
  const f = (await linkRow("travel")).devices.forwarding;
  assert.equal(f.reason, "cities");
  assert.deepEqual([...f.cities].sort(), ["Beijing", "Shanghai"]);
});

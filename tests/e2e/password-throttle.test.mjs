// Link passwords' throttle, keyed on the network (IPv4 /24, IPv6 /64 within its /48), never on
// the User-Agent, and never turned by a guesser against a recipient elsewhere; a guess spread
// over many networks is reported to the owner (`password_attack`). Real worker under Miniflare.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, cookieOf, until, NAVIGATION_HEADERS } from "./harness.mjs";
import { startReceiver } from "./notify-receiver.mjs";

let w;
let receiver;
before(async () => {
  receiver = await startReceiver();
  w = await startWorker({ bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "1" } });
});
after(async () => {
  await w?.stop();
  await receiver?.stop();
});

const RIGHT = "correct horse throttle";
const admin = (path, init = {}) =>
  w.fetch(`/admin/api/${path}`, { ...init, headers: { authorization: `Bearer ${w.adminToken}`, "cf-connecting-ip": "192.0.2.250", ...(init.headers || {}) } });
/** Sets the password afresh, which also forgets every earlier attempt. */
const reset = async (id) => assert.equal((await admin(`links/${id}/password`, { method: "PUT", body: JSON.stringify({ password: RIGHT }) })).status, 200);

/** The password form posted from the link's own page. */
const post = (id, password, ip, ua = NAVIGATION_HEADERS["user-agent"]) =>
  w.raw(w.links[id].path, {
    method: "POST",
    headers: { ...NAVIGATION_HEADERS, "user-agent": ua, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": ip },
    body: new URLSearchParams({ password }).toString(),
  });
const tally = (statuses) => statuses.reduce((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

test("ten User-Agents from one network get 5 evaluated guesses per window, not 50", async () => {
  await reset("kit/locked");
  const statuses = [];
  for (const [i, ua] of USER_AGENTS.entries()) {
    for (let n = 0; n < 5; n++) statuses.push((await post("kit/locked", `wrong ${i}-${n}`, `203.0.113.${10 + i * 5 + n}`, ua)).status);
  }
  assert.deepEqual(tally(statuses), { 401: 5, 429: 45 });
  assert.equal((await post("kit/locked", RIGHT, "203.0.113.99", USER_AGENTS[3])).status, 429, "the right password waits too on that network");
});

test("an IPv6 /64 that guessed wrong waits once its /48 has 10 wrong guesses, a fresh /64 of it is still evaluated", async () => {
  await reset("kit/locked");
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await post("kit/locked", `wrong v6 ${i}`, `2001:db8:77:${i.toString(16)}::1`)).status);
  assert.deepEqual(tally(statuses), { 401: 10 });
  assert.equal((await post("kit/locked", "wrong v6 again", "2001:db8:77:3::1")).status, 429, "a /64 with a wrong guess of its own waits for its allocation");
  assert.equal((await post("kit/locked", RIGHT, "2001:db8:77:ff::1")).status, 303, "a recipient's fresh /64 in the same /48 is evaluated");
  assert.equal((await post("kit/locked", RIGHT, "2001:db8:78::1")).status, 303, "another allocation is evaluated");
});

test("after an attacker's guesses from several networks, the right password from a fresh network opens the link", async () => {
  await reset("kit/locked");
  // The attacker: 50 guesses from one network under ten User-Agents, then 15 more
  // from three other networks.
  for (let i = 0; i < 50; i++) await post("kit/locked", `attack ${i}`, "198.51.100.7", USER_AGENTS[i % 10]);
  for (const net of ["198.51.101", "198.51.102", "198.51.103"]) {
    for (let i = 0; i < 5; i++) assert.equal((await post("kit/locked", `attack ${net} ${i}`, `${net}.9`)).status, 401);
  }
  const opened = await post("kit/locked", RIGHT, "192.0.2.77");
  assert.equal(opened.status, 303, "no attacker elsewhere locks a recipient out");
  const cookie = cookieOf(opened);
  const page = await w.navigate(w.links["kit/locked"].path, { headers: { cookie, "cf-connecting-ip": "192.0.2.77" } });
  assert.equal(page.status, 200);
});

test("a guess spread over many networks is reported to the owner, once, with tries and networks", async () => {
  await reset("notify-g/vault");
  receiver.clear();
  // Four networks are within the budget; from the fifth on, each network gets one evaluated guess.
  for (let n = 0; n < 6; n++) {
    for (let i = 0; i < 3; i++) {
      assert.equal((await post("notify-g/vault", `spread ${n}-${i}`, `100.64.${n}.${i + 1}`)).status, n < 4 || i === 0 ? 401 : 429, `network ${n}, guess ${i}`);
    }
  }
  const attacks = () => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === "password_attack");
  await until(async () => attacks().length, (n) => n >= 1, { ms: 20_000, every: 100 });
  const [hook] = attacks();
  assert.ok(hook, `no password_attack message: got ${JSON.stringify(receiver.received.map((r) => [r.platform, r.json?.type]))}`);
  assert.equal(hook.json.link.id, "notify-g/vault");
  // Reported when the fifth network guessed wrong (more than the budget of four), once an hour.
  assert.match(hook.json.detail, /^13 wrong passwords from 5 networks in the last hour$/);
  assert.match(hook.json.admin_url, /\/admin#password=notify-g\/vault$/, "one tap to the link's password dialog");
  await until(async () => ["feishu", "dingtalk", "wecom", "slack"].every((p) => receiver.received.some((r) => r.platform === p && r.body.includes("notify-g/vault"))), Boolean, { ms: 20_000, every: 100 });
  for (const p of ["feishu", "dingtalk", "wecom", "slack"]) {
    assert.ok(receiver.received.some((r) => r.platform === p && r.body.includes("notify-g/vault")), `${p} got it`);
  }
  assert.equal(attacks().length, 1, "further wrong guesses within the hour are not reported again");
  const { links } = await (await admin("links?gallery=notify-g")).json();
  const listed = links.find((l) => l.gallery === "notify-g" && l.name === "vault");
  assert.deepEqual(listed.password_attack, { wrong: 14, networks: 6 }, "the admin API shows the attack going on (all six networks so far) on the link itself, whatever the channels want");
  assert.equal((await post("notify-g/vault", RIGHT, "192.0.2.78")).status, 303, "and a recipient on a fresh network still gets in");
});

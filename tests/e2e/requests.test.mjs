// End-to-end tests of access requests (gallery `requests-g`, issue 21 §3): a person refused by a
// closed link finds "Request access" in the denial page, their request reaches the owner's
// channels (a local receiver), the owner answers it through the admin API or the CLI ("+7 days",
// "+10 views", "allow this device", decline with a reply) and the same URL opens again; the
// visitor sees where their request stands; bots, HEAD, scanners and cross-site posts create
// none; bodies, texts and each network's requests are bounded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, until, adminApi, gatefold, NAVIGATION_HEADERS } from "./harness.mjs";
import { startReceiver } from "./notify-receiver.mjs";

let receiver;
let w;
before(async () => {
  receiver = await startReceiver();
  w = await startWorker({ bindings: { ...receiver.bindings, NOTIFY_BATCH_SECONDS: "1", NOTIFY_RETRY_SECONDS: "1" } });
});
after(async () => { await w?.stop(); await receiver?.stop(); });

const admin = adminApi({ worker: () => w, ip: "198.51.100.21" });
const L = (name) => w.links[`requests-g/${name}`];
const CF = { city: "Hangzhou", country: "CN" };

/** A person's navigation to the link's page from `ip`, with this browser's cookie. */
const visit = (name, { ip = "203.0.113.21", cookie } = {}) =>
  w.navigate(L(name).path, { headers: { "cf-connecting-ip": ip, ...(cookie ? { cookie } : {}) }, cf: CF });

/** The denial page's form posted as a browser posts it (same-origin navigation). */
function ask(name, fields, { ip = "203.0.113.21", cookie, headers = {} } = {}) {
  const body = new URLSearchParams(fields).toString();
  return w.raw(`${L(name).path}/request`, {
    method: "POST",
    body,
    cf: CF,
    headers: {
      ...NAVIGATION_HEADERS, "sec-fetch-site": "same-origin", origin: w.url, "content-type": "application/x-www-form-urlencoded",
      "cf-connecting-ip": ip, ...(cookie ? { cookie } : {}), ...headers,
    },
  });
}

const requestCookie = (res) => (res.headers.get("set-cookie") || "").split(";")[0];
const requestsOf = async () => (await admin("galleries/requests-g/requests")).json();
const ofLink = async (link) => (await requestsOf()).requests.filter((r) => r.link === link);
const grant = (id, body) => admin(`requests/${id}/grant`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const decline = (id, body) => admin(`requests/${id}/decline`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const hooks = (link) => receiver.received.filter((r) => r.platform === "webhook" && r.json?.type === "access_requested" && r.json.link.id === `requests-g/${link}`);

test("a person refused by an expired link asks from its page, the owner is told who, which link, why, from where, in their escaped words", async () => {
  const refused = await visit("li");
  assert.equal(refused.status, 410);
  const page = await refused.text();
  assert.match(page, new RegExp(`<form class="gf-request" method="post" action="/s/${L("li").token}/request">`));
  assert.match(refused.headers.get("content-security-policy"), /form-action 'self'/, "the form may post back to this origin");

  const asked = await ask("li", { name: "Li <b>Wei</b>", message: "Please reopen <script>alert(1)</script> for the dealer meeting" });
  assert.equal(asked.status, 303);
  assert.equal(asked.headers.get("location"), L("li").path);
  const setCookie = asked.headers.get("set-cookie");
  assert.match(setCookie, /^__Secure-gf_request=[0-9a-f]{32}; Path=\/s\/[a-z0-9]+; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/);
  assert.ok(setCookie.includes(`Path=${L("li").path};`), "the cookie names nothing on any other link");

  const back = await visit("li", { cookie: requestCookie(asked) });
  assert.equal(back.status, 410);
  const waiting = await back.text();
  assert.match(waiting, /Requested at \d{4}-\d\d-\d\d \d\d:\d\d, waiting for the owner\./);
  assert.doesNotMatch(waiting, /<form class="gf-request"/, "a waiting request is shown, not a second form");

  const [hook] = await until(async () => hooks("li"), (h) => h.length === 1, { ms: 20_000, every: 100 });
  assert.ok(hook, "the webhook got the access request");
  assert.equal(hook.json.link.label, "Dealer Li");
  assert.equal(hook.json.detail, "link_expired");
  assert.match(hook.json.device, /desktop · Windows.* · Chrome/);
  assert.equal(hook.json.place, "Hangzhou, CN");
  assert.equal(hook.json.message, "Li <b>Wei</b>: Please reopen <script>alert(1)</script> for the dealer meeting", "data, exactly as typed");
  const [listed] = await ofLink("li");
  assert.match(listed.id, /^requests-g\.[0-9a-f]{32}$/);
  assert.ok(hook.json.admin_url.endsWith(`/admin#request=${listed.id}`), "the message opens the admin page on the request");
  const feishu = await until(async () => receiver.received.filter((r) => r.platform === "feishu" && r.body.includes("Dealer Li")), (f) => f.length === 1, { ms: 20_000, every: 100 });
  assert.ok(!feishu[0].body.includes("<script>"), "escaped in the card");

  assert.deepEqual([listed.state, listed.reason, listed.label, listed.name, listed.place], ["open", "link_expired", "Dealer Li", "Li <b>Wei</b>", "Hangzhou, CN"]);
  const follow = await (await admin("galleries/requests-g/follow-up")).json();
  assert.ok(follow.requests.some((r) => r.id === listed.id), "the follow-up lists the open request");

  const granted = await grant(listed.id, { extend_days: 7 });
  assert.equal(granted.status, 200);
  const answer = await granted.json();
  assert.deepEqual([answer.request.state, answer.request.answer, answer.link.state], ["granted", "+7 days", "active"]);
  assert.ok(Math.abs(answer.link.expires_at - (Date.now() / 1000 + 7 * 86400)) < 600, "7 days from now: the expiry in force had passed");
  const again = await grant(listed.id, { extend_days: 7 });
  assert.equal(again.status, 409);
  assert.equal((await again.json()).error, "already_answered");

  const opened = await visit("li", { cookie: requestCookie(asked) });
  assert.equal(opened.status, 200, "the same URL opens again");
  const audit = await (await admin("galleries/requests-g/audit")).json();
  assert.equal(audit.entries.filter((e) => e.action === "grant" && e.target === "requests-g/li").length, 1);
});

test("+10 views raises the limit in force by ten and a used-up link opens again", async () => {
  assert.equal((await visit("zhao", { ip: "203.0.113.31" })).status, 200);
  const used = await visit("zhao", { ip: "203.0.113.32" });
  assert.equal(used.status, 410);
  assert.match(await used.text(), /gf-request/);
  assert.equal((await ask("zhao", { message: "one more look" }, { ip: "203.0.113.32" })).status, 303);
  const [r] = await ofLink("zhao");
  const answer = await (await grant(r.id, { add_views: 10 })).json();
  assert.deepEqual([answer.link.max_views, answer.link.views_left, answer.request.answer], [11, 10, "+10 views"]);
  assert.equal((await visit("zhao", { ip: "203.0.113.32" })).status, 200);
});

test("a decline's reply is shown, escaped, to the browser that asked, which may ask again; nobody else sees it", async () => {
  const asked = await ask("chen", { message: "may I?" }, { ip: "203.0.113.41" });
  const cookie = requestCookie(asked);
  const [r] = await ofLink("chen");
  const declined = await decline(r.id, { reply: "Not this season <i>sorry</i>" });
  assert.equal(declined.status, 200);
  assert.deepEqual([(await declined.json()).state], ["declined"]);
  const page = await (await visit("chen", { ip: "203.0.113.41", cookie })).text();
  assert.match(page, /The owner declined your request\./);
  assert.ok(page.includes("Not this season &lt;i&gt;sorry&lt;/i&gt;"), "the reply, escaped");
  assert.match(page, /Ask again/);
  const stranger = await (await visit("chen", { ip: "203.0.113.42" })).text();
  assert.ok(!stranger.includes("Not this season") && stranger.includes("gf-request"), "another browser sees the form only");
  const forged = await (await visit("chen", { ip: "203.0.113.42", cookie: `__Secure-gf_request=${"0".repeat(32)}` })).text();
  assert.ok(!forged.includes("Not this season"), "a guessed id names nothing");
  const zh = await (await w.navigate(L("chen").path, { headers: { cookie, "accept-language": "zh-CN" } })).text();
  assert.match(zh, /所有者拒绝了您的申请/);
  assert.equal((await decline(r.id, {})).status, 409, "answered once");
  const audit = await (await admin("galleries/requests-g/audit")).json();
  assert.equal(audit.entries.filter((e) => e.action === "decline" && e.target === "requests-g/chen").length, 1);
});

test("bots, HEAD, scanners, scripts and cross-site posts create no request", async () => {
  const path = `${L("guard").path}/request`;
  for (const method of ["GET", "HEAD", "PUT"]) {
    const res = await w.raw(path, { method, headers: NAVIGATION_HEADERS });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("allow"), "POST");
  }
  const base = { ...NAVIGATION_HEADERS, "sec-fetch-site": "same-origin", origin: w.url, "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "203.0.113.91" };
  const without = (...names) => Object.fromEntries(Object.entries(base).filter(([k]) => !names.includes(k)));
  const metadata = ["sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user"];
  const refusals = [
    ["another site's form", { ...base, "sec-fetch-site": "cross-site", origin: "https://evil.example" }],
    ["a script's fetch", { ...base, "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" }],
    ["a replay without fetch metadata or Origin", without(...metadata, "origin")],
    ["a foreign Origin without fetch metadata", { ...without(...metadata), origin: "https://evil.example" }],
    ["a link-preview fetcher", { ...base, "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" }],
  ];
  for (const [what, headers] of refusals) {
    const res = await w.raw(path, { method: "POST", body: new URLSearchParams({ message: what }).toString(), headers });
    assert.equal(res.status, 403, what);
  }
  const bot = await w.raw(L("guard").path, { headers: { "user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" } });
  assert.equal(bot.status, 410);
  assert.doesNotMatch(await bot.text(), /gf-request/, "a preview fetcher is shown no form");
  const head = await w.raw(L("guard").path, { method: "HEAD", headers: NAVIGATION_HEADERS });
  assert.equal(head.status, 410);
  assert.equal((await head.text()).length, 0);
  const json = await w.raw(L("guard").path, { headers: { accept: "application/json" } });
  assert.equal((await json.json()).error, "link_expired");
  assert.deepEqual(await ofLink("guard"), [], "nothing stored");
});

test("bodies and texts are bounded, a network asks at most 3 times an hour per link, and another network still can", async () => {
  const huge = await ask("flood", { message: "x".repeat(20_000) }, { ip: "203.0.113.51" });
  assert.equal(huge.status, 413);
  const long = await ask("flood", { name: "n".repeat(300), message: "é".repeat(600) }, { ip: "203.0.113.51" });
  assert.equal(long.status, 303);
  const [stored] = await ofLink("flood");
  assert.deepEqual([[...stored.message].length, [...stored.name].length], [500, 100]);
  for (const i of [2, 3]) assert.equal((await ask("flood", { message: `try ${i}` }, { ip: `203.0.113.${50 + i}` })).status, 303, `request ${i} from the /24`);
  const fourth = await ask("flood", { message: "try 4" }, { ip: "203.0.113.54" });
  assert.equal(fourth.status, 429);
  assert.ok(Number(fourth.headers.get("retry-after")) > 3000, fourth.headers.get("retry-after"));
  assert.match(await fourth.text(), /Too many requests for this link came from your network/);
  assert.equal((await ask("flood", { message: "from elsewhere" }, { ip: "198.51.100.77" })).status, 303, "the throttle never locks out another network");
  assert.equal((await ofLink("flood")).length, 4);

  // An open link has nothing to ask: the page opens.
  const live = await ask("live", { message: "hi" }, { ip: "203.0.113.61" });
  assert.equal(live.status, 303);
  assert.equal((await ofLink("live")).length, 0);
});

test("a disabled link offers the form; allowing a device on a link without a device limit is refused and the request stays open", async () => {
  const off = await visit("off", { ip: "203.0.113.71" });
  assert.equal(off.status, 403);
  assert.match(await off.text(), /gf-request/);
  assert.equal((await ask("off", { message: "please" }, { ip: "203.0.113.71" })).status, 303);
  const [r] = await ofLink("off");
  assert.equal(r.reason, "link_disabled");
  const device = await grant(r.id, { device: true });
  assert.equal(device.status, 409);
  assert.equal((await device.json()).error, "no_device_limit");
  for (const bad of [{}, { extend_days: 0 }, { extend_days: 7, add_views: 1 }, { days: 7 }]) assert.equal((await grant(r.id, bad)).status, 400, JSON.stringify(bad));
  assert.equal((await grant("requests-g.0123456789abcdef0123456789abcdef", { extend_days: 7 })).status, 404);
  assert.equal((await grant("nothing", { extend_days: 7 })).status, 404);
  assert.equal((await ofLink("off"))[0].state, "open");
});

test("the CLI lists a gallery's requests and grants one by its id", async () => {
  const asked = await ask("wang", { message: "from the CLI test" }, { ip: "203.0.113.81" });
  assert.equal(asked.status, 303);
  const cli = (args) => gatefold(args, { env: { GATEFOLD_URL: w.url, GATEFOLD_ADMIN_TOKEN: w.adminToken } });
  const listed = cli(["requests", "requests-g"]);
  assert.equal(listed.code, 0, listed.out);
  const [r] = await ofLink("wang");
  assert.ok(listed.out.includes(r.id) && listed.out.includes("from the CLI test") && listed.out.includes("Dealer Wang"), listed.out);
  const everyGallery = cli(["requests"]);
  assert.ok(everyGallery.out.includes(r.id), everyGallery.out);
  const granted = cli(["grant", r.id, "--days", "7"]);
  assert.equal(granted.code, 0, granted.out);
  assert.match(granted.out, /granted: \+7 days/);
  assert.equal((await visit("wang", { ip: "203.0.113.81", cookie: requestCookie(asked) })).status, 200);
  const twice = cli(["grant", r.id, "--views", "10"]);
  assert.notEqual(twice.code, 0);
  assert.match(twice.out, /already/);
});

// Link passwords (issue 12, "Link passwords"): a link with `password: required` is closed
// until its owner sets a password through the admin API; then anything without a session
// gets the password page (401) and counts nothing; only the right password, posted from the
// page, counts one open and starts a session. Wrong passwords are logged and throttled per
// client; changing or clearing the password ends every open session; state denials come first
// and are the same for everyone. Real worker under Miniflare, real generator build.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startWorker, cookieOf, until, NAVIGATION_HEADERS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const L = (name) => w.links[`kit/${name}`];
const views = async (name) => (await w.status(`kit/${name}`)).views;
const admin = (path, init = {}) =>
  w.fetch(`/admin/api/${path}`, { ...init, headers: { authorization: `Bearer ${w.adminToken}`, "cf-connecting-ip": "198.51.100.90", ...(init.headers || {}) } });
const setPassword = (name, password) => admin(`links/kit/${name}/password`, { method: "PUT", body: JSON.stringify({ password }) });
const clearPassword = (name) => admin(`links/kit/${name}/password`, { method: "DELETE" });

/** The password form posted from the link's own page by a person at `ip`. */
const post = (name, password, { ip = "203.0.113.10", headers = {} } = {}) =>
  w.raw(L(name).path, {
    method: "POST",
    headers: {
      ...NAVIGATION_HEADERS, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": ip, ...headers,
    },
    body: new URLSearchParams({ password }).toString(),
  });
const navigate = (name, headers = {}) => w.navigate(L(name).path, { headers: { "cf-connecting-ip": "203.0.113.10", ...headers } });
const image = (name, cookie) => {
  const file = w.manifest.galleries.kit.images[0].variants[0].file;
  return w.fetch(`${L(name).path}/i/${file}`, { headers: { cookie, accept: "application/json", "user-agent": NAVIGATION_HEADERS["user-agent"] } });
};
const SCANNER = "Mozilla/5.0 (compatible; Mimecast URL Protect)";
const BOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

/** What a person's navigation, a mail scanner's GET, a bot's GET and a HEAD are answered, in that order. */
const askedByEveryone = async (name) => [
  await navigate(name),
  await w.raw(L(name).path, { headers: { "user-agent": SCANNER } }),
  await w.raw(L(name).path, { headers: { "user-agent": BOT } }),
  await w.raw(L(name).path, { method: "HEAD", headers: NAVIGATION_HEADERS }),
];

/** The access log export of gallery kit, once it holds `want` (events are written after the answer). */
const exported = (want) => until(async () => (await admin("galleries/kit/export.csv")).text(), (t) => t.includes(want));

test("before the owner sets a password, the link answers password_not_set to everyone and counts nothing", async () => {
  assert.equal((await clearPassword("locked-2")).status, 200);
  const before = await views("locked-2");
  const answers = [...await askedByEveryone("locked-2"), await post("locked-2", "any password at all")];
  for (const res of answers) assert.equal(res.status, 403);
  const json = await w.fetch(L("locked-2").path, { headers: { accept: "application/json" } });
  assert.equal((await json.json()).error, "password_not_set");
  assert.ok(!(await answers[0].text()).includes('type="password"'), "no form while no password is set");
  assert.equal(await views("locked-2"), before);
  const st = (await (await admin("links?gallery=kit")).json()).links.find((l) => l.name === "locked-2");
  assert.equal(st.password_set, false, "the admin status says the password is not set yet");
});

test("once set, every request without a session gets the 401 password page and uses no view", async () => {
  const res = await setPassword("locked", "correct horse 1");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const st = await res.json();
  assert.equal(st.password_set, true);
  assert.ok(!JSON.stringify(st).includes("correct horse"), "the answer never holds the password");
  const before = await views("locked");
  const page = await navigate("locked");
  assert.equal(page.status, 401);
  const html = await page.text();
  assert.match(html, /<form method="post"[^>]*>/);
  assert.match(html, /<input[^>]*name="password"[^>]*type="password"[^>]*autocomplete="current-password"/);
  assert.ok(!html.includes("<h1>Kit") && !html.includes(L("locked").token), "names no gallery and holds no token");
  assert.ok(!html.includes("gatefold:password-error") && !html.includes("gf-password-error"), "no error line when only asking");
  assert.match(page.headers.get("content-security-policy"), /form-action 'self'/);
  assert.equal(page.headers.get("cache-control"), "private, no-store");
  assert.equal(page.headers.get("set-cookie"), null);
  for (const other of (await askedByEveryone("locked")).slice(1)) {
    assert.equal(other.status, 401);
    assert.equal(other.headers.get("set-cookie"), null);
  }
  const zh = await navigate("locked", { "accept-language": "zh-CN,zh;q=0.9" });
  assert.match(await zh.text(), /<html lang="zh-CN">[\s\S]*密码/);
  const json = await w.fetch(L("locked").path, { headers: { accept: "application/json" } });
  assert.equal(json.status, 401);
  assert.equal((await json.json()).error, "password_required");
  assert.equal(await views("locked"), before, "the password page counts nothing");
});

test("a wrong password is 401 with the error shown, logged as wrong_password, and counts nothing", async () => {
  await setPassword("locked", "correct horse 2");
  const before = await views("locked");
  const res = await post("locked", "wrong <b>guess</b> 2", { ip: "203.0.113.21" });
  assert.equal(res.status, 401);
  const html = await res.text();
  assert.match(html, /<p class="gf-password-error" role="alert"><strong>That password is not correct<\/strong>/);
  assert.ok(!html.includes("guess"), "the password is never echoed");
  assert.equal(res.headers.get("set-cookie"), null);
  assert.equal(await views("locked"), before);
  const log = await exported("wrong_password");
  assert.match(log, /"locked","open","wrong_password"/);
  for (const secret of ["guess", "correct horse"]) {
    assert.ok(!log.includes(secret), `the export holds no password (${secret})`);
    assert.ok(!w.logs().includes(secret), `the worker's log holds no password (${secret})`);
  }
});

test("a password posted from another site is refused before it is checked", async () => {
  await setPassword("locked", "correct horse 3");
  const before = await views("locked");
  const res = await post("locked", "correct horse 3", { ip: "203.0.113.31", headers: { "sec-fetch-site": "cross-site" } });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("set-cookie"), null);
  assert.equal(await views("locked"), before);
});

test("the right password counts exactly one open, sets the session and the images load", async () => {
  await setPassword("locked", "correct horse 4");
  const before = await views("locked");
  const res = await post("locked", "correct horse 4", { ip: "203.0.113.41" });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), L("locked").path);
  const cookie = cookieOf(res);
  assert.match(cookie, /^__Secure-gf_session=/);
  assert.equal(await views("locked"), before + 1);
  const page = await navigate("locked", { cookie, "cf-connecting-ip": "203.0.113.41" });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /gf-grid/);
  assert.equal((await image("locked", cookie)).status, 200);
  assert.equal(await views("locked"), before + 1, "a session's page view uses no further view");
  assert.match(await exported('"locked","open","admitted"'), /"locked","open","admitted"/);
});

test("after five wrong passwords a network gets 429 with Retry-After, even for the right one; another network does not", async () => {
  await setPassword("locked", "correct horse 5");
  const before = await views("locked");
  for (let i = 0; i < 5; i++) assert.equal((await post("locked", `wrong ${i}`, { ip: "203.0.113.51" })).status, 401);
  const throttled = await post("locked", "correct horse 5", { ip: "203.0.113.51" });
  assert.equal(throttled.status, 429);
  const wait = Number(throttled.headers.get("retry-after"));
  assert.ok(wait > 0 && wait <= 900, `Retry-After ${wait}`);
  assert.match(await throttled.text(), /gf-password-error[\s\S]*Too many/);
  assert.equal(throttled.headers.get("set-cookie"), null);
  assert.equal(await views("locked"), before);
  assert.match(await exported("too_many_attempts"), /"locked","open","too_many_attempts"/);
  assert.equal((await post("locked", "correct horse 5", { ip: "203.0.113.52" })).status, 429, "a neighbour in the same /24 is the same network");
  const other = await post("locked", "correct horse 5", { ip: "198.51.100.52" });
  assert.equal(other.status, 303, "the limit is per network");
  assert.equal(await views("locked"), before + 1);
});

test("changing the password ends the open session; the old password no longer opens; clearing closes the link", async () => {
  await setPassword("locked", "correct horse 6");
  const opened = await post("locked", "correct horse 6", { ip: "203.0.113.61" });
  const cookie = cookieOf(opened);
  assert.equal((await image("locked", cookie)).status, 200);
  const epoch = (await w.status("kit/locked")).session_epoch;
  const changed = await setPassword("locked", "battery staple 6");
  assert.equal((await changed.json()).session_epoch, epoch + 1);
  const refused = await until(() => image("locked", cookie), (r) => r.status === 403);
  assert.equal((await refused.json()).error, "no_session");
  assert.equal((await navigate("locked", { cookie, "cf-connecting-ip": "203.0.113.61" })).status, 401, "back to the password page");
  assert.equal((await post("locked", "correct horse 6", { ip: "203.0.113.61" })).status, 401);
  const again = await post("locked", "battery staple 6", { ip: "203.0.113.61" });
  assert.equal(again.status, 303);
  const cleared = await clearPassword("locked");
  assert.equal(cleared.status, 200);
  assert.equal((await cleared.json()).password_set, false);
  assert.equal((await navigate("locked")).status, 403);
  assert.equal((await (await w.fetch(L("locked").path, { headers: { accept: "application/json" } })).json()).error, "password_not_set");
  await until(() => image("locked", cookieOf(again)), (r) => r.status === 403);
  assert.equal((await image("locked", cookieOf(again))).status, 403, "clearing ends sessions too");
});

test("a disabled password link answers link_disabled to everyone, without the form, whatever is posted", async () => {
  await setPassword("locked-2", "correct horse 7");
  assert.equal((await admin("links/kit/locked-2/disable", { method: "POST" })).status, 200);
  try {
    const before = await views("locked-2");
    const answers = [
      ...await askedByEveryone("locked-2"),
      await post("locked-2", "correct horse 7", { ip: "203.0.113.71" }),
      await post("locked-2", "wrong 7", { ip: "203.0.113.71" }),
    ];
    for (const res of answers) {
      assert.equal(res.status, 403);
      assert.ok(!(await res.text()).includes('type="password"'));
    }
    assert.equal(await views("locked-2"), before);
  } finally {
    await admin("links/kit/locked-2/enable", { method: "POST" });
  }
});

test("the admin API refuses short passwords and links without password: required, and never echoes a body", async () => {
  const short = await setPassword("locked-2", "seven77");
  assert.equal(short.status, 400);
  assert.equal((await short.json()).error, "bad_password");
  const long = await setPassword("locked-2", "x".repeat(257));
  assert.equal(long.status, 400);
  const weak = await setPassword("locked-2", "Password2026!");
  assert.equal(weak.status, 400);
  const refusal = await weak.json();
  assert.equal(refusal.error, "weak_password");
  assert.match(refusal.message, /too easy to guess/);
  assert.match(refusal.suggestion, /^[a-z]{6}(-[a-z]{6}){3}$/, "a generated passphrase is offered");
  for (const words of ["Elephant2023!", "butterfly2024!", "Basketball2024"]) {
    const res = await setPassword("locked-2", words);
    assert.equal(res.status, 400, `${words}: a common word and a year`);
    assert.equal((await res.json()).error, "weak_password");
  }
  assert.equal((await setPassword("locked-2", refusal.suggestion)).status, 200, "and accepted");
  const generated = await (await admin("passphrase")).json();
  assert.match(generated.passphrase, /^[a-z]{6}(-[a-z]{6}){3}$/);
  const notRequired = await setPassword("everything", "correct horse 8");
  assert.equal(notRequired.status, 409);
  assert.equal((await notRequired.json()).error, "password_not_required");
  const garbled = await admin("links/kit/locked-2/password", { method: "PUT", body: '{"password": 12345678901}' });
  assert.equal(garbled.status, 400);
  assert.ok(!(await garbled.text()).includes("12345678901"));
  assert.equal((await w.fetch("/admin/api/links/kit/locked-2/password", { method: "PUT", body: '{"password":"correct horse 8"}' })).status, 401);
  assert.equal((await admin("links/kit/locked-2/password")).status, 405, "a password is never read back");
});

/**
 * POSTs `total` bytes of a password form with chunked transfer (no Content-Length), as raw
 * node:http does, writing only as fast as the worker reads. Answers the status, the body and
 * how many bytes had been written when the answer came.
 */
function postChunked(path, total) {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, "a");
    let written = 0;
    let answeredAt = null;
    const req = http.request(`${w.url}${path}`, {
      method: "POST",
      agent: false,
      headers: { ...NAVIGATION_HEADERS, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked" },
    }, (res) => {
      answeredAt = written;
      const body = [];
      res.on("data", (c) => body.push(c));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode, body: Buffer.concat(body).toString("utf8"), answeredAt });
      });
    });
    // Once answered, the worker may close the connection on the rest of the body.
    req.on("error", (e) => { if (answeredAt === null) reject(e); });
    const write = () => {
      while (written < total && answeredAt === null) {
        const part = written === 0 ? Buffer.concat([Buffer.from("password="), chunk]) : chunk;
        written += part.length;
        if (!req.write(part)) return req.once("drain", write);
      }
      if (answeredAt === null) req.end();
    };
    write();
  });
}

test("a 40 MB password form without Content-Length is refused with 413 while it streams, and nothing is compared", async (t) => {
  assert.equal((await setPassword("locked-big", "correct horse battery staple")).status, 200);
  const before = await views("locked-big");
  const total = 40 * 1024 * 1024;
  const res = await postChunked(L("locked-big").path, total);
  assert.equal(res.status, 413, res.body.slice(0, 200));
  assert.match(res.body, /too large/);
  t.diagnostic(`answered after ${res.answeredAt} of ${total} bytes were written`);
  assert.ok(res.answeredAt < total / 4, `refused after ${res.answeredAt} of ${total} bytes, not after reading them all`);
  assert.equal(await views("locked-big"), before, "no open counted");
  // Never compared: the refusal is on record, and no wrong password for this link (the form
  // held none: a comparison would have logged one, or opened it).
  const log = await exported('"locked-big","open","request_too_large"');
  assert.ok(!log.includes('"locked-big","open","wrong_password"'), "no password was compared");
  assert.equal((await post("locked-big", "correct horse battery staple")).status, 303, "and the right password still opens");
});

test("admin request bodies are bounded too: a password body of 100 KB is refused with 413", async () => {
  const res = await setPassword("locked-big", "x".repeat(100_000));
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error, "request_too_large");
});

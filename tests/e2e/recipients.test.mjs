// End-to-end tests of recipient links (gallery `launch-a`: audience `channel` of 200 dealers
// from a CSV, audience `press` inline, plain link `team`) through the real worker: grouping in
// the admin API, audience actions as one write, each recipient counted alone, activity in stats
// and exports, and strict 3-part routes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, cookieOf, until, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

/** Runs `body` against a worker of its own, so what it counts is only its own traffic. */
async function withOwnWorker(body) {
  const shared = w;
  w = await startWorker();
  try { await body(); } finally { await w.stop(); w = shared; }
}

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
const dealer = (n) => `channel/dealer-${String(n).padStart(3, "0")}`;
const L = (name) => w.links[`launch-a/${name}`];
const admin = adminApi({ worker: () => w, ip: "198.51.100.201" });
const post = (path) => admin(path, { method: "POST" });
const open = (name, ip = "203.0.113.40") => w.navigate(L(name).path, { headers: { "user-agent": CHROME, "cf-connecting-ip": ip } });

test("the 200 dealers are listed grouped under their audience, with the audience's row", async () => {
  const res = await admin("links?gallery=launch-a&audience=channel&limit=100");
  assert.equal(res.status, 200);
  const page = await res.json();
  assert.equal(page.total, 200);
  assert.ok(page.links.every((l) => l.audience === "channel" && l.name.startsWith("channel/dealer-")));
  assert.deepEqual(page.links.slice(0, 2).map((l) => l.name), [dealer(1), dealer(2)]);
  assert.equal(page.audiences.length, 1);
  const [row] = page.audiences;
  assert.deepEqual([row.gallery, row.name, row.label, row.recipients, row.disabled], ["launch-a", "channel", "渠道伙伴", 200, false]);
  const all = await (await admin("links?gallery=launch-a&limit=100")).json();
  assert.equal(all.total, 203, "200 dealers, 2 press recipients and team");
});

test("an audience disable is one write and closes every recipient, for people, HEAD and bots; enable reopens", async () => {
  await withOwnWorker(async () => {
    const res = await post("audiences/launch-a/channel/disable");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).disabled, true);
    // One write: the audience's object and its one KV mirror; no recipient's state is touched.
    const kv = await w.mf.getKVNamespace("LINK_STATE");
    const written = (await kv.list({ prefix: "runtime/launch-a/" })).keys.map((k) => k.name);
    assert.deepEqual(written, ["runtime/launch-a/@channel"]);
    assert.equal((await w.status("launch-a/@channel")).overrides.disabled, true);
    assert.notEqual((await w.status(`launch-a/${dealer(57)}`)).overrides.disabled, true);
    for (const n of [1, 57, 200]) {
      assert.equal((await open(dealer(n))).status, 403, `${dealer(n)} refused`);
      assert.equal((await w.fetch(L(dealer(n)).path, { method: "HEAD" })).status, 403, `HEAD of ${dealer(n)}`);
      assert.equal((await w.fetch(L(dealer(n)).path, { headers: { "user-agent": SLACK } })).status, 403, `bot on ${dealer(n)}`);
    }
    assert.equal((await open("team")).status, 200, "a plain link of the gallery stays open");
    const listed = await (await admin("links?gallery=launch-a&audience=channel&limit=3")).json();
    assert.ok(listed.links.every((l) => l.state === "disabled" && l.audience_overrides.disabled === true));
    assert.equal((await post("audiences/launch-a/channel/enable")).status, 200);
    assert.equal((await open(dealer(57))).status, 200);
  });
});

test("links that opened before hold their scopes' state, and still see an audience's or a gallery's disable on the very next request", async () => {
  await withOwnWorker(async () => {
    const bot = (name) => w.fetch(L(name).path, { headers: { "user-agent": SLACK } });
    const head = (name) => w.fetch(L(name).path, { method: "HEAD" });
    // Each open leaves the link's object holding its audience's and its gallery's state.
    for (const name of [dealer(9), dealer(10), "team"]) assert.equal((await open(name)).status, 200, `${name} opens`);
    assert.equal((await head(dealer(9))).status, 200, "HEAD of an open recipient: the interstitial");
    assert.equal((await post("audiences/launch-a/channel/disable")).status, 200);
    for (const name of [dealer(9), dealer(10)]) {
      assert.equal((await open(name)).status, 403, `${name}'s next open is refused`);
      assert.equal((await head(name)).status, 403, `HEAD of ${name}`);
      assert.equal((await bot(name)).status, 403, `a bot on ${name}`);
    }
    assert.equal((await open("team")).status, 200, "a plain link is not in the audience");
    assert.equal((await post("audiences/launch-a/channel/enable")).status, 200);
    assert.equal((await open(dealer(9))).status, 200, "the enable reaches the link's next open too");
    assert.equal((await post("galleries/launch-a/disable")).status, 200);
    for (const name of [dealer(9), "team"]) {
      assert.equal((await open(name)).status, 403, `${name}'s next open is refused`);
      assert.equal((await head(name)).status, 403, `HEAD of ${name}`);
      assert.equal((await bot(name)).status, 403, `a bot on ${name}`);
    }
    const gallery = await w.status("launch-a/*");
    assert.deepEqual(gallery.notices, [], "every link holding the gallery's state was told");
    assert.equal((await post("galleries/launch-a/enable")).status, 200);
    assert.equal((await open("team")).status, 200);
  });
});

test("an audience revoke ends every open session of its recipients, a recipient's own revoke only its own", async () => {
  await withOwnWorker(async () => {
    const sessions = {};
    for (const n of [3, 4, 5]) {
      const res = await open(dealer(n));
      assert.equal(res.status, 200);
      sessions[dealer(n)] = cookieOf(res);
    }
    const full = w.manifest.galleries["launch-a"].images[0].variants.find((v) => v.full_size).file;
    const image = async (name) => {
      const res = await w.fetch(`${L(name).path}/i/${full}`, { headers: { "user-agent": CHROME, accept: "application/json", cookie: sessions[name] } });
      await res.arrayBuffer();
      return res.status;
    };
    const ended = (name) => until(() => image(name), (status) => status !== 200);
    for (const name of Object.keys(sessions)) assert.equal(await image(name), 200, `${name} sees its images`);
    assert.equal((await post(`links/launch-a/${dealer(4)}/revoke`)).status, 200);
    assert.equal(await ended(dealer(4)), 403, "the revoked recipient's session ends");
    assert.equal(await image(dealer(3)), 200, "another recipient's session survives a recipient's revoke");
    const revoked = await post("audiences/launch-a/channel/revoke");
    assert.equal(revoked.status, 200);
    assert.equal(await ended(dealer(3)), 403, "the audience's revoke ends dealer-003's session");
    assert.equal(await ended(dealer(5)), 403, "and dealer-005's");
    // Coming back after it is a new open that counts, and its new session sees the images.
    const before = (await w.status(`launch-a/${dealer(3)}`)).views;
    const again = await w.navigate(L(dealer(3)).path, { headers: { "user-agent": CHROME, "cf-connecting-ip": "203.0.113.40", cookie: sessions[dealer(3)] } });
    assert.equal(again.status, 200);
    assert.equal((await w.status(`launch-a/${dealer(3)}`)).views, before + 1);
    // The browser keeps its device cookie (set on its first open) beside the new session.
    const device = sessions[dealer(3)].split("; ").find((c) => c.startsWith("__Secure-gf_device="));
    sessions[dealer(3)] = `${cookieOf(again)}; ${device}`;
    assert.equal(await image(dealer(3)), 200, "the new session carries the epochs in force");
  });
});

test("each recipient counts alone", async () => {
  await withOwnWorker(async () => {
    assert.equal((await open(dealer(1), "203.0.113.41")).status, 200);
    assert.equal((await open(dealer(1), "203.0.113.42")).status, 200);
    assert.equal((await open(dealer(2), "203.0.113.43")).status, 200);
    const page = await (await admin("links?gallery=launch-a&audience=channel&limit=5")).json();
    assert.deepEqual(page.links.slice(0, 5).map((l) => l.views), [2, 1, 0, 0, 0]);
  });
});

test("stats, the links list and the CSV export say per recipient: opened, downloaded or neither", async () => {
  await withOwnWorker(async () => {
    const first = await open(dealer(1), "203.0.113.50");
    assert.equal(first.status, 200);
    assert.equal((await open(dealer(2), "203.0.113.51")).status, 200);
    const image = w.manifest.galleries["launch-a"].images[0].id;
    const dl = await w.fetch(`${L(dealer(1)).path}/download/${image}`, { headers: { "user-agent": CHROME, "cf-connecting-ip": "203.0.113.50", cookie: cookieOf(first) } });
    await dl.arrayBuffer();
    assert.equal(dl.status, 200);
    const logged = await w.logged("launch-a", (t) => t.opens_admitted >= 2 && t.downloads >= 1);
    assert.deepEqual([logged.opens_admitted, logged.downloads], [2, 1], "two opens and a download in the log");
    const stats = await (await admin("galleries/launch-a/stats")).json();
    const of = (name) => stats.links.find((l) => l.name === name);
    assert.deepEqual([of(dealer(1)).activity, of(dealer(2)).activity, of(dealer(3)).activity], ["downloaded", "opened", "neither"]);
    assert.deepEqual([of(dealer(1)).audience, of(dealer(1)).recipient], ["channel", "dealer-001"]);
    assert.ok(of(dealer(1)).first_open > 0 && of(dealer(1)).last_open >= of(dealer(1)).first_open);
    assert.equal(of("team").activity, undefined, "a plain link has no recipient activity");
    const channel = stats.audiences.find((a) => a.name === "channel");
    assert.deepEqual([channel.recipients, channel.opened, channel.downloaded, channel.neither], [200, 2, 1, 198]);
    const listed = await (await admin("links?gallery=launch-a&audience=channel&limit=3")).json();
    assert.deepEqual(listed.links.map((l) => l.activity), ["downloaded", "opened", "neither"]);
    assert.deepEqual([listed.audiences[0].opened, listed.audiences[0].downloaded], [2, 1]);
    const csv = await (await admin("galleries/launch-a/export.csv")).text();
    const [header, ...rows] = csv.replace(/^\uFEFF/, "").trim().split("\r\n");
    const cols = header.split(",").map((h) => h.replaceAll('"', ""));
    const cell = (row, name) => row.split('","')[cols.indexOf(name)].replaceAll('"', "");
    const mine = rows.filter((r) => cell(r, "recipient") === "dealer-001");
    assert.ok(mine.some((r) => cell(r, "kind") === "open") && mine.some((r) => cell(r, "kind") === "download"), "dealer-001 opened and downloaded");
    assert.ok(mine.every((r) => cell(r, "audience") === "channel"));
    assert.ok(rows.filter((r) => cell(r, "recipient") === "dealer-002").every((r) => cell(r, "kind") !== "download"), "dealer-002 only opened");
    assert.equal(rows.filter((r) => cell(r, "recipient") === "dealer-003").length, 0, "dealer-003 did neither");
  });
});

test("3-part routes take exactly an audience and a recipient", async () => {
  for (const path of ["links/launch-a/channel/dealer-001/extra/disable", "links/launch-a/channel/dealer-999/disable", "audiences/launch-a/nobody/disable"]) {
    assert.equal((await post(path)).status, 404, path);
  }
  // An encoded slash never reaches the API: the router refuses every path that needed
  // decoding (404 to GET, 405 to any other method), and nothing is changed.
  for (const path of ["links/launch-a/channel%2Fdealer-001/qr.svg", "links/launch-a/channel/dealer-001%2Fqr.svg", "links/launch-a%2Fchannel/dealer-001/qr.svg"]) {
    assert.equal((await admin(path)).status, 404, path);
  }
  assert.equal((await post("links/launch-a/channel%2Fdealer-001/disable")).status, 405);
  assert.notEqual((await w.status(`launch-a/${dealer(1)}`)).overrides.disabled, true);
  const res = await admin("links/launch-a/channel/dealer-005/qr.svg");
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<svg/);
  const patched = await admin("links/launch-a/channel/dealer-005", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ max_views: 30 }) });
  assert.equal(patched.status, 200);
  assert.deepEqual([(await patched.json()).name, (await admin("links/launch-a/channel/dealer-005/extra", { method: "PATCH", body: "{}" })).status], ["channel/dealer-005", 404]);
});

test("extending an audience raises every recipient without a limit of its own", async () => {
  await withOwnWorker(async () => {
    const res = await admin("audiences/launch-a/channel", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ max_views: 40 }) });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).overrides.max_views, 40);
    const page = await (await admin("links?gallery=launch-a&audience=channel&limit=2")).json();
    assert.deepEqual(page.links.map((l) => l.max_views), [40, 40]);
  });
});

test("the mail-merge file has a row per recipient whose URL opens", async () => {
  const res = await admin("galleries/launch-a/mail-merge.csv");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.match(res.headers.get("content-disposition"), /attachment/);
  assert.match(res.headers.get("cache-control"), /no-store/);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "a BOM: Excel reads it as UTF-8");
  const [header, ...rows] = bytes.subarray(3).toString("utf8").trim().split("\r\n").map((line) => line.slice(1, -1).split('","'));
  const col = (name) => header.indexOf(name);
  const channel = rows.filter((r) => r[col("audience")] === "channel");
  assert.equal(channel.length, 200);
  assert.equal(rows.length, 202, "and the 2 press recipients");
  const first = channel.find((r) => r[col("recipient")] === "launch-a/channel/dealer-001");
  assert.deepEqual([first[col("label")], first[col("email")]], ["经销商 001", "dealer001@dealers.example"]);
  for (const r of channel) {
    const url = new URL(r[col("url")]);
    assert.equal(url.pathname, L(r[col("recipient")].slice("launch-a/".length)).path);
    const head = await w.fetch(url.pathname, { method: "HEAD" });
    assert.equal(head.status, 200, r[col("recipient")]);
  }
  const qr = new URL(first[col("qr_file")]);
  const png = await admin(qr.pathname.slice("/admin/api/".length));
  assert.equal(png.headers.get("content-type"), "image/png");
  assert.equal((await open(dealer(9))).status, 200, "a person opening a row's link is let in");
  assert.equal((await admin("galleries/showroom/mail-merge.csv")).status, 404, "no recipients, no file");
});

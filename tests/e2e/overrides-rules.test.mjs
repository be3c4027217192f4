// Runtime overrides never outlive a later decision: YAML disables win, a publish that changes
// a value makes the runtime change of it lapse, a gallery is switched off with one write,
// concurrent owners both land, revoke ends sessions, unknown stored shapes fail closed, and
// owner actions do what their names say. Real worker under Miniflare, real generator builds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, buildSite, cookieOf, until, FIXTURE, NAVIGATION_HEADERS, walk, adminApi, gatefold, ROOT } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const admin = adminApi({ worker: () => w, ip: "198.51.100.201" });
const patch = (target, body, worker = w) => admin(`links/${target}`, { method: "PATCH", body: JSON.stringify(body) }, worker);
// The link's gallery only: a site's first page need not reach it (launch-a has 200 dealers).
const linkStatus = async (target, worker = w) => {
  const gallery = target.split("/")[0];
  const page = await (await admin(`links?gallery=${gallery}&limit=100`, {}, worker)).json();
  return page.links.find((l) => `${l.gallery}/${l.name}` === target);
};
const open = (target, worker = w) => worker.navigate(worker.links[target].path, { headers: { "cf-connecting-ip": "203.0.113.70" } });
const image = (target, cookie, worker = w) => {
  const g = worker.manifest.galleries[worker.links[target].gallery];
  const file = g.images[0].variants[0].file;
  // The same browser that opened the link: sessions are bound to their client.
  const ua = NAVIGATION_HEADERS["user-agent"];
  return worker.fetch(`${worker.links[target].path}/i/${file}`, { headers: { cookie, accept: "application/json", "user-agent": ua } });
};
// 2099-06-30 through the end of that day in Shanghai, as the fixture publishes it.
const PUBLISHED_EXPIRY = Date.UTC(2099, 6, 1) / 1000 - 8 * 3600;
const DAY = 86400;

/** `gatefold <args>` against worker `worker`: exit code and output. */
const cli = (args, worker = w) => gatefold(args, { env: { GATEFOLD_URL: worker.url, GATEFOLD_ADMIN_TOKEN: worker.adminToken } });

test("a link published disabled cannot be enabled at runtime: 409 and still closed", async () => {
  const res = await admin("links/showroom/off/enable", { method: "POST" });
  assert.equal(res.status, 409);
  assert.deepEqual(await res.json(), { error: "disabled_in_yaml", message: "disabled in gallery.yaml: change it there" });
  assert.equal((await open("showroom/off")).status, 403);
  assert.equal((await linkStatus("showroom/off")).state, "disabled");
});

test("a runtime extension lapses when a republish changes the expiry it was made against", async () => {
  const persist = mkdtempSync(join(tmpdir(), "gatefold-persist-"));
  const site = mkdtempSync(join(tmpdir(), "gatefold-site-"));
  cpSync(FIXTURE, site, { recursive: true });
  const first = await startWorker({ persist });
  try {
    const extended = await (await patch("dealer/o-lapse", { expires: "2100-12-31" }, first)).json();
    assert.equal(extended.expires_at, Date.UTC(2101, 0, 1) / 1000 - 8 * 3600);
    assert.equal((await open("dealer/o-lapse", first)).status, 200);
  } finally { await first.stop(); }

  // The owner sets the expiry in git to a past date and publishes again.
  const yaml = join(site, "dealer/gallery.yaml");
  writeFileSync(yaml, readFileSync(yaml, "utf8").replace(/(o-lapse:\n(?:.*\n)*?\s+expires: )2099-06-30/, "$12020-01-02"));
  const second = await startWorker({ dist: buildSite(site), persist });
  try {
    assert.equal(second.links["dealer/o-lapse"].policy.expires?.at, Date.UTC(2020, 0, 3) / 1000 - 8 * 3600, "the republish changed the expiry");
    assert.equal((await open("dealer/o-lapse", second)).status, 410, "the newer decision in git wins");
    const st = await linkStatus("dealer/o-lapse", second);
    assert.equal(st.state, "expired");
    assert.equal(st.overrides.expires_at, null);
  } finally { await second.stop(); }
});

test("disabling a gallery is one write and closes every one of its links", async () => {
  const kv = await w.mf.getKVNamespace("LINK_STATE");
  const keysBefore = (await kv.list()).keys.map((k) => k.name);
  const session = await open("dealer/shanghai");
  assert.equal(session.status, 200);
  const res = await admin("galleries/dealer/disable", { method: "POST" });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).overrides.disabled, true);
  const written = (await kv.list()).keys.map((k) => k.name).filter((k) => !keysBefore.includes(k));
  assert.deepEqual(written, ["runtime/dealer/*"], "one mirror write for the whole gallery");
  assert.deepEqual((await w.status("dealer/shanghai")).overrides.disabled, null, "no link's own state was touched");
  for (const target of Object.keys(w.links).filter((t) => t.startsWith("dealer/"))) {
    assert.equal((await open(target)).status, 403, `${target} refuses new opens at once`);
  }
  const cookie = cookieOf(session);
  const lost = await until(() => image("dealer/shanghai", cookie), (r) => r.status !== 200);
  assert.equal(lost.status, 403, "an open session loses its images");
  assert.equal((await linkStatus("dealer/shanghai")).state, "disabled");
  // What counts nothing is told the real state too: HEAD, a mail scanner's GET, an API client.
  const path = w.links["dealer/shanghai"].path;
  assert.equal((await w.fetch(path, { method: "HEAD" })).status, 403, "HEAD sees the gallery-wide disable");
  assert.equal((await w.raw(path, { headers: { "user-agent": "Mozilla/5.0 (compatible; SafeLinks)" } })).status, 403, "a scanner sees it");
  const asJson = await w.fetch(path, { headers: { accept: "application/json" } });
  assert.deepEqual([asJson.status, (await asJson.json()).error], [403, "link_disabled"]);
  assert.equal((await admin("galleries/dealer/enable", { method: "POST" })).status, 200);
  assert.equal((await open("dealer/shanghai")).status, 200);
});

test("two owners changing different fields at once both land", async () => {
  for (let round = 1; round <= 5; round++) {
    const views = 100 + round;
    const until = `2100-0${round}-1${round}`;
    const [a, b] = await Promise.all([patch("dealer/o-both", { max_views: views }), patch("dealer/o-both", { expires: until })]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const st = await w.status("dealer/o-both");
    assert.equal(st.overrides.max_views, views, `round ${round}: the limit landed`);
    assert.equal(st.overrides.expires_at, Date.UTC(2100, round - 1, 11 + round) / 1000 - 8 * 3600, `round ${round}: the expiry landed`);
  }
});

test("revoke ends the link's open sessions without changing its URL", async () => {
  const first = await open("dealer/o-revoke");
  assert.equal(first.status, 200);
  const cookie = cookieOf(first);
  assert.equal((await image("dealer/o-revoke", cookie)).status, 200);
  const before = await w.status("dealer/o-revoke");
  const res = await admin("links/dealer/o-revoke/revoke", { method: "POST" });
  assert.equal(res.status, 200);
  const st = await res.json();
  assert.equal(st.session_epoch, before.session_epoch + 1);
  assert.equal(st.url.endsWith(w.links["dealer/o-revoke"].path), true, "same URL");
  assert.equal((await w.status("dealer/o-revoke")).session_epoch, before.session_epoch + 1);
  const mirrored = await (await w.mf.getKVNamespace("LINK_STATE")).get("runtime/dealer/o-revoke", "json");
  assert.equal(mirrored.session_epoch, before.session_epoch + 1, "in-session checks see the new epoch");
  // The session opened before the revoke loses its images once the edge sees the new epoch.
  const refused = await until(() => image("dealer/o-revoke", cookie), (r) => r.status === 403);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, "no_session");
  const viaCli = cli(["revoke", "dealer/o-revoke"]);
  assert.equal(viaCli.code, 0, viaCli.out);
  assert.equal((await w.status("dealer/o-revoke")).session_epoch, before.session_epoch + 2);
});

test("a stored state this version cannot read answers disabled and the owner is told", async () => {
  // In KV (what open sessions read): a future shape closes the session's images.
  const session = await open("dealer/o-shape");
  const cookie = cookieOf(session);
  assert.equal((await image("dealer/o-shape", cookie)).status, 200);
  const kv = await w.mf.getKVNamespace("LINK_STATE");
  await kv.put("runtime/dealer/o-shape", JSON.stringify({ shape: 2, overrides: {}, session_epoch: 0 }));
  const refused = await until(() => image("dealer/o-shape", cookie), (r) => r.status !== 200);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, "link_disabled");

  // In the Durable Object (what opens read): a redeploy finds an unknown shape in storage.
  const persist = mkdtempSync(join(tmpdir(), "gatefold-persist-"));
  const first = await startWorker({ persist });
  try { assert.equal((await open("dealer/o-shape", first)).status, 200); } finally { await first.stop(); }
  const edited = execFileSync("python3", ["-c", `
import sqlite3, sys, pathlib
n = 0
for f in pathlib.Path(sys.argv[1]).rglob("*.sqlite"):
    db = sqlite3.connect(f)
    if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'gate'").fetchone()[0]:
        n += db.execute("""UPDATE gate SET overrides = '{"disabled": false, "paused_until": 4102444800}' WHERE views > 0""").rowcount
    db.commit()
print(n)
`, join(persist, "do")], { encoding: "utf8" });
  assert.equal(edited.trim(), "1", "exactly the opened link's object was rewritten");
  const second = await startWorker({ persist });
  try {
    assert.equal((await open("dealer/o-shape", second)).status, 403);
    const st = await linkStatus("dealer/o-shape", second);
    assert.equal(st.state, "disabled");
    assert.ok(st.notices.some((n) => n.includes("cannot read")), JSON.stringify(st.notices));
  } finally { await second.stop(); }
});

test("extend --days counts from the later of now and the expiry in force", async () => {
  const res = await patch("dealer/o-extend", { extend_days: 3 });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).expires_at, PUBLISHED_EXPIRY + 3 * DAY, "a link valid until 2099 is extended, not shortened");
  const viaCli = cli(["extend", "dealer/o-extend", "--days", "2"]);
  assert.equal(viaCli.code, 0, viaCli.out);
  assert.match(viaCli.out, /expires 2099-07-06 00:00 CST/, "shown in the site timezone");
  assert.equal((await w.status("dealer/o-extend")).overrides.expires_at, PUBLISHED_EXPIRY + 5 * DAY);
});

test("shortening the expiry or a limit at or below the views used needs force", async () => {
  const earlier = await patch("dealer/o-shorten", { expires: "2098-01-01" });
  assert.equal(earlier.status, 409);
  const body = await earlier.json();
  assert.equal(body.error, "needs_force");
  assert.match(body.message, /2099-07-01 00:00 \(Asia\/Shanghai\).*earlier/);
  assert.equal((await open("dealer/o-shorten")).status, 200);
  assert.equal((await patch("dealer/o-shorten", { max_views: 1 })).status, 409, "one view is used: a limit of 1 lets nobody new in");
  const refused = cli(["extend", "dealer/o-shorten", "--until", "2098-01-01"]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.out, /--force/);
  assert.equal((await w.status("dealer/o-shorten")).overrides.expires_at, null, "nothing changed");
  const forced = cli(["extend", "dealer/o-shorten", "--until", "2098-01-01", "--force"]);
  assert.equal(forced.code, 0, forced.out);
  assert.equal((await linkStatus("dealer/o-shorten")).expires_at, Date.UTC(2098, 0, 2) / 1000 - 8 * 3600);
});

test("the admin page's files are not public assets", async () => {
  const assetDir = walk(join(w.dist, "site")).find((f) => f.startsWith("assets/") && f.endsWith("/gallery.css")).replace(/gallery\.css$/, "");
  assert.equal((await w.fetch(`/${assetDir}gallery.css`)).status, 200);
  // Every file of the admin page, as the worker compiles them in (a new script is covered too).
  for (const file of readdirSync(join(ROOT, "edge-worker", "admin-page"))) {
    assert.equal((await w.fetch(`/${assetDir}${file}`)).status, 404, file);
  }
});

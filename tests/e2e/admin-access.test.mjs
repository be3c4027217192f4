// Signing owners in with Cloudflare Access: the admin API accepts a `Cf-Access-Jwt-Assertion`
// only when it verifies (RS256 against the team's keys, audience, issuer, expiry), fails closed
// on any doubt, records the person as the actor of their actions, and takes changes from the
// admin page only. A stand-in key server here plays the team's `/cdn-cgi/access/certs` (Node's
// crypto makes the RSA keys and signs the assertions); the worker is told its address through
// ACCESS_JWKS_URL, which it accepts only in a local run (GATEFOLD_DEV=1).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import { startWorker, until, launchBrowser } from "./harness.mjs";

const TEAM = "gatefold-e2e.cloudflareaccess.com";
const AUD = "a7e2e0c1d3b4f5a6978899aabbccddeeff00112233445566778899aabbccddee";
const OWNER = "owner@example.com";
const KID = "e2e-key-1";

const team = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
let keysAsked = 0;
let keysUp = true;
let keyServer;
let w;

const b64 = (x) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

/** A compact JWT as Access makes one; `edit` changes the header or the claims, `key` signs it. */
function assertion({ claims = {}, header = {}, key = team.privateKey } = {}) {
  const h = b64({ alg: "RS256", kid: KID, typ: "JWT", ...header });
  const p = b64({ aud: [AUD], email: OWNER, exp: now() + 600, iat: now(), nbf: now(), iss: `https://${TEAM}`, sub: "7335d417", type: "app", ...claims });
  return `${h}.${p}.${sign("sha256", Buffer.from(`${h}.${p}`), key).toString("base64url")}`;
}

before(async () => {
  const jwk = { ...team.publicKey.export({ format: "jwk" }), kid: KID, alg: "RS256", use: "sig" };
  keyServer = createServer((req, res) => {
    keysAsked += 1;
    if (!keysUp || req.url !== "/cdn-cgi/access/certs") return res.writeHead(503).end("down");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk], public_cert: { kid: KID, cert: "…" } }));
  });
  await new Promise((r) => keyServer.listen(0, "127.0.0.1", r));
  w = await startWorker({ bindings: access(`http://127.0.0.1:${keyServer.address().port}/cdn-cgi/access/certs`) });
});
after(async () => {
  await w?.stop();
  await new Promise((r) => keyServer?.close(r));
});

function access(jwks, dev = "1") {
  return { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_JWKS_URL: jwks, GATEFOLD_DEV: dev };
}

/** An admin API request carrying `jwt` as Access would, from this site's admin page unless told otherwise. */
const api = (path, jwt, { method = "GET", site = "same-origin", headers = {}, worker = w } = {}) =>
  worker.raw(`/admin/api/${path}`, {
    method,
    headers: { "cf-access-jwt-assertion": jwt, ...(site ? { "sec-fetch-site": site } : {}), "cf-connecting-ip": "198.51.100.30", ...headers },
  });

test("a valid Access assertion signs a person in, without the admin token", async () => {
  const res = await api("whoami", assertion());
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { actor: OWNER });
  assert.equal((await api("links?gallery=showroom", assertion())).status, 200);
  const token = await w.fetch("/admin/api/whoami", { headers: { authorization: `Bearer ${w.adminToken}` } });
  assert.deepEqual(await token.json(), { actor: "token" }, "the bearer token stays for the CLI and CI");
  const nobody = await w.fetch("/admin/api/whoami");
  assert.equal(nobody.status, 200);
  assert.deepEqual(await nobody.json(), { actor: null }, "the page asks before showing its sign-in form");
});

test("in a browser Access lets through, the admin page opens without the token form and acts as the person", async () => {
  const browser = await launchBrowser();
  try {
    // Access adds its assertion to every request the browser makes to the site.
    const context = await browser.newContext({ extraHTTPHeaders: { "cf-access-jwt-assertion": assertion() } });
    const page = await context.newPage();
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`${w.url}/admin`);
    await page.waitForSelector("#dashboard:not([hidden])");
    assert.ok(await page.locator("#sign-in").isHidden(), "no token asked for");
    await page.fill("#f-q", "press");
    const row = page.locator('#links tr[data-gallery="showroom"][data-link="press"]');
    await row.waitFor();
    await row.locator('button[data-action="revoke"]').click();
    await page.click("dialog[open] button[value=ok]");
    await until(async () => (await (await api("galleries/showroom/audit", assertion())).json()).entries, (e) => e.some((x) => x.action === "revoke" && x.actor === OWNER));
    const entries = (await (await api("galleries/showroom/audit", assertion())).json()).entries;
    assert.ok(entries.some((x) => x.action === "revoke" && x.target === "showroom/press" && x.actor === OWNER), "the page's change is the person's");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("expired, foreign, forged, unsigned or unknown-key assertions are refused", async () => {
  const cases = {
    expired: assertion({ claims: { exp: now() - 5 } }),
    "wrong audience": assertion({ claims: { aud: ["another-application"] } }),
    "another team": assertion({ claims: { iss: "https://evil.cloudflareaccess.com" } }),
    "wrong key": assertion({ key: stranger.privateKey }),
    "alg none": (() => { const [h, p] = assertion().split("."); return `${b64({ alg: "none", kid: KID, typ: "JWT" })}.${p}.`; })(),
    "alg HS256": assertion({ header: { alg: "HS256" } }),
    "unknown kid": assertion({ header: { kid: "not-a-team-key" } }),
    "no e-mail (a service token)": assertion({ claims: { email: undefined, common_name: "ci.access" } }),
    "tampered claims": (() => { const [h, , s] = assertion().split("."); return `${h}.${b64({ aud: [AUD], email: "intruder@example.com", exp: now() + 600, iss: `https://${TEAM}` })}.${s}`; })(),
    garbage: "not.a.jwt",
  };
  for (const [what, jwt] of Object.entries(cases)) {
    const res = await api("links", jwt);
    assert.equal(res.status, 401, what);
    assert.equal((await res.json()).error, "access_denied", what);
  }
  const none = await w.fetch("/admin/api/links");
  assert.equal(none.status, 401, "no token and no assertion");
});

test("under Access an export or a download that goes on the audit log comes from the admin page only", async () => {
  for (const path of ["galleries/showroom/export.csv", "galleries/launch-a/mail-merge.csv", "galleries/showroom/audit.csv"]) {
    const cross = await api(path, assertion(), { site: "cross-site" });
    assert.equal(cross.status, 403, `${path} from another site`);
    assert.equal((await cross.json()).error, "cross_site_request");
    const bare = await w.raw(`/admin/api/${path}`, { headers: { "cf-access-jwt-assertion": assertion() } });
    assert.equal(bare.status, 403, `${path} without fetch metadata or Origin`);
    const own = await api(path, assertion());
    assert.equal(own.status, 200, `${path} from the admin page`);
    assert.equal(own.headers.get("cross-origin-resource-policy"), "same-origin", "no other site's page may read it");
  }
  const read = await api("links", assertion(), { site: "cross-site" });
  assert.equal(read.status, 200, "a plain read is fine from anywhere");
  assert.equal(read.headers.get("cross-origin-resource-policy"), "same-origin");
});

test("changes under Access come from the admin page only, and name the person in the audit log", async () => {
  const target = "links/showroom/press";
  const cross = await api(`${target}/disable`, assertion(), { method: "POST", site: "cross-site" });
  assert.equal(cross.status, 403);
  assert.equal((await cross.json()).error, "cross_site_request");
  const bare = await w.raw(`/admin/api/${target}/disable`, { method: "POST", headers: { "cf-access-jwt-assertion": assertion() } });
  assert.equal(bare.status, 403, "no fetch metadata and no Origin: refused");
  assert.equal((await api("galleries/showroom/audit", assertion(), { site: "cross-site" })).status, 200, "reading is fine from anywhere");
  assert.equal((await api(`${target}/disable`, assertion(), { method: "POST" })).status, 200);
  assert.equal((await api(`${target}/enable`, assertion(), { method: "POST", site: null, headers: { origin: w.url } })).status, 200, "an Origin of this site is enough");
  assert.equal((await w.fetch(`/admin/api/${target}/revoke`, { method: "POST", headers: { authorization: `Bearer ${w.adminToken}` } })).status, 200);
  const entries = await until(
    async () => (await (await api("galleries/showroom/audit", assertion())).json()).entries,
    (e) => e.some((x) => x.target === "showroom/press" && x.action === "revoke" && x.actor === "token"),
  );
  const mine = entries.filter((x) => x.target === "showroom/press").slice(0, 3);
  assert.deepEqual(mine.map((x) => [x.action, x.actor]), [["revoke", "token"], ["enable", OWNER], ["disable", OWNER]], "newest first");
});

test("when the team's keys cannot be fetched, Access sign-in fails closed", async () => {
  // A worker of its own: nothing cached, and the key server answers 503.
  keysUp = false;
  const cold = await startWorker({ bindings: access(`http://127.0.0.1:${keyServer.address().port}/cdn-cgi/access/certs`) });
  try {
    const asked = keysAsked;
    const res = await api("links", assertion(), { worker: cold });
    assert.equal(res.status, 401);
    assert.match((await res.json()).message, /keys could not be read/);
    assert.ok(keysAsked > asked, "the worker asked the key server");
  } finally {
    keysUp = true;
    await cold.stop();
  }
});

test("outside a local run, only the team's own key address is accepted", async () => {
  const prod = await startWorker({ bindings: access("http://127.0.0.1:9/cdn-cgi/access/certs", "0") });
  try {
    const res = await api("links", assertion(), { worker: prod });
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error, "access_misconfigured");
    assert.match(body.message, /GATEFOLD_DEV=1/);
    const token = await prod.fetch("/admin/api/whoami", { headers: { authorization: `Bearer ${prod.adminToken}` } });
    assert.equal(token.status, 200, "the bearer token still works");
  } finally {
    await prod.stop();
  }
});

// The daily digest of a gallery with one audience of 2,000 recipients (issue 18 §7), the most
// an audience holds: its links' runtime state is read in bulk, so the digest stays within the
// 1,000 KV operations one invocation may make (Miniflare enforces no such limit: the worker's
// KV binding here counts them), and each recipient still gets its own runtime state, its
// audience's under its own. The recipient list is generated: 2,000 rows stay out of git.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, buildSite, kvOperations, until, FIXTURE, adminApi, OWNER_WORKER } from "./harness.mjs";
import { startReceiver } from "./notify-receiver.mjs";

const RECIPIENTS = 2000;
const KV_PER_INVOCATION = 1000;

let receiver;
let w;

/** A site of one gallery whose audience `partners` has RECIPIENTS recipients, digested to the webhook. */
function partnersSite() {
  const galleries = join(mkdtempSync(join(tmpdir(), "gatefold-e2e-digest-")), "galleries");
  const g = join(galleries, "partners");
  mkdirSync(g, { recursive: true });
  cpSync(join(FIXTURE, "site.yaml"), join(galleries, "site.yaml"));
  cpSync(join(FIXTURE, "notify-g", "front.jpg"), join(g, "front.jpg"));
  const rows = Array.from({ length: RECIPIENTS }, (_, i) => `p-${String(i + 1).padStart(4, "0")},Partner ${i + 1}`);
  writeFileSync(join(g, "partners.csv"), ["name,label", ...rows].join("\n") + "\n");
  writeFileSync(join(g, "gallery.yaml"), [
    "title: Partners",
    "images:",
    "  - file: front.jpg",
    "    caption: Front",
    "notify:",
    "  - to: webhook",
    "    url_secret: NOTIFY_WEBHOOK_URL",
    "    sign_secret: NOTIFY_WEBHOOK_SIGN",
    "    on: [digest]",
    "links:",
    "  partners:",
    "    label: Partners",
    "    expires: 2099-01-01",
    "    recipients: partners.csv",
    "",
  ].join("\n"));
  return galleries;
}

before(async () => {
  receiver = await startReceiver();
  w = await startWorker({ dist: buildSite(partnersSite()), countKv: true, bindings: receiver.bindings });
});
after(async () => {
  await w?.stop();
  await receiver?.stop();
});

const admin = adminApi({ worker: () => w });
const patch = (path, body) => admin(path, { method: "PATCH", body: JSON.stringify(body) });

test("a digest of 2,000 recipients reads their state in bulk, within one invocation's KV operations, each recipient's own", async (t) => {
  assert.equal(Object.keys(w.links).length, RECIPIENTS);
  // Runtime state at two scopes: the whole audience moved to one expiry, one recipient to its own.
  const day = 86_400;
  const audienceExpiry = Math.floor(Date.now() / 1000) + 30 * day;
  const ownExpiry = audienceExpiry + 10 * day;
  assert.equal((await patch("audiences/partners/partners", { expires_at: audienceExpiry, force: true })).status, 200);
  assert.equal((await patch("links/partners/partners/p-0007", { expires_at: ownExpiry, force: true })).status, 200);

  const before = kvOperations(w.logs());
  const today = new Date();
  // 09:00 in Shanghai, the site's digest hour.
  const at = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 1, 0);
  await (await w.mf.getWorker(OWNER_WORKER)).scheduled({ cron: "0 * * * *", scheduledTime: new Date(at) });
  const digests = await until(async () => receiver.received.filter((r) => r.json?.type === "digest"), (d) => d.length > 0, { ms: 60_000, every: 200 });
  assert.equal(digests.length, 1, "the digest arrived");
  const waiting = async () => (await w.notifications("partners")).pending + (await w.notifications("gatefold:digest")).pending;
  assert.equal(await until(waiting, (n) => n === 0, { ms: 20_000, every: 100 }), 0);

  const used = kvOperations(w.logs()) - before;
  t.diagnostic(`the digest of ${RECIPIENTS} recipients made ${used} KV operations`);
  assert.ok(used < KV_PER_INVOCATION, `the digest made ${used} KV operations; one invocation may make ${KV_PER_INVOCATION}`);
  const links = digests[0].json.digest.links;
  assert.equal(links.length, RECIPIENTS, "every recipient is in the digest");
  const byId = new Map(links.map((l) => [l.id, l]));
  assert.equal(byId.get("partners/partners/p-0007").expires_at, ownExpiry, "a recipient's own runtime expiry wins");
  for (const id of ["partners/partners/p-0001", "partners/partners/p-1000", "partners/partners/p-2000"]) {
    assert.equal(byId.get(id).expires_at, audienceExpiry, `${id}: the audience's runtime expiry`);
  }
  assert.equal(links.filter((l) => l.expires_at === audienceExpiry).length, RECIPIENTS - 1);
});

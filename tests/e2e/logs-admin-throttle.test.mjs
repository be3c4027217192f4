// End-to-end tests of admin sign-in throttling: every try is booked before the token is
// compared, IPv6 addresses count per /64, and a budget caps failures from all addresses.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const signIn = (worker, token, ip) =>
  worker.fetch("/admin/api/links", { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
const tally = (statuses) => statuses.reduce((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

test("20 wrong tokens sent at once from one address: only the free tries are compared", async () => {
  const statuses = await Promise.all(Array.from({ length: 20 }, () => signIn(w, "wrong-guess", "192.0.2.60")));
  assert.deepEqual(tally(statuses), { 401: 3, 429: 17 });
  assert.equal(await signIn(w, w.adminToken, "192.0.2.60"), 429, "the right token waits too while the address is locked");
  assert.equal(await signIn(w, w.adminToken, "192.0.2.61"), 200);
});

test("an IPv6 client cannot escape the lock by moving inside its /64", async () => {
  for (const host of ["1", "2", "3"]) assert.equal(await signIn(w, "wrong-guess", `2001:db8:7:7::${host}`), 401);
  assert.equal(await signIn(w, "wrong-guess", "2001:db8:7:7:ffff::4"), 429);
  assert.equal(await signIn(w, "wrong-guess", "2001:db8:7:8::1"), 401, "the next /64 is another client");
});

test("a budget caps wrong tokens from all addresses together", async () => {
  // Its own worker, so the budget starts full.
  const fresh = await startWorker();
  try {
    const statuses = await Promise.all(Array.from({ length: 130 }, (_, i) => signIn(fresh, "wrong-guess", `10.1.${i >> 8}.${i & 255}`)));
    const t = tally(statuses);
    // 100 failures an hour for everyone; the bucket leaks one every 36 s while the test runs.
    assert.ok(t[401] >= 100 && t[401] <= 101, JSON.stringify(t));
    assert.equal(t[401] + t[429], 130);
    const res = await fresh.fetch("/admin/api/links", { headers: { authorization: `Bearer ${fresh.adminToken}`, "cf-connecting-ip": "10.9.9.9" } });
    assert.equal(res.status, 429);
    assert.match((await res.json()).message, /many addresses/);
    assert.ok(Number(res.headers.get("retry-after")) > 0);
  } finally {
    await fresh.stop();
  }
});

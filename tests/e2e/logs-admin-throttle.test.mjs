// End-to-end tests of admin sign-in throttling: per network only (IPv4 /24, IPv6 /64), decided
// with the token's verdict in hand, so a right token is never a failure and no guesser anywhere
// else can pause the owner's sign-in.
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

test("20 wrong tokens sent at once from one network: only the free tries are compared", async () => {
  const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(w, "wrong-guess", `192.0.2.${60 + i}`)));
  assert.deepEqual(tally(statuses), { 401: 3, 429: 17 }, "twenty addresses of one /24 are one network");
  assert.equal(await signIn(w, w.adminToken, "192.0.2.200"), 429, "the right token waits too while the network is locked");
  assert.equal(await signIn(w, w.adminToken, "192.0.3.61"), 200, "another network is not affected");
});

test("an IPv6 client cannot escape the lock by moving inside its /64", async () => {
  for (const host of ["1", "2", "3"]) assert.equal(await signIn(w, "wrong-guess", `2001:db8:7:7::${host}`), 401);
  assert.equal(await signIn(w, "wrong-guess", "2001:db8:7:7:ffff::4"), 429);
  assert.equal(await signIn(w, "wrong-guess", "2001:db8:7:8::1"), 401, "the next /64 is another client");
});

test("160 wrong tokens from 16 networks never keep the owner out", async () => {
  // Its own worker, so nothing earlier is on record.
  const fresh = await startWorker();
  try {
    const guesses = Array.from({ length: 160 }, (_, i) => signIn(fresh, `wrong-guess-${i}`, `10.${i % 16}.0.${i}`));
    const t = tally(await Promise.all(guesses));
    // Three free tries per network (a slow machine may let a fourth through after the 2 s wait).
    assert.ok(t[401] >= 48 && t[401] <= 64 && t[401] + t[429] === 160, JSON.stringify(t));
    const res = await fresh.fetch("/admin/api/links", { headers: { authorization: `Bearer ${fresh.adminToken}`, "cf-connecting-ip": "10.99.0.1" } });
    assert.equal(res.status, 200, "the owner's token from another network is accepted at once");
  } finally {
    await fresh.stop();
  }
});

test("parallel calls with the right token are never throttled, even after typos", async () => {
  const ip = "198.51.100.44";
  assert.equal(await signIn(w, "typo-1", ip), 401);
  assert.equal(await signIn(w, "typo-2", ip), 401);
  // The page opens with several calls at once: none may be counted as a failure.
  const statuses = await Promise.all(Array.from({ length: 12 }, () => signIn(w, w.adminToken, ip)));
  assert.deepEqual(tally(statuses), { 200: 12 });
  // The right token forgave the typos: three free tries again.
  for (let i = 0; i < 3; i++) assert.equal(await signIn(w, `typo-again-${i}`, ip), 401);
  assert.equal(await signIn(w, "typo-again-3", ip), 429);
});

// End-to-end tests of the audit log (issue 13): every owner action through the admin API
// leaves exactly one row in its gallery's log, with before → after, the owner's truncated IP
// (the e2e site has `ip_logging: truncated`) and device; a change the link's object refuses
// (409) is on record as refused; a malformed request (400) is not; the exports carry it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, until, adminApi } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const admin = adminApi({ worker: () => w, ip: "198.51.100.77", headers: { "user-agent": CHROME } });
const json = (method, body) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const entries = async (gallery) => (await (await admin(`galleries/${gallery}/audit`)).json()).entries;

/**
 * The gallery's rows once nothing asked before is still on its way. Owner actions are recorded
 * after the answer, so this asks for one more, an audit CSV export (on record itself, changing
 * nothing), and waits for its row: whatever was asked before it is in by then. Answers the
 * rows that came before that marker.
 */
async function settledEntries(gallery) {
  const before = (await entries(gallery)).length;
  await (await admin(`galleries/${gallery}/audit.csv`)).arrayBuffer();
  const rows = await until(() => entries(gallery), (r) => r.length > before, { ms: 10_000, every: 100 });
  assert.equal(rows[0].action, "export_audit_csv", "the marker is the newest row");
  return rows.slice(1);
}

/** Runs the action and answers the audit rows it added (recorded after the answer). */
async function rowsAfter(gallery, action, want = 1) {
  const seen = (await entries(gallery)).length;
  const res = await action();
  const now = await until(() => entries(gallery), (rows) => rows.length >= seen + want, { ms: 10_000, every: 100 });
  const added = now.slice(0, now.length - seen);
  // Nothing more arrives later: exactly the rows wanted.
  assert.equal((await settledEntries(gallery)).length, seen + want, "exactly one row per action");
  return { res, added };
}

test("each link action leaves one row with what it changed, the truncated IP and the device", async () => {
  const cases = [
    ["POST", "links/showroom/press/disable", undefined, "disable", "active", "disabled"],
    ["POST", "links/showroom/press/enable", undefined, "enable", "disabled", "active"],
    ["POST", "links/showroom/press/revoke", undefined, "revoke", /^sessions \d+$/, /^sessions \d+$/],
  ];
  for (const [method, path, body, action, was, is] of cases) {
    const { res, added } = await rowsAfter("showroom", () => admin(path, body ? json(method, body) : { method }));
    assert.equal(res.status, 200, path);
    const [row] = added;
    assert.deepEqual([row.action, row.target], [action, "showroom/press"]);
    if (was instanceof RegExp) { assert.match(row.before, was); assert.match(row.after, is); } else assert.deepEqual([row.before, row.after], [was, is]);
    assert.equal(row.ip, "198.51.100.0", "truncated per ip_logging");
    assert.equal(row.device, "desktop, Windows 10, Chrome");
    assert.ok(Math.abs(row.at - Date.now()) < 60_000);
  }
});

test("a raise says views before → after, and an extend says the expiry before → after in the site timezone", async () => {
  const { added: [raise] } = await rowsAfter("launch-a", () => admin("links/launch-a/team", json("PATCH", { max_views: 30 })));
  assert.deepEqual([raise.action, raise.target, raise.before, raise.after], ["raise", "launch-a/team", "views unlimited", "views 30"]);
  const { added: [raise2] } = await rowsAfter("launch-a", () => admin("links/launch-a/team", json("PATCH", { max_views: 40 })));
  assert.deepEqual([raise2.before, raise2.after], ["views 30", "views 40"]);
  const { added: [ext] } = await rowsAfter("launch-a", () => admin("links/launch-a/team", json("PATCH", { expires: "2099-12-01", force: true })));
  // Giving an open-ended link an expiry closes it sooner than never: it takes `force`.
  assert.deepEqual([ext.action, ext.before, ext.after], ["extend", "expires never", "expires 2099-12-01 23:59"]);
  const { added: [ext2] } = await rowsAfter("launch-a", () => admin("links/launch-a/team", json("PATCH", { extend_days: 7 })));
  assert.deepEqual([ext2.before, ext2.after], ["expires 2099-12-01 23:59", "expires 2099-12-08 23:59"]);
});

test("a refused change (409) is on record as refused; a malformed one (400) is not", async () => {
  await rowsAfter("showroom", () => admin("links/showroom/timed", json("PATCH", { expires: "2099-12-01", force: true })));
  const { res, added: [row] } = await rowsAfter("showroom", () => admin("links/showroom/timed", json("PATCH", { expires: "2099-01-01" })));
  assert.equal(res.status, 409);
  assert.deepEqual([row.action, row.target, row.before, row.after], ["extend", "showroom/timed", "active", "refused: needs_force"]);
  const seen = (await entries("showroom")).length;
  assert.equal((await admin("links/showroom/timed", json("PATCH", { nonsense: 1 }))).status, 400);
  assert.equal((await settledEntries("showroom")).length, seen, "a 400 changed nothing and is not an owner action");
});

test("audience, recipient, gallery and password actions are each one row on their own target; the password never appears", async () => {
  const { added: [aud] } = await rowsAfter("launch-a", () => admin("audiences/launch-a/press/disable", { method: "POST" }));
  assert.deepEqual([aud.action, aud.target, aud.before, aud.after], ["disable", "launch-a/@press", "active", "disabled"]);
  await rowsAfter("launch-a", () => admin("audiences/launch-a/press/enable", { method: "POST" }));
  const { added: [rcp] } = await rowsAfter("launch-a", () => admin("links/launch-a/channel/dealer-009/disable", { method: "POST" }));
  assert.deepEqual([rcp.target, rcp.before, rcp.after], ["launch-a/channel/dealer-009", "active", "disabled"]);
  const { added: [pw] } = await rowsAfter("launch-a", () => admin("links/launch-a/press/xinhua/password", json("PUT", { password: "correct horse battery staple" })));
  // Setting a password ends the sessions opened without it: the row says so.
  assert.deepEqual([pw.action, pw.target, pw.before, pw.after], ["password_set", "launch-a/press/xinhua", "sessions 0, no password", "sessions 1, password set"]);
  const { added: [clear] } = await rowsAfter("launch-a", () => admin("links/launch-a/press/xinhua/password", { method: "DELETE" }));
  assert.equal(clear.action, "password_clear");
  assert.match(clear.before, /password set$/);
  assert.match(clear.after, /no password$/);
  const { res, added: [refused] } = await rowsAfter("launch-a", () => admin("links/launch-a/team/password", json("PUT", { password: "correct horse battery staple" })));
  assert.equal(res.status, 409);
  assert.deepEqual([refused.action, refused.after], ["password_set", "refused: password_not_required"]);
  const { added: [gal] } = await rowsAfter("kit", () => admin("galleries/kit/disable", { method: "POST" }));
  assert.deepEqual([gal.action, gal.target, gal.before, gal.after], ["disable", "kit", "active", "disabled"]);
  await rowsAfter("kit", () => admin("galleries/kit/enable", { method: "POST" }));
  const text = JSON.stringify(await entries("launch-a"));
  assert.ok(!text.includes("horse"), "the password is never recorded");
});

test("exports and the mail merge are on record, and the audit comes out as CSV and as the workbook's Audit sheet", async () => {
  const { added: [csv] } = await rowsAfter("launch-a", async () => { const r = await admin("galleries/launch-a/export.csv"); await r.arrayBuffer(); return r; });
  assert.equal(csv.action, "export_csv");
  assert.match(csv.after, /^launch-a-\d{4}-\d{2}-\d{2}\.csv$/);
  const { added: [mm] } = await rowsAfter("launch-a", async () => { const r = await admin("galleries/launch-a/mail-merge.csv"); await r.arrayBuffer(); return r; });
  assert.deepEqual([mm.action, mm.after], ["mail_merge", "launch-a-mail-merge.csv, 202 recipients"]);

  const { res, added: [self] } = await rowsAfter("launch-a", () => admin("galleries/launch-a/audit.csv"));
  assert.equal(res.status, 200);
  assert.equal(self.action, "export_audit_csv");
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "a BOM, so Excel reads UTF-8");
  const text = bytes.subarray(3).toString("utf8");
  assert.ok(text.startsWith("\"time_local\",\"action\",\"target\",\"before\",\"after\",\"ip\",\"device\",\"actor\""), text.slice(0, 90));
  assert.match(text, /"[0-9-]+ [0-9:]+ \+08:00","mail_merge","launch-a","","launch-a-mail-merge.csv, 202 recipients","198.51.100.0","desktop, Windows 10, Chrome","token"/);

  const { res: xres, added: [x] } = await rowsAfter("launch-a", () => admin("galleries/launch-a/export.xlsx"));
  assert.equal(xres.status, 200);
  assert.equal(x.action, "export_xlsx");
  const file = join(mkdtempSync(join(tmpdir(), "gatefold-audit-")), "audit.xlsx");
  writeFileSync(file, new Uint8Array(await xres.arrayBuffer()));
  const book = JSON.parse(execFileSync("python3", ["-c", `
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
rows = list(wb["Audit"].iter_rows(values_only=True))
print(json.dumps({"sheets": wb.sheetnames, "header": list(rows[0]), "rows": [list(r) for r in rows[1:]]}))
`, file], { encoding: "utf8" }));
  assert.deepEqual(book.sheets.slice(-2), ["Audit", "Follow-up"]);
  assert.deepEqual(book.header, ["time_local", "action", "target", "before", "after", "ip", "device", "actor"]);
  // Newest first: the audit CSV export was the last action before this workbook.
  assert.deepEqual(book.rows[0].slice(1, 3), ["export_audit_csv", "launch-a"]);
  assert.ok(book.rows.some((r) => r[1] === "raise" && r[3] === "views unlimited" && r[4] === "views 30"));
});

test("reading the audit log, stats or the follow-up is not an owner action", async () => {
  const seen = (await entries("showroom")).length;
  for (const path of ["galleries/showroom/audit", "galleries/showroom/stats", "galleries/showroom/follow-up", "links?gallery=showroom"]) {
    assert.equal((await admin(path)).status, 200, path);
  }
  assert.equal((await settledEntries("showroom")).length, seen);
});

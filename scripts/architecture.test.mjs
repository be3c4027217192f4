// The architecture checker (scripts/architecture.mjs) on small crates written for each test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { check, functions, lex, useTreePaths, withoutTests } from "./architecture.mjs";

/** A repository holding `files` (path → text), with an empty contract manifest. */
function repo(files) {
  const root = mkdtempSync(join(tmpdir(), "gatefold-architecture-"));
  for (const [path, text] of Object.entries({ "contract/Cargo.toml": "[dependencies]\n", ...files })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const broken = (root, rule) => check(root).find((b) => b.rule.startsWith(rule))?.findings ?? [];
const CIRCLE = "no module imports another";

test("two modules importing each other are a circle, named with the line of each import", () => {
  const root = repo({
    "edge-worker/src/lib.rs": "pub mod access;\npub mod log;\n",
    "edge-worker/src/access.rs": "use crate::log::Batch;\npub struct Event;\n",
    "edge-worker/src/log.rs": "pub struct Batch;\n\npub fn store() {\n    let _ = crate::access::Event;\n}\n",
  });
  const findings = broken(root, CIRCLE);
  assert.match(findings[0], /^edge-worker: 2 modules in a circle: access, log$/);
  assert.ok(findings.some((f) => f.includes("access → log: edge-worker/src/access.rs:1 crate::log::Batch")), findings.join("\n"));
  assert.ok(findings.some((f) => f.includes("log → access: edge-worker/src/log.rs:4 crate::access::Event")), findings.join("\n"));
});

test("a circle through a third module is found, and a chain without a way back is none", () => {
  const files = {
    "generator/src/lib.rs": "pub mod build;\npub mod cli;\npub mod publish;\n",
    "generator/src/build.rs": "use crate::cli::Progress;\n",
    "generator/src/cli.rs": "pub struct Progress;\nfn run() { crate::publish::run() }\n",
    "generator/src/publish.rs": "pub fn run() { super::build::go() }\n",
  };
  assert.match(broken(repo(files), CIRCLE).join("\n"), /build → cli → publish → build/);
  const fixed = { ...files, "generator/src/publish.rs": "pub fn run() {}\n" };
  assert.deepEqual(broken(repo(fixed), CIRCLE), []);
});

test("a folder module's files use their root's items and the root re-exports theirs, without a circle", () => {
  const root = repo({
    "edge-worker/src/lib.rs": "pub mod gate;\npub use gate::LinkGate;\n",
    "edge-worker/src/gate/mod.rs": "mod store;\nmod unlock;\npub use store::Row;\npub struct LinkGate;\nfn f() { unlock::run() }\n",
    "edge-worker/src/gate/store.rs": "use super::*;\nuse super::LinkGate;\npub struct Row;\n",
    "edge-worker/src/gate/unlock.rs": "use super::store::Row;\nuse crate::gate::LinkGate;\npub fn run() {}\n",
  });
  assert.deepEqual(broken(root, CIRCLE), []);
});

test("a file of a folder module importing a module that imports the folder is the folder's circle", () => {
  const root = repo({
    "edge-worker/src/lib.rs": "pub mod admin;\npub mod log;\n",
    "edge-worker/src/admin.rs": "use crate::log::Client;\npub fn site_time() {}\n",
    "edge-worker/src/log/mod.rs": "mod notifications;\npub struct Client;\n",
    "edge-worker/src/log/notifications.rs": "fn send() { crate::admin::site_time() }\n",
  });
  const findings = broken(root, CIRCLE).join("\n");
  assert.match(findings, /3 modules in a circle: admin, log, log::notifications/);
  assert.match(findings, /log → log::notifications: edge-worker\/src\/log\/mod.rs:1 mod notifications;/);
  assert.match(findings, /log::notifications → admin: edge-worker\/src\/log\/notifications.rs:1 crate::admin::site_time/);
});

test("comments, strings and test code name no module", () => {
  const root = repo({
    "edge-worker/src/lib.rs": "pub mod a;\npub mod b;\n",
    "edge-worker/src/a.rs": "use crate::b::B;\n",
    "edge-worker/src/b.rs": [
      "//! See [`crate::a`].",
      "pub struct B;",
      "/* crate::a::x /* nested */ crate::a::y */",
      'const S: &str = "crate::a::x";',
      'const R: &str = r#"crate::a::"x""#;',
      "const Q: char = '\"';",
      "fn f<'a>(x: &'a str) -> &'a str { x }",
      "#[cfg(test)]",
      "mod tests {",
      "    use crate::a::*;",
      "}",
      "#[cfg(test)]",
      "mod more;",
      "",
    ].join("\n"),
  });
  assert.deepEqual(broken(root, CIRCLE), []);
});

test("use trees name every module they reach", () => {
  assert.deepEqual(useTreePaths("crate::{gate::{self, Scope}, http::headers as h, visitor::*}"), [
    ["crate", "gate"],
    ["crate", "gate", "Scope"],
    ["crate", "http", "headers"],
    ["crate", "visitor"],
  ]);
  assert.deepEqual(useTreePaths("super::super::access::{self}"), [["super", "super", "access"]]);
});

test("the lexer blanks comments and literals but keeps every line", () => {
  const text = "let a = \"x // y\"; // crate::z\nlet c = '\\'';\nlet d = b'\"';\n/* 1\n2 */ let e = br##\"\"#\"##;";
  const lexed = lex(text);
  assert.equal(lexed.split("\n").length, text.split("\n").length);
  assert.doesNotMatch(lexed, /crate|x \/\/ y|"#"/);
  assert.match(lexed, /let e = br##"\s*"##;/);
  const { code, testLines } = withoutTests(lex("fn a() {}\n#[cfg(test)]\n#[allow(x)]\nmod tests {\n    fn b() {}\n}\nfn c() {}\n"));
  assert.equal(testLines, 5);
  assert.deepEqual(functions(code).map((f) => f.name), ["a", "c"]);
});

test("clap in the generator library is reported, in cmd/ it is not", () => {
  const root = repo({
    "generator/src/lib.rs": "pub mod cmd;\npub mod publish;\n",
    "generator/src/cmd/mod.rs": "use clap::Args;\n",
    "generator/src/publish.rs": "pub fn run() {}\n\n#[derive(clap::Args)]\npub struct PublishArgs;\n",
  });
  assert.deepEqual(broken(root, "the generator library has no clap"), ["generator/src/publish.rs:3"]);
});

test("contract I/O is reported: clocks, files, printing and I/O crates; address types are values", () => {
  const root = repo({
    "contract/Cargo.toml": '[dependencies]\nserde = "1"\ngetrandom = "0.3"\nchrono = { version = "0.4", features = ["clock"] }\n',
    "contract/src/lib.rs": [
      "pub fn ip(s: &str) -> bool { s.parse::<std::net::Ipv4Addr>().is_ok() }",
      "pub fn now() -> std::time::SystemTime { std::time::SystemTime::now() }",
      'pub fn read() { let _ = std::fs::read("x"); println!("read"); }',
      "",
    ].join("\n"),
  });
  assert.deepEqual(broken(root, "`contract` does no I/O"), [
    "contract/src/lib.rs:2 SystemTime",
    "contract/src/lib.rs:2 SystemTime",
    "contract/src/lib.rs:3 std::fs",
    "contract/src/lib.rs:3 println!",
    "contract/Cargo.toml depends on getrandom",
    "contract/Cargo.toml turns on chrono's clock",
  ]);
});

test("a Durable Object's module importing the admin API is reported, as is the visitor reaching it", () => {
  const root = repo({
    "edge-worker/src/lib.rs": "pub mod admin;\npub mod log;\npub mod visitor;\n",
    "edge-worker/src/admin.rs": "pub fn site_time() {}\n",
    "edge-worker/src/log.rs": "#[durable_object]\npub struct GalleryLog;\nfn f() { crate::admin::site_time() }\n",
    "edge-worker/src/visitor.rs": "use crate::log::GalleryLog;\n",
  });
  assert.deepEqual(broken(root, "storage modules"), ["log → admin: edge-worker/src/log.rs:3 crate::admin::site_time"]);
  assert.deepEqual(broken(root, "the visitor's modules reach no admin"), ["visitor → log → admin: edge-worker/src/log.rs:3 crate::admin::site_time"]);
});

test("files over 600 lines and functions over 120 are reported, test code apart", () => {
  const body = (n) => Array.from({ length: n }, (_, i) => `    let _x${i} = ${i};`).join("\n");
  const root = repo({
    "contract/src/lib.rs": "pub mod long;\npub mod tested;\n",
    "contract/src/long.rs": `pub fn long() {\n${body(119)}\n}\npub fn fits() {\n${body(118)}\n}\n${"\n".repeat(400)}`,
    "contract/src/tested.rs": `pub fn f() {}\n#[cfg(test)]\nmod tests {\n${"\n".repeat(700)}}\n`,
  });
  assert.deepEqual(broken(root, "no source file over"), ["contract/src/long.rs: 641 lines"]);
  assert.deepEqual(broken(root, "no function over"), ["contract/src/long.rs:1 fn long: 121 lines"]);
});

test("a crate root whose docs leave out a module it declares is reported", () => {
  const root = repo({
    "contract/src/lib.rs": "//! - [`manifest`]: the wire format;\n//! - `policy`: link policies.\n\npub mod manifest;\npub mod notify;\npub mod policy;\n",
    "contract/src/manifest.rs": "",
    "contract/src/notify.rs": "",
    "contract/src/policy.rs": "",
  });
  assert.deepEqual(broken(root, "each crate root's docs list"), ["contract/src/lib.rs: `notify` (contract) is not in the module list"]);
});

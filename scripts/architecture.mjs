// The architecture's invariants (ARCHITECTURE.md, "Invariants"), checked on the source:
//
//   node scripts/architecture.mjs [repository root]
//
// Each crate's module graph is read from its source at file-module granularity (`foo.rs` or
// `foo/mod.rs`; inline modules belong to their file). A module has an edge to each module it
// declares (`mod foo;`: a folder module holds its files' code, whose methods it may call without
// naming them) and to each module a path in its code reaches (`use` trees, and `crate::…`,
// `super::…`, `self::…` or `<child module>::…` anywhere). A module naming one of its own
// ancestors (`use super::*` in a folder module's file) is no edge: what a folder module's root
// defines is the context of its files. So a circle is one between folders or files that neither
// holds the other. Test code (`#[cfg(test)]` items and the files they declare) is left out: the
// rules are about what ships.
//
// Prints every rule broken, with the file and line of each reference involved, and exits 1.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Non-test source lines a file may have, and lines a function may span. */
export const MAX_FILE_LINES = 600;
export const MAX_FN_LINES = 120;

/**
 * Functions allowed past MAX_FN_LINES, as `path::name` relative to the repository: readers
 * that walk one YAML document field by field, where splitting would scatter one schema.
 */
export const LONG_FUNCTIONS_ALLOWED = new Set(["generator/src/config/gallery.rs::read", "generator/src/config/site.rs::read"]);

const CRATES = [
  { name: "contract", dir: "contract", root: "src/lib.rs" },
  { name: "generator", dir: "generator", root: "src/lib.rs" },
  { name: "edge-worker", dir: "edge-worker", root: "src/lib.rs" },
];

// ---------------------------------------------------------------------------------------------
// Reading Rust source

const IDENT = /[A-Za-z0-9_]/;

/**
 * `text` with comments and the contents of string and character literals replaced by spaces
 * (newlines kept, so offsets and line numbers stay those of the file).
 */
export function lex(text) {
  const out = text.split("");
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text[j] === "/" && text[j + 1] === "*") { depth++; j += 2; }
        else if (text[j] === "*" && text[j + 1] === "/") { depth--; j += 2; }
        else j++;
      }
      blank(i, j);
      i = j;
    } else if (c === "r" && (next === "#" || next === '"') && !IDENT.test(text[i - 1] ?? " ") || (c === "r" && text[i - 1] === "b" && !IDENT.test(text[i - 2] ?? " ") && (next === "#" || next === '"'))) {
      // A raw string: r"…", r#"…"#, br#"…"#.
      let j = i + 1;
      let hashes = 0;
      while (text[j] === "#") { hashes++; j++; }
      if (text[j] !== '"') { i++; continue; }
      const close = '"' + "#".repeat(hashes);
      const end = text.indexOf(close, j + 1);
      const stop = end < 0 ? text.length : end + close.length;
      blank(j + 1, stop - close.length);
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else if (c === "'") {
      // A character literal ('a', '\n', '\u{1F600}', '"'), else a lifetime ('a, 'static).
      if (next === "\\") {
        const end = text.indexOf("'", i + 3);
        blank(i + 1, end);
        i = end + 1;
      } else {
        const width = next !== undefined && next.charCodeAt(0) >= 0xd800 && next.charCodeAt(0) <= 0xdbff ? 2 : 1;
        if (text[i + 1 + width] === "'") {
          blank(i + 1, i + 1 + width);
          i += 2 + width;
        } else i++;
      }
    } else i++;
  }
  return out.join("");
}

/** The offset of the brace closing the one at `open`, in lexed text. */
function closingBrace(code, open) {
  let depth = 0;
  for (let j = open; j < code.length; j++) {
    if (code[j] === "{") depth++;
    else if (code[j] === "}" && --depth === 0) return j;
  }
  return code.length - 1;
}

/**
 * Lexed `code` without its `#[cfg(test)]` items (a `mod tests;`, a `mod tests { … }`, a test
 * `use` or function), blanked like comments; and how many lines those items took.
 */
export function withoutTests(code) {
  const out = code.split("");
  let testLines = 0;
  const attr = /#\[cfg\(test\)\]/g;
  let m;
  while ((m = attr.exec(code))) {
    let j = m.index + m[0].length;
    // Further attributes of the same item.
    for (;;) {
      while (/\s/.test(code[j] ?? "")) j++;
      if (code[j] === "#" && code[j + 1] === "[") {
        let depth = 0;
        for (; j < code.length; j++) {
          if (code[j] === "[") depth++;
          else if (code[j] === "]" && --depth === 0) { j++; break; }
        }
      } else break;
    }
    let end = j;
    while (end < code.length && code[end] !== ";" && code[end] !== "{") end++;
    if (code[end] === "{") end = closingBrace(code, end);
    for (let k = m.index; k <= end && k < code.length; k++) if (out[k] !== "\n") out[k] = " ";
    testLines += code.slice(m.index, end + 1).split("\n").length;
    attr.lastIndex = end;
  }
  return { code: out.join(""), testLines };
}

const lineOf = (code, offset) => code.slice(0, offset).split("\n").length;

/** The `mod name;` declarations of a (lexed, test-free) file, with their lines. */
function declaredModules(code) {
  const mods = [];
  for (const m of code.matchAll(/(?:^|[;{}\s])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;/g)) {
    mods.push({ name: m[1], line: lineOf(code, m.index + m[0].indexOf("mod")) });
  }
  return mods;
}

/** Inline modules (`mod name { … }`): their name and the span of their body. */
function inlineModules(code) {
  const spans = [];
  for (const m of code.matchAll(/(?:^|[;{}\s])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/g)) {
    const open = m.index + m[0].length - 1;
    spans.push({ name: m[1], from: open, to: closingBrace(code, open) });
  }
  return spans;
}

/**
 * A crate's modules, read from `root` (its `lib.rs`): a Map from module path (`"gate::runtime"`,
 * `""` for the root) to { path, file, code (lexed, without tests), lines, testLines, children }.
 */
export function readCrate(crateDir, root = "src/lib.rs") {
  const modules = new Map();
  const visit = (path, file) => {
    const text = readFileSync(file, "utf8");
    const { code, testLines } = withoutTests(lex(text));
    const node = { path, file, text, code, lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0), testLines, children: new Map(), declared: new Map() };
    modules.set(path.join("::"), node);
    // A `lib.rs`, `main.rs` or `mod.rs` owns the folder it is in; `foo.rs` owns `foo/`.
    const base = /(^|\/)(lib|main|mod)\.rs$/.test(file) ? dirname(file) : file.replace(/\.rs$/, "");
    for (const { name, line } of declaredModules(code)) {
      const candidates = [join(base, `${name}.rs`), join(base, name, "mod.rs")];
      const childFile = candidates.find((f) => existsSync(f));
      if (!childFile) throw new Error(`${file}: mod ${name}; found neither ${candidates.join(" nor ")}`);
      node.children.set(name, [...path, name]);
      node.declared.set(name, line);
      visit([...path, name], childFile);
    }
  };
  visit([], join(crateDir, root));
  return modules;
}

/** Every path named by a `use` tree (`a::{b, c::{self, d}}` → a::b, a::c, a::c::d). */
export function useTreePaths(tree) {
  const paths = [];
  const parse = (s, prefix) => {
    s = s.trim();
    if (!s) return;
    const brace = s.indexOf("{");
    if (brace < 0) {
      const path = s.replace(/\s+as\s+\w+$/, "").replace(/\s+/g, "").replace(/::\*$/, "");
      const parts = path.split("::").filter(Boolean);
      paths.push(parts[parts.length - 1] === "self" ? [...prefix, ...parts.slice(0, -1)] : [...prefix, ...parts]);
      return;
    }
    const head = s.slice(0, brace).replace(/\s+/g, "").replace(/::$/, "");
    const inner = s.slice(brace + 1, s.lastIndexOf("}"));
    const base = [...prefix, ...head.split("::").filter(Boolean)];
    let depth = 0;
    let start = 0;
    for (let k = 0; k <= inner.length; k++) {
      const ch = inner[k];
      if (ch === "{") depth++;
      else if (ch === "}") depth--;
      else if ((ch === "," && depth === 0) || k === inner.length) {
        const part = inner.slice(start, k).trim();
        if (part === "self") paths.push(base);
        else parse(part, base);
        start = k + 1;
      }
    }
  };
  parse(tree, []);
  return paths;
}

/**
 * Every reference of the module at `path` (a node of `modules`) to another module of its crate:
 * { to (module path), line, what (the path as written) }. Ancestors are not included.
 */
export function references(modules, node) {
  const refs = [...node.children].map(([name, to]) => ({ to: to.join("::"), line: node.declared.get(name), what: `mod ${name};` }));
  const code = node.code.replace(/pub\s*\(\s*in\s+[^)]*\)/g, (s) => " ".repeat(s.length));
  const inline = inlineModules(code);
  const here = (offset) => [...node.path, ...inline.filter((s) => s.from < offset && offset < s.to).map((s) => s.name)];
  const resolve = (segments, offset) => {
    let at;
    let rest = segments;
    if (segments[0] === "crate") { at = []; rest = segments.slice(1); }
    else if (segments[0] === "super" || segments[0] === "self") {
      at = here(offset);
      while (rest[0] === "super" || rest[0] === "self") {
        if (rest[0] === "super") at = at.slice(0, -1);
        rest = rest.slice(1);
      }
    } else if (node.children.has(segments[0]) && here(offset).length === node.path.length) {
      at = node.path;
    } else return null;
    // The deepest file module the path reaches.
    let target = [];
    for (const seg of at) {
      if (!modules.get(target.join("::"))?.children.has(seg)) break;
      target = [...target, seg];
    }
    if (target.length === at.length) {
      for (const seg of rest) {
        if (!modules.get(target.join("::"))?.children.has(seg)) break;
        target = [...target, seg];
      }
    }
    return target;
  };
  const add = (segments, offset, what) => {
    const to = resolve(segments, offset);
    if (!to) return;
    const isAncestorOrSelf = to.length <= node.path.length && to.every((seg, k) => node.path[k] === seg);
    if (!isAncestorOrSelf) refs.push({ to: to.join("::"), line: lineOf(code, offset), what });
  };
  // `use` declarations, whose trees may name many modules at once.
  const uses = /(?:^|[;{}\s])(?:pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]+);/g;
  const inUse = [];
  for (const m of code.matchAll(uses)) {
    const from = m.index + m[0].indexOf("use");
    inUse.push([from, m.index + m[0].length]);
    for (const p of useTreePaths(m[1])) add(p, from, p.join("::"));
  }
  // Paths anywhere else in the code.
  const paths = /(?<![A-Za-z0-9_:])((?:[A-Za-z_][A-Za-z0-9_]*)(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)/g;
  for (const m of code.matchAll(paths)) {
    if (inUse.some(([a, b]) => a <= m.index && m.index < b)) continue;
    const segments = m[1].split("::").map((s) => s.trim());
    add(segments, m.index, segments.join("::"));
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------
// Graphs

/** The module graph: Map module → Map target → the references making that edge. */
export function moduleGraph(modules) {
  const graph = new Map();
  for (const [name, node] of modules) {
    const edges = new Map();
    for (const ref of references(modules, node)) {
      if (!edges.has(ref.to)) edges.set(ref.to, []);
      edges.get(ref.to).push({ ...ref, file: node.file });
    }
    graph.set(name, edges);
  }
  return graph;
}

/** Strongly connected components of more than one module (Tarjan), each sorted. */
export function cycles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const found = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** A shortest cycle through `from` inside `members` (breadth first), as a list of modules. */
function shortestCycle(graph, members, from) {
  const inside = new Set(members);
  const prev = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v).keys()) {
      if (!inside.has(w)) continue;
      if (w === from) {
        const path = [v];
        for (let p = prev.get(v); p !== null; p = prev.get(p)) path.unshift(p);
        return [...path, from];
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [from];
}

/** Whether `to` is reachable from `from`, and through which modules. */
function pathBetween(graph, from, isTarget) {
  const prev = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift();
    if (v !== from && isTarget(v)) {
      const path = [v];
      for (let p = prev.get(v); p !== null; p = prev.get(p)) path.unshift(p);
      return path;
    }
    for (const w of graph.get(v)?.keys() ?? []) if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The rules

const under = (name, top) => name === top || name.startsWith(`${top}::`);
const display = (name) => name || "(crate root)";

/**
 * Checks every rule on the repository at `root`; answers the broken ones:
 * [{ rule, findings: [text lines] }].
 */
export function check(root) {
  const broken = [];
  const rule = (name, findings) => { if (findings.length) broken.push({ rule: name, findings }); };
  const rel = (file) => relative(root, file);
  const crates = new Map();
  for (const c of CRATES) {
    const dir = join(root, c.dir);
    if (!existsSync(join(dir, c.root))) continue;
    const modules = readCrate(dir, c.root);
    crates.set(c.name, { modules, graph: moduleGraph(modules) });
  }
  const where = (refs) => refs.slice(0, 3).map((r) => `${rel(r.file)}:${r.line} ${r.what}`).join(", ") + (refs.length > 3 ? `, and ${refs.length - 3} more` : "");

  // No module imports another that imports it back, directly or through others.
  const circles = [];
  for (const [name, { graph }] of crates) {
    for (const scc of cycles(graph)) {
      const cycle = shortestCycle(graph, scc, scc[0]);
      circles.push(`${name}: ${scc.length} modules in a circle: ${scc.map(display).join(", ")}`);
      circles.push(`  e.g. ${cycle.map(display).join(" → ")}`);
      for (const from of scc) {
        for (const [to, refs] of graph.get(from)) {
          if (scc.includes(to)) circles.push(`    ${display(from)} → ${display(to)}: ${where(refs)}`);
        }
      }
    }
  }
  rule("no module imports another that imports it back (directly or through others)", circles);

  // Each crate root's module list (its `//!` docs) names every module the root declares.
  const unlisted = [];
  for (const [name, { modules }] of crates) {
    const root = modules.get("");
    const docs = root.text.split("\n").filter((l) => l.trim().startsWith("//!")).join("\n");
    for (const child of root.children.keys()) {
      if (!docs.includes(`\`${child}\``)) unlisted.push(`${rel(root.file)}: \`${child}\` (${name}) is not in the module list`);
    }
  }
  rule("each crate root's docs list every module it declares", unlisted);

  // `contract` does no I/O: no clock, no environment, no files, network, processes or printing.
  const contract = crates.get("contract");
  if (contract) {
    // Address types (`std::net::Ipv4Addr`) are values; sockets are I/O.
    const io = /\bstd\s*::\s*(fs|process|env|thread)\b|\b(TcpStream|TcpListener|UdpSocket|ToSocketAddrs)\b|\bSystemTime\b|\bInstant\b|\b(Utc|Local)\s*::\s*now\b|\b(e?print(ln)?|dbg)!|\b(stdin|stdout|stderr)\s*\(/g;
    const findings = [];
    for (const node of contract.modules.values()) {
      for (const m of node.code.matchAll(io)) findings.push(`${rel(node.file)}:${lineOf(node.code, m.index)} ${m[0].trim()}`);
    }
    const manifest = readFileSync(join(root, "contract/Cargo.toml"), "utf8");
    for (const dep of ["worker", "web-sys", "js-sys", "wasm-bindgen", "getrandom", "rand", "ureq", "reqwest", "tokio"]) {
      if (new RegExp(`^${dep}\\s*[.=]`, "m").test(manifest)) findings.push(`contract/Cargo.toml depends on ${dep}`);
    }
    if (/^chrono\s*=.*"(clock|now)"/m.test(manifest)) findings.push("contract/Cargo.toml turns on chrono's clock");
    rule("`contract` does no I/O (no clock, environment, files, network or printing)", findings);
  }

  // The generator's library has no command-line types: clap stays in `cmd/` and `main.rs`.
  const generator = crates.get("generator");
  if (generator) {
    const findings = [];
    for (const node of generator.modules.values()) {
      if (node.path[0] === "cmd") continue;
      for (const m of node.code.matchAll(/\bclap\b/g)) findings.push(`${rel(node.file)}:${lineOf(node.code, m.index)}`);
    }
    rule("the generator library has no clap types (they live in generator/src/cmd/ and main.rs)", findings);
  }

  const worker = crates.get("edge-worker");
  if (worker) {
    // Storage (the Durable Objects' modules) never calls up into the admin API.
    const storage = new Set();
    for (const node of worker.modules.values()) {
      if (node.path.length && /#\[durable_object\]/.test(node.code)) storage.add(node.path[0]);
    }
    const findings = [];
    for (const [name, edges] of worker.graph) {
      if (![...storage].some((top) => under(name, top))) continue;
      for (const [to, refs] of edges) if (under(to, "admin")) findings.push(`${display(name)} → ${to}: ${where(refs)}`);
    }
    rule(`storage modules (${[...storage].sort().join(", ")}: the Durable Objects) never import the admin API`, findings);

    // The visitor's path reaches no owner-only code.
    const reach = [];
    const seen = new Set();
    for (const name of worker.graph.keys()) {
      if (!under(name, "visitor")) continue;
      const path = pathBetween(worker.graph, name, (v) => under(v, "admin"));
      // One line per way in (the edge reaching admin), from the first visitor module that takes it.
      const last = path && `${path[path.length - 2]} → ${path[path.length - 1]}`;
      if (!path || seen.has(last)) continue;
      seen.add(last);
      reach.push(`${path.join(" → ")}: ${where(worker.graph.get(path[path.length - 2]).get(path[path.length - 1]))}`);
    }
    rule("the visitor's modules reach no admin module, directly or through others", reach);
  }

  // Sizes: files under MAX_FILE_LINES non-test lines, functions under MAX_FN_LINES.
  const big = [];
  const long = [];
  for (const { modules } of crates.values()) {
    for (const node of modules.values()) {
      const lines = node.lines - node.testLines;
      if (lines > MAX_FILE_LINES) big.push(`${rel(node.file)}: ${lines} lines`);
      for (const f of functions(node.code)) {
        const id = `${rel(node.file)}::${f.name}`;
        if (f.lines > MAX_FN_LINES && !LONG_FUNCTIONS_ALLOWED.has(id)) long.push(`${rel(node.file)}:${f.line} fn ${f.name}: ${f.lines} lines`);
      }
    }
  }
  const page = join(root, "edge-worker/admin-page");
  if (existsSync(page)) {
    for (const name of readdirSync(page).filter((n) => n.endsWith(".js")).sort()) {
      const lines = readFileSync(join(page, name), "utf8").replace(/\n$/, "").split("\n").length;
      if (lines > MAX_FILE_LINES) big.push(`edge-worker/admin-page/${name}: ${lines} lines`);
    }
  }
  rule(`no source file over ${MAX_FILE_LINES} lines (tests apart)`, big);
  rule(`no function over ${MAX_FN_LINES} lines`, long);
  return broken;
}

/** The functions with a body in lexed, test-free `code`: name, first line, lines spanned. */
export function functions(code) {
  const found = [];
  for (const m of code.matchAll(/\bfn\s+([A-Za-z_][A-Za-z0-9_]*)/g)) {
    let j = m.index + m[0].length;
    let depth = 0;
    // The signature ends at the body's brace, or at `;` for a declaration without one.
    for (; j < code.length; j++) {
      const ch = code[j];
      if (ch === "(" || ch === "<" || ch === "[") depth++;
      else if ((ch === ")" || ch === "]" || (ch === ">" && code[j - 1] !== "-")) && depth > 0) depth--;
      else if (depth === 0 && (ch === "{" || ch === ";")) break;
    }
    if (code[j] !== "{") continue;
    const first = lineOf(code, m.index);
    found.push({ name: m[1], line: first, lines: lineOf(code, closingBrace(code, j)) - first + 1 });
  }
  return found;
}

function main(argv) {
  const root = resolve(argv.find((a) => !a.startsWith("--")) ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
  const broken = check(root);
  if (!broken.length) {
    console.log("architecture: every invariant holds");
    return 0;
  }
  for (const { rule, findings } of broken) {
    console.log(`✗ ${rule}`);
    for (const f of findings) console.log(`  ${f}`);
  }
  console.log(`architecture: ${broken.length} invariant(s) broken`);
  return 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

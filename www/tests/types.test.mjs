// The package's TypeScript declarations from a consumer's side: a file that uses every
// part of the API compiles with `tsc --strict`; a file of misuses fails on exactly the
// lines marked MISUSE; and the class's signatures use `any` only for decoded data.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, test } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(here, "..", "node_modules", ".bin", "tsc");
const declarations = join(here, "..", "..", "pkg", "sse_wasm.d.ts");

function compile(project) {
  return new Promise((resolve) => {
    execFile(tsc, ["-p", join(here, "types", project)], (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

test("a consumer of every option and callback compiles with tsc --strict", async () => {
  const { code, output } = await compile("tsconfig.consumer.json");
  assert.equal(code, 0, output);
});

test("each misuse is a compile error, on exactly the marked lines", async () => {
  const source = readFileSync(join(here, "types", "misuse.ts"), "utf8").split("\n");
  const marked = source.flatMap((line, i) => (line.includes("// MISUSE") ? [i + 1] : []));
  assert.ok(marked.length >= 8);
  const { code, output } = await compile("tsconfig.misuse.json");
  assert.notEqual(code, 0, "the misuse file compiled");
  const failing = [...new Set([...output.matchAll(/misuse\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])))];
  assert.deepEqual(failing.sort((a, b) => a - b), marked, output);
  assert.doesNotMatch(output, /sse_wasm\.d\.ts/, "errors inside the declarations themselves");
});

test("the declarations name every type of the contract and use any only for data", () => {
  const text = readFileSync(declarations, "utf8");
  for (const name of ["SseOptions", "SseEvent", "SseError", "SseState", "SseStateDetail"]) {
    assert.match(text, new RegExp(`export (interface|type) ${name}\\b`), name);
  }
  const start = text.indexOf("export class SseClient");
  const end = text.indexOf("\n}", start);
  assert.ok(start >= 0 && end > start);
  const signatures = text
    .slice(0, end)
    .split("\n")
    .filter((line) => !/^\s*(\*|\/\*\*)/.test(line));
  const anys = signatures.filter((line) => /\bany\b/.test(line));
  assert.deepEqual(anys.map((line) => line.trim()), [
    "on(type: string, handler: (data: any, event: SseEvent) => void): () => void;",
  ]);
  assert.match(text, /constructor\(url: string \| URL, options\?: SseOptions\);/);
  assert.match(text, /readonly state: SseState;/);
});

await run();

// Writes the package's second entry, `sse-wasm/inline`: PKG_DIR/inline.js (minified)
// and inline.d.ts. It re-exports everything of ./sse_wasm.js; its `init()` and
// `initSync()` instantiate the .wasm embedded in the file as base64, so a bundler needs
// no asset handling and a page makes no request for the .wasm. The bytes are decoded
// with Uint8Array.fromBase64 or atob (never eval, new Function or a data: URL fetch),
// so a strict CSP needs only `script-src 'self' 'wasm-unsafe-eval'`, as for the normal
// entry. Runs after minify-pkg.mjs: the glue it imports is already minified, and
// inline.js gets no source map (its only source would be the base64 string again).
//
//   node scripts/inline-pkg.mjs PKG_DIR
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// esbuild is one of www/'s npm tools (scripts/setup.sh installs them).
const { transformSync } = createRequire(new URL("../www/package.json", import.meta.url))("esbuild");

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/inline-pkg.mjs PKG_DIR");
  process.exit(2);
}

const wasm = readFileSync(join(dir, "sse_wasm_bg.wasm"));
if (wasm.readUInt32BE(0) !== 0x0061736d) {
  console.error(`inline-pkg: ${join(dir, "sse_wasm_bg.wasm")} is not a WebAssembly module`);
  process.exit(1);
}

// Both functions take what the glue's take; with no argument (or one without
// `module_or_path` / `module`) they use the embedded bytes. The glue instantiates once
// per page, so calling either twice, or mixing them with the normal entry, is harmless.
const source = `
import glueInit, { initSync as glueInitSync } from "./sse_wasm.js";
export * from "./sse_wasm.js";

const WASM = ${JSON.stringify(wasm.toString("base64"))};

function embedded() {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(WASM);
  const text = atob(WASM);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function given(options, key) {
  if (options === undefined) return false;
  return !(Object.getPrototypeOf(options) === Object.prototype && options[key] === undefined);
}

let loading;

export default async function init(options) {
  if (given(options, "module_or_path")) return glueInit(options);
  if (loading === undefined) {
    loading = glueInit({ module_or_path: embedded() });
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

export function initSync(options) {
  return glueInitSync(given(options, "module") ? options : { module: embedded() });
}
`;

const { code } = transformSync(source, { minify: true, format: "esm", target: "es2022", sourcefile: "inline.js" });
// Deno reads the types from this first-line directive, as for sse_wasm.js.
writeFileSync(join(dir, "inline.js"), `/* @ts-self-types="./inline.d.ts" */\n${code}`);
// minify-pkg.mjs maps an inline.js left over from an earlier build; that map is stale.
rmSync(join(dir, "inline.js.map"), { force: true });

writeFileSync(
  join(dir, "inline.d.ts"),
  `/**
 * The \`sse-wasm/inline\` entry: the same API, with the .wasm embedded (base64) so that
 * any bundler works with no asset handling and the page makes no request for it.
 *
 * \`\`\`js
 * import init, { SseClient } from "sse-wasm/inline";
 * await init();
 * \`\`\`
 */
import type { InitInput, InitOutput, SyncInitInput } from "./sse_wasm.js";

export * from "./sse_wasm.js";

/**
 * Instantiates the embedded .wasm, once per page: later calls (and calls of the
 * normal entry's \`init\`) resolve to the same exports. An argument is handed to the
 * normal entry's \`init\` instead.
 */
export default function init(
  module_or_path?: { module_or_path?: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/**
 * Instantiates the embedded .wasm synchronously (for code that cannot await, such as
 * a worker's first lines). An argument is handed to the normal entry's \`initSync\`.
 */
export function initSync(module?: { module?: SyncInitInput } | SyncInitInput): InitOutput;
`,
);

console.log(`pkg: ${join(dir, "inline.js")} = the glue's exports + ${wasm.length} bytes of .wasm as base64`);

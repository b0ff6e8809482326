// Minifies the JavaScript of the built npm package in place: wasm-bindgen's glue (with
// the package's JS appended), share.js and any snippet. Each file stays an ES module of
// its own (nothing is bundled, so `new URL("sse_wasm_bg.wasm", import.meta.url)` and
// the imports are untouched) and gets a source map beside it for debugging. The glue's
// comments are wasm-bindgen's copies of the Rust docs; the types and their docs stay in
// sse_wasm.d.ts.
//
//   node scripts/minify-pkg.mjs PKG_DIR
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";

// esbuild is one of www/'s npm tools (scripts/setup.sh installs them).
const { transformSync } = createRequire(new URL("../www/package.json", import.meta.url))("esbuild");

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/minify-pkg.mjs PKG_DIR");
  process.exit(2);
}

function* scripts(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) yield* scripts(path);
    else if (name.endsWith(".js")) yield path;
  }
}

// Deno reads the glue's types from this first-line directive; esbuild drops comments.
const SELF_TYPES = /^\/\* @ts-self-types="[^"]*" \*\/\n?/;

for (const path of scripts(dir)) {
  const source = readFileSync(path, "utf8");
  const header = source.match(SELF_TYPES)?.[0].trimEnd() ?? "";
  const { code, map } = transformSync(source, {
    minify: true,
    format: "esm",
    target: "es2022",
    sourcemap: "external",
    sourcefile: basename(path),
  });
  const mapName = `${basename(path)}.map`;
  writeFileSync(path, `${header ? `${header}\n` : ""}${code}//# sourceMappingURL=${mapName}\n`);
  writeFileSync(`${path}.map`, map);
}

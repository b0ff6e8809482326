// Merges the npm metadata of pkg.json into the package.json that wasm-pack wrote:
// pkg.json wins for every key it sets; wasm-pack's version and anything pkg.json
// leaves out are kept.
import { readFileSync, writeFileSync } from "node:fs";

const [, , metadataPath, packagePath] = process.argv;
if (!metadataPath || !packagePath) {
  console.error("usage: node merge-pkg-json.mjs pkg.json pkg/package.json");
  process.exit(2);
}
const metadata = JSON.parse(readFileSync(metadataPath, "utf8"));
const generated = JSON.parse(readFileSync(packagePath, "utf8"));
const merged = { ...generated, ...metadata, version: generated.version };
writeFileSync(packagePath, JSON.stringify(merged, null, 2) + "\n");
console.log(`pkg: ${packagePath} = wasm-pack's + ${metadataPath} (${merged.name}@${merged.version})`);

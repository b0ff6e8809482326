// webpack 5 with no loader or plugin: it finds the .wasm through
// `new URL("sse_wasm_bg.wasm", import.meta.url)` and emits it as an asset.
import { fileURLToPath } from "node:url";

export default {
  mode: "production",
  entry: "./src/main.js",
  output: {
    path: fileURLToPath(new URL("dist/webpack", import.meta.url)),
    filename: "main.js",
    clean: true,
  },
};

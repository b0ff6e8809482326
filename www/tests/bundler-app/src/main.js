// The normal entry: webpack 5 emits the .wasm by itself (it follows
// `new URL("sse_wasm_bg.wasm", import.meta.url)`); esbuild leaves that URL as it is,
// so its build copies the .wasm next to the bundle.
import init, { SseClient } from "sse-wasm";
import { start } from "./app.js";

await start(init, SseClient);

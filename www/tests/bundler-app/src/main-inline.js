// The inline entry: the .wasm is inside the module, so no bundler needs an asset step.
import init, { SseClient } from "sse-wasm/inline";
import { start } from "./app.js";

await start(init, SseClient);

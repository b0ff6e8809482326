// The `sse-wasm/inline` entry from TypeScript: the same API, init() and initSync()
// without arguments; must compile with `tsc --strict`.
import init, { initSync, SseClient, type InitOutput, type SseState } from "sse-wasm/inline";

export async function startInline(): Promise<SseState> {
  const exports: InitOutput = await init();
  const again: InitOutput = initSync();
  void exports.memory;
  void again.memory;
  const client = new SseClient("/events", { backoff: { initialMs: 500 } });
  client.on("tick", (tick: { seq: number }) => console.log(tick.seq));
  return client.state;
}

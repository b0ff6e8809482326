// A minimal app on the package as npm users install it: the bundler resolves
// "sse-wasm" from node_modules and emits the .wasm as an asset.
import init, { SseClient } from "sse-wasm";

await init();
const params = new URLSearchParams(location.search);
// `share`: the sharing script, which the package's entry imports when a client shares,
// is a chunk of the build.
const share = params.get("share") ?? undefined;
const client = new SseClient(`/sse?count=${params.get("count") ?? 20}&interval=40&types=tick&then=hold`, { share });
window.client = client;
const list = document.getElementById("ticks");
client.on("tick", (tick, event) => {
  const item = document.createElement("li");
  item.textContent = `tick ${tick.seq}`;
  list.append(item);
  document.getElementById("last-id").textContent = event.lastEventId;
});
client.onState((state) => {
  document.getElementById("state").textContent = state;
});
client.onError((error) => console.error(`sse-wasm ${error.kind}: ${error.message}`));
document.getElementById("state").textContent = client.state;

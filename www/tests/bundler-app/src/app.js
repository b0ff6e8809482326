// The app every bundler builds: it initialises the package (twice, which must be
// harmless), subscribes to the scripted server's /sse on its own origin (sharing the
// connection with the page's other tabs when the query says `share`) and shows the
// ticks. `init` and `SseClient` come from the entry under test (main*.js).
export async function start(init, SseClient) {
  const first = await init();
  const second = await init();
  document.getElementById("init-twice").textContent = String(first === second);
  const params = new URLSearchParams(location.search);
  // `share`: the sharing script (a module the package's entry imports when a client
  // shares) must be in the bundle, or beside it, too.
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
}

// The script of csp.html (a file: the page's policy allows no inline script). It loads
// the package from /pkg/ as a plain page does:
//   ?entry=normal  /pkg/sse_wasm.js, `await init()` (fetches /pkg/sse_wasm_bg.wasm)
//   ?entry=inline  /pkg/inline.js,   `await init()` (the embedded bytes)
//   ?entry=inline-sync  /pkg/inline.js, `initSync()`
// then shows the ticks of a same-origin /sse stream.
const params = new URLSearchParams(location.search);
const entry = params.get("entry") ?? "normal";
document.getElementById("entry").textContent = entry;
const state = document.getElementById("state");

try {
  const { default: init, initSync, SseClient } = await import(
    entry === "normal" ? "/pkg/sse_wasm.js" : "/pkg/inline.js"
  );
  let first;
  let second;
  if (entry === "inline-sync") {
    first = initSync();
    second = initSync();
  } else {
    first = await init();
    second = await init();
  }
  document.getElementById("init-twice").textContent = String(first === second);
  const client = new SseClient(`/sse?count=${params.get("count") ?? 5}&interval=30&types=tick&then=hold`);
  const list = document.getElementById("ticks");
  client.on("tick", (tick) => {
    const item = document.createElement("li");
    item.textContent = `tick ${tick.seq}`;
    list.append(item);
  });
  client.onState((now) => {
    state.textContent = now;
  });
  client.onError((error) => console.error(`sse-wasm ${error.kind}: ${error.message}`));
} catch (error) {
  state.textContent = `failed: ${error.message}`;
  console.error(error);
}

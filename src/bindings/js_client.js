// The npm package's `SseClient` class (its declaration and docs are in js.rs's
// TypeScript section). scripts/pkg.sh appends this file to the package's entry, where
// the `__sse*` functions that src/bindings/js.rs exports are in scope; it is not a
// module of its own.
//
// Its options are read by js_options.js (appended before this file, with `sseInvalid`).
// A client is its hub (src/bindings/js_hub.js: its handlers, its key in Rust, and what
// a closed client still answers). Handlers are kept and checked here, and the
// functions that remove them are plain JS: adding or removing a handler crosses into
// wasm only when an event type is new to the connection. Nothing of a client stays in
// wasm's memory once it is closed, whether or not its garbage is ever collected.

const sseHandler = (method, handler) => {
  if (typeof handler !== "function") throw sseInvalid(`${method}: the handler must be a function`);
  return handler;
};

export class SseClient {
  #hub;

  constructor(url, options) {
    const open = sseOptions(url, options);
    const [endType, endData] = sseEnds(options);
    const hub = __sseOpen(...open);
    this.#hub = hub;
    // The stream's end is watched for in the hub; the types it can come in are
    // listened to whether or not they have handlers.
    for (const type of hub.ending(endType, endData, () => __sseClose(hub.client))) {
      __sseListen(hub.client, type);
    }
  }

  on(type, handler) {
    if (typeof type !== "string") throw sseInvalid("on: the event type must be a string");
    const fresh = !this.#hub.has(type);
    const off = this.#hub.on(type, sseHandler("on", handler));
    if (fresh) __sseListen(this.#hub.client, type);
    return off;
  }

  onState(handler) {
    return this.#hub.onState(sseHandler("onState", handler));
  }

  onError(handler) {
    return this.#hub.onError(sseHandler("onError", handler));
  }

  reconnect() {
    __sseReconnect(this.#hub.client);
  }

  close() {
    __sseClose(this.#hub.client);
  }

  free() {}

  get state() {
    return __sseState(this.#hub.client);
  }

  get lastEventId() {
    return __sseLastEventId(this.#hub.client) ?? this.#hub.lastEventId;
  }

  get url() {
    return this.#hub.url;
  }
}

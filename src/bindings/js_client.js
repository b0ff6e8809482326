// The npm package's `SseClient` class (its declaration and docs are in js.rs's
// TypeScript section). scripts/pkg.sh appends this file to the package's entry, after
// the scripts it uses; it is not a module of its own.
//
// Its options are read by js_options.js (with `sseInvalid`). A client is its hub
// (src/bindings/js_hub.js: its handlers, and what a closed client still answers) and,
// once it connects, its driver (js_driver.js: the connection, whose every decision is
// Rust's). Handlers are kept and checked here, and the functions that remove them are
// plain JS: adding or removing a handler reaches the connection only when an event
// type is new to it. Nothing of a client stays in wasm's memory once it is closed,
// whether or not its garbage is ever collected.
//
// A client made with `share` (src/client/share.js, which the package ships beside its
// entry as share.js and this file imports when a client first shares; whether the
// browser can share at all is its sseCanShare, copied before this file)
// follows the share's leader until it holds the share's lock: its hub gets the
// leader's events, states and errors, and it connects only once it leads.

const sseHandler = (method, handler) => {
  if (typeof handler !== "function") throw sseInvalid(`${method}: the handler must be a function`);
  return handler;
};

// A follower closes: it leaves the share and reports "closed" once (a client that led
// before, whose connection stands by, as that connection closes).
const sseLeave = (hub, link) => {
  const share = link.share;
  if (share.closed) return;
  share.leave();
  share.now = "closed";
  if (link.driver !== null) {
    link.driver.close();
  } else {
    hub.state("closed");
    hub.release(hub.lastEventId);
  }
  hub.lastEventId = share.id || hub.lastEventId;
};

// What a sharing client asks of its share before share.js has loaded: its handlers'
// types go with its first hello (the hub has them), a close() leaves before it
// joins, and a reconnect() is passed on once it has joined.
const sseJoining = () => ({
  now: "connecting",
  id: "",
  closed: false,
  reconnecting: false,
  leave() {
    this.closed = true;
  },
  need() {},
  reconnect() {
    this.reconnecting = true;
  },
});

export class SseClient {
  #hub;
  // The client's role ("solo", "follower" or "leader") and its share (an SseShare of
  // src/client/share.js, or sseJoining's stand-in until that has loaded), null when it
  // connects on its own. A plain object that the hub's and the share's callbacks hold
  // instead of the client, so that a script can let go of a running client as it can
  // of an open EventSource. Its driver is null until it connects.
  #link = { role: "solo", share: null, driver: null };

  constructor(url, options) {
    const [href, json, ...open] = sseOptions(url, options);
    const [endType, endData] = sseEnds(options);
    const name = sseShare(options, href);
    const hub = new SseHub(json, href);
    const link = this.#link;
    this.#hub = hub;
    // The stream's end is watched for in the hub; the types it can come in are
    // listened to whether or not they have handlers. A follower's own end closes it
    // alone; a leader's closes the shared connection, and so every client of it.
    const ending = hub.ending(endType, endData, () => {
      if (link.role === "follower") sseLeave(hub, link);
      else link.driver?.close();
    });
    const connect = (types) => {
      const driver = new SseDriver(hub, href, open);
      link.driver = driver;
      for (const type of types) driver.listen(type);
    };
    if (name === undefined || !sseCanShare()) {
      connect(ending);
      return;
    }
    link.role = "follower";
    // open: withCredentials, reconnectOnEnd, resumeParam (undefined: resume off),
    // lastEventId, … (sseOptions)
    hub.lastEventId = open[3];
    // The sharing protocol is a module of its own (share.js beside this entry), loaded
    // when the first client shares: a page that never shares does not download it.
    // Until it is there, the client follows a share it has not joined yet.
    const waiting = sseJoining();
    link.share = waiting;
    import("./share.js").then(
      ({ SseShare }) => {
        if (waiting.closed) return;
        link.share = new SseShare(name, hub, {
          lead: (lastEventId) => {
            link.role = "leader";
            // A client that led before (its page went into the back/forward cache)
            // starts its stood-by connection again.
            if (link.driver !== null) {
              link.driver.standBy(false, lastEventId);
              return;
            }
            if (lastEventId !== "" && open[2] !== undefined) open[3] = lastEventId;
            connect([...hub.handled(), ...ending]);
          },
          standBy: () => {
            link.role = "follower";
            link.driver.standBy(true, "");
          },
          listen: (type) => link.driver.listen(type),
          reconnect: () => link.driver.reconnect(),
          seen: (visible) => link.driver.seenElsewhere(visible),
          end: () => sseLeave(hub, link),
        });
        if (waiting.reconnecting) link.share.reconnect();
      },
      // The script could not be loaded: the client connects on its own, as where
      // the browser cannot share.
      () => {
        if (waiting.closed) return;
        link.role = "solo";
        link.share = null;
        connect([...hub.handled(), ...ending]);
      },
    );
  }

  on(type, handler) {
    if (typeof type !== "string") throw sseInvalid("on: the event type must be a string");
    const fresh = !this.#hub.has(type);
    const off = this.#hub.on(type, sseHandler("on", handler));
    if (fresh) {
      const link = this.#link;
      if (link.role === "follower") link.share.need(type);
      else link.driver?.listen(type);
    }
    return off;
  }

  onState(handler) {
    return this.#hub.onState(sseHandler("onState", handler));
  }

  onError(handler) {
    return this.#hub.onError(sseHandler("onError", handler));
  }

  reconnect() {
    const link = this.#link;
    if (link.role === "follower") link.share.reconnect();
    else link.driver?.reconnect();
  }

  close() {
    const link = this.#link;
    if (link.role === "follower") {
      sseLeave(this.#hub, link);
      return;
    }
    // A leader's close hands the connection to the next client of its share.
    if (link.share !== null) link.share.handingOver = true;
    link.driver?.close();
  }

  free() {}

  get state() {
    const link = this.#link;
    return link.role === "follower" ? link.share.now : (link.driver?.now ?? "connecting");
  }

  get lastEventId() {
    const hub = this.#hub;
    if (this.#link.role === "follower" || hub.released) return hub.lastEventId;
    return this.#link.driver?.lastEventId() ?? hub.lastEventId;
  }

  get url() {
    return this.#hub.url;
  }

  get role() {
    return this.#link.role;
  }
}

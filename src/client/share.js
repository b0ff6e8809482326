// One connection for every client of a share name, in every tab, window and
// same-origin frame of the browser profile (the `share` option; the contract is in
// DESIGN.md, "Sharing across tabs"). Both faces use it: the Rust client imports it
// (src/client/share.rs), and scripts/pkg.sh puts it beside the npm package's entry,
// which loads it when its first client shares (js_client.js); the entry gets a copy of
// sseCanShare, to know at once.
//
// The client that holds the Web Lock "sse-wasm:" + name leads: it connects with its own
// options, and its hub relays every event (type, raw data, id), state and error over
// the BroadcastChannel of the same name (the npm face's hub is js_hub.js; the Rust
// face's is a few functions of share.rs). The others follow: their hubs hand the
// relayed events to their own handlers, decoding for themselves. Each waits in the
// lock's queue, so when the leader's tab goes (or its client closes) the next in line
// takes over, resuming from the newest id any client saw: relayed events carry a
// sequence number, and the new leader asks the others for theirs before it connects.
//
// A page that goes into the back/forward cache leaves the share for as long as it is
// there (a frozen page would hold the lock, or be granted it, and serve nobody): a
// leader's connection stands by, and the next in line takes over. Restored, the client
// joins again as a follower.
//
// Messages, all with `from` (the sender's member key):
//   hello {types, visible} a client joined, listening to these types
//   here {visible}         an answer to hello: so the newcomer knows who to ask later
//   need {type}            a follower listens to a type from now on
//   seen {visible}         a client's page became visible or hidden
//   ask                    a new leader wants to know where everyone is
//   have {seq, id, types, visible}  an answer to ask
//   event {seq, type, data, id}, state {name, attempt, delayMs}, error {kind, message,
//   status, detail}        the leader's connection, relayed
//   reconnect              a follower's reconnect(): the leader reconnects
//   bye                    a client closed (a leader's bye hands the connection over)

// How long a new leader waits at most for the others' answers before it connects.
const SSE_ASK_MS = 100;

// Whether this client's page is visible (a worker has no page to hide).
const sseVisible = () => typeof document !== "object" || !document.hidden;

// Whether this context can share: Web Locks and BroadcastChannel (old browsers and
// some workers have neither; their clients connect on their own, role "solo").
// scripts/pkg.sh copies this definition, from its first line to the first line that
// ends with ";", into the npm package's entry.
export const sseCanShare = () =>
  typeof BroadcastChannel === "function" &&
  typeof navigator === "object" &&
  typeof navigator.locks?.request === "function";

const sseMemberKey = () =>
  typeof crypto === "object" && typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

export class SseShare {
  // `hub` is the client's hub (handled(), needed, entry(type), follow(type, data, id),
  // state(name, attempt, delayMs), error(kind, message, status, detail), relay); `on`
  // is what the client does at the share's turns:
  // lead(lastEventId) connects, listen(type) listens on the led connection,
  // reconnect() reconnects it, seen(visible) tells the led connection whether
  // another client's page is visible (it pauses only when none is: the leader's
  // pauseWhenHiddenMs), standBy() pauses the led connection because the page went
  // into the back/forward cache (lead() then starts it again, from the newest id),
  // end() closes this client because the shared connection ended for good.
  constructor(name, hub, on) {
    this.hub = hub;
    this.on = on;
    this.me = sseMemberKey();
    this.leading = false;
    this.closed = false;
    // Set by the client's close() while it leads: its "closed" is a handover.
    this.handingOver = false;
    // The last relayed event's sequence number and id, seen or sent.
    this.seq = 0;
    this.id = "";
    // The shared connection's state, as the leader last told it (or as it leads).
    this.now = "connecting";
    this.detail = {};
    this.members = new Set();
    // Whether each other client's page is visible, and what the led connection was
    // last told of them.
    this.visible = new Map();
    this.seenElsewhere = undefined;
    this.leader = undefined;
    // While taking over: the members still to answer, and the best answer so far.
    this.asking = null;
    this.let = null;
    this.name = `sse-wasm:${name}`;
    // Out of the share while the page is in the back/forward cache (and until the
    // first attach).
    this.detached = true;
    this.onVisibility = () => this.post({ t: "seen", visible: sseVisible() });
    this.onPage = (event) => {
      if (!event.persisted) return;
      if (event.type === "pagehide") this.detach();
      else this.attach();
    };
    if (typeof document === "object") document.addEventListener("visibilitychange", this.onVisibility);
    if (typeof addEventListener === "function") {
      addEventListener("pagehide", this.onPage);
      addEventListener("pageshow", this.onPage);
    }
    this.attach();
  }

  // Joins the share: its channel, a place in the lock's queue, and hello.
  attach() {
    if (this.closed || !this.detached) return;
    this.detached = false;
    this.abort = new AbortController();
    this.channel = new BroadcastChannel(this.name);
    this.channel.onmessage = (message) => this.heard(message.data);
    navigator.locks.request(this.name, { signal: this.abort.signal }, () => this.take()).catch(() => {});
    this.post({ t: "hello", types: this.hub.handled(), visible: sseVisible() });
  }

  // Leaves the share for now (the page goes into the back/forward cache): bye, out of
  // the lock's queue or the lock let go, and a led connection stands by.
  detach() {
    if (this.closed || this.detached) return;
    this.post({ t: "bye" });
    this.detached = true;
    const led = this.leading;
    this.leading = false;
    this.hub.relay = null;
    this.seenElsewhere = undefined;
    clearTimeout(this.asking?.timer);
    this.asking = null;
    this.abort.abort();
    this.let?.();
    this.let = null;
    this.channel.close();
    this.members.clear();
    this.visible.clear();
    this.leader = undefined;
    if (led) {
      // What the stood-by connection tells this client's handlers.
      this.now = "paused";
      this.on.standBy();
    }
  }

  post(message) {
    if (this.closed || this.detached) return;
    message.from = this.me;
    this.channel.postMessage(message);
  }

  // ---- the lock: granted when every client before this one let go of it

  take() {
    let release;
    const held = new Promise((resolve) => (release = resolve));
    if (this.closed || this.detached) {
      release();
      return held;
    }
    this.let = release;
    // The leader that went is not asked.
    if (this.leader !== undefined) {
      this.members.delete(this.leader);
      this.visible.delete(this.leader);
    }
    this.asking = { waiting: new Set(this.members), seq: this.seq, id: this.id };
    if (this.asking.waiting.size === 0) {
      this.lead();
    } else {
      this.post({ t: "ask" });
      this.asking.timer = setTimeout(() => this.lead(), SSE_ASK_MS);
    }
    return held;
  }

  lead() {
    const asked = this.asking;
    if (asked === null || this.closed) return;
    clearTimeout(asked.timer);
    this.asking = null;
    this.seq = asked.seq;
    this.id = asked.id;
    this.leading = true;
    this.leader = this.me;
    this.hub.relay = this;
    this.on.lead(this.id);
    for (const type of this.hub.needed) this.on.listen(type);
    this.seeing();
  }

  // Tells the led connection whether another client's page is visible.
  seeing() {
    if (!this.leading) return;
    const seen = [...this.visible.values()].some(Boolean);
    if (seen === this.seenElsewhere) return;
    this.seenElsewhere = seen;
    this.on.seen(seen);
  }

  // What a message says of its sender's page, when it says anything.
  sees(from, visible) {
    if (typeof visible !== "boolean") return;
    this.visible.set(from, visible);
    this.seeing();
  }

  // ---- what the others say

  heard(message) {
    if (this.closed || this.detached || typeof message !== "object" || message === null) return;
    const from = message.from;
    switch (message.t) {
      case "hello":
        this.members.add(from);
        this.needs(message.types);
        this.sees(from, message.visible);
        if (this.leading) this.post({ t: "state", name: this.now, ...this.detail });
        else this.post({ t: "here", visible: sseVisible() });
        break;
      case "here":
        this.members.add(from);
        this.sees(from, message.visible);
        break;
      case "seen":
        this.sees(from, message.visible);
        break;
      case "need":
        this.members.add(from);
        this.needs([message.type]);
        break;
      case "ask":
        this.members.add(from);
        this.post({ t: "have", seq: this.seq, id: this.id, types: this.hub.handled(), visible: sseVisible() });
        break;
      case "have":
        this.members.add(from);
        this.needs(message.types);
        this.sees(from, message.visible);
        this.answered(from, message);
        break;
      case "bye":
        this.members.delete(from);
        this.visible.delete(from);
        this.seeing();
        this.answered(from, null);
        break;
      case "reconnect":
        if (this.leading) this.on.reconnect();
        break;
      default:
        if (!this.leading) this.relayed(from, message);
    }
  }

  // Types the others listen to: the leader's connection must hear them too.
  needs(types) {
    if (!Array.isArray(types)) return;
    for (const type of types) {
      if (typeof type !== "string" || this.hub.needed.has(type)) continue;
      this.hub.needed.add(type);
      this.hub.entry(type);
      if (this.leading) this.on.listen(type);
    }
  }

  answered(from, have) {
    const asked = this.asking;
    if (asked === null) return;
    if (have !== null && typeof have.seq === "number" && have.seq > asked.seq) {
      asked.seq = have.seq;
      asked.id = typeof have.id === "string" ? have.id : "";
    }
    asked.waiting.delete(from);
    if (asked.waiting.size === 0) this.lead();
  }

  // The leader's connection, for a follower.
  relayed(from, message) {
    this.leader = from;
    switch (message.t) {
      case "event":
        // Sent again by a leader that resumed from an older id: already handed over.
        if (!(message.seq > this.seq)) return;
        this.seq = message.seq;
        this.id = message.id;
        this.hub.follow(message.type, message.data, message.id);
        break;
      case "state":
        if (message.name === "closed") {
          // The shared connection ended for good: nobody takes over.
          this.on.end();
          return;
        }
        if (message.name === this.now && message.name !== "reconnecting") return;
        this.now = message.name;
        this.hub.state(message.name, message.attempt, message.delayMs);
        break;
      case "error":
        this.hub.error(message.kind, message.message, message.status, message.detail);
        break;
    }
  }

  // ---- what the leader's hub relays (hub.relay is this share while it leads)

  event(type, data, id) {
    this.seq += 1;
    this.id = id;
    this.post({ t: "event", seq: this.seq, type, data, id });
  }

  state(name, attempt, delayMs) {
    this.now = name;
    this.detail = attempt === undefined ? {} : { attempt, delayMs };
    if (name !== "closed") {
      this.post({ t: "state", name, ...this.detail });
    } else if (this.handingOver) {
      this.leave(0);
    } else {
      // An end for good closes every client, and nobody takes over: the lock is kept
      // a moment so that the next in line hears of the end before it is granted.
      this.post({ t: "state", name });
      this.leave(SSE_ASK_MS);
    }
  }

  // `detail`, from the Rust face: the Content-Type, the idle timeout in ms or the
  // attempts made, for a Rust follower's typed error.
  error(kind, message, status, detail) {
    this.post({ t: "error", kind, message, status, detail });
  }

  // ---- this client

  // A follower's handler for a type new to it: the leader's connection listens to it.
  need(type) {
    this.post({ t: "need", type });
  }

  // A follower's reconnect(): the leader reconnects the shared connection.
  reconnect() {
    this.post({ t: "reconnect" });
  }

  // Stops sharing: says bye, leaves the lock's queue (or lets go of the lock after
  // `lockMs`, which hands the connection to the next in line) and closes the channel.
  leave(lockMs = 0) {
    if (this.closed) return;
    this.post({ t: "bye" });
    this.closed = true;
    this.hub.relay = null;
    clearTimeout(this.asking?.timer);
    this.asking = null;
    this.abort.abort();
    if (typeof document === "object") document.removeEventListener("visibilitychange", this.onVisibility);
    if (typeof removeEventListener === "function") {
      removeEventListener("pagehide", this.onPage);
      removeEventListener("pageshow", this.onPage);
    }
    const release = this.let;
    if (release !== null) {
      if (lockMs > 0) setTimeout(release, lockMs);
      else release();
    }
    this.channel.close();
  }
}

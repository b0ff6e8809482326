// The npm face's handlers, on the JS side of the boundary: an event reaches them
// without entering wasm on the native transport, and a whole chunk's events cross
// into JS once on the fetch transport (one string for all their data, one array of
// offsets). The connection is js_driver.js's: it says when a connection begins and
// ends, and hands over the states and errors Rust decided. The hub only keeps the
// handlers, calls them in order and JSON.parses the data. scripts/pkg.sh appends this
// file to the package's entry; it is not a module of its own.

// Marks "no event" (an id set without one) and "no id" in a batch record.
const SSE_NONE = 0xffffffff;
// A batch record: [type start, type end, data start, data end, id start, id end],
// UTF-16 offsets into the batch's text; an empty type is the type of the event before.
const SSE_RECORD = 6;

const sseNoop = () => {};

const sseReport = (exception) => {
  try {
    reportError(exception);
  } catch {
    console.error(exception);
  }
};

// Whether `fn` can see its second argument (the event object of `on()`). A function
// of at most one plain parameter cannot, unless its source mentions `arguments` (an
// arrow function has none of its own, and `arguments` in one is its enclosing
// function's). Anything else — more parameters, a rest or default parameter,
// destructuring, a bound or native function, a proxy — is taken to see it.
const SSE_ONE_PARAMETER =
  /^(?:async\s*)?(?:(?:\(\s*[A-Za-z_$][\w$]*\s*\)|\(\s*\)|[A-Za-z_$][\w$]*)\s*=>|(?:async\s+)?function\s*[\w$]*\s*\(\s*(?:[A-Za-z_$][\w$]*)?\s*\)\s*\{)/;
function sseSeesEvent(fn) {
  if (fn.length > 1) return true;
  let source;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return true;
  }
  // A native or bound function shows no source: "function f() { [native code] }".
  return !SSE_ONE_PARAMETER.test(source) || /\barguments\b|\[native code\]/.test(source);
}

// Handlers of one kind in the order they were added. The array is replaced, never
// changed in place, so a delivery walks the list as it was when it began; a handler
// removed meanwhile is skipped through its `active` flag. `seeing` counts the handlers
// that can see an event object: when none can, none is made (reading a native event's
// id, which the object carries, costs more than the rest of a delivery).
class SseList {
  constructor() {
    this.items = [];
    this.seeing = 0;
  }
  add(id, fn) {
    const sees = sseSeesEvent(fn);
    this.items = [...this.items, { id, fn, active: true, sees }];
    if (sees) this.seeing += 1;
  }
  // Adds `fn`; returns the function that removes it.
  handler(id, fn) {
    this.add(id, fn);
    return () => this.remove(id);
  }
  // Whether the handler was there.
  remove(id) {
    const index = this.items.findIndex((item) => item.id === id);
    if (index < 0) return false;
    const item = this.items[index];
    item.active = false;
    if (item.sees) this.seeing -= 1;
    this.items = this.items.filter((_, i) => i !== index);
    return true;
  }
  call(a, b) {
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!item.active) continue;
      const fn = item.fn;
      try {
        fn(a, b);
      } catch (exception) {
        sseReport(exception);
      }
    }
  }
}

// What the current connection's events told.
const sseFresh = (resumeFrom) => ({
  // The id events carry until the connection sets one.
  resumeFrom,
  // Native: a non-empty id was seen on this source (a fresh EventSource starts with
  // an empty one, which means "none yet", not "reset").
  seen: false,
  // Native: the latest event (its time stamp, and its id if nobody read it yet), and
  // the latest one whose id was read.
  last: null,
  read: null,
  // The id as of the last event handed over; undefined while the connection has set
  // none (its events carry `resumeFrom`).
  id: undefined,
  delivered: false,
  ended: false,
});

class SseHub {
  // `url` is the client's stream's absolute URL.
  constructor(json, url) {
    this.json = json;
    this.url = url;
    this.types = new Map();
    this.states = new SseList();
    this.errors = new SseList();
    this.nextId = 0;
    this.queue = [];
    this.busy = false;
    this.conn = sseFresh("");
    this.conn.ended = true;
    // Types whose last handler was removed since the driver last asked (takeEmptied).
    this.emptied = new Set();
    this.released = false;
    // The id a closed client answers with (the driver sets it as it closes).
    this.lastEventId = "";
    // The end of the stream (`endOnType`, `endOnData`) and how to close at it.
    this.endType = undefined;
    this.endData = undefined;
    this.close = sseNoop;
    // Sharing (src/client/share.js): while this client leads a share, the share that
    // relays its events, states and errors to the other clients; `needed` holds the
    // types they listen to, which the connection keeps listening to without handlers.
    this.relay = null;
    this.needed = new Set();
  }

  // Watches for the end of the stream: an event of type `type` is delivered and then
  // the client closes; an event whose data is exactly `data` is not delivered and the
  // client closes. Returns the types the connection must listen to for them.
  ending(type, data, close) {
    this.endType = type;
    this.endData = data;
    this.close = close;
    const types = [];
    if (type !== undefined) types.push(type);
    if (data !== undefined && type !== "message") types.push("message");
    for (const listened of types) this.entry(listened);
    return types;
  }
  // Whether `type` must stay listened to without handlers (the end can come in it).
  watched(type) {
    return type === this.endType || (this.endData !== undefined && type === "message") || this.needed.has(type);
  }
  // The types that have handlers here, for the other clients of a share.
  handled() {
    return [...this.types.values()].filter((entry) => entry.list.items.length > 0).map((entry) => entry.type);
  }

  // ---- handlers

  entry(type) {
    let entry = this.types.get(type);
    if (!entry) {
      entry = { type, list: new SseList() };
      this.types.set(type, entry);
    }
    return entry;
  }
  // Each `on*` returns the function that removes its handler: plain JS, so a script
  // that keeps it, calls it twice or drops it costs wasm nothing. After the client is
  // closed a handler is not kept at all.
  on(type, fn) {
    if (this.released) return sseNoop;
    const entry = this.entry(type);
    const id = ++this.nextId;
    entry.list.add(id, fn);
    return () => {
      if (entry.list.remove(id) && entry.list.items.length === 0) this.emptied.add(type);
    };
  }
  // Whether `type` has a handler now.
  has(type) {
    return this.types.get(type)?.list.items.length > 0;
  }
  // A type that lost its last handler (and has not found another), or undefined. The driver
  // asks before it listens anew, and stops listening to these.
  takeEmptied() {
    for (const type of this.emptied) {
      this.emptied.delete(type);
      if (this.types.get(type)?.list.items.length === 0 && !this.watched(type)) return type;
    }
    return undefined;
  }
  onState(fn) {
    return this.released ? sseNoop : this.states.handler(++this.nextId, fn);
  }
  onError(fn) {
    return this.released ? sseNoop : this.errors.handler(++this.nextId, fn);
  }
  // The client is closed: once what is queued has run (the "closed" state among it),
  // let go of every handler, so that a closed client holds none of the script's
  // objects, whoever still holds the client.
  release(lastEventId) {
    this.released = true;
    this.lastEventId = lastEventId;
    this.emptied.clear();
    this.run(() => {
      this.types = new Map();
      this.states = new SseList();
      this.errors = new SseList();
    });
  }

  // ---- the connection

  begin(resumeFrom) {
    this.conn = sseFresh(resumeFrom);
  }
  end() {
    this.conn.ended = true;
  }
  // Whether an event arrived since the last call.
  delivered() {
    const delivered = this.conn.delivered;
    this.conn.delivered = false;
    return delivered;
  }
  // The id as of the last event handed over, or undefined if the connection set none.
  id() {
    const conn = this.conn;
    // An event of a type whose handlers are gone was not read when it came.
    if (conn.last !== conn.read) this.sourceId(conn.last);
    return conn.id;
  }
  // When the latest native event arrived (performance.now()'s clock).
  lastEventAt() {
    return this.conn.last?.timeStamp;
  }

  // The EventSource listener of one type. "open" and "error" also hear the source's
  // own events, which are not MessageEvents.
  listener(type) {
    const entry = this.entry(type);
    if (type === "open" || type === "error") {
      return (event) => {
        if (event instanceof MessageEvent) this.native(entry, event);
      };
    }
    return (event) => this.native(entry, event);
  }

  native(entry, event) {
    const conn = this.conn;
    conn.last = event;
    conn.delivered = true;
    // Read once: each read of `data` is a call into Blink (about 80 ns, 2 % of what the
    // browser spends on an event), where a local costs next to nothing.
    const data = event.data;
    const end = this.stops(entry, data);
    if (end === false) {
      this.close();
      return;
    }
    if (this.relay !== null) this.relay.event(entry.type, data, this.sourceId(event));
    if (end) {
      if (entry.list.items.length > 0) this.deliver(entry, data, this.sourceId(event));
      this.close();
      return;
    }
    const list = entry.list;
    if (list.items.length === 0) return;
    // The id is read for an event object some handler can see (and otherwise only when
    // the driver asks). It is a plain property of the object, as the contract's
    // SseEvent always had: a lazy getter would cost V8 more (an object literal with an
    // accessor takes its slow path) than Blink's string for the id does.
    this.deliver(entry, data, list.seeing === 0 ? undefined : this.sourceId(event));
  }

  // An event another client of the share received: handed over like one of our own
  // connection's, with its end of the stream applied to this client only.
  follow(type, data, id) {
    if (this.released) return;
    this.lastEventId = id;
    const entry = this.types.get(type);
    if (entry === undefined) return;
    const end = this.stops(entry, data);
    if (end === false) {
      this.close();
      return;
    }
    if (entry.list.items.length > 0) this.deliver(entry, data, id);
    if (end) this.close();
  }

  // Whether this event ends the stream: undefined if not, true if it is delivered
  // first (its type is `endOnType`), false if not (its data is `endOnData`, which wins).
  stops(entry, data) {
    if (this.endData !== undefined && data === this.endData) return false;
    return entry.type === this.endType ? true : undefined;
  }

  // The id a native event leaves the stream at, or the id resumed from while the
  // source has shown none.
  sourceId(event) {
    const conn = this.conn;
    conn.read = event;
    const id = event.lastEventId;
    if (id) conn.seen = true;
    if (!conn.seen) return conn.resumeFrom;
    conn.id = id;
    return id;
  }

  // One chunk's events: `text` holds their types, data and changed ids, `records`
  // says where. The events of a type nobody listens to are passed over, as the
  // native transport's are never heard.
  batch(text, records) {
    const conn = this.conn;
    let entry;
    for (let i = 0; i < records.length; i += SSE_RECORD) {
      if (conn.ended) return;
      if (records[i + 4] !== SSE_NONE) conn.id = text.slice(records[i + 4], records[i + 5]);
      const start = records[i];
      if (start === SSE_NONE) continue;
      conn.delivered = true;
      if (start !== records[i + 1]) entry = this.types.get(text.slice(start, records[i + 1]));
      if (entry === undefined || (entry.list.items.length === 0 && !this.watched(entry.type))) continue;
      const data = text.slice(records[i + 2], records[i + 3]);
      const end = this.stops(entry, data);
      if (end === false) {
        this.close();
        return;
      }
      if (this.relay !== null) this.relay.event(entry.type, data, conn.id ?? conn.resumeFrom);
      if (end) {
        if (entry.list.items.length > 0) this.deliver(entry, data, conn.id ?? conn.resumeFrom);
        this.close();
        return;
      }
      if (entry.list.items.length === 0) continue;
      this.deliver(entry, data, conn.id ?? conn.resumeFrom);
    }
  }

  // Hands one event to its type's handlers, decoded once for all of them.
  deliver(entry, raw, id) {
    if (this.busy) {
      this.queue.push(() => this.handOver(entry, raw, id));
      return;
    }
    this.busy = true;
    try {
      this.handOver(entry, raw, id);
      this.drain();
    } finally {
      this.busy = false;
    }
  }

  handOver(entry, raw, id) {
    let data = raw;
    if (this.json) {
      try {
        data = JSON.parse(raw);
      } catch (exception) {
        const message = `could not decode a ${JSON.stringify(entry.type)} event: ${exception?.message ?? exception}`;
        const error = { kind: "decode", message, type: entry.type, data: raw };
        this.queue.push(() => this.errors.call(error));
        return;
      }
    }
    const list = entry.list;
    list.call(data, list.seeing === 0 ? undefined : { type: entry.type, data: raw, lastEventId: id });
  }

  // Runs `job` (which calls handlers) now, or after the delivery in progress when a
  // handler caused it (closed the client, say): handlers never run inside each other.
  run(job) {
    if (this.busy) {
      this.queue.push(job);
      return;
    }
    this.busy = true;
    try {
      job();
      this.drain();
    } finally {
      this.busy = false;
    }
  }

  drain() {
    while (this.queue.length) this.queue.shift()();
  }

  // ---- states and errors, as Rust decided them

  state(name, attempt, delayMs) {
    if (this.relay !== null) this.relay.state(name, attempt, delayMs);
    const detail = attempt === undefined ? {} : { attempt, delayMs };
    this.run(() => this.states.call(name, detail));
  }

  error(kind, message, status) {
    if (this.relay !== null) this.relay.error(kind, message, status);
    const error = { kind, message };
    if (status !== undefined) error.status = status;
    this.run(() => this.errors.call(error));
  }
}

// What carries out the npm face's connection, in JS: the requests (the browser's
// EventSource, or fetch through js_fetch.js), the retry, idle and pause timers, and the
// page's events (online, visibility, the back/forward cache). Every decision is Rust's:
// `__sseStep` feeds an input to the client's state machine (src/machine.rs, with the
// backoff of src/backoff.rs) and answers with what to do; `__sseResponse` judges a
// fetch response and `__sseChunk` parses its bytes (src/bindings/js.rs). It does for
// the npm face what src/client/driver.rs does for the Rust one, so the package's wasm
// holds no closure and no JS object. scripts/pkg.sh appends this file to the package's
// entry, where those functions are in scope; it is not a module of its own.

// The machine's inputs (js.rs): a failure found here is SSE_FAILED + its class.
const SSE_CONNECT = 0;
const SSE_RECONNECT = 1;
const SSE_CLOSE = 2;
const SSE_WAKE = 3;
const SSE_PAUSE = 4;
const SSE_RESUME = 5;
const SSE_OPENED = 6;
const SSE_RETRYABLE = 7;
const SSE_ENDED = 8;
const SSE_FATAL = 9;
// A failure Rust found (a response's status, a body's bytes), and has described.
const SSE_FAILED_HERE = 10;
// The states of `__sseStep`'s answer, from 1.
const SSE_STATES = [undefined, "connecting", "open", "reconnecting", "paused", "closed"];
// The type of a batch's last record when the parser refused the stream (js_stream.rs).
const SSE_FAILED_RECORD = 0xfffffffe;

const sseMessage = (exception) => exception?.message ?? String(exception);

// setTimeout treats anything above 2^31 - 1 ms (about 24.8 days) as 0.
const sseTimeout = (callback, ms) => setTimeout(callback, Math.min(Math.floor(ms), 2147483647));

// Whether the page is hidden; a worker has no page, and is never hidden.
const sseHidden = () => globalThis.document?.hidden === true;

// The request URL of the native transport: the stream's, with the id to resume from in
// the query (EventSource cannot send headers).
const sseResumeUrl = (href, name, id) => {
  if (name === undefined || id === "") return href;
  try {
    const url = new URL(href);
    url.searchParams.set(name, id);
    return url.href;
  } catch {
    return href;
  }
};

class SseDriver {
  // The client's state: "connecting", "open", "reconnecting", "paused" or "closed".
  now = "connecting";
  // The client's handlers (js_hub.js) and its stream's absolute URL.
  #hub;
  #url;
  // Options, as sseOptions (js_options.js) read them: resumeParam undefined means
  // resume is off, idleMs 0 no idle timeout, pauseMs -1 never pausing, fetch null the
  // native transport.
  #credentials;
  #resumeParam;
  #idleMs;
  #pauseMs;
  #fetch;
  // The client's machine in wasm.
  #key;
  // The last event id, which the next request resumes from.
  #id;
  // An event arrived since the machine last heard.
  #fresh = false;
  // Bumped whenever a connection is let go, so that what belongs to an earlier one is
  // ignored.
  #gen = 0;
  #conn = null;
  #retryTimer;
  #idleTimer;
  // Runs while the page is hidden and the client could pause; it outlives connections,
  // since the page stays hidden across them.
  #pauseTimer;
  // Stops listening to the page's events.
  #page = null;
  // When bytes last arrived on the fetch transport.
  #activity = 0;
  // Sharing (src/client/share.js): a page of another client of the share is visible,
  // so a hidden page alone does not pause; and this connection stands by, paused,
  // while another client leads.
  #elsewhere = false;
  #standingBy = false;
  // The event types the connection listens to (those with handlers, and those the end
  // of the stream or the share's other clients need).
  #types = new Set();

  // `hub` holds the client's handlers; `open` is what sseOptions gives after the URL
  // and `json`.
  constructor(hub, href, open) {
    const [credentials, reconnectOnEnd, resumeParam, lastEventId, idleMs, ...rest] = open;
    const [initial, max, factor, jitter, retries, method, body, headers, makeHeaders, size, pauseMs] = rest;
    this.#hub = hub;
    this.#url = href;
    this.#credentials = credentials;
    this.#resumeParam = resumeParam;
    this.#idleMs = idleMs;
    this.#pauseMs = pauseMs;
    this.#fetch = method === undefined ? null : { method, body, headers, makeHeaders, size };
    this.#key = __sseOpen(reconnectOnEnd, initial, max, factor, jitter, retries, size);
    this.#id = lastEventId;
    this.#step(SSE_CONNECT);
    if (this.now !== "closed") {
      this.#listenToPage();
      // A page that is hidden from the start has been hidden since then.
      this.#startPauseTimer();
    }
  }

  // ---- what the client asks

  // `type` got a handler: the connection listens to it, and stops listening to the
  // types that lost their last one.
  listen(type) {
    if (this.now === "closed") return;
    this.#prune();
    if (this.#types.has(type)) return;
    this.#types.add(type);
    this.#conn?.listen(type);
  }

  // Drops the connection and connects again now; a paused client connects too, and if
  // the page is still hidden its pause timer starts again.
  reconnect() {
    this.#step(SSE_RECONNECT);
    this.#startPauseTimer();
  }

  close() {
    this.#step(SSE_CLOSE);
  }

  lastEventId() {
    this.#catchUp();
    return this.#id;
  }

  // A page of another client of the share became visible (true), or none is (false).
  seenElsewhere(seen) {
    if (this.#elsewhere === seen) return;
    this.#elsewhere = seen;
    if (seen) this.#onPage("visible");
    else this.#startPauseTimer();
  }

  // true: another client of the share leads, and this connection pauses until
  // standBy(false, …), whatever the page does. false: it leads again and connects,
  // resuming from `newest` (the newest id the share's clients saw) unless that is empty
  // or resume is off.
  standBy(standing, newest) {
    this.#standingBy = standing;
    if (standing) {
      this.#stopPauseTimer();
      this.#step(SSE_PAUSE);
      return;
    }
    if (newest !== "" && this.#resumeParam !== undefined) {
      this.#hub.begin(newest);
      this.#id = newest;
    }
    this.#step(SSE_RESUME);
    this.#startPauseTimer();
  }

  // ---- the machine

  // What the connection's events told, for the machine.
  #catchUp() {
    const hub = this.#hub;
    const id = hub.id();
    if (id !== undefined) this.#id = id;
    if (hub.delivered()) this.#fresh = true;
  }

  // Feeds `input` to the machine and carries out what it asks; then hands its states
  // and errors (`error`: [kind, message, status] of a failure) to the handlers, which
  // may call back into the client.
  #step(input, error) {
    const hub = this.#hub;
    // Handed over once the machine's effects are carried out.
    const reports = [];
    for (;;) {
      this.#catchUp();
      const code = __sseStep(this.#key, input, this.#fresh, performance.now(), Math.random());
      this.#fresh = false;
      const flags = code % 256;
      const count = Math.floor(code / 256);
      if (flags & 8) {
        const [kind, message, status] = error;
        reports.push(() => hub.error(kind, message, status));
      }
      if (flags & 16) reports.push(() => hub.error("retries-exhausted", `gave up after ${count} reconnect attempts`));
      const state = SSE_STATES[flags >> 5];
      if (state === "reconnecting") {
        const delay = __sseDelay(this.#key);
        reports.push(() => hub.state(state, count, delay));
      } else if (state !== undefined) {
        reports.push(() => hub.state(state));
      }
      if (state === "closed") {
        reports.push(() => {
          this.#types.clear();
          hub.release(this.#id);
        });
      }
      this.now = state ?? this.now;
      const action = flags & 7;
      if (action === 1) {
        try {
          this.#open();
        } catch (refusal) {
          // A request that cannot even be made: a fatal failure, whose effects come
          // next (the machine asks to connect last).
          input = SSE_FATAL;
          error = refusal;
          continue;
        }
      } else if (action === 2) {
        this.#letGo();
        const gen = this.#gen;
        this.#retryTimer = sseTimeout(() => {
          if (gen === this.#gen) this.#step(SSE_CONNECT);
        }, __sseDelay(this.#key));
      } else if (action >= 3) {
        // Stop, or suspend until resumed.
        this.#letGo();
        this.#stopPauseTimer();
        if (action === 3) this.#stopListeningToPage();
      }
      break;
    }
    for (const report of reports) report();
  }

  #fail(input, kind, message, status) {
    this.#step(input, [kind, message, status]);
  }

  // ---- the connection

  // Lets go of the connection and its timers, keeping what its events told.
  #letGo() {
    if (this.#conn !== null) {
      this.#catchUp();
      this.#hub.end();
      this.#conn.close();
      this.#conn = null;
    }
    this.#gen += 1;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#idleTimer);
    this.#retryTimer = this.#idleTimer = undefined;
  }

  // Types whose last handler was removed (the hub's unsubscribe functions are plain JS,
  // so the driver learns of them when it next asks).
  #prune() {
    for (let type; (type = this.#hub.takeEmptied()) !== undefined; ) {
      this.#types.delete(type);
      this.#conn?.unlisten(type);
    }
  }

  // Opens a connection, resuming from the last id; throws [kind, message] when the
  // request cannot be made.
  #open() {
    this.#letGo();
    const gen = this.#gen;
    this.#hub.begin(this.#id);
    this.#prune();
    this.#conn = this.#fetch === null ? this.#source(gen) : this.#request(gen);
    this.#activity = performance.now();
    if (this.#idleMs > 0) this.#idleTimer = this.#watchIdle(gen, this.#idleMs);
  }

  // The browser's own EventSource. It never shows the HTTP status or why a request
  // failed, so an error before `open` is retried (a 404 like a 503), and a loss after
  // `open` cannot be told apart from the server ending the stream. Its own fixed-delay
  // retry is never used: on the first error the source is closed and the machine
  // decides when to come back.
  #source(gen) {
    const url = sseResumeUrl(this.#url, this.#resumeParam, this.#id);
    let source;
    try {
      source = new EventSource(url, { withCredentials: this.#credentials });
    } catch (exception) {
      throw ["invalid", `invalid: EventSource refused ${url}: ${sseMessage(exception)}`];
    }
    let opened = false;
    const control = (event) => {
      // A server event named "open" or "error" is data, for its type's listener.
      if (event instanceof MessageEvent || gen !== this.#gen) return;
      if (event.type === "open") {
        opened = true;
        this.#step(SSE_OPENED);
      } else if (opened) {
        this.#fail(SSE_ENDED, "network", "network: the stream was lost or ended by the server");
      } else {
        // The browser gives up on its own (CLOSED) after an HTTP status other than 200
        // or a wrong Content-Type, and keeps CONNECTING after a network error.
        const reason =
          source.readyState === EventSource.CLOSED
            ? "the server answered with an HTTP error status or a Content-Type other than text/event-stream"
            : "network error or CORS failure";
        this.#fail(SSE_RETRYABLE, "network", `network: could not open the stream: ${reason}`);
      }
    };
    source.addEventListener("open", control);
    source.addEventListener("error", control);
    const listeners = new Map();
    const conn = {
      listen: (type) => {
        if (listeners.has(type)) return;
        const listener = this.#hub.listener(type);
        listeners.set(type, listener);
        source.addEventListener(type, listener);
      },
      unlisten: (type) => {
        source.removeEventListener(type, listeners.get(type));
        listeners.delete(type);
      },
      close: () => source.close(),
    };
    for (const type of this.#types) conn.listen(type);
    return conn;
  }

  // The fetch transport: js_fetch.js makes the request and reads the body; what the
  // response and its bytes mean is Rust's.
  #request(gen) {
    const live = () => gen === this.#gen;
    const sink = {
      failed: (message, fatal) => {
        if (!live()) return;
        if (fatal) this.#fail(SSE_FATAL, "invalid", `invalid: ${message}`);
        else this.#fail(SSE_RETRYABLE, "network", `network: ${message}`);
      },
      // Whether to read the body. Rust judges the response (`__sseResponse`); the
      // words are the Rust face's (SseError's Display).
      response: (status, type, retryAfter) => {
        if (!live()) return false;
        const encoder = new TextEncoder();
        const verdict = __sseResponse(this.#key, status, encoder.encode(type), encoder.encode(retryAfter));
        if (verdict === 0) {
          this.#step(SSE_OPENED);
          return live();
        }
        if (verdict === 1) {
          this.#fail(SSE_FAILED_HERE, "content-type", `expected Content-Type text/event-stream, got "${type}"`);
        } else {
          const why =
            verdict === 2
              ? "the server asked the client to stop (204 No Content)"
              : `the server answered ${status}${verdict === 3 ? "; retrying" : ", which is not retried"}`;
          this.#fail(SSE_FAILED_HERE, "http", `HTTP ${status}: ${why}`, status);
        }
        return false;
      },
      // Whether to read on.
      chunk: (bytes) => {
        if (!live()) return false;
        // Read the clock only when an idle timer will ask.
        if (this.#idleMs > 0) this.#activity = performance.now();
        const text = __sseChunk(this.#key, bytes);
        let records = __sseRecords();
        const last = records.length - 6;
        const refused = last >= 0 && records[last] === SSE_FAILED_RECORD;
        if (refused) records = records.subarray(0, last);
        if (records.length > 0) this.#hub.batch(text, records);
        if (!live()) return false;
        if (!refused) return true;
        const limit = `an event exceeded the limit of ${this.#fetch.size} bytes`;
        this.#fail(SSE_FAILED_HERE, "network", `network: event stream: ${limit}; reconnecting`);
        return false;
      },
      ended: () => {
        if (live()) this.#fail(SSE_ENDED, "network", "network: the server ended the stream");
      },
    };
    const { method, body, headers, makeHeaders } = this.#fetch;
    // The real Last-Event-ID header; the URL stays as given.
    const from = this.#resumeParam === undefined ? undefined : this.#id;
    const abort = sseOpenStream(this.#url, method, body, headers, makeHeaders, from, this.#credentials, sink);
    // Every event type arrives anyway: Rust hands over those with handlers.
    return { listen() {}, unlisten() {}, close: abort };
  }

  #watchIdle(gen, after) {
    return sseTimeout(() => {
      if (gen !== this.#gen) return;
      const last = Math.max(this.#hub.lastEventAt() ?? 0, this.#activity);
      const quiet = performance.now() - last;
      if (quiet < this.#idleMs) {
        this.#idleTimer = this.#watchIdle(gen, this.#idleMs - quiet);
        return;
      }
      this.#fail(SSE_RETRYABLE, "idle", `nothing arrived for ${Math.floor(this.#idleMs)} ms`);
    }, after);
  }

  // ---- the page's life

  #listenToPage() {
    const listener = (event) => {
      const type = event.type;
      if (type === "online") this.#onPage("online");
      else if (type === "visibilitychange") this.#onPage(sseHidden() ? "hidden" : "visible");
      else if (event.persisted === true) this.#onPage(type === "pagehide" ? "frozen" : "restored");
    };
    const document = globalThis.document;
    // In a worker only `online` applies.
    const types = document ? ["online", "pagehide", "pageshow"] : ["online"];
    document?.addEventListener("visibilitychange", listener);
    for (const type of types) globalThis.addEventListener(type, listener);
    this.#page = () => {
      document?.removeEventListener("visibilitychange", listener);
      for (const type of types) globalThis.removeEventListener(type, listener);
    };
  }

  #stopListeningToPage() {
    this.#page?.();
    this.#page = null;
  }

  #onPage(event) {
    if (this.#standingBy) return;
    if (event === "online") {
      this.#step(SSE_WAKE);
    } else if (event === "hidden") {
      this.#startPauseTimer();
    } else if (event === "visible") {
      this.#stopPauseTimer();
      this.#step(SSE_WAKE);
      this.#step(SSE_RESUME);
    } else if (event === "frozen") {
      this.#step(SSE_PAUSE);
    } else {
      this.#step(SSE_RESUME);
      // Restored but hidden (a background tab): hidden from now on.
      this.#startPauseTimer();
    }
  }

  // Whether no page the connection serves is visible.
  #unseen() {
    return sseHidden() && !this.#elsewhere;
  }

  // Starts the pause timer if the client pauses when hidden, no page it serves is
  // visible, it is neither paused nor closed, and the timer is not already running.
  #startPauseTimer() {
    if (this.#pauseMs < 0 || this.now === "paused" || this.now === "closed") return;
    if (this.#pauseTimer !== undefined || !this.#unseen()) return;
    this.#pauseTimer = sseTimeout(() => {
      this.#pauseTimer = undefined;
      // Never paused while visible.
      if (this.#unseen()) this.#step(SSE_PAUSE);
    }, this.#pauseMs);
  }

  #stopPauseTimer() {
    clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
  }
}

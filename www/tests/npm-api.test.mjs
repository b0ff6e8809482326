// The npm API as a plain page uses it: `import init, { SseClient } from "/pkg/sse_wasm.js"`
// in a <script type="module">, in headless Chromium, against the scripted server.
// Each test gets a fresh page (a fresh wasm instance) and runs its scenario inside it;
// the assertions run here.
import assert from "node:assert/strict";
import { launchChromium, run, serverAddress, test } from "./harness.mjs";

const server = serverAddress();

async function freshPage(browser) {
  const page = await browser.newPage();
  await page.goto(`${server}/tests/page.html`);
  await page.waitForFunction(() => window.SseClient !== undefined);
  return page;
}

/** Runs `scenario(arg)` in a fresh page and returns what it returns. */
async function inPage(browser, scenario, arg) {
  const page = await freshPage(browser);
  try {
    return await page.evaluate(scenario, arg);
  } finally {
    await page.close();
  }
}

test("events reach the handlers of their own type, and plain events reach message", async (browser) => {
  const seen = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=6&types=tick,,news&then=hold");
    const seen = { tick: [], message: [], news: [], other: [] };
    for (const type of Object.keys(seen)) {
      client.on(type, (data, event) => seen[type].push([data.seq, event.type]));
    }
    await until(() => seen.tick.length + seen.message.length + seen.news.length === 6, "6 events");
    client.close();
    return seen;
  });
  assert.deepEqual(seen.tick, [[1, "tick"], [4, "tick"]]);
  assert.deepEqual(seen.message, [[2, "message"], [5, "message"]]);
  assert.deepEqual(seen.news, [[3, "news"], [6, "news"]]);
  assert.deepEqual(seen.other, []);
});

test("handlers of one type run in the order they were added", async (browser) => {
  const order = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=2&then=hold");
    const order = [];
    let parsed;
    client.on("message", (data) => {
      parsed = data;
      order.push(`first ${data.seq}`);
    });
    // The same object: the data was parsed once for both handlers.
    client.on("message", (data) => order.push(`second ${data.seq} ${data === parsed}`));
    await until(() => order.length === 4, "two events for two handlers");
    client.close();
    return order;
  });
  assert.deepEqual(order, ["first 1", "second 1 true", "first 2", "second 2 true"]);
});

test("json is on by default and the event carries the raw data and the id", async (browser) => {
  const result = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=1&types=tick&then=hold");
    let got;
    client.on("tick", (data, event) => (got = { data, event: { ...event } }));
    await until(() => got, "one event");
    client.close();
    return got;
  });
  assert.deepEqual(result.data, { seq: 1, type: "tick" });
  assert.equal(typeof result.event.data, "string");
  assert.deepEqual(JSON.parse(result.event.data), { seq: 1, type: "tick" });
  assert.deepEqual(result.event, { type: "tick", data: result.event.data, lastEventId: "1" });
});

// The package makes the event object (and reads a native event's id for it) only for
// handlers that can see it; every way a function can reach its second argument must
// still get the whole object, on both transports.
test("every handler that can reach its second argument gets the whole event object", async (browser) => {
  const result = await inPage(browser, async () => {
    const seen = {};
    const record = (name) => (event) => {
      seen[name] ??= [];
      seen[name].push(event === undefined ? "none" : `${event.type} ${event.data.length > 0} ${event.lastEventId}`);
    };
    const clients = ["eventsource", "fetch"].map((transport) => {
      const client = new SseClient(`/sse?count=2&types=tick&then=hold&session=${transport}`, { transport });
      const tag = (name) => `${transport} ${name}`;
      const two = record(tag("two parameters"));
      const rest = record(tag("rest parameter"));
      const args = record(tag("arguments"));
      const bound = record(tag("bound"));
      // A handler that cannot see the object is still called, with the data.
      client.on("tick", (data) => record(tag("one parameter"))({ type: "tick", data: String(data.seq), lastEventId: "" }));
      client.on("tick", (data, event) => two(event));
      client.on("tick", (...all) => rest(all[1]));
      client.on("tick", function (data) {
        // eslint-disable-next-line prefer-rest-params
        args(arguments[1]);
      });
      client.on("tick", function (data, event) {
        bound(event);
      }.bind(null));
      return client;
    });
    await until(() => Object.values(seen).every((list) => list.length === 2) && Object.keys(seen).length === 10, "every handler twice");
    for (const client of clients) client.close();
    return seen;
  });
  for (const transport of ["eventsource", "fetch"]) {
    for (const name of ["two parameters", "rest parameter", "arguments", "bound"]) {
      assert.deepEqual(result[`${transport} ${name}`], ["tick true 1", "tick true 2"], `${transport} ${name}`);
    }
    assert.deepEqual(result[`${transport} one parameter`], ["tick true ", "tick true "]);
  }
});

test("json: false hands handlers the raw string", async (browser) => {
  const got = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=2&format=text&then=hold", { json: false });
    const got = [];
    client.on("message", (data) => got.push(data));
    await until(() => got.length === 2, "two events");
    client.close();
    return got;
  });
  assert.deepEqual(got, ["event 1", "event 2"]);
});

test("data that is not JSON is a decode error and later events still arrive", async (browser) => {
  const result = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=4&malformed=2&types=tick&then=hold");
    const seqs = [];
    const errors = [];
    client.on("tick", (data) => seqs.push(data.seq));
    client.onError((error) => errors.push({ ...error }));
    await until(() => seqs.length === 3, "the three good events");
    client.close();
    return { seqs, errors, state: client.state };
  });
  assert.deepEqual(result.seqs, [1, 3, 4]);
  const decode = result.errors.filter((error) => error.kind === "decode");
  assert.equal(decode.length, 1, JSON.stringify(result.errors));
  assert.equal(decode[0].type, "tick");
  assert.equal(typeof decode[0].data, "string");
  assert.throws(() => JSON.parse(decode[0].data));
  assert.match(decode[0].message, /tick/);
  assert.equal(result.state, "closed");
});

test("data is decoded only for types that have a handler", async (browser) => {
  const result = await inPage(browser, async () => {
    // Event 2 (a "news" event, which nobody handles) is not JSON.
    const client = new SseClient("/sse?count=4&types=tick,news&malformed=2&then=hold");
    const ticks = [];
    const errors = [];
    client.on("tick", (data) => ticks.push(data.seq));
    client.onError((error) => errors.push(error.kind));
    await until(() => ticks.length === 2, "both ticks");
    await sleep(100);
    client.close();
    return { ticks, errors };
  });
  assert.deepEqual(result.ticks, [1, 3]);
  assert.deepEqual(result.errors, []);
});

test("a server event named error is data for on('error'), not a connection error", async (browser) => {
  const result = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=3&types=error,open,&then=hold");
    const got = [];
    const errors = [];
    client.on("error", (data) => got.push(["error", data.seq]));
    client.on("open", (data) => got.push(["open", data.seq]));
    client.onError((error) => errors.push(error.kind));
    await until(() => got.length === 2, "the error and open events");
    await sleep(100);
    client.close();
    return { got, errors, state: client.state };
  });
  assert.deepEqual(result.got, [["error", 1], ["open", 2]]);
  assert.deepEqual(result.errors, []);
});

test("onState reports connecting, open, reconnecting and open again across a forced drop", async (browser) => {
  const states = await inPage(browser, async () => {
    const id = session("js-states");
    const client = new SseClient(`/sse?session=${id}&count=100&interval=50&then=hold`, {
      backoff: { initialMs: 50, jitter: "none" },
    });
    const states = [];
    client.onState((state, detail) => states.push([state, { ...detail }]));
    client.on("message", () => {});
    await until(() => client.state === "open", "open");
    await fetch(`/drop?session=${id}`);
    await until(() => states.filter(([s]) => s === "open").length === 2, "open again");
    client.close();
    return states;
  });
  // The first "connecting" is reported inside the constructor, before any handler.
  assert.deepEqual(states.map(([state]) => state), ["open", "reconnecting", "connecting", "open", "closed"]);
  const [, detail] = states[1];
  assert.equal(detail.attempt, 1);
  assert.equal(detail.delayMs, 50);
});

test("a dropped stream resumes from the last id with no event lost or repeated", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-resume");
    const client = new SseClient(`/sse?session=${id}&count=12&drop_after=4&then=hold`, {
      backoff: { initialMs: 20, jitter: "none" },
    });
    const seqs = [];
    const errors = [];
    client.on("message", (data) => seqs.push(data.seq));
    client.onError((error) => errors.push(error.kind));
    await until(() => seqs.length >= 12, "all 12 events");
    await sleep(100);
    const seen = await stats(id);
    client.close();
    return { seqs, errors, lastEventId: client.lastEventId, seen };
  });
  assert.deepEqual(result.seqs, Array.from({ length: 12 }, (_, i) => i + 1));
  assert.equal(result.lastEventId, "12");
  const ids = result.seen.connections.map((c) => c.last_event_id);
  assert.deepEqual(ids.slice(0, 3), [null, "4", "8"]);
  assert.ok(result.seen.connections.slice(1).every((c) => c.id_source === "query"));
  // Each dropped connection is reported once, as a network error.
  assert.ok(result.errors.length >= 2 && result.errors.every((kind) => kind === "network"), result.errors.join());
});

test("close() emits closed once and makes no request afterwards", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-close");
    // Every connection ends at once, so the client is forever reconnecting.
    const client = new SseClient(`/sse?session=${id}&count=0`, {
      backoff: { initialMs: 30, jitter: "none" },
    });
    const states = [];
    client.onState((state) => states.push(state));
    client.on("message", () => {});
    await until(async () => (await stats(id)).connections.length >= 2, "a reconnect");
    client.close();
    client.close();
    const atClose = (await stats(id)).connections.length;
    await sleep(400);
    const after = await stats(id);
    return { states, atClose, after: after.connections.length, open: after.open, state: client.state };
  });
  assert.equal(result.states.filter((s) => s === "closed").length, 1);
  assert.equal(result.states.at(-1), "closed");
  assert.equal(result.state, "closed");
  assert.equal(result.after, result.atClose, "requests after close()");
  assert.equal(result.open, 0);
});

test("endOnType: the ending event is delivered, then the client closes, with no error and no further request", async (browser) => {
  const results = await inPage(browser, async () => {
    const results = {};
    for (const transport of ["eventsource", "fetch"]) {
      const id = session(`js-end-type-${transport}`);
      const client = new SseClient(`/sse?session=${id}&count=6&types=tick,tick,done&then=hold`, {
        transport,
        endOnType: "done",
        backoff: { initialMs: 30, jitter: "none" },
      });
      const seen = [];
      const errors = [];
      const states = [];
      client.on("tick", (data) => seen.push(`tick ${data.seq}`));
      client.on("done", (data, event) => seen.push(`done ${data.seq} ${event.lastEventId}`));
      client.onError((error) => errors.push(error.kind));
      client.onState((state) => states.push(state));
      await until(() => client.state === "closed", `${transport}: closed`);
      await sleep(300);
      // Chromium may keep the socket of a cancelled response that has not ended for up
      // to 5 s, to drain it for reuse (when the cancel comes between two of its reads):
      // the server sees the close within that, not always within 300 ms.
      await until(async () => (await stats(id)).open === 0, `${transport}: the server to see the close`);
      const record = await stats(id);
      results[transport] = { seen, errors, states, requests: record.connections.length, open: record.open };
    }
    return results;
  });
  for (const [transport, result] of Object.entries(results)) {
    assert.deepEqual(result.seen, ["tick 1", "tick 2", "done 3 3"], transport);
    assert.deepEqual(result.errors, [], transport);
    assert.deepEqual(result.states, ["open", "closed"], transport);
    assert.equal(result.requests, 1, transport);
    assert.equal(result.open, 0, transport);
  }
});

test("endOnData: the ending event is not delivered, and ends the stream even without a handler", async (browser) => {
  const results = await inPage(browser, async () => {
    const results = {};
    for (const transport of ["eventsource", "fetch"]) {
      const id = session(`js-end-data-${transport}`);
      const client = new SseClient(`/sse?session=${id}&count=6&format=text&then=hold`, {
        transport,
        json: false,
        endOnData: "event 3",
      });
      const seen = [];
      const errors = [];
      client.on("message", (data) => seen.push(data));
      client.onError((error) => errors.push(error.kind));
      await until(() => client.state === "closed", `${transport}: closed`);
      // No handler at all: the end is still heard.
      const quiet = session(`js-end-data-quiet-${transport}`);
      const unheard = new SseClient(`/sse?session=${quiet}&count=6&format=text&then=hold`, {
        transport,
        endOnData: "event 2",
      });
      await until(() => unheard.state === "closed", `${transport}: closed without handlers`);
      await sleep(300);
      // As in the endOnType test: the server may see a close up to 5 s late.
      for (const session of [id, quiet]) {
        await until(async () => (await stats(session)).open === 0, `${transport}: the server to see the close`);
      }
      const record = await stats(id);
      const quietRecord = await stats(quiet);
      results[transport] = {
        seen,
        errors,
        requests: record.connections.length + quietRecord.connections.length,
        open: record.open + quietRecord.open,
      };
    }
    return results;
  });
  for (const [transport, result] of Object.entries(results)) {
    assert.deepEqual(result.seen, ["event 1", "event 2"], transport);
    assert.deepEqual(result.errors, [], transport);
    assert.equal(result.requests, 2, transport);
    assert.equal(result.open, 0, transport);
  }
});

test("reconnect() opens a new connection at once, resuming, and reports no error", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-reconnect");
    const client = new SseClient(`/sse?session=${id}&count=3&then=hold`);
    const seqs = [];
    const errors = [];
    client.on("message", (data) => seqs.push(data.seq));
    client.onError((error) => errors.push(error.kind));
    await until(() => seqs.length === 3, "three events");
    const started = performance.now();
    client.reconnect();
    await until(async () => (await stats(id)).connections.length === 2, "the second request");
    const took = performance.now() - started;
    await until(() => client.state === "open", "open again");
    const seen = await stats(id);
    client.close();
    client.reconnect();
    await sleep(200);
    const afterClose = await stats(id);
    return { errors, took, seen, afterClose: afterClose.connections.length, state: client.state };
  });
  assert.deepEqual(result.errors, []);
  assert.ok(result.took < 1000, `second request after ${result.took} ms`);
  assert.equal(result.seen.connections[1].last_event_id, "3");
  assert.equal(result.afterClose, 2, "reconnect() after close() made a request");
  assert.equal(result.state, "closed");
});

test("a throwing handler is reported and stops neither its neighbours nor the stream", async (browser) => {
  const result = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=3&then=hold");
    const seen = [];
    client.on("message", (data) => {
      throw new Error(`handler failed on ${data.seq}`);
    });
    client.on("message", (data) => seen.push(data.seq));
    client.onState(() => {
      throw new Error("state handler failed");
    });
    await until(() => seen.length === 3, "three events in the second handler");
    client.close();
    return { seen, reported: window.reported };
  });
  assert.deepEqual(result.seen, [1, 2, 3]);
  for (const n of [1, 2, 3]) assert.ok(result.reported.includes(`handler failed on ${n}`), result.reported.join());
  assert.ok(result.reported.includes("state handler failed"));
});

test("the function on() returns unsubscribes once, and only its own handler", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-off");
    const client = new SseClient(`/sse?session=${id}&count=200&interval=20&then=hold`);
    const a = [];
    const b = [];
    const offA = client.on("message", (data) => a.push(data.seq));
    const offB = client.on("message", (data) => b.push(data.seq));
    await until(() => a.length >= 2, "two events");
    offA();
    offA();
    const aAtOff = a.length;
    await until(() => b.length >= aAtOff + 3, "three more events for b");
    offB();
    const bAtOff = b.length;
    await sleep(150);
    client.close();
    return { a: a.length, aAtOff, b: b.length, bAtOff, types: [typeof offA, offA.length] };
  });
  assert.equal(result.a, result.aAtOff);
  assert.equal(result.b, result.bAtOff);
  assert.deepEqual(result.types, ["function", 0]);
});

test("bad options and URLs throw an Error of kind invalid that names the problem", async (browser) => {
  const thrown = await inPage(browser, async () => {
    const cases = [
      ["ftp://example.com/events", undefined],
      ["http://[::1", undefined],
      [42, undefined],
      ["/sse", { backoff: { initialMs: -5 } }],
      ["/sse", { backoff: { jitter: "sometimes" } }],
      ["/sse", { backoff: { maxRetries: 1.5 } }],
      ["/sse", { withCredentials: "yes" }],
      ["/sse", { idleTimeoutMs: 0 }],
      ["/sse", { resumeParam: "" }],
      ["/sse", { transport: "websocket" }],
      ["/sse", { transport: "eventsource", headers: { Authorization: "x" } }],
      ["/sse", "fast"],
      ["/sse", { headers: { "X-Count": 1 } }],
      ["/sse", { method: "GET", body: "{}" }],
      ["/sse", { headers: { "Bad Name": "x" } }],
      ["/sse", { headers: "Bearer x" }],
    ];
    return cases.map(([url, options]) => {
      try {
        new SseClient(url, options);
        return { ok: true };
      } catch (error) {
        return { isError: error instanceof Error, kind: error.kind, message: error.message };
      }
    });
  });
  const expected = [
    /url|http/i,
    /url|invalid/i,
    /url: expected a string or a URL/,
    /backoff\.initialMs/,
    /backoff\.jitter/,
    /backoff\.maxRetries/,
    /withCredentials/,
    /idleTimeoutMs/,
    /resumeParam/,
    /transport/,
    /headers/,
    /options: expected an object/,
    /headers: the value of "X-Count" must be a string/,
    /body: a GET request cannot have a body/,
    /headers: "Bad Name"/,
    /headers: expected an object of strings or a function/,
  ];
  thrown.forEach((result, i) => {
    assert.equal(result.ok, undefined, `case ${i} did not throw`);
    assert.equal(result.isError, true, `case ${i}`);
    assert.equal(result.kind, "invalid", `case ${i}`);
    assert.match(result.message, expected[i], `case ${i}`);
  });
});

test("handlers must be functions, and types strings", async (browser) => {
  const thrown = await inPage(browser, async () => {
    const client = new SseClient("/sse?count=1&then=hold");
    const attempts = [
      () => client.on("message", "not a function"),
      () => client.on(7, () => {}),
      () => client.onState(undefined),
      () => client.onError({}),
    ];
    const result = attempts.map((attempt) => {
      try {
        attempt();
        return "no throw";
      } catch (error) {
        return `${error.kind}: ${error.message}`;
      }
    });
    client.close();
    return result;
  });
  assert.deepEqual(thrown.map((t) => t.split(":")[0]), ["invalid", "invalid", "invalid", "invalid"]);
});

test("url is absolute, lastEventId starts from the option, state is readable", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-props");
    const client = new SseClient(new URL(`/sse?session=${id}&count=1&then=hold`, location.href), {
      lastEventId: "41",
    });
    const initial = { url: client.url, lastEventId: client.lastEventId, state: client.state };
    await until(() => client.state === "open", "open");
    const seen = await stats(id);
    client.close();
    return { initial, seen, origin: location.origin };
  });
  assert.equal(result.initial.url, `${result.origin}/sse?session=${result.seen.session}&count=1&then=hold`);
  assert.equal(result.initial.lastEventId, "41");
  assert.equal(result.initial.state, "connecting");
  assert.equal(result.seen.connections[0].last_event_id, "41");
});

test("resume: false sends no id, not even the lastEventId option", async (browser) => {
  const seen = await inPage(browser, async () => {
    const id = session("js-noresume");
    const client = new SseClient(`/sse?session=${id}&count=2&drop_after=1&then=hold`, {
      resume: false,
      lastEventId: "9",
      backoff: { initialMs: 20, jitter: "none" },
    });
    client.on("message", () => {});
    await until(async () => (await stats(id)).connections.length >= 2, "a reconnect");
    client.close();
    return stats(id);
  });
  assert.ok(seen.connections.every((c) => c.last_event_id === null), JSON.stringify(seen.connections));
});

test("retries are exhausted after maxRetries failed reconnects: network errors, then retries-exhausted", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-exhaust");
    const client = new SseClient(`/sse?session=${id}&fail_status=503&fail_first=100`, {
      backoff: { initialMs: 10, jitter: "none", maxRetries: 2 },
    });
    const errors = [];
    client.onError((error) => errors.push(error.kind));
    await until(() => client.state === "closed", "closed");
    const seen = await stats(id);
    return { errors, requests: seen.connections.length };
  });
  assert.equal(result.requests, 3);
  assert.deepEqual(result.errors, ["network", "network", "network", "retries-exhausted"]);
});

test("fetch: header records and header functions are sent, the function again on every connect", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-fetch-headers");
    let calls = 0;
    const client = new SseClient(`/sse?session=${id}&echo=1&count=2&drop_after=2`, {
      headers: async () => {
        calls += 1;
        return { Authorization: `Bearer token-${calls}`, "X-Client": "page" };
      },
      backoff: { initialMs: 20, jitter: "none" },
    });
    const echoes = [];
    client.on("echo", (echo) => echoes.push(echo));
    await until(() => echoes.length >= 2, "two connections' echoes");
    client.close();
    const fixed = new SseClient(`/sse?echo=1&count=1&then=hold`, { headers: { "X-Fixed": "yes" } });
    let fixedEcho;
    fixed.on("echo", (echo) => (fixedEcho = echo));
    await until(() => fixedEcho, "the fixed headers' echo");
    fixed.close();
    return { echoes, calls, fixedEcho };
  });
  assert.equal(result.echoes[0].headers.authorization, "Bearer token-1");
  assert.equal(result.echoes[1].headers.authorization, "Bearer token-2");
  assert.equal(result.echoes[0].headers["x-client"], "page");
  assert.equal(result.fixedEcho.headers["x-fixed"], "yes");
  assert.ok(result.calls >= 2);
});

test("fetch: a POST body arrives, and the resume id travels as the Last-Event-ID header", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-fetch-post");
    const client = new SseClient(`/sse?session=${id}&echo=1&count=6&drop_after=3&then=hold`, {
      method: "POST",
      body: JSON.stringify({ prompt: "hello" }),
      backoff: { initialMs: 20, jitter: "none" },
    });
    const echoes = [];
    const seqs = [];
    client.on("echo", (echo) => echoes.push(echo));
    client.on("message", (data) => seqs.push(data.seq));
    await until(() => seqs.length >= 6, "six events");
    const seen = await stats(id);
    client.close();
    return { echo: echoes[0], seqs, seen };
  });
  assert.equal(result.echo.method, "POST");
  assert.deepEqual(JSON.parse(result.echo.body), { prompt: "hello" });
  assert.deepEqual(result.seqs, [1, 2, 3, 4, 5, 6]);
  assert.equal(result.seen.connections[1].last_event_id, "3");
  assert.equal(result.seen.connections[1].id_source, "header");
});

test("fetch: errors arrive by kind: http with its status, content-type, and 204 stops", async (browser) => {
  const result = await inPage(browser, async () => {
    const run = async (query) => {
      const id = session("js-fetch-kinds");
      const client = new SseClient(`/sse?session=${id}&${query}`, {
        transport: "fetch",
        backoff: { initialMs: 10, jitter: "none", maxRetries: 2 },
      });
      const errors = [];
      client.onError((error) => errors.push({ ...error }));
      await until(() => client.state === "closed", `closed for ${query}`);
      await sleep(100);
      return { errors, requests: (await stats(id)).connections.length };
    };
    return {
      notFound: await run("fail_status=404&fail_first=9"),
      noContent: await run("fail_status=204&fail_first=9"),
      wrongType: await run("content_type=application/json&count=1"),
      retried: await run("fail_status=503&fail_first=9"),
    };
  });
  assert.deepEqual(result.notFound.errors.map((e) => [e.kind, e.status]), [["http", 404]]);
  assert.equal(result.notFound.requests, 1);
  assert.deepEqual(result.noContent.errors.map((e) => [e.kind, e.status]), [["http", 204]]);
  assert.equal(result.noContent.requests, 1);
  assert.deepEqual(result.wrongType.errors.map((e) => e.kind), ["content-type"]);
  assert.match(result.wrongType.errors[0].message, /application\/json/);
  // 503 is retried: each failure reported, then the budget runs out.
  assert.deepEqual(result.retried.errors.map((e) => [e.kind, e.status]), [
    ["http", 503],
    ["http", 503],
    ["http", 503],
    ["retries-exhausted", undefined],
  ]);
  assert.equal(result.retried.requests, 3);
}, { timeoutMs: 60_000 });

test("auto: the lastEventId option alone keeps the native transport (sent as the query parameter)", async (browser) => {
  const seen = await inPage(browser, async () => {
    const id = session("js-auto");
    const client = new SseClient(`/sse?session=${id}&count=1&then=hold`, { lastEventId: "5" });
    await until(() => client.state === "open", "open");
    client.close();
    return stats(id);
  });
  assert.equal(seen.connections[0].last_event_id, "5");
  assert.equal(seen.connections[0].id_source, "query");
});

test("a closed client is freed even when its handlers refer to it", async (browser) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${server}/tests/page.html`);
    await page.waitForFunction(() => window.SseClient !== undefined);
    const collected = await page.evaluate(async () => {
      window.freed = false;
      const watch = new FinalizationRegistry(() => (window.freed = true));
      await (async () => {
        const client = new SseClient("/sse?count=3&then=hold");
        // Each handler refers to the client: the wasm side holds the handler, the
        // handler the wrapper, and only letting go of the handlers breaks the cycle.
        client.on("message", () => client.lastEventId);
        client.onState(() => client.state);
        client.onError(() => client.url);
        watch.register(client, "client");
        await until(() => client.lastEventId === "3", "three events");
        client.close();
        client.on("message", () => client.state);
      })();
      await until(async () => {
        gc();
        await sleep(20);
        return window.freed;
      }, "the closed client to be garbage-collected");
      return window.freed;
    });
    assert.equal(collected, true);
  } finally {
    await page.close();
  }
});

// A closed client's connection (driver, handlers' registry, buffers) must be freed
// when it closes: a script that makes and closes clients would otherwise grow wasm's
// memory until its garbage is collected, which for small objects may be long after.
// The clients are all kept here, so no collection can help.
test("closing a client frees its connection at once, while the script still holds it", async (browser) => {
  const grown = await inPage(browser, async () => {
    const kept = [];
    const cycle = (transport) =>
      new Promise((resolve) => {
        const client = new SseClient("/sse?count=1&then=hold", { transport });
        kept.push(client, client.onState(() => {}), client.onError(() => {}));
        kept.push(client.on("message", () => resolve(client.close())));
      });
    const grown = {};
    for (const transport of ["eventsource", "fetch"]) {
      for (let i = 0; i < 10; i++) await cycle(transport);
      const before = wasm.memory.buffer.byteLength;
      for (let i = 0; i < 300; i++) await cycle(transport);
      grown[transport] = wasm.memory.buffer.byteLength - before;
    }
    return grown;
  });
  // A closed client keeps nothing in wasm (the class is plain JS), so the same blocks
  // serve every cycle. A connection kept alive until collection costs about 1 KB each.
  assert.deepEqual(grown, { eventsource: 0, fetch: 0 });
});

test("an open client keeps running after the script lets go of it, like EventSource", async (browser) => {
  const page = await browser.newPage();
  try {
    await page.goto(`${server}/tests/page.html`);
    await page.waitForFunction(() => window.SseClient !== undefined);
    const result = await page.evaluate(async () => {
      window.received = 0;
      window.collected = false;
      const watch = new FinalizationRegistry(() => (window.collected = true));
      (() => {
        const client = new SseClient("/sse?count=400&interval=20&then=hold");
        client.on("message", () => (window.received += 1));
        watch.register(client, "client");
      })();
      await until(() => window.received >= 2, "first events");
      // Collect until the script's wrapper is gone (wasm-bindgen frees its Rust side).
      await until(async () => {
        gc();
        await sleep(20);
        return window.collected;
      }, "the wrapper to be garbage-collected");
      const atGc = window.received;
      await until(() => window.received >= atGc + 5, "events after garbage collection");
      return { received: window.received, collected: window.collected };
    });
    assert.equal(result.collected, true);
    assert.ok(result.received >= 7);
  } finally {
    await page.close();
  }
});

test("idleTimeoutMs: a stream that goes quiet is an idle error and a reconnect that resumes, on both transports", async (browser) => {
  const result = await inPage(browser, async () => {
    const run = async (transport) => {
      const id = session(`js-idle-${transport}`);
      const client = new SseClient(`/sse?session=${id}&count=50&stall_after=2&then=hold`, {
        transport,
        idleTimeoutMs: 300,
        backoff: { initialMs: 10, jitter: "none" },
      });
      const errors = [];
      const seqs = [];
      client.on("message", (data) => seqs.push(data.seq));
      client.onError((error) => errors.push({ ...error }));
      await until(async () => (await stats(id)).connections.length >= 2, `${transport}: a second connection`);
      const seen = await stats(id);
      client.close();
      return { errors, seqs, resumedFrom: seen.connections[1].last_event_id };
    };
    return { eventsource: await run("eventsource"), fetch: await run("fetch") };
  });
  for (const transport of ["eventsource", "fetch"]) {
    const { errors, seqs, resumedFrom } = result[transport];
    assert.deepEqual(errors.slice(0, 1).map((e) => [e.kind, e.message]), [["idle", "nothing arrived for 300 ms"]], transport);
    assert.deepEqual(seqs.slice(0, 2), [1, 2], transport);
    assert.equal(resumedFrom, "2", transport);
  }
});

test("fetch: a 503's Retry-After holds the next request back, and the state's delay says so", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-retry-after");
    const client = new SseClient(`/sse?session=${id}&fail_status=503&fail_first=1&retry_after=1&count=1&then=hold`, {
      transport: "fetch",
      backoff: { initialMs: 10, jitter: "none" },
    });
    const states = [];
    client.onState((state, detail) => states.push([state, { ...detail }, performance.now()]));
    await until(() => client.state === "open", "open", 5000);
    client.close();
    return states;
  });
  const reconnecting = result.find(([state]) => state === "reconnecting");
  const open = result.find(([state]) => state === "open");
  assert.equal(reconnecting[1].attempt, 1);
  assert.ok(reconnecting[1].delayMs >= 1000, `delayMs ${reconnecting[1].delayMs}`);
  assert.ok(open[2] - reconnecting[2] >= 990, `opened ${open[2] - reconnecting[2]} ms after the 503`);
});

test("fetch: an event over maxEventSize is a network error that names the limit, and the client reconnects", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-too-large");
    const client = new SseClient(`/sse?session=${id}&count=3&size=2000&then=hold`, {
      transport: "fetch",
      maxEventSize: 1000,
      backoff: { initialMs: 10, jitter: "none", maxRetries: 1 },
    });
    const errors = [];
    const seqs = [];
    client.on("message", (data) => seqs.push(data.seq));
    client.onError((error) => errors.push({ ...error }));
    await until(() => client.state === "closed", "closed");
    return { errors, seqs, requests: (await stats(id)).connections.length };
  });
  assert.deepEqual(result.seqs, []);
  assert.deepEqual(result.errors.map((e) => e.kind), ["network", "network", "retries-exhausted"]);
  assert.equal(result.errors[0].message, "network: event stream: an event exceeded the limit of 1000 bytes; reconnecting");
  assert.equal(result.requests, 2);
});

test("fetch: events of several types, some without handlers, reach only their own handlers and all move the id", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-fetch-types");
    const client = new SseClient(`/sse?session=${id}&count=9&types=a,b,c&then=hold`, { transport: "fetch" });
    const seen = { b: [], c: [] };
    client.on("b", (data, event) => seen.b.push([data.seq, event.type, event.lastEventId]));
    const offC = client.on("c", (data) => seen.c.push(data.seq));
    await until(() => seen.c.length >= 1, "a first c");
    offC();
    await until(() => client.lastEventId === "9", "the last id");
    await sleep(100);
    client.close();
    return seen;
  });
  // Types cycle by sequence number: a b c a b c …
  assert.deepEqual(result.b.map(([seq, type]) => [seq, type]), [[2, "b"], [5, "b"], [8, "b"]]);
  assert.deepEqual(result.b.map(([seq, , id]) => id), ["2", "5", "8"]);
  assert.ok(result.c.length >= 1 && result.c[0] === 3, result.c.join());
});

test("fetch: a server's retry: field is the least wait before the next request", async (browser) => {
  const result = await inPage(browser, async () => {
    const id = session("js-server-retry");
    const client = new SseClient(`/sse?session=${id}&count=4&retry=400&drop_after=2&then=hold`, {
      transport: "fetch",
      backoff: { initialMs: 10, jitter: "none" },
    });
    const details = [];
    client.onState((state, detail) => state === "reconnecting" && details.push({ ...detail }));
    client.on("message", () => {});
    await until(() => details.length >= 1, "a reconnect");
    client.close();
    return details;
  });
  assert.equal(result[0].attempt, 1);
  assert.ok(result[0].delayMs >= 400, `delayMs ${result[0].delayMs}`);
});

// 3,000 events of 400 B: several reads' worth of the buffer the body is read into.
// `byob: false` makes getReader({ mode: "byob" }) throw, as it does for a body that is
// not a byte stream (in browsers whose fetch bodies are not).
async function longFetchStream(browser, byob) {
  return inPage(
    browser,
    async ({ byob }) => {
      let byobReads = 0;
      const read = ReadableStreamBYOBReader.prototype.read;
      ReadableStreamBYOBReader.prototype.read = function (view, options) {
        byobReads++;
        return read.call(this, view, options);
      };
      if (!byob) {
        const getReader = ReadableStream.prototype.getReader;
        ReadableStream.prototype.getReader = function (options) {
          if (options?.mode === "byob") throw new TypeError("not a byte stream");
          return getReader.call(this, options);
        };
      }
      const client = new SseClient(`/sse?session=${session("js-long")}&count=3000&size=400&then=hold`, {
        transport: "fetch",
      });
      const seqs = [];
      const errors = [];
      client.on("message", (data) => seqs.push(data.seq));
      client.onError((error) => errors.push(error.message));
      await until(() => seqs.length >= 3000, "every event");
      client.close();
      return { seqs, errors, byobReads };
    },
    { byob },
  );
}

const oneToThreeThousand = Array.from({ length: 3000 }, (_, i) => i + 1);

test("fetch: the body is read into one buffer, and a stream many reads long arrives whole and in order", async (browser) => {
  const result = await longFetchStream(browser, true);
  assert.deepEqual(result.seqs, oneToThreeThousand);
  assert.deepEqual(result.errors, []);
  assert.ok(result.byobReads >= 5, `${result.byobReads} BYOB reads`);
});

test("fetch: a body that is not a byte stream is read with the default reader", async (browser) => {
  const result = await longFetchStream(browser, false);
  assert.deepEqual(result.seqs, oneToThreeThousand);
  assert.deepEqual(result.errors, []);
  assert.equal(result.byobReads, 0);
});

await run({
  setup: () => launchChromium(["--js-flags=--expose-gc"]),
  teardown: (browser) => browser && browser.close(),
});

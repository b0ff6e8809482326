// The browser half of `make bench`. bench/run.mjs serves nothing itself: the scripted
// server serves this page, the npm package (/pkg/), the Rust bench crate's build
// (./bench_wasm/) and eventsource-parser (./eventsource-parser/), and the streams.
// Every workload times itself with performance.now() and posts its figures to the
// driver (?results=), one JSON object per row; the driver builds the table.
import init, { SseClient } from "/pkg/sse_wasm.js";
import initBench, * as rust from "./bench_wasm/sse_wasm_bench.js";
import { createParser } from "./eventsource-parser/index.js";

const params = new URLSearchParams(location.search);
const RESULTS = params.get("results");
const EVENTS = Number(params.get("events") ?? 100_000);
const EVENT_BYTES = 120;
const ROUNDS = Number(params.get("rounds") ?? 5);
// Rounds run first and not counted: the JIT, the connection pool and the server warm up.
const WARMUP_ROUNDS = Number(params.get("warmup") ?? 1);
const PARSER_BYTES = Number(params.get("parserMib") ?? 64) * 1024 * 1024;
const CYCLES = Number(params.get("cycles") ?? 1000);
const DROPS = Number(params.get("drops") ?? 100);
const GROUPS = (params.get("groups") ?? "throughput,parser,memory,recovery,sharing").split(",");
const TAKEOVERS = Number(params.get("takeovers") ?? 50);
// A network read's worth: both parsers get the stream in the same slices.
const CHUNK_BYTES = 64 * 1024;
const RECOVERY_INITIAL_MS = 100;

const logElement = document.getElementById("log");
function log(line) {
  logElement.textContent += line + "\n";
}

async function post(path, body) {
  // A text/plain POST is a simple request: no preflight to the driver's origin.
  await fetch(`${RESULTS}/${path}`, { method: "POST", body: JSON.stringify(body) });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

let sessions = 0;
function session(prefix) {
  sessions += 1;
  return `bench-${prefix}-${Date.now()}-${sessions}`;
}

function streamUrl(query) {
  return new URL(`/sse?${new URLSearchParams(query)}`, location.href).href;
}

// ---------------------------------------------------------------------------------
// 1. Throughput: EVENTS events of EVENT_BYTES-byte JSON, as fast as the server goes.

const expectedChecksum = (EVENTS * (EVENTS + 1)) / 2;

function plainEventSource(url) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let checksum = 0;
    const start = performance.now();
    const source = new EventSource(url);
    source.addEventListener("message", (event) => {
      checksum += JSON.parse(event.data).seq;
      if (++count === EVENTS) {
        const ms = performance.now() - start;
        source.close();
        resolve({ ms, checksum });
      }
    });
    source.onerror = () => {
      source.close();
      reject(new Error(`EventSource failed after ${count} events`));
    };
  });
}

function npmClient(url, transport) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let checksum = 0;
    const start = performance.now();
    const client = new SseClient(url, { json: true, transport });
    client.on("message", (data) => {
      checksum += data.seq;
      if (++count === EVENTS) {
        const ms = performance.now() - start;
        client.close();
        resolve({ ms, checksum });
      }
    });
    client.onError((error) => {
      client.close();
      reject(new Error(`npm ${transport}: ${error.kind}: ${error.message} after ${count} events`));
    });
  });
}

async function fetchCeiling(url) {
  const start = performance.now();
  // The request the fetch transport makes: no-store keeps the body out of the HTTP
  // cache, whose writes would make this "ceiling" slower than the library.
  const response = await fetch(url, { cache: "no-store", headers: { accept: "text/event-stream" } });
  const reader = response.body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
  }
  const ms = performance.now() - start;
  if (bytes < EVENTS * EVENT_BYTES) {
    throw new Error(`fetch ceiling: only ${bytes} bytes arrived`);
  }
  return { ms, checksum: expectedChecksum, bytes };
}

const held = (name) => streamUrl({ count: EVENTS, size: EVENT_BYTES, then: "hold", session: session(name) });

const throughputRows = [
  {
    row: "1a",
    workload: "baseline: native EventSource + JSON.parse, one handler (plain JS)",
    run: () => plainEventSource(held("1a")),
  },
  {
    row: "1b",
    workload: "npm API, json: true, native transport",
    run: () => npmClient(held("1b"), "eventsource"),
  },
  {
    row: "1c",
    workload: "Rust typed handler on::<T>, native transport",
    run: () => rust.rust_throughput(held("1c"), "eventsource", EVENTS),
  },
  {
    row: "1d",
    workload: "Rust typed handler on::<T>, fetch transport (bytes → parser → serde)",
    run: () => rust.rust_throughput(held("1d"), "fetch", EVENTS),
  },
  {
    row: "1e",
    workload: "npm API, json: true, fetch transport",
    run: () => npmClient(held("1e"), "fetch"),
  },
  {
    row: "1f",
    workload: "ceiling: the same bytes read by fetch, no parsing",
    // The stream ends after its last event, so the read loop knows when it is done.
    run: () => fetchCeiling(streamUrl({ count: EVENTS, size: EVENT_BYTES, session: session("1f") })),
  },
];

/** One run of a throughput row, its events checked. */
async function throughputRun(row) {
  const result = await withTimeout(row.run(), 120_000, row.row);
  if (result.checksum !== expectedChecksum) {
    throw new Error(`${row.row}: checksum ${result.checksum}, expected ${expectedChecksum}`);
  }
  return result;
}

async function throughput() {
  const runs = new Map(throughputRows.map((row) => [row.row, []]));
  // Rounds interleave the workloads so that a noisy moment hits all of them alike.
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    for (const row of throughputRows) {
      const result = await throughputRun(row);
      if (round >= 0) runs.get(row.row).push(EVENTS / (result.ms / 1000));
      log(`${row.row} round ${round}: ${Math.round(EVENTS / (result.ms / 1000))} events/s`);
      await sleep(50);
    }
  }
  for (const row of throughputRows) {
    await post("result", {
      group: "throughput",
      row: row.row,
      workload: `${row.workload}; ${EVENTS} events of ${EVENT_BYTES} B, median of ${ROUNDS} after ${WARMUP_ROUNDS} warm-up`,
      eventsPerSecond: median(runs.get(row.row)),
      runs: runs.get(row.row),
    });
  }
}

// ---------------------------------------------------------------------------------
// 2. Parser: the same mixed stream through eventsource-parser and through the wasm
// parser, both fed CHUNK_BYTES slices of bytes as a network read would give them.

function referenceParser(bytes) {
  let events = 0;
  const parser = createParser({
    onEvent() {
      events += 1;
    },
  });
  const start = performance.now();
  const decoder = new TextDecoder();
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    parser.feed(decoder.decode(bytes.subarray(offset, offset + CHUNK_BYTES), { stream: true }));
  }
  parser.feed(decoder.decode());
  return { ms: performance.now() - start, events };
}

function wasmParser(bytes) {
  let events = 0;
  const parser = new rust.ParserBench();
  const start = performance.now();
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    events += parser.feed(bytes.subarray(offset, offset + CHUNK_BYTES));
  }
  parser.finish();
  const ms = performance.now() - start;
  parser.free();
  return { ms, events };
}

async function parser() {
  const bytes = rust.mixed_stream(PARSER_BYTES);
  const megabytes = bytes.length / 1e6;
  const runs = { reference: [], wasm: [] };
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const reference = referenceParser(bytes);
    await sleep(20);
    const wasm = wasmParser(bytes);
    if (reference.events !== wasm.events || wasm.events === 0) {
      throw new Error(`parsers disagree: eventsource-parser ${reference.events} events, wasm ${wasm.events}`);
    }
    if (round < 0) continue;
    runs.reference.push(megabytes / (reference.ms / 1000));
    runs.wasm.push(megabytes / (wasm.ms / 1000));
    await sleep(20);
  }
  const workload = `${(bytes.length / 1048576).toFixed(0)} MiB mixed stream in ${CHUNK_BYTES / 1024} KiB chunks, median of ${ROUNDS} after ${WARMUP_ROUNDS} warm-up`;
  await post("result", {
    group: "parser",
    row: "2b-base",
    workload: `baseline: eventsource-parser 4.1.3 (TextDecoder + feed) in the page; ${workload}`,
    megabytesPerSecond: median(runs.reference),
    runs: runs.reference,
  });
  await post("result", {
    group: "parser",
    row: "2b",
    workload: `sse-wasm parser in wasm (bytes copied in + parsed) in the same page; ${workload}`,
    megabytesPerSecond: median(runs.wasm),
    runs: runs.wasm,
  });
}

// ---------------------------------------------------------------------------------
// Where the throughput rows' CPU goes (not in a default run: `BENCH_QUERY=groups=cpu
// make bench`). Each workload runs CPU_RUNS times in a block, and the driver reads
// every thread's CPU time from /proc before and after it: the scripted server's, the
// page's main thread and its other threads, the network process's, the browser's.
// Blocks interleave the workloads as the throughput rounds do. `cpuRows` picks some
// of them (e.g. "1a,1b"), so that more blocks of the rows in question fit in a run.

const CPU_RUNS = Number(params.get("cpuRuns") ?? 10);
const CPU_ROUNDS = Number(params.get("cpuRounds") ?? 2);
const CPU_ROWS = params.get("cpuRows")?.split(",");

async function cpu() {
  const unknown = CPU_ROWS?.filter((name) => !throughputRows.some((row) => row.row === name)) ?? [];
  if (unknown.length > 0) throw new Error(`cpuRows: no throughput row is named ${unknown.join(", ")}`);
  const rows = throughputRows.filter((row) => !CPU_ROWS || CPU_ROWS.includes(row.row));
  for (let round = -WARMUP_ROUNDS; round < CPU_ROUNDS; round++) {
    for (const row of rows) {
      if (round < 0) {
        await throughputRun(row);
        continue;
      }
      await post("cpu", { row: row.row, begin: true });
      const ms = [];
      for (let run = 0; run < CPU_RUNS; run++) {
        ms.push((await throughputRun(row)).ms);
        await sleep(50);
      }
      await post("cpu", { row: row.row, workload: row.workload, ms });
      log(`${row.row} cpu block ${round}: median ${Math.round(median(ms))} ms`);
    }
  }
}

// ---------------------------------------------------------------------------------
// 4. Memory: CYCLES connect/close cycles and CYCLES forced reconnects.

// The memory and recovery rows' stream: its first event at once, then one every 5 ms,
// for up to two minutes per connection.
const STEADY = { count: 10_000_000, size: EVENT_BYTES, interval: 5, then: "hold", max_ms: 120_000 };

// Its ids start at 1,000,001 so that they keep one length: a longer id is a longer
// string in the heap, which would read as growth.
const steady = (name) => streamUrl({ ...STEADY, lastEventId: 1_000_000, session: session(name) });

let npmWasm;

async function settle() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(25);
  }
}

function nextEvent(client, what) {
  return withTimeout(
    new Promise((resolve) => {
      const off = client.on("message", () => {
        off();
        resolve();
      });
    }),
    10_000,
    what,
  );
}

async function npmConnectClose(transport) {
  let finalized = 0;
  const registry = new FinalizationRegistry(() => {
    finalized += 1;
  });
  const url = steady(`mem-npm-${transport}`);
  const cycle = async (register) => {
    const client = new SseClient(url, { transport });
    client.onState(() => {});
    // The handler refers to its client: the cycle that once kept closed clients alive.
    await withTimeout(
      new Promise((resolve) => client.on("message", () => resolve(client.close()))),
      10_000,
      `npm ${transport} connect`,
    );
    if (register) registry.register(client, null);
  };
  await cycle(false);
  await settle();
  const memoryBefore = npmWasm.memory.buffer.byteLength;
  for (let i = 0; i < CYCLES; i++) {
    await cycle(true);
  }
  await settle();
  return {
    memoryBefore,
    memoryAfter: npmWasm.memory.buffer.byteLength,
    liveBefore: 0,
    liveAfter: CYCLES - finalized,
  };
}

async function npmReconnects(transport) {
  const client = new SseClient(steady(`rec-npm-${transport}`), { transport });
  let opens = 0;
  client.onState((state) => {
    if (state === "open") opens += 1;
  });
  const reconnectOnce = async () => {
    const target = opens + 1;
    client.reconnect();
    for (;;) {
      await nextEvent(client, `npm ${transport} reconnect`);
      if (opens >= target) return;
    }
  };
  await nextEvent(client, `npm ${transport} first event`);
  await reconnectOnce();
  await settle();
  const memoryBefore = npmWasm.memory.buffer.byteLength;
  for (let i = 0; i < CYCLES; i++) {
    await reconnectOnce();
  }
  await settle();
  const memoryAfter = npmWasm.memory.buffer.byteLength;
  client.close();
  return { memoryBefore, memoryAfter };
}

// The Rust bench crate names its fields in snake case.
function camelCase(object) {
  return Object.fromEntries(
    Object.entries(object).map(([key, value]) => [key.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), value]),
  );
}

async function memory() {
  const rows = [
    ["4a", `Rust API: ${CYCLES} connect/close cycles, native transport`, () => rust.memory_connect_close(steady("4a"), "eventsource", CYCLES)],
    ["4b", `Rust API: ${CYCLES} connect/close cycles, fetch transport`, () => rust.memory_connect_close(steady("4b"), "fetch", CYCLES)],
    ["4c", `Rust API: ${CYCLES} forced reconnects of one client, native transport`, () => rust.memory_reconnects(steady("4c"), "eventsource", CYCLES)],
    ["4d", `Rust API: ${CYCLES} forced reconnects of one client, fetch transport`, () => rust.memory_reconnects(steady("4d"), "fetch", CYCLES)],
    ["4e", `npm API: ${CYCLES} connect/close cycles, native transport`, () => npmConnectClose("eventsource")],
    ["4f", `npm API: ${CYCLES} connect/close cycles, fetch transport`, () => npmConnectClose("fetch")],
    ["4g", `npm API: ${CYCLES} forced reconnects of one client, native transport`, () => npmReconnects("eventsource")],
    ["4h", `npm API: ${CYCLES} forced reconnects of one client, fetch transport`, () => npmReconnects("fetch")],
  ];
  for (const [row, workload, run] of rows) {
    const result = camelCase(await withTimeout(run(), 300_000, row));
    log(`${row}: ${JSON.stringify(result)}`);
    await post("result", { group: "memory", row, workload, ...result });
  }
}

// ---------------------------------------------------------------------------------
// 5. Recovery: the server drops the stream DROPS times; how long until the next
// event, and is every event delivered exactly once?

function recoveryProbe(name, connect) {
  const sessionName = session(`recovery-${name}`);
  return new Promise((resolve, reject) => {
    const latencies = [];
    let lastSeq = 0;
    let lost = 0;
    let duplicated = 0;
    let dropStarted = null;
    let dropSeen = false;
    const onEvent = (seq) => {
      if (seq <= lastSeq) duplicated += 1;
      else lost += seq - lastSeq - 1;
      lastSeq = Math.max(lastSeq, seq);
      if (dropStarted !== null && dropSeen) {
        latencies.push(performance.now() - dropStarted);
        dropStarted = null;
        dropSeen = false;
      }
    };
    const onDrop = () => {
      if (dropStarted !== null) dropSeen = true;
    };
    const url = (extra) => streamUrl({ ...STEADY, session: sessionName, ...extra });
    const closeStream = connect(url, onEvent, onDrop, reject);
    (async () => {
      await sleep(200);
      for (let drop = 0; drop < DROPS; drop++) {
        dropStarted = performance.now();
        await fetch(`/drop?session=${encodeURIComponent(sessionName)}`, { method: "POST" });
        const deadline = performance.now() + 10_000;
        while (dropStarted !== null) {
          if (performance.now() > deadline) throw new Error(`${name}: no event 10 s after drop ${drop}`);
          await sleep(2);
        }
        await sleep(30);
      }
      closeStream();
      resolve({ latencies, lost, duplicated, lastSeq });
    })().catch((error) => {
      closeStream();
      reject(error);
    });
  });
}

function recoveryBaseline(url, onEvent, onDrop) {
  // The server's retry: field is the only backoff EventSource has.
  const source = new EventSource(url({ retry: RECOVERY_INITIAL_MS }));
  source.addEventListener("message", (event) => onEvent(JSON.parse(event.data).seq));
  source.onerror = onDrop;
  return () => source.close();
}

function recoveryNpm(transport) {
  return (url, onEvent, onDrop, fail) => {
    const client = new SseClient(url(), {
      transport,
      backoff: { initialMs: RECOVERY_INITIAL_MS, jitter: "none" },
    });
    client.on("message", (data) => onEvent(data.seq));
    client.onError((error) => {
      if (error.kind === "network") onDrop();
      else fail(new Error(`npm ${transport}: ${error.kind}: ${error.message}`));
    });
    return () => client.close();
  };
}

async function recovery() {
  const rows = [
    ["5a", `baseline: native EventSource, server retry: ${RECOVERY_INITIAL_MS}`, recoveryBaseline],
    ["5b", `npm API, native transport, backoff initialMs ${RECOVERY_INITIAL_MS}, jitter none`, recoveryNpm("eventsource")],
    ["5c", `npm API, fetch transport, backoff initialMs ${RECOVERY_INITIAL_MS}, jitter none`, recoveryNpm("fetch")],
  ];
  for (const [row, workload, connect] of rows) {
    const result = await withTimeout(recoveryProbe(row, connect), 300_000, row);
    if (result.latencies.length !== DROPS) {
      throw new Error(`${row}: ${result.latencies.length} recoveries measured, expected ${DROPS}`);
    }
    log(`${row}: median ${median(result.latencies).toFixed(1)} ms, lost ${result.lost}, duplicated ${result.duplicated}`);
    await post("result", {
      group: "recovery",
      row,
      workload: `${workload}; ${DROPS} drops of a stream of one event per ${STEADY.interval} ms`,
      medianMs: median(result.latencies),
      p95Ms: percentile(result.latencies, 95),
      lost: result.lost,
      duplicated: result.duplicated,
      events: result.lastSeq,
    });
  }
}

// ---------------------------------------------------------------------------------
// 6. Sharing: clients in frames of this page (documents of their own, each with its
// own wasm instance, in one browser profile, as tabs are) share one connection.

const SHARE_FRAMES = 8;
const SHARE_LIVE_FRAMES = 3;

// What each frame's client got, by frame name: its sequence numbers' run.
const frames = new Map();
let framesMade = 0;

window.frameReady = (name) => frames.get(name)?.ready();
window.frameEvent = (name, seq, role) => frames.get(name)?.event(seq, role);

/** A frame whose client shares `share`; resolves once its client exists. */
function shareFrame(url, share, onEvent) {
  framesMade += 1;
  const name = `frame-${framesMade}`;
  const element = document.createElement("iframe");
  element.src = `frame.html?${new URLSearchParams({ url, share, name })}`;
  return new Promise((resolve) => {
    const frame = {
      name,
      element,
      last: 0,
      seen: 0,
      lost: 0,
      duplicated: 0,
      role: () => element.contentWindow?.client?.role,
      ready: () => resolve(frame),
      event(seq, role) {
        if (frame.seen > 0) {
          if (seq <= frame.last) frame.duplicated += 1;
          else frame.lost += seq - frame.last - 1;
        }
        frame.last = Math.max(frame.last, seq);
        frame.seen += 1;
        onEvent?.(frame, seq, role);
      },
      remove() {
        frames.delete(name);
        element.remove();
      },
    };
    frames.set(name, frame);
    document.body.append(element);
  });
}

async function waitFor(check, what, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

async function sharedConnections() {
  const name = session("share-tabs");
  const url = streamUrl({ count: 50, interval: 10, then: "hold", session: name });
  // A frame gets the events from when it joins: its run is checked from its first one.
  const made = await Promise.all(Array.from({ length: SHARE_FRAMES }, () => shareFrame(url, name)));
  await waitFor(() => made.every((frame) => frame.last === 50), "the 50th event in every frame");
  const record = await (await fetch(`/stats?session=${name}`)).json();
  const lost = made.reduce((sum, frame) => sum + frame.lost, 0);
  const duplicated = made.reduce((sum, frame) => sum + frame.duplicated, 0);
  for (const frame of made) frame.remove();
  return { connections: record.connections.length, lost, duplicated };
}

async function takeovers() {
  const name = session("share-takeover");
  const url = streamUrl({ ...STEADY, session: name });
  // Set while a takeover is timed: when the leader's frame went.
  let gone = null;
  const latencies = [];
  const onEvent = (frame, seq, role) => {
    if (gone !== null && role === "leader") {
      latencies.push(performance.now() - gone);
      gone = null;
    }
  };
  const live = [];
  for (let i = 0; i < SHARE_LIVE_FRAMES; i++) live.push(await shareFrame(url, name, onEvent));
  await waitFor(() => live.every((frame) => frame.seen > 10), "events in every frame");
  let lost = 0;
  let duplicated = 0;
  let events = 0;
  for (let round = 0; round < TAKEOVERS; round++) {
    const leader = live.find((frame) => frame.role() === "leader");
    if (!leader) throw new Error(`takeover ${round}: no frame leads`);
    gone = performance.now();
    leader.remove();
    live.splice(live.indexOf(leader), 1);
    ({ lost, duplicated, events } = tally(leader, lost, duplicated, events));
    await waitFor(() => gone === null, `takeover ${round}`);
    // Every frame hears a few events of the new leader before the next one goes.
    const marks = live.map((frame) => frame.seen);
    await waitFor(() => live.every((frame, i) => frame.seen >= marks[i] + 3), `events after takeover ${round}`);
    live.push(await shareFrame(url, name, onEvent));
    await waitFor(() => live.at(-1).seen > 3, "events in the new frame");
  }
  for (const frame of live) {
    ({ lost, duplicated, events } = tally(frame, lost, duplicated, events));
    frame.remove();
  }
  const record = await (await fetch(`/stats?session=${name}`)).json();
  return { latencies, lost, duplicated, events, connections: record.connections.length };
}

function tally(frame, lost, duplicated, events) {
  return { lost: lost + frame.lost, duplicated: duplicated + frame.duplicated, events: events + frame.seen };
}

async function sharing() {
  const tabs = await withTimeout(sharedConnections(), 60_000, "6b");
  log(`6b: ${tabs.connections} connections for ${SHARE_FRAMES} frames`);
  const taken = await withTimeout(takeovers(), 300_000, "6a");
  log(`6a: median ${median(taken.latencies).toFixed(1)} ms, p95 ${percentile(taken.latencies, 95).toFixed(1)} ms`);
  await post("result", {
    group: "sharing",
    row: "6a",
    workload: `takeover after the leader's frame goes (${SHARE_LIVE_FRAMES} frames sharing a stream of one event per ${STEADY.interval} ms, ${TAKEOVERS} takeovers): until the new leader delivers`,
    medianMs: median(taken.latencies),
    p95Ms: percentile(taken.latencies, 95),
    takeovers: taken.latencies.length,
    lost: taken.lost,
    duplicated: taken.duplicated,
    events: taken.events,
    connections: taken.connections,
  });
  await post("result", {
    group: "sharing",
    row: "6b",
    workload: `server connections for ${SHARE_FRAMES} frames sharing one stream (share option)`,
    connections: tabs.connections,
    lost: tabs.lost,
    duplicated: tabs.duplicated,
  });
}

// ---------------------------------------------------------------------------------

const groups = { throughput, parser, memory, recovery, sharing, cpu };

async function main() {
  if (typeof globalThis.gc !== "function") {
    throw new Error("gc() is missing: start Chromium with --js-flags=--expose-gc");
  }
  npmWasm = await init();
  await initBench();
  for (const name of GROUPS) {
    if (!groups[name]) throw new Error(`unknown group ${name}`);
    log(`-- ${name}`);
    await groups[name]();
  }
}

main().then(
  () => post("done", { ok: true }),
  (error) => post("done", { ok: false, error: String(error?.stack ?? error) }),
);

// The npm face's fetch transport: the request and the reads of its body, in JS. What
// the response and its bytes mean (the verdict on the status, every byte parsed, every
// failure classed) is decided in Rust: `sink` is js_driver.js's, which asks
// src/bindings/js.rs. Doing the I/O here keeps async Rust and its futures machinery out
// of the package, and spares a crossing per awaited promise. scripts/pkg.sh appends
// this file to the package's entry (after js_driver.js, whose sseMessage it uses); it
// is not a module of its own.

// The most one read of the body brings (as body.rs's READ_BYTES).
const SSE_READ_BYTES = 262144;

// Starts a request; returns the function that aborts it. `headers` is a flat list of
// names and values sent first; `makeHeaders`, when given, is called before the request
// and its record (or the record its promise gives) is sent next.
function sseOpenStream(url, method, body, headers, makeHeaders, lastEventId, withCredentials, sink) {
  const controller = new AbortController();
  const signal = controller.signal;
  sseRead(url, method, body, headers, makeHeaders, lastEventId, withCredentials, sink, signal).catch((exception) => {
    if (!signal.aborted) sink.failed(`the fetch transport failed: ${sseMessage(exception)}`, false);
  });
  return () => controller.abort();
}

async function sseRead(url, method, body, fixed, makeHeaders, lastEventId, withCredentials, sink, signal) {
  const headers = new Headers();
  for (let i = 0; i < fixed.length; i += 2) headers.set(fixed[i], fixed[i + 1]);
  if (makeHeaders) {
    let record;
    try {
      record = await makeHeaders();
    } catch (exception) {
      if (!signal.aborted) sink.failed(`the headers function failed: ${sseMessage(exception)}`, false);
      return;
    }
    if (signal.aborted) return;
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      sink.failed("headers: expected an object of strings or a function that returns one", true);
      return;
    }
    for (const [name, value] of Object.entries(record)) {
      if (typeof value !== "string") {
        sink.failed(`headers: the value of "${name}" must be a string`, true);
        return;
      }
      try {
        headers.set(name, value);
      } catch (exception) {
        sink.failed(`headers: "${name}": ${sseMessage(exception)}`, true);
        return;
      }
    }
  }
  headers.set("accept", "text/event-stream");
  if (lastEventId) headers.set("last-event-id", lastEventId);

  let response;
  try {
    response = await fetch(url, {
      method,
      body,
      headers,
      mode: "cors",
      cache: "no-store",
      credentials: withCredentials ? "include" : "same-origin",
      signal,
    });
  } catch (exception) {
    if (!signal.aborted) {
      sink.failed(`could not reach the server (network error or CORS failure): ${sseMessage(exception)}`, false);
    }
    return;
  }
  if (signal.aborted) return;
  const type = response.headers.get("content-type") ?? "";
  const retryAfter = response.headers.get("retry-after") ?? "";
  if (!sink.response(response.status, type, retryAfter)) return;
  if (!response.body) {
    sink.failed("the response has no body to read", false);
    return;
  }
  // Into one buffer that goes to the stream and back with every read, where the body
  // is a byte stream: the default reader's new buffer per read costs the page's main
  // thread more (src/transport/fetch/body.rs, which reads the Rust faces' bodies so).
  let buffer = new ArrayBuffer(SSE_READ_BYTES);
  let reader;
  try {
    reader = response.body.getReader({ mode: "byob" });
  } catch {
    buffer = undefined;
    reader = response.body.getReader();
  }
  for (;;) {
    let result;
    try {
      result = await (buffer ? reader.read(new Uint8Array(buffer)) : reader.read());
    } catch (exception) {
      if (!signal.aborted) sink.failed(`the stream was lost: ${sseMessage(exception)}`, false);
      return;
    }
    if (signal.aborted) return;
    if (result.done) {
      sink.ended();
      return;
    }
    const bytes = result.value;
    if (buffer) buffer = bytes.buffer;
    // `sink.chunk` copies the bytes into wasm before the next read takes them.
    if (!sink.chunk(bytes)) return;
  }
}

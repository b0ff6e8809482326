// The npm API's options, read and checked in JS: `sseOptions(url, options)` returns
// what the client (js_client.js, js_driver.js) takes, or throws an `Error` of kind "invalid"
// that names the option as the script wrote it (`backoff.initialMs`). scripts/pkg.sh
// appends this file to the package's entry, before js_client.js; it is not a module
// of its own (www/tests/options.test.mjs evaluates it on its own).
//
// Checking here rather than in Rust keeps every message and every branch out of the
// .wasm: the package's options cost a few hundred bytes of JS instead of kilobytes of
// wasm. What the options mean for the connection (the transport chosen, the default
// method) follows SseClientBuilder's rules, and the Rust face checks the same things.
//
// Unknown keys are ignored, as a WebIDL dictionary such as `EventSourceInit` ignores
// them; `null` means "not given" (and "off" for `idleTimeoutMs` and
// `backoff.maxRetries`).

const sseInvalid = (message) => {
  const error = new Error(message);
  error.kind = "invalid";
  return error;
};

// How a message names a value the script gave.
const sseDescribe = (value) => {
  switch (typeof value) {
    case "undefined":
      return "undefined";
    case "boolean":
      return `the boolean ${value}`;
    case "number":
      return `the number ${value}`;
    case "string":
      return `the string "${value}"`;
    case "function":
      return "a function";
    case "object":
      return value === null ? "null" : Array.isArray(value) ? "an array" : "an object";
    default:
      return "a value of another type";
  }
};

const sseIsRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

// Reads the keys of one options object; `prefix` is "backoff." for backoff's keys.
const sseReader = (object, prefix) => (key, type, expected) => {
  let value;
  try {
    value = object[key];
  } catch {
    throw sseInvalid(`${prefix}${key}: expected ${expected}, got a property that threw when read`);
  }
  if (value === undefined || value === null) return undefined;
  const fits = type === "object" ? sseIsRecord(value) : typeof value === type;
  if (!fits) throw sseInvalid(`${prefix}${key}: expected ${expected}, got ${sseDescribe(value)}`);
  return value;
};

// Milliseconds: finite, not negative, and within what a Duration holds (584 years).
const sseMillis = (name, ms) => {
  if (!Number.isFinite(ms) || ms < 0) {
    throw sseInvalid(`${name}: expected a non-negative number of milliseconds, got ${ms}`);
  }
  if (ms >= 1.8446744073709552e13) throw sseInvalid(`${name}: ${ms} milliseconds is too large`);
  return ms;
};

const sseOneOf = (name, value, allowed) => {
  if (value !== undefined && !allowed.includes(value)) {
    const list = allowed.map((word) => `"${word}"`);
    throw sseInvalid(`${name}: expected ${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}, got "${value}"`);
  }
  return value;
};

const sseJitters = ["none", "full", "equal"];

// [initialMs, maxMs, factor, jitter (index in sseJitters), maxRetries (-1: unlimited)].
const sseBackoff = (backoff) => {
  const field = sseReader(backoff ?? {}, "backoff.");
  const number = (key) => field(key, "number", "a number");
  const maxGiven = number("maxMs");
  const max = maxGiven === undefined ? 30000 : sseMillis("backoff.maxMs", maxGiven);
  const initialGiven = number("initialMs");
  // Only maxMs given: a first delay above it would be refused, so the default first
  // delay gives way to the cap instead.
  const initial = initialGiven === undefined ? Math.min(1000, max) : sseMillis("backoff.initialMs", initialGiven);
  if (max < initial) throw sseInvalid(`backoff.maxMs: ${max} ms is below initialMs ${initial} ms`);
  const factor = number("factor") ?? 2;
  if (!Number.isFinite(factor) || factor < 1) {
    throw sseInvalid(`backoff.factor: expected a finite number >= 1, got ${factor}`);
  }
  const jitter = sseOneOf("backoff.jitter", field("jitter", "string", "a string"), sseJitters) ?? "full";
  const retries = number("maxRetries");
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0 && retries <= 4294967295)) {
    throw sseInvalid(`backoff.maxRetries: expected a whole number from 0 to 4294967295 or null, got ${retries}`);
  }
  return [initial, max, factor, sseJitters.indexOf(jitter), retries ?? -1];
};

// The absolute URL of the stream, resolved like the `EventSource` constructor does.
const sseUrl = (url) => {
  let text;
  if (typeof url === "string") text = url;
  else if (typeof URL === "function" && url instanceof URL) text = url.href;
  else throw sseInvalid("url: expected a string or a URL");
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  let parsed;
  try {
    parsed = new URL(text, base);
  } catch {
    throw sseInvalid(`url: "${text}" is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw sseInvalid(`url: expected an http: or https: URL, got a ${parsed.protocol} URL`);
  }
  return parsed.href;
};

// The `headers` option: a function (called before every request by js_fetch.js), or
// `[name, value, name, value, …]` checked the way fetch will check them.
const sseHeaders = (headers) => {
  if (typeof headers === "function") return { list: [], make: headers };
  if (!sseIsRecord(headers)) {
    throw sseInvalid("headers: expected an object of strings or a function that returns one");
  }
  const list = [];
  const checked = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") throw sseInvalid(`headers: the value of "${name}" must be a string`);
    try {
      checked.set(name, value);
    } catch (error) {
      throw sseInvalid(`headers: "${name}": ${error?.message ?? error}`);
    }
    list.push(name, value);
  }
  return { list, make: undefined };
};

// An HTTP method fetch will send: a token, not one it forbids; the ones fetch
// normalises are upper-cased, so that GET with a body is caught.
const sseMethod = (method) => {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(method)) {
    throw sseInvalid(`method: "${method}" is not an HTTP method`);
  }
  const upper = method.toUpperCase();
  if (["CONNECT", "TRACE", "TRACK"].includes(upper)) throw sseInvalid(`method: fetch does not allow ${method}`);
  return ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].includes(upper) ? upper : method;
};

// The fetch transport's settings, or undefined for the native one.
const sseFetch = (transport, given) => {
  const wanted = [
    [given.headers !== undefined, "headers"],
    [given.method !== undefined, "method"],
    [given.body !== undefined, "body"],
  ]
    .filter(([asked]) => asked)
    .map(([, name]) => name);
  if (transport === "eventsource" && wanted.length > 0) {
    throw sseInvalid(
      `${wanted[0]}: the "eventsource" transport cannot send ${wanted.join(", ")}; use the "fetch" or "auto" transport`,
    );
  }
  if (transport !== "fetch" && wanted.length === 0) return undefined;
  const method = given.method === undefined ? (given.body === undefined ? "GET" : "POST") : sseMethod(given.method);
  if (given.body !== undefined && (method === "GET" || method === "HEAD")) {
    throw sseInvalid(`body: a ${method} request cannot have a body`);
  }
  const headers = given.headers === undefined ? { list: [], make: undefined } : sseHeaders(given.headers);
  const size = given.maxEventSize ?? 64 * 1024 * 1024;
  return [method, given.body, headers.list, headers.make, size];
};

// The end of a stream (`endOnType`, `endOnData`), which the hub watches for:
// [type or undefined, data or undefined].
const sseEnds = (options) => {
  if (options === undefined || options === null || !sseIsRecord(options)) return [undefined, undefined];
  const field = sseReader(options, "");
  return [field("endOnType", "string", "a string"), field("endOnData", "string", "a string")];
};

// The share name of `share` (sharing one connection among tabs, src/client/share.js), or
// undefined when the client does not share: `true` shares by the stream's absolute URL.
const sseShare = (options, href) => {
  if (options === undefined || options === null || !sseIsRecord(options)) return undefined;
  let share;
  try {
    share = options.share;
  } catch {
    throw sseInvalid("share: expected a boolean or a share name, got a property that threw when read");
  }
  if (share === undefined || share === null || share === false) return undefined;
  if (share === true) return href;
  if (typeof share === "string" && share !== "") return share;
  throw sseInvalid(`share: expected a boolean or a non-empty share name, got ${sseDescribe(share)}`);
};

// The URL, then what the client takes (SseDriver reads the rest after `json`):
// json, withCredentials, reconnectOnEnd, resumeParam (undefined: resume off),
// lastEventId, idleTimeoutMs (0: none), the five of sseBackoff, the five of
// sseFetch (method undefined: the native transport), and pauseWhenHiddenMs (-1: never).
const sseOptions = (url, options) => {
  const href = sseUrl(url);
  if (options === undefined || options === null) options = {};
  else if (!sseIsRecord(options)) throw sseInvalid("options: expected an object");
  const field = sseReader(options, "");
  const text = (key) => field(key, "string", "a string");
  const flag = (key, otherwise) => field(key, "boolean", "a boolean") ?? otherwise;
  const transport = sseOneOf("transport", text("transport"), ["auto", "eventsource", "fetch"]);
  const given = { method: text("method"), body: text("body") };
  let headers;
  try {
    headers = options.headers;
  } catch {
    throw sseInvalid("headers: expected an object of strings or a function, got a property that threw when read");
  }
  if (headers !== undefined && headers !== null) given.headers = headers;
  const size = field("maxEventSize", "number", "a number");
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= 2 ** 53)) {
    throw sseInvalid(`maxEventSize: expected a whole number of bytes, at least 1, got ${size}`);
  }
  given.maxEventSize = size;
  const withCredentials = flag("withCredentials", false);
  const backoff = sseBackoff(field("backoff", "object", "an object"));
  const resume = flag("resume", true);
  const resumeParam = text("resumeParam") ?? "lastEventId";
  if (resumeParam === "") throw sseInvalid("resumeParam: expected a non-empty query parameter name");
  const lastEventId = text("lastEventId") ?? "";
  const reconnectOnEnd = flag("reconnectOnEnd", true);
  const idle = field("idleTimeoutMs", "number", "a number");
  if (idle !== undefined) {
    sseMillis("idleTimeoutMs", idle);
    if (idle === 0) throw sseInvalid("idleTimeoutMs: expected a positive number of milliseconds or null, got 0");
  }
  const pause = field("pauseWhenHiddenMs", "number", "a number");
  if (pause !== undefined) sseMillis("pauseWhenHiddenMs", pause);
  const json = flag("json", true);
  // Checked here with the rest; the client reads them again for its hub and its share.
  sseEnds(options);
  sseShare(options, href);
  const fetch = sseFetch(transport, given) ?? [undefined, undefined, [], undefined, 0];
  return [
    href,
    json,
    withCredentials,
    reconnectOnEnd,
    resume ? resumeParam : undefined,
    resume ? lastEventId : "",
    idle ?? 0,
    ...backoff,
    ...fetch,
    pause ?? -1,
  ];
};

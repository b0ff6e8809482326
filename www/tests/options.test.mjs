// The npm API's options checks (src/bindings/js_options.js) on their own, in Node:
// what each option becomes for the client, and the message of every refusal. The
// browser suite (npm-api.test.mjs) checks the same through `new SseClient`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { run, test } from "./harness.mjs";

const source = readFileSync(new URL("../../src/bindings/js_options.js", import.meta.url), "utf8");
// The file is a script appended to the package's entry: evaluate it and take its readers.
const { sseOptions, sseEnds, sseShare } = new Function(`${source}\nreturn { sseOptions, sseEnds, sseShare };`)();

const URL_ = "http://example.com/sse";
const DEFAULTS = [
  URL_,
  true, // json
  false, // withCredentials
  true, // reconnectOnEnd
  "lastEventId",
  "",
  0, // idleTimeoutMs: none
  1000,
  30000,
  2,
  1, // jitter: full
  -1, // maxRetries: unlimited
  undefined, // method: the native transport
  undefined,
  [],
  undefined,
  0,
  -1, // pauseWhenHiddenMs: never
];

const refusal = (options, url = URL_) => {
  try {
    sseOptions(url, options);
  } catch (error) {
    assert.equal(error.kind, "invalid", error.message);
    assert.ok(error instanceof Error);
    return error.message;
  }
  assert.fail(`no error for ${JSON.stringify(options)}`);
};

test("no options, or empty ones, are the defaults", () => {
  assert.deepEqual(sseOptions(URL_), DEFAULTS);
  assert.deepEqual(sseOptions(URL_, null), DEFAULTS);
  assert.deepEqual(sseOptions(URL_, {}), DEFAULTS);
  assert.deepEqual(sseOptions(new URL(URL_)), DEFAULTS);
});

test("every option reaches the connection", () => {
  const options = {
    withCredentials: true,
    json: false,
    resume: true,
    resumeParam: "after",
    lastEventId: "41",
    reconnectOnEnd: false,
    idleTimeoutMs: 1500,
    transport: "eventsource",
    backoff: { initialMs: 0, maxMs: 2000, factor: 3, jitter: "equal", maxRetries: 4 },
    pauseWhenHiddenMs: 60000,
  };
  assert.deepEqual(sseOptions(URL_, options), [
    URL_, false, true, false, "after", "41", 1500, 0, 2000, 3, 2, 4,
    undefined, undefined, [], undefined, 0, 60000,
  ]);
});

test("fetch options choose the fetch transport and its method", () => {
  const make = () => ({});
  const fetchPart = (options) => sseOptions(URL_, options).slice(12, 17);
  assert.deepEqual(fetchPart({ transport: "fetch" }), ["GET", undefined, [], undefined, 64 * 1024 * 1024]);
  assert.deepEqual(fetchPart({ body: "{}", maxEventSize: 1024 }), ["POST", "{}", [], undefined, 1024]);
  assert.deepEqual(fetchPart({ method: "put", body: "x" }), ["PUT", "x", [], undefined, 64 * 1024 * 1024]);
  assert.deepEqual(fetchPart({ method: "Report" }).slice(0, 1), ["Report"]);
  assert.deepEqual(fetchPart({ headers: { Authorization: "Bearer t", "X-A": "1" } }).slice(0, 3), [
    "GET",
    undefined,
    ["Authorization", "Bearer t", "X-A", "1"],
  ]);
  assert.equal(fetchPart({ headers: make })[3], make);
  // The last event id alone keeps the native transport (sent as a query parameter).
  assert.equal(fetchPart({ transport: "auto", lastEventId: "7" })[0], undefined);
});

test("null means off, resume: false sends no id, and unknown keys are ignored", () => {
  assert.deepEqual(sseOptions(URL_, { idleTimeoutMs: null, backoff: { maxRetries: null } }), DEFAULTS);
  const noResume = sseOptions(URL_, { resume: false, lastEventId: "9" });
  assert.deepEqual(noResume.slice(4, 6), [undefined, ""]);
  assert.deepEqual(sseOptions(URL_, { withCredential: true, extra: [1, 2] }), DEFAULTS);
});

test("pauseWhenHiddenMs: milliseconds, 0 pauses at once, null or absent never pauses", () => {
  const pause = (options) => sseOptions(URL_, options)[17];
  assert.equal(pause({}), -1);
  assert.equal(pause({ pauseWhenHiddenMs: null }), -1);
  assert.equal(pause({ pauseWhenHiddenMs: 0 }), 0);
  assert.equal(pause({ pauseWhenHiddenMs: 2500.5 }), 2500.5);
  assert.equal(refusal({ pauseWhenHiddenMs: "1000" }), 'pauseWhenHiddenMs: expected a number, got the string "1000"');
  assert.equal(refusal({ pauseWhenHiddenMs: true }), "pauseWhenHiddenMs: expected a number, got the boolean true");
  assert.equal(
    refusal({ pauseWhenHiddenMs: -1 }),
    "pauseWhenHiddenMs: expected a non-negative number of milliseconds, got -1",
  );
  assert.equal(
    refusal({ pauseWhenHiddenMs: Infinity }),
    "pauseWhenHiddenMs: expected a non-negative number of milliseconds, got Infinity",
  );
  assert.equal(refusal({ pauseWhenHiddenMs: 1e300 }), "pauseWhenHiddenMs: 1e+300 milliseconds is too large");
});

test("a cap alone lowers the default first delay", () => {
  assert.deepEqual(sseOptions(URL_, { backoff: { maxMs: 200 } }).slice(7, 9), [200, 200]);
});

test("wrong types name the option and the type expected", () => {
  assert.equal(refusal({ withCredentials: "yes" }), 'withCredentials: expected a boolean, got the string "yes"');
  assert.equal(refusal({ backoff: { initialMs: "100" } }), 'backoff.initialMs: expected a number, got the string "100"');
  assert.equal(refusal({ backoff: 5 }), "backoff: expected an object, got the number 5");
  assert.equal(refusal({ method: 7 }), "method: expected a string, got the number 7");
  assert.equal(refusal({ json: [true] }), "json: expected a boolean, got an array");
  assert.equal(refusal({ resume: () => {} }), "resume: expected a boolean, got a function");
  assert.equal(refusal({ json: 1n }), "json: expected a boolean, got a value of another type");
  const throwing = Object.defineProperty({}, "json", {
    get() {
      throw new Error("no");
    },
  });
  assert.equal(refusal(throwing), "json: expected a boolean, got a property that threw when read");
  assert.equal(refusal("fast"), "options: expected an object");
  assert.equal(refusal([]), "options: expected an object");
});

test("values out of range say what was expected", () => {
  for (const [options, message] of [
    [{ backoff: { initialMs: -1 } }, "backoff.initialMs: expected a non-negative number of milliseconds, got -1"],
    [{ backoff: { maxMs: 1e300 } }, "backoff.maxMs: 1e+300 milliseconds is too large"],
    [{ backoff: { maxMs: NaN } }, "backoff.maxMs: expected a non-negative number of milliseconds, got NaN"],
    [{ backoff: { factor: 0.5 } }, "backoff.factor: expected a finite number >= 1, got 0.5"],
    [{ backoff: { jitter: "some" } }, 'backoff.jitter: expected "none", "full" or "equal", got "some"'],
    [{ backoff: { maxRetries: 1.5 } }, "backoff.maxRetries: expected a whole number from 0 to 4294967295 or null, got 1.5"],
    [{ backoff: { maxRetries: -1 } }, "backoff.maxRetries: expected a whole number from 0 to 4294967295 or null, got -1"],
    [{ backoff: { maxRetries: 2 ** 32 } }, "backoff.maxRetries: expected a whole number from 0 to 4294967295 or null, got 4294967296"],
    [{ backoff: { initialMs: 500, maxMs: 100 } }, "backoff.maxMs: 100 ms is below initialMs 500 ms"],
    [{ backoff: { initialMs: 60000 } }, "backoff.maxMs: 30000 ms is below initialMs 60000 ms"],
    [{ idleTimeoutMs: 0 }, "idleTimeoutMs: expected a positive number of milliseconds or null, got 0"],
    [{ idleTimeoutMs: -3 }, "idleTimeoutMs: expected a non-negative number of milliseconds, got -3"],
    [{ resumeParam: "" }, "resumeParam: expected a non-empty query parameter name"],
    [{ transport: "websocket" }, 'transport: expected "auto", "eventsource" or "fetch", got "websocket"'],
    [{ maxEventSize: 0 }, "maxEventSize: expected a whole number of bytes, at least 1, got 0"],
    [{ maxEventSize: 1.5 }, "maxEventSize: expected a whole number of bytes, at least 1, got 1.5"],
  ]) {
    assert.equal(refusal(options), message);
  }
});

test("requests fetch would refuse are refused when the client is made", () => {
  assert.equal(
    refusal({ transport: "eventsource", headers: { A: "b" }, body: "x" }),
    'headers: the "eventsource" transport cannot send headers, body; use the "fetch" or "auto" transport',
  );
  assert.equal(refusal({ method: "GET", body: "{}" }), "body: a GET request cannot have a body");
  assert.equal(refusal({ method: "head", body: "{}" }), "body: a HEAD request cannot have a body");
  assert.equal(refusal({ method: "GE T" }), 'method: "GE T" is not an HTTP method');
  assert.equal(refusal({ method: "" }), 'method: "" is not an HTTP method');
  assert.equal(refusal({ method: "trace" }), "method: fetch does not allow trace");
  assert.equal(refusal({ headers: { "X-Count": 1 } }), 'headers: the value of "X-Count" must be a string');
  assert.match(refusal({ headers: { "Bad Name": "x" } }), /^headers: "Bad Name": /);
  assert.equal(refusal({ headers: "Bearer x" }), "headers: expected an object of strings or a function that returns one");
});

test("urls: strings or URLs, http(s) only, resolved absolutely", () => {
  assert.equal(sseOptions("https://example.com/a/../b?x=1")[0], "https://example.com/b?x=1");
  assert.equal(refusal(undefined, 42), "url: expected a string or a URL");
  assert.equal(refusal(undefined, "ftp://example.com/"), "url: expected an http: or https: URL, got a ftp: URL");
  assert.equal(refusal(undefined, "http://[::1"), 'url: "http://[::1" is not a valid URL');
  // No document here: a relative URL has no base to resolve against.
  assert.equal(refusal(undefined, "/sse"), 'url: "/sse" is not a valid URL');
});

test("the end of a stream: endOnType and endOnData are strings, and off when absent", () => {
  assert.deepEqual(sseEnds(undefined), [undefined, undefined]);
  assert.deepEqual(sseEnds({ endOnType: null }), [undefined, undefined]);
  assert.deepEqual(sseEnds({ endOnType: "done", endOnData: "[DONE]" }), ["done", "[DONE]"]);
  assert.equal(refusal({ endOnType: 1 }), "endOnType: expected a string, got the number 1");
  assert.equal(refusal({ endOnData: ["[DONE]"] }), "endOnData: expected a string, got an array");
});

test("share: a name, true for the stream's URL, and off when false or absent", () => {
  assert.equal(sseShare(undefined, URL_), undefined);
  assert.equal(sseShare({}, URL_), undefined);
  assert.equal(sseShare({ share: false }, URL_), undefined);
  assert.equal(sseShare({ share: null }, URL_), undefined);
  assert.equal(sseShare({ share: true }, URL_), URL_);
  assert.equal(sseShare({ share: "prices" }, URL_), "prices");
  assert.deepEqual(sseOptions(URL_, { share: "prices" }), DEFAULTS);
  assert.equal(refusal({ share: "" }), 'share: expected a boolean or a non-empty share name, got the string ""');
  assert.equal(refusal({ share: 1 }), "share: expected a boolean or a non-empty share name, got the number 1");
});

await run();

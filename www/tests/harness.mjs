// A small test harness for the JS-side suites: tests run one after another, each
// with a time limit, and the run ends with the same summary line as libtest
// (`test result: ok. N passed; M failed`), which scripts/test.sh adds up.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_FLAGS } from "../../scripts/chromium-flags.mjs";

const tests = [];

/** Registers a test; `fn` gets whatever the suite's `setup` returned. */
export function test(name, fn, { timeoutMs = 30_000 } = {}) {
  tests.push({ name, fn, timeoutMs });
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${name}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs the registered tests (those whose name contains `filter`, if given). */
export async function run({ setup, teardown, filter = process.env.TEST_FILTER } = {}) {
  const chosen = tests.filter((t) => !filter || t.name.includes(filter));
  console.log(`\nrunning ${chosen.length} tests`);
  let context;
  const failures = [];
  let passed = 0;
  try {
    context = setup ? await setup() : undefined;
    for (const t of chosen) {
      const started = Date.now();
      try {
        await withTimeout(Promise.resolve().then(() => t.fn(context)), t.timeoutMs, t.name);
        passed += 1;
        console.log(`test ${t.name} ... ok (${Date.now() - started} ms)`);
      } catch (error) {
        failures.push({ name: t.name, error });
        console.log(`test ${t.name} ... FAILED (${Date.now() - started} ms)`);
      }
    }
  } catch (error) {
    failures.push({ name: "(setup)", error });
  } finally {
    if (teardown) {
      try {
        await teardown(context);
      } catch (error) {
        failures.push({ name: "(teardown)", error });
      }
    }
  }
  for (const { name, error } of failures) {
    console.log(`\n---- ${name} ----\n${error && error.stack ? error.stack : error}`);
  }
  const failed = failures.length;
  const verdict = failed === 0 ? "ok" : "FAILED";
  console.log(`\ntest result: ${verdict}. ${passed} passed; ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

/**
 * Headless Debian Chromium with the flags this machine needs (root, no network).
 * `bfcache: true` keeps the back/forward cache on (Playwright turns it off by default).
 */
export function launchChromium(extraArgs = [], { bfcache = false } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    ...(bfcache ? { ignoreDefaultArgs: ["--disable-back-forward-cache"] } : {}),
  });
}

/** The scripted test server's address (`make test` exports it). */
export function serverAddress() {
  const address = process.env.SSE_TEST_SERVER;
  if (!address) {
    throw new Error("SSE_TEST_SERVER is not set: run the JS tests through `make test`");
  }
  return address.replace(/\/$/, "");
}

/**
 * Collects what goes wrong in a page: console errors, uncaught exceptions and
 * failed requests that are not part of a test's script.
 */
export function watchPage(page) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
  });
  return problems;
}

/**
 * Starts the scripted server (`SSE_SERVER_BIN`, which `make test` sets) on a free
 * loopback port with these arguments (`--www DIR`, `--pkg DIR`); resolves to its
 * `address` and a `stop()` that ends it and removes its files.
 */
export async function startServer(args) {
  const bin = process.env.SSE_SERVER_BIN;
  if (!bin) throw new Error("SSE_SERVER_BIN is not set: run through `make test`");
  const dir = mkdtempSync(join(tmpdir(), "sse-server-"));
  const portFile = join(dir, "port");
  const child = spawn(bin, ["--host", "127.0.0.1", "--port", "0", "--port-file", portFile, ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    let port = "";
    try {
      port = readFileSync(portFile, "utf8").trim();
    } catch {
      // not written yet
    }
    if (port) return { address: `http://127.0.0.1:${port}`, stop };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  stop();
  throw new Error("sse-server did not write its port file");
}

/**
 * Makes `page` look hidden until `show`: headless Chromium keeps every page visible
 * (another tab in front, a background target, a minimised window, lifecycle and focus
 * emulation all leave `document.visibilityState` "visible"), so this overrides
 * `visibilityState` and `hidden` on the document and dispatches `visibilitychange`,
 * as the browser would.
 */
export async function hide(page) {
  const state = await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    Object.defineProperty(document, "hidden", { value: true, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    return document.visibilityState;
  });
  if (state !== "hidden") throw new Error(`the page did not look hidden: ${state}`);
}

/** Gives `page` back the browser's own (visible) state. */
export async function show(page) {
  const state = await page.evaluate(() => {
    delete document.visibilityState;
    delete document.hidden;
    document.dispatchEvent(new Event("visibilitychange"));
    return document.visibilityState;
  });
  if (state !== "visible") throw new Error(`the page did not look visible again: ${state}`);
}

/** Polls `check` every 20 ms until it gives something truthy, which it returns; throws
 * with `what` after `ms`. */
export async function until(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

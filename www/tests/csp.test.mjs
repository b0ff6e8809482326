// The package under a strict Content-Security-Policy (csp.html: `default-src 'self';
// script-src 'self' 'wasm-unsafe-eval'` in a <meta>, no inline script, no eval):
// both entries, `sse-wasm` and `sse-wasm/inline` (async and sync init), load from
// /pkg/ and receive same-origin events with no `securitypolicyviolation` and no
// console error. A control shows the check can fail: without 'wasm-unsafe-eval' the
// wasm is refused and the violation is seen.
import assert from "node:assert/strict";
import { launchChromium, run, serverAddress, test, watchPage } from "./harness.mjs";

const server = serverAddress();
const COUNT = 5;

/**
 * Opens csp.html?entry=ENTRY in a fresh context. `header` adds a second policy as a
 * response header (both are enforced); `withoutFromBase64` removes
 * Uint8Array.fromBase64 first, so inline.js takes its atob path.
 */
async function openPage(browser, entry, { header, withoutFromBase64 = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchPage(page);
  const requests = [];
  page.on("request", (request) => requests.push(new URL(request.url()).pathname));
  // Injected by the driver, so the policy does not apply to it; it runs before the page.
  await page.addInitScript((removeFromBase64) => {
    window.violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
    });
    if (removeFromBase64) delete Uint8Array.fromBase64;
  }, withoutFromBase64);
  if (header) {
    await page.route("**/tests/csp.html*", async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": header } });
    });
  }
  await page.goto(`${server}/tests/csp.html?entry=${entry}&count=${COUNT}`);
  return { context, page, problems, requests };
}

async function shown(page) {
  return page.evaluate(() => ({
    state: document.getElementById("state").textContent,
    initTwice: document.getElementById("init-twice").textContent,
    ticks: [...document.querySelectorAll("#ticks li")].map((li) => li.textContent),
    violations: window.violations,
    fromBase64: typeof Uint8Array.fromBase64,
  }));
}

async function receivesEvents(browser, entry, options) {
  const { context, page, problems, requests } = await openPage(browser, entry, options);
  try {
    await page.waitForFunction(
      (count) => document.querySelectorAll("#ticks li").length === count || /^failed/.test(document.getElementById("state").textContent),
      COUNT,
      { timeout: 10_000 },
    );
    const seen = await shown(page);
    assert.deepEqual(seen.violations, [], "securitypolicyviolation events");
    assert.deepEqual(problems, []);
    assert.equal(seen.state, "open");
    assert.deepEqual(seen.ticks, Array.from({ length: COUNT }, (_, i) => `tick ${i + 1}`));
    assert.equal(seen.initTwice, "true", "a second init gave other exports");
    return { wasm: requests.filter((path) => path.endsWith(".wasm")), fromBase64: seen.fromBase64 };
  } finally {
    await context.close();
  }
}

test("sse-wasm under a strict CSP: loads its .wasm and receives events, no violation", async (browser) => {
  const { wasm } = await receivesEvents(browser, "normal");
  assert.deepEqual(wasm, ["/pkg/sse_wasm_bg.wasm"]);
});

test("sse-wasm/inline under a strict CSP: init() receives events, no .wasm request, no violation", async (browser) => {
  const { wasm } = await receivesEvents(browser, "inline");
  assert.deepEqual(wasm, []);
});

test("sse-wasm/inline under a strict CSP: initSync() on the main thread works too", async (browser) => {
  const { wasm } = await receivesEvents(browser, "inline-sync");
  assert.deepEqual(wasm, []);
});

test("sse-wasm/inline decodes with atob where Uint8Array.fromBase64 is missing", async (browser) => {
  const { wasm, fromBase64 } = await receivesEvents(browser, "inline", { withoutFromBase64: true });
  assert.deepEqual(wasm, []);
  assert.equal(fromBase64, "undefined");
});

test("control: without 'wasm-unsafe-eval' the wasm is refused and the violation is seen", async (browser) => {
  const { context, page, problems } = await openPage(browser, "inline", { header: "script-src 'self'" });
  try {
    await page.waitForFunction(() => /^failed/.test(document.getElementById("state").textContent), null, {
      timeout: 10_000,
    });
    const seen = await shown(page);
    assert.match(seen.state, /WebAssembly.*Content Security Policy/i);
    assert.ok(seen.violations.some((v) => v.startsWith("script-src")), `violations: ${seen.violations}`);
    assert.ok(problems.length > 0, "the refusal was not logged as an error");
  } finally {
    await context.close();
  }
});

await run({ setup: () => launchChromium(), teardown: (browser) => browser?.close() });

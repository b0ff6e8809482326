// The page's life for the npm package, in headless Chromium against the scripted
// server: `online` (the browser's own, from Playwright's offline emulation) skips the
// rest of a backoff wait, `pauseWhenHiddenMs` pauses a hidden page and resumes from
// the last id, and a client neither keeps its page out of the back/forward cache nor
// loses or repeats an event across it (`pageshow` with `persisted`, and Chromium's own
// report of why a page was not restored).
//
// Hidden pages: headless Chromium keeps every page visible, so `hide` (harness.mjs)
// overrides `visibilityState` and `hidden` on the document and dispatches
// `visibilitychange`, as the browser would.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hide, launchChromium, run, show, startServer, test, until, watchPage } from "./harness.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A fresh page of `context` with the package loaded (www/tests/page.html). */
async function freshPage({ context, server }) {
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(`${server.address}/tests/page.html`);
  await page.waitForFunction(() => window.SseClient !== undefined);
  return { page, problems };
}

/** What the server saw of a session. */
async function stats({ server }, session) {
  const response = await fetch(`${server.address}/stats?session=${session}`);
  assert.ok(response.ok, `/stats answered ${response.status}`);
  return response.json();
}

const waitFor = (what, check, ms = 8000) => until(check, what, ms);

const visibility = (page) => page.evaluate(() => document.visibilityState);

/** What went wrong in the page, but for the failed requests a test scripted. */
const unexpected = (problems) => problems.filter((problem) => !problem.includes("status of 500"));

/** Starts a client in the page that records its states, seqs and errors on `window`. */
function startClient(page, url, options) {
  return page.evaluate(
    ([url, options]) => {
      const client = new SseClient(url, options);
      window.client = client;
      window.states = [];
      window.seqs = [];
      window.errors = [];
      client.onState((state, detail) => window.states.push(detail.attempt ? `${state} ${detail.attempt}` : state));
      client.on("message", (data) => window.seqs.push(data.seq));
      client.onError((error) => window.errors.push(error.kind));
    },
    [url, options],
  );
}

const read = (page, expression) => page.evaluate(expression);
const sessionName = (label) => `${label}-${Math.floor(Math.random() * 1e12)}`;

test("online skips the rest of a backoff wait and keeps the attempt count", async (env) => {
  const { page, problems } = await freshPage(env);
  const session = sessionName("online");
  await startClient(page, `/sse?session=${session}&fail_status=500&fail_first=2&count=1&then=hold`, {
    backoff: { initialMs: 20000, jitter: "none" },
  });
  await waitFor("the first wait", async () => (await read(page, () => window.client.state)) === "reconnecting");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await stats(env, session)).connections.length, 1, "still waiting out 20 s");
  // The browser's own offline/online, not a synthetic event: the page gets `online`.
  await page.context().setOffline(true);
  await page.context().setOffline(false);
  await waitFor("the second wait", async () => (await read(page, () => window.states)).includes("reconnecting 2"));
  await page.context().setOffline(true);
  await page.context().setOffline(false);
  await waitFor("the event", async () => (await read(page, () => window.seqs)).length === 1);
  const seen = await stats(env, session);
  assert.deepEqual(
    seen.connections.map((c) => c.status),
    [500, 500, 200],
  );
  for (const [i, c] of seen.connections.entries()) {
    if (i > 0) assert.ok(c.at_ms - seen.connections[i - 1].at_ms < 2000, JSON.stringify(seen));
  }
  assert.deepEqual(await read(page, () => window.states), [
    "reconnecting 1",
    "connecting",
    "reconnecting 2",
    "connecting",
    "open",
  ]);
  await page.evaluate(() => window.client.close());
  assert.deepEqual(unexpected(problems), []);
  await page.close();
});

test("pauseWhenHiddenMs pauses a hidden page and resumes from the last id when it is visible", async (env) => {
  const { page, problems } = await freshPage(env);
  const session = sessionName("pause");
  await startClient(page, `/sse?session=${session}&count=80&interval=40&then=hold`, { pauseWhenHiddenMs: 700 });
  await waitFor("three events", async () => (await read(page, () => window.seqs)).length >= 3);
  assert.equal(await visibility(page), "visible");

  // Hidden for less than 700 ms: never paused while visible.
  await hide(page);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await show(page);
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal(await read(page, () => window.client.state), "open");

  await hide(page);
  const hiddenAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.equal(await read(page, () => window.client.state), "open", "not hidden long enough yet");
  await waitFor("the pause", async () => (await read(page, () => window.client.state)) === "paused", 3000);
  assert.ok(Date.now() - hiddenAt >= 650, "paused after the page was hidden 700 ms");
  const pausedAt = await read(page, () => window.client.lastEventId);
  await waitFor("the server to see the stream closed", async () => (await stats(env, session)).open === 0);
  // While paused, online does nothing.
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(await read(page, () => window.client.state), "paused");
  assert.equal((await stats(env, session)).connections.length, 1);

  await show(page);
  await waitFor("all 80 events", async () => (await read(page, () => window.seqs)).length >= 80, 15000);
  const seqs = await read(page, () => window.seqs);
  assert.deepEqual(
    seqs,
    Array.from({ length: 80 }, (_, i) => i + 1),
    "no gap, no duplicate",
  );
  const seen = await stats(env, session);
  assert.equal(seen.connections.length, 2, JSON.stringify(seen));
  assert.equal(seen.connections[1].last_event_id, pausedAt);
  assert.deepEqual(await read(page, () => window.states), ["open", "paused", "connecting", "open"]);
  assert.deepEqual(await read(page, () => window.errors), []);
  // close() while paused: closed, and no request afterwards.
  await hide(page);
  await waitFor("the second pause", async () => (await read(page, () => window.client.state)) === "paused", 3000);
  await page.evaluate(() => window.client.close());
  assert.equal(await read(page, () => window.client.state), "closed");
  await show(page);
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal((await stats(env, session)).connections.length, 2);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a client keeps no page out of the back/forward cache and resumes from the last id after it", async (env) => {
  for (const transport of ["eventsource", "fetch"]) {
    const { page, problems } = await freshPage(env);
    const session = sessionName(`bfcache-${transport}`);
    await page.evaluate(() => {
      window.shows = [];
      window.addEventListener("pageshow", (event) => window.shows.push(event.persisted));
    });
    await startClient(page, `/sse?session=${session}&count=60&interval=40&then=hold`, { transport });
    await waitFor("three events", async () => (await read(page, () => window.seqs)).length >= 3);
    await page.goto(`${env.server.address}/tests/csp.html`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A page restored from the cache fires no load event: wait for the commit.
    await page.goBack({ waitUntil: "commit" });
    const restored = await read(page, () => ({
      shows: window.shows,
      // Chromium's own report: why this page was not restored (null when it was).
      notRestored: performance.getEntriesByType("navigation")[0]?.notRestoredReasons ?? null,
    }));
    assert.deepEqual(restored.shows, [true], `${transport}: ${JSON.stringify(restored.notRestored)}`);
    if (restored.notRestored !== null) {
      assert.deepEqual(restored.notRestored.reasons ?? [], [], JSON.stringify(restored.notRestored));
    }
    await waitFor("all 60 events", async () => (await read(page, () => window.seqs)).length >= 60, 15000);
    const seqs = await read(page, () => window.seqs);
    assert.deepEqual(seqs, Array.from({ length: 60 }, (_, i) => i + 1), `${transport}: no gap, no duplicate`);
    const seen = await stats(env, session);
    assert.equal(seen.connections.length, 2, JSON.stringify(seen));
    const resumedFrom = Number(seen.connections[1].last_event_id);
    assert.ok(resumedFrom >= 3, `${transport}: resumed from ${resumedFrom}`);
    assert.deepEqual(await read(page, () => window.states), ["open", "paused", "connecting", "open"]);
    await page.evaluate(() => window.client.close());
    assert.deepEqual(problems, []);
    await page.close();
  }
});

test("in a worker only online applies: the client runs, is never paused, and online skips the wait", async (env) => {
  const { page, problems } = await freshPage(env);
  const session = sessionName("worker");
  const result = await page.evaluate(async (session) => {
    const origin = location.origin;
    const source = `
      import init, { SseClient } from "${origin}/pkg/sse_wasm.js";
      await init();
      const client = new SseClient("${origin}/sse?session=${session}&fail_status=500&fail_first=1&count=3&then=hold", {
        backoff: { initialMs: 20000, jitter: "none" },
        pauseWhenHiddenMs: 0,
      });
      const seqs = [];
      client.onState((state) => {
        postMessage({ state });
        if (state === "reconnecting") setTimeout(() => self.dispatchEvent(new Event("online")), 300);
      });
      client.on("message", (data) => {
        seqs.push(data.seq);
        if (seqs.length === 3) {
          postMessage({ seqs, state: client.state });
          client.close();
        }
      });
    `;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    try {
      return await new Promise((resolve, reject) => {
        const states = [];
        worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
        worker.onmessage = ({ data }) => (data.seqs ? resolve({ states, ...data }) : states.push(data.state));
        setTimeout(() => reject(new Error(`timed out; states so far: ${states}`)), 8000);
      });
    } finally {
      worker.terminate();
    }
  }, session);
  assert.deepEqual(result.seqs, [1, 2, 3]);
  assert.equal(result.state, "open");
  assert.deepEqual(result.states, ["reconnecting", "connecting", "open"]);
  const seen = await stats(env, session);
  assert.deepEqual(
    seen.connections.map((c) => c.status),
    [500, 200],
  );
  assert.ok(seen.connections[1].at_ms - seen.connections[0].at_ms < 2000, JSON.stringify(seen));
  assert.deepEqual(unexpected(problems), []);
  await page.close();
});

await run({
  setup: async () => {
    const server = await startServer(["--www", join(root, "www"), "--pkg", join(root, "pkg")]);
    const browser = await launchChromium([], { bfcache: true });
    const context = await browser.newContext();
    return { server, browser, context };
  },
  teardown: async (env) => {
    if (!env) return;
    await env.browser.close();
    env.server.stop();
  },
});

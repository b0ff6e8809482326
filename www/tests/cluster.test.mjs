// The demo scaled out (`make demo-cluster`) end to end: scripts/demo-cluster.sh starts
// a real redis-server, two sse-server instances and nginx in front; the page is
// opened through nginx in headless Chromium. It names the instance serving the tab;
// "Drop connection" reaches the tab whichever instance nginx gives the request to;
// "Restart this instance" stops that instance mid-stream, the tab resumes through
// nginx on the other one with no gap and no duplicate, and the stopped instance is
// started again.
//
// Saves target/demo-cluster.png (the page as it names its instance).
//
// Needs SSE_SERVER_BIN (the server binary) and the built package in PKG_DIR (default
// pkg/), as `make test` provides.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, run, test, watchPage } from "./harness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A free loopback port for nginx (nginx cannot pick one itself). */
function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/**
 * Runs scripts/demo-cluster.sh on a free port; resolves when it prints its URL, to
 * the URL, the instances' direct addresses and a `stop()`.
 */
async function startCluster() {
  if (!process.env.SSE_SERVER_BIN) throw new Error("SSE_SERVER_BIN is not set: run through `make test`");
  const port = await freePort();
  const child = spawn("bash", [join(root, "scripts", "demo-cluster.sh"), "--port", String(port)], {
    env: { ...process.env, SKIP_SETUP: "1", RESTART_DELAY: "2" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  const exited = new Promise((done) => child.on("exit", (code, signal) => done({ code, signal })));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const ready = new Promise((done, fail) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
      const url = output.match(/scaled out: (http:\/\/\S+\/)/);
      const direct = output.match(/instances a \((\S+)\) and b \((\S+)\)/);
      if (url && direct) done({ url: url[1].replace(/\/$/, ""), direct: { a: direct[1], b: direct[2] } });
    });
    exited.then(({ code, signal }) => fail(new Error(`demo-cluster.sh exited (${code ?? signal}) before it was ready`)));
  });
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error("demo-cluster.sh was not ready within 90 s")), 90_000);
  });
  try {
    return { ...(await Promise.race([ready, timeout])), stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function readout(page) {
  return page.evaluate(() => ({
    state: demo.client.state,
    instances: [...demo.instances],
    received: demo.tracker.received,
    resumes: demo.tracker.resumes,
    lastResume: demo.tracker.lastResume,
    gaps: demo.tracker.gaps,
    duplicates: demo.tracker.duplicates,
    recent: [...demo.tracker.recent],
    shown: {
      instance: document.getElementById("instance").textContent,
      servedBy: !document.getElementById("served-by").hidden,
      restart: !document.getElementById("restart").hidden,
      gaps: document.getElementById("gaps").textContent,
      duplicates: document.getElementById("duplicates").textContent,
    },
  }));
}

function assertGapFree(r) {
  assert.ok(r.recent.length > 0);
  for (let i = 1; i < r.recent.length; i++) {
    assert.equal(r.recent[i], r.recent[i - 1] + 1, `sequence breaks at index ${i}: ${r.recent.slice(Math.max(0, i - 3), i + 3)}`);
  }
  assert.equal(r.gaps, 0);
  assert.equal(r.duplicates, 0);
  assert.equal(r.shown.gaps, "0");
  assert.equal(r.shown.duplicates, "0");
}

let cluster;
let browser;
let page;
let problems;

test("the page, through nginx, names the instance that serves it", async () => {
  const r = await readout(page);
  assert.equal(r.instances.length, 1);
  assert.ok(["a", "b"].includes(r.instances[0]), r.instances[0]);
  assert.equal(r.shown.instance, r.instances[0]);
  assert.ok(r.shown.servedBy, "the instance line is shown");
  assert.ok(r.shown.restart, "the restart button is shown");
  assertGapFree(r);
  const shots = process.env.DEMO_SCREENSHOT_DIR || join(root, "target");
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, "demo-cluster.png"), animations: "disabled" });
});

test("a drop through nginx reaches the tab whichever instance takes the request", async () => {
  for (let round = 0; round < 2; round++) {
    const before = await readout(page);
    await page.click("#drop");
    await page.waitForFunction((n) => demo.tracker.resumes > n && demo.client.state === "open", before.resumes, {
      timeout: 15_000,
    });
    await page.waitForFunction((n) => demo.tracker.received >= n + 5, (await readout(page)).received, { timeout: 10_000 });
    const after = await readout(page);
    assert.equal(after.lastResume.missed, 0);
    assertGapFree(after);
  }
}, { timeoutMs: 60_000 });

test("restarting the serving instance: the tab resumes on the other one with no gap", async () => {
  const before = await readout(page);
  const first = before.instances.at(-1);
  await page.click("#restart");
  await page.waitForFunction((name) => demo.instances.length > 1 && demo.instances.at(-1) !== name, first, {
    timeout: 30_000,
  });
  // Events keep coming on the other instance (which may have had to take over the
  // generator's lease).
  const moved = await readout(page);
  await page.waitForFunction((n) => demo.client.state === "open" && demo.tracker.received >= n + 15, moved.received, {
    timeout: 30_000,
  });
  const after = await readout(page);
  assert.notEqual(after.instances.at(-1), first);
  assert.equal(after.shown.instance, after.instances.at(-1));
  assert.ok(after.resumes > before.resumes, "the tab resumed");
  assert.equal(after.lastResume.missed, 0);
  assert.ok(after.lastResume.from >= before.recent.at(-1), JSON.stringify(after.lastResume));
  assertGapFree(after);
}, { timeoutMs: 90_000 });

test("the stopped instance is started again and serves", async () => {
  const { a, b } = cluster.direct;
  for (const address of [a, b]) {
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      try {
        healthy = (await fetch(`http://${address}/health`)).ok;
      } catch {
        await new Promise((done) => setTimeout(done, 200));
      }
    }
    assert.ok(healthy, `instance at ${address} is not serving`);
  }
  // And the tab is still gap-free.
  assertGapFree(await readout(page));
}, { timeoutMs: 60_000 });

test("nothing was logged as an error", async () => {
  assert.deepEqual(problems, []);
});

await run({
  async setup() {
    cluster = await startCluster();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    problems = watchPage(page);
    await page.goto(`${cluster.url}/`);
    await page.waitForFunction(
      () => window.demo && demo.client.state === "open" && demo.instances.length > 0 && demo.tracker.received >= 5,
      null,
      { timeout: 30_000 },
    );
  },
  async teardown() {
    if (browser) await browser.close();
    if (cluster) await cluster.stop();
  },
});

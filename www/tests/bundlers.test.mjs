// The package in the bundlers users build with besides Vite (vite-app.test.mjs): one
// small app (bundler-app/, `file:` dependency on pkg/, exact versions in its lockfile)
// is built three ways by its own npm scripts, served by the scripted server (which
// also streams to it, same origin) and watched in Chromium receiving live events
// under the strict CSP of its index.html:
//   webpack 5 + `sse-wasm`         no config beyond the entry: webpack emits the .wasm
//   esbuild + `sse-wasm/inline`    no asset step: the .wasm is inside the bundle
//   esbuild + `sse-wasm`           plus one step: copy sse_wasm_bg.wasm next to the bundle
//                                  (esbuild leaves `new URL(…, import.meta.url)` as it is;
//                                  its file loader does not see that URL)
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, run, startServer, test, watchPage } from "./harness.mjs";

const app = join(dirname(fileURLToPath(import.meta.url)), "bundler-app");
const dist = join(app, "dist");
const COUNT = 12;

function sh(command, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed:\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Builds one way (`npm run build:NAME`); resolves to the files of dist/NAME. */
async function build(name) {
  await sh("npm", ["run", "--silent", `build:${name}`], app);
  return readdirSync(join(dist, name)).sort();
}

/** Opens dist/NAME in Chromium; checks the ticks, the CSP and the console. */
async function receivesEvents({ browser, server }, name) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const problems = watchPage(page);
    const wasmRequests = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.endsWith(".wasm")) wasmRequests.push(new URL(request.url()).pathname);
    });
    await page.addInitScript(() => {
      window.violations = [];
      document.addEventListener("securitypolicyviolation", (event) => {
        window.violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
      });
    });
    await page.goto(`${server.address}/${name}/index.html?count=${COUNT}&share=bundled-${name}`);
    await page.waitForFunction((count) => document.querySelectorAll("#ticks li").length === count, COUNT, {
      timeout: 15_000,
    });
    const shown = await page.evaluate(() => ({
      ticks: [...document.querySelectorAll("#ticks li")].map((li) => li.textContent),
      state: document.getElementById("state").textContent,
      lastId: document.getElementById("last-id").textContent,
      initTwice: document.getElementById("init-twice").textContent,
      violations: window.violations,
      role: window.client.role,
    }));
    assert.deepEqual(shown.ticks, Array.from({ length: COUNT }, (_, i) => `tick ${i + 1}`));
    assert.equal(shown.state, "open");
    assert.equal(shown.lastId, String(COUNT));
    assert.equal(shown.initTwice, "true", "a second init gave other exports");
    assert.equal(shown.role, "leader", "the sharing script loaded from the build");
    assert.deepEqual(shown.violations, [], "securitypolicyviolation events");
    assert.deepEqual(problems, []);
    return wasmRequests;
  } finally {
    await context.close();
  }
}

test("webpack 5 + sse-wasm: emits the .wasm by itself, and the app receives live events", async (ctx) => {
  const files = await build("webpack");
  const wasm = files.filter((file) => file.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `webpack emitted no .wasm: ${files}`);
  assert.deepEqual(await receivesEvents(ctx, "webpack"), [`/webpack/${wasm[0]}`]);
}, { timeoutMs: 90_000 });

test("esbuild + sse-wasm/inline: no asset step, no .wasm request, and the app receives live events", async (ctx) => {
  const files = await build("esbuild-inline");
  assert.deepEqual(files, ["icon.svg", "index.html", "main.js"]);
  assert.deepEqual(await receivesEvents(ctx, "esbuild-inline"), []);
});

test("esbuild + sse-wasm and a copy of the .wasm beside the bundle: the app receives live events", async (ctx) => {
  const files = await build("esbuild");
  assert.deepEqual(files, ["icon.svg", "index.html", "main.js", "sse_wasm_bg.wasm"]);
  // The one step is needed: esbuild keeps the glue's URL, relative to the bundle.
  assert.match(readFileSync(join(dist, "esbuild", "main.js"), "utf8"), /new URL\("sse_wasm_bg\.wasm",import\.meta\.url\)/);
  assert.deepEqual(await receivesEvents(ctx, "esbuild"), ["/esbuild/sse_wasm_bg.wasm"]);
});

await run({
  async setup() {
    rmSync(dist, { recursive: true, force: true });
    await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
    const server = await startServer(["--www", dist]);
    try {
      return { server, browser: await launchChromium() };
    } catch (error) {
      server.stop();
      throw error;
    }
  },
  async teardown(ctx) {
    if (!ctx) return;
    await ctx.browser.close();
    ctx.server.stop();
  },
});

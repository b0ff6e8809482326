// The package as npm users get it: a Vite app with a `file:` dependency on pkg/ is
// installed, built with `vite build`, served by the scripted server (which also
// streams to it, same origin), and watched in Chromium receiving live events.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, run, startServer, test, watchPage } from "./harness.mjs";

const app = join(dirname(fileURLToPath(import.meta.url)), "vite-app");

function sh(command, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed:\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

test("the Vite app installs the package, builds and receives live events in Chromium", async () => {
  await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
  const build = await sh(join(app, "node_modules", ".bin", "vite"), ["build"], app);
  assert.match(build, /sse_wasm_bg-[\w-]+\.wasm/, "the .wasm was not emitted as an asset");
  const server = await startServer(["--www", join(app, "dist")]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.goto(`${server.address}/?count=12&share=vite`);
    await page.waitForFunction(() => document.querySelectorAll("#ticks li").length === 12, null, {
      timeout: 15_000,
    });
    const shown = await page.evaluate(() => ({
      ticks: [...document.querySelectorAll("#ticks li")].map((li) => li.textContent),
      state: document.getElementById("state").textContent,
      lastId: document.getElementById("last-id").textContent,
      role: window.client.role,
    }));
    assert.deepEqual(shown.ticks, Array.from({ length: 12 }, (_, i) => `tick ${i + 1}`));
    assert.equal(shown.state, "open");
    assert.equal(shown.lastId, "12");
    assert.equal(shown.role, "leader", "the sharing script loaded from the build");
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    server.stop();
  }
}, { timeoutMs: 180_000 });

await run();

// Drives the browser half of `make bench`: starts Chromium itself on the bench page
// (served by the scripted server) and collects the rows the page posts back.
//
//   node bench/run.mjs --server http://127.0.0.1:PORT --out results.json [--query k=v&...]
//                      [--server-pid PID] [--profile DIR]
//
// With --profile, Chromium's V8 describes the code it compiles (wasm included) for
// `perf` (--perf-prof: a jit-PID.dump per process, written to DIR), so that a
// `perf record` around this driver can name the page's functions (scripts/bench.sh,
// BENCH_PROFILE=1).
//
// For the page's `cpu` group it also reads, from /proc, the CPU time of every thread of
// the Chromium it started and of the server (`--server-pid`) around each block of runs.
//
// Chromium is started directly, with no DevTools client attached: Playwright or any
// client with the Network domain on copies every event to the driver and makes the
// native EventSource several times slower (see ../shared/TOOLCHAIN.md).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { CHROMIUM, CHROMIUM_FLAGS } from "../scripts/chromium-flags.mjs";
import { cpuByPart, cpuPerRun } from "./cpu.mjs";

function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) {
    if (fallback === undefined) throw new Error(`missing --${name}`);
    return fallback;
  }
  return process.argv[index + 1];
}

const server = argument("server");
const out = argument("out");
const extraQuery = argument("query", "");
const timeoutMs = Number(argument("timeout-ms", 480_000));
const serverPid = Number(argument("server-pid", "0")) || undefined;
const profileDir = argument("profile", "");

const rows = [];
let finish;
const finished = new Promise((resolve) => {
  finish = resolve;
});

const results = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => {
    body += chunk;
  });
  request.on("end", () => {
    // A `cpu` mark is taken before the answer, which the page awaits to begin a block.
    const message = request.method === "POST" ? JSON.parse(body) : undefined;
    if (request.url === "/cpu" && message) cpuMark(message);
    response.writeHead(204, { "access-control-allow-origin": "*" });
    response.end();
    if (!message) return;
    if (request.url === "/result") {
      rows.push(message);
      console.error(`bench: ${message.row} ${message.workload}`);
    } else if (request.url === "/done") {
      finish(message);
    }
  });
});
// The CPU time at the start of the page's current `cpu` block, and the blocks so far.
let cpuAtBegin;
const cpuBlocks = new Map();
function cpuMark({ row, begin, workload, ms }) {
  const now = cpuByPart(browser.pid, serverPid);
  if (begin) {
    cpuAtBegin = now;
    return;
  }
  const blocks = cpuBlocks.get(row) ?? { row, workload, ms: [], blocks: [] };
  blocks.ms.push(...ms);
  blocks.blocks.push(cpuPerRun(cpuAtBegin, now, ms.length));
  cpuBlocks.set(row, blocks);
}

await new Promise((resolve) => results.listen(0, "127.0.0.1", resolve));
const resultsUrl = `http://127.0.0.1:${results.address().port}`;

const profile = mkdtempSync(join(tmpdir(), "sse-bench-chromium-"));
const page = `${server}/index.html?results=${encodeURIComponent(resultsUrl)}${extraQuery ? `&${extraQuery}` : ""}`;
const browser = spawn(
  CHROMIUM,
  [
    "--headless",
    ...CHROMIUM_FLAGS,
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    // gc() lets the memory rows measure what is left after a collection.
    `--js-flags=--expose-gc${profileDir ? " --perf-prof" : ""}`,
    // A live DevTools endpoint with nobody attached costs nothing and keeps headless
    // Chromium running the page until it is killed.
    "--remote-debugging-port=0",
    `--user-data-dir=${profile}`,
    page,
  ],
  // Its own process group, so that killing it takes its helper processes along. V8
  // writes its perf maps to the working directory.
  { stdio: ["ignore", "ignore", "pipe"], detached: true, cwd: profileDir || undefined },
);
let browserLog = "";
browser.stderr.on("data", (chunk) => {
  browserLog = (browserLog + chunk).slice(-8000);
});
const exited = new Promise((resolve) => browser.on("exit", (code) => resolve(`Chromium exited with ${code}`)));

let timer;
const outcome = await Promise.race([
  finished,
  exited.then((why) => ({ ok: false, error: why })),
  new Promise((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `no result after ${timeoutMs} ms` }), timeoutMs);
  }),
]);
clearTimeout(timer);
try {
  process.kill(-browser.pid, "SIGKILL");
} catch {
  // Already gone.
}
await exited;
results.close();
rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });

if (!outcome.ok) {
  console.error(`bench: the page failed: ${outcome.error}`);
  console.error(`bench: Chromium's last output:\n${browserLog}`);
  process.exit(1);
}
for (const { row, workload, ms, blocks } of cpuBlocks.values()) {
  rows.push({ group: "cpu", row: `cpu-${row}`, of: row, workload, ms, blocks });
}
writeFileSync(out, JSON.stringify(rows, null, 2));
console.error(`bench: ${rows.length} rows in ${out}`);
process.exit(0);

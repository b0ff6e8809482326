// Turns the bench's measurements into the markdown table of `make bench`.
//
//   node bench/report.mjs --browser B.json --criterion C.json --sizes S.json [--seconds N]
//
// Exits 1 (after printing the table) when a row that must be zero is not: a memory
// row that grew, or a recovery row that lost or duplicated events.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

function argument(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

const browser = readJson(argument("browser"));
const criterion = readJson(argument("criterion"));
const sizes = readJson(argument("sizes"));
const seconds = argument("seconds");

const byRow = new Map(browser.map((result) => [result.row, result]));
const row = (id) => {
  const result = byRow.get(id);
  if (!result) throw new Error(`the browser results lack row ${id}`);
  return result;
};

const integer = (n) => Math.round(n).toLocaleString("en-US");
const ratio = (n, base) => `${(n / base).toFixed(2)}×`;
const signed = (n) => (n > 0 ? `+${integer(n)}` : integer(n));
const lines = [];
const failures = [];
const add = (id, workload, figure, versus) => lines.push(`| ${id} | ${workload} | ${figure} | ${versus} |`);

// A page run with ?groups= leaves out the other groups' rows.
const has = (id) => byRow.has(id);

// 1. Throughput
for (const id of ["1a", "1b", "1c", "1d", "1e", "1f"].filter(has)) {
  const { workload, eventsPerSecond } = row(id);
  let versus = id === "1a" ? "1.00× (baseline)" : `${ratio(eventsPerSecond, row("1a").eventsPerSecond)} of 1a`;
  if (id === "1d") versus += `; ${ratio(eventsPerSecond, row("1f").eventsPerSecond)} of 1f`;
  add(id, workload, `${integer(eventsPerSecond)} events/s`, versus);
}

// 2. Parser
const mb = (n) => `${n.toFixed(0)} MB/s`;
add(
  "2a-base",
  `baseline: memchr line split of the same bytes, natively (criterion), ${(criterion.bytes / 1048576).toFixed(0)} MiB mixed stream`,
  mb(criterion.memchr_mb_s),
  "1.00× (baseline)",
);
add(
  "2a",
  "sse-wasm parser.rs natively (criterion), same bytes: short and long events, comments, CRLF",
  mb(criterion.parser_mb_s),
  `${ratio(criterion.parser_mb_s, criterion.memchr_mb_s)} of 2a-base`,
);
for (const id of ["2b-base", "2b"].filter(has)) {
  const { workload, megabytesPerSecond } = row(id);
  const versus = id === "2b-base" ? "1.00× (baseline)" : `${ratio(megabytesPerSecond, row("2b-base").megabytesPerSecond)} of 2b-base`;
  add(id, workload, mb(megabytesPerSecond), versus);
}

// 3. Size
const bytes = (n) => `${integer(n)} B gzip -9`;
add("3a-base", "baseline: a bare typed EventSource wrapper (bench/floor: one closure, serde_json), same profile and wasm-opt", bytes(sizes.floorWasm), "1.00× (baseline)");
add("3a", "release `.wasm` of the npm package (make pkg: wasm-opt -Oz)", bytes(sizes.wasm), `${ratio(sizes.wasm, sizes.floorWasm)} of 3a-base`);
add("3b", "JS glue of the npm package (sse_wasm.js)", bytes(sizes.glue), `${ratio(sizes.glue, sizes.floorGlue)} of the floor's glue (${integer(sizes.floorGlue)} B)`);
add("3c", "Leptos example (examples/leptos_ticker) `.wasm`, release, wasm-opt -Oz", bytes(sizes.leptosWasm), `${ratio(sizes.leptosWasm, sizes.wasm)} of 3a (the framework included)`);

// 4. Memory: every growth must be zero.
for (const id of ["4a", "4b", "4c", "4d", "4e", "4f", "4g", "4h"].filter(has)) {
  const result = row(id);
  const parts = [`linear memory ${signed(result.memoryAfter - result.memoryBefore)} B`];
  const grown = [result.memoryAfter - result.memoryBefore];
  if (result.heapBefore !== undefined) {
    parts.push(`heap ${signed(result.heapAfter - result.heapBefore)} B`);
    grown.push(result.heapAfter - result.heapBefore);
  }
  if (result.closuresBefore !== undefined) {
    parts.push(`live closures ${signed(result.closuresAfter - result.closuresBefore)}`);
    grown.push(result.closuresAfter - result.closuresBefore);
  }
  if (result.liveAfter !== undefined) {
    parts.push(`clients not collected ${signed(result.liveAfter - result.liveBefore)}`);
    grown.push(result.liveAfter - result.liveBefore);
  }
  const ok = grown.every((n) => n === 0);
  if (!ok) failures.push(`${id} grew: ${parts.join(", ")}`);
  add(id, result.workload, parts.join(", "), ok ? "0 growth (must be 0)" : "**GREW (must be 0)**");
}

// 5. Recovery
for (const id of ["5a", "5b", "5c"].filter(has)) {
  const result = row(id);
  const ok = result.lost === 0 && result.duplicated === 0;
  if (!ok) failures.push(`${id}: ${result.lost} lost, ${result.duplicated} duplicated`);
  add(
    id,
    result.workload,
    `median ${result.medianMs.toFixed(1)} ms, p95 ${result.p95Ms.toFixed(1)} ms; ${result.lost} lost, ${result.duplicated} duplicated of ${integer(result.events)}`,
    id === "5a" ? "1.00× (baseline)" : `${ratio(result.medianMs, row("5a").medianMs)} of 5a's median`,
  );
}

function version(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n")[0];
  } catch {
    return `${command}: unknown`;
  }
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}; ${version("/usr/bin/chromium", ["--version"])}; ${version("rustc", ["--version"])}; Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);

console.log(`## sse-wasm bench, ${date}`);
console.log();
console.log(`Machine: ${machine}.${seconds ? ` Whole run: ${seconds} s.` : ""}`);
console.log();
console.log("| row | workload | figure | vs baseline (same run) |");
console.log("|---|---|---|---|");
for (const line of lines) console.log(line);
if (failures.length) {
  console.log();
  console.log(`**Must-be-zero rows that were not:** ${failures.join("; ")}.`);
  process.exitCode = 1;
}

// Row 2a of `make bench`: criterion's estimates for `bench/native/parser.rs`, as MB/s.
//
//   node bench/criterion-summary.mjs [TARGET_DIR] [BYTES]
//
// Reads TARGET_DIR/criterion/parser/{sse-wasm,memchr-lines}/new/{estimates,benchmark}.json
// (TARGET_DIR defaults to `target`; criterion writes to $CRITERION_HOME instead when
// that is set) and prints one line of JSON:
//
//   {"parser_mb_s": X, "memchr_mb_s": Y, "bytes": N}
//
// where MB/s = bytes / median seconds per iteration / 1e6. The bytes per iteration come
// from the throughput criterion recorded in benchmark.json; BYTES is the fallback when
// that is absent. No dependencies.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const targetDir = process.argv[2] || "target";
const bytesArgument = process.argv[3];
const group = join(targetDir, "criterion", "parser");

function fail(message) {
  console.error(`criterion-summary: ${message}`);
  process.exit(1);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    fail(`cannot read ${path}: ${error.message}`);
  }
}

/** The bytes one iteration processed, from criterion's throughput, or null. */
function throughputBytes(benchmark) {
  const throughput = benchmark?.throughput;
  if (!throughput) return null;
  const bytes = throughput.Bytes ?? throughput.BytesDecimal;
  return Number.isFinite(bytes) && bytes > 0 ? bytes : null;
}

function measure(name) {
  const dir = join(group, name, "new");
  const estimatesPath = join(dir, "estimates.json");
  if (!existsSync(estimatesPath)) {
    fail(
      `${estimatesPath} is missing: run \`cargo bench --bench parser -- --noplot\` first ` +
        `(or pass the target directory it used as the first argument)`,
    );
  }
  const nanoseconds = readJson(estimatesPath)?.median?.point_estimate;
  if (!Number.isFinite(nanoseconds) || nanoseconds <= 0) {
    fail(`${estimatesPath} has no positive median.point_estimate`);
  }
  const benchmarkPath = join(dir, "benchmark.json");
  let bytes = existsSync(benchmarkPath) ? throughputBytes(readJson(benchmarkPath)) : null;
  if (bytes === null && bytesArgument !== undefined) {
    bytes = Number(bytesArgument);
    if (!Number.isInteger(bytes) || bytes <= 0) fail(`BYTES must be a positive integer, not ${bytesArgument}`);
  }
  if (bytes === null) {
    fail(`${benchmarkPath} records no byte throughput: pass the bytes per iteration as the second argument`);
  }
  return { bytes, megabytesPerSecond: bytes / (nanoseconds / 1e9) / 1e6 };
}

const parser = measure("sse-wasm");
const memchr = measure("memchr-lines");
if (parser.bytes !== memchr.bytes) {
  fail(`the two functions measured different inputs (${parser.bytes} and ${memchr.bytes} bytes)`);
}
const round = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    parser_mb_s: round(parser.megabytesPerSecond),
    memchr_mb_s: round(memchr.megabytesPerSecond),
    bytes: parser.bytes,
  }),
);

// Debian's Chromium as this machine needs it: root (no sandbox), no GPU, a small
// /dev/shm, and no network beyond loopback (the background fetches would be refused).
// Shared by the JS test harness (www/tests/harness.mjs) and the bench driver
// (bench/run.mjs); webdriver.json carries the same list for wasm-bindgen-test.

/** The Chromium binary: $CHROMIUM, or Debian's. */
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Flags every headless Chromium started here needs. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
